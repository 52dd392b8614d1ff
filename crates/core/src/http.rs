//! The resilient outbound HTTP client every outbound call of the deck goes
//! through (ACME, remote backends, scraping, webhooks).
//!
//! - A timeout on every request.
//! - Retries with capped exponential backoff and full jitter, honouring
//!   `Retry-After` — but only where repeating is safe: idempotent methods, or a
//!   request carrying an idempotency key (sent as `Idempotency-Key`).
//! - A circuit breaker per endpoint (scheme, host, port): closed until
//!   `failure_threshold` failures fall within `failure_window`, then open (calls
//!   fail at once) for `open_for`, then half-open (one probe at a time): a
//!   successful probe closes it, a failed one opens it again.
//! - Recent outcomes per endpoint, for the Connections panel.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use ts_rs::TS;

use crate::clock::now_unix_ms;
use crate::events::{CoreEvent, EventBus};

/// How the client retries and when breakers open.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Limit for one attempt (connect, send, read the whole answer).
    pub timeout: Duration,
    /// Attempts in all, for a request that may be repeated.
    pub max_attempts: u32,
    /// First backoff; doubles with each retry.
    pub backoff_base: Duration,
    /// The longest backoff, and the longest `Retry-After` honoured.
    pub backoff_cap: Duration,
    /// Failures within `failure_window` that open an endpoint's breaker.
    pub failure_threshold: usize,
    /// How far back failures count.
    pub failure_window: Duration,
    /// How long an open breaker refuses calls before letting a probe through.
    pub open_for: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            timeout: Duration::from_secs(30),
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            failure_threshold: 5,
            failure_window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        }
    }
}

/// An outbound request. Its `Debug` shows header names, never their values
/// (an `Authorization` header carries a credential).
#[derive(Clone)]
pub struct OutboundRequest {
    /// `GET`, `POST`, …
    pub method: reqwest::Method,
    /// Where to.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Makes a non-idempotent request (a POST) safe to retry; sent as `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// A limit for this request shorter than the policy's (a scrape's timeout).
    pub timeout: Option<Duration>,
    /// One attempt only, even where a retry would be safe (a scrape that
    /// fails is recorded as down, not repeated off its schedule).
    pub single_attempt: bool,
    /// The only certificate authorities trusted for this request's TLS (PEM),
    /// instead of the system's: a scrape target with a private CA.
    pub trusted_ca_pem: Option<String>,
}

impl std::fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("single_attempt", &self.single_attempt)
            .field("trusted_ca", &self.trusted_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl OutboundRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        OutboundRequest {
            method: reqwest::Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            idempotency_key: None,
            timeout: None,
            single_attempt: false,
            trusted_ca_pem: None,
        }
    }

    /// A POST of `body` to `url`.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        OutboundRequest {
            method: reqwest::Method::POST,
            url: url.into(),
            headers: Vec::new(),
            body: Some(body),
            idempotency_key: None,
            timeout: None,
            single_attempt: false,
            trusted_ca_pem: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Trusts only the certificate authorities in `pem` for this request.
    pub fn trusting(mut self, pem: &str) -> Self {
        self.trusted_ca_pem = Some(pem.to_owned());
        self
    }

    /// Limits this request to `timeout` and one attempt.
    pub fn once_within(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self.single_attempt = true;
        self
    }

    /// Marks the request safe to retry under `key`.
    pub fn idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }

    fn may_repeat(&self) -> bool {
        if self.single_attempt {
            return false;
        }
        self.idempotency_key.is_some()
            || matches!(
                self.method,
                reqwest::Method::GET
                    | reqwest::Method::HEAD
                    | reqwest::Method::PUT
                    | reqwest::Method::DELETE
                    | reqwest::Method::OPTIONS
            )
    }
}

/// An answer (any status).
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// Its `Content-Type`, if it named one.
    pub content_type: Option<String>,
    /// How many attempts it took.
    pub attempts: u32,
}

/// Why an outbound call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be used.
    #[error("`{url}` is not a usable http(s) URL: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint failed too often recently; calls are refused until it may have recovered.
    #[error("calls to {endpoint} are paused after repeated failures; the next try is allowed in {}s", retry_in.as_secs().max(1))]
    CircuitOpen {
        /// The endpoint.
        endpoint: String,
        /// When a probe will be let through.
        retry_in: Duration,
    },
    /// Every attempt failed.
    #[error("{endpoint} failed after {attempts} attempt(s): {last_error}")]
    Failed {
        /// The endpoint.
        endpoint: String,
        /// How many attempts were made.
        attempts: u32,
        /// What the last attempt ran into.
        last_error: String,
        /// The last HTTP status, if the server answered.
        status: Option<u16>,
    },
}

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused.
    Open,
    /// One probe at a time goes through.
    HalfOpen,
}

/// One recent outbound call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct CallOutcome {
    /// When it ended.
    #[ts(type = "number")]
    pub at_unix_ms: i64,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The error, when it did not succeed.
    pub error: Option<String>,
    /// How long it took.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// Whether it counted as a success.
    pub ok: bool,
}

/// What the Connections panel shows for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct EndpointHealth {
    /// scheme://host:port
    pub endpoint: String,
    /// The breaker's state.
    pub state: BreakerState,
    /// Failures in the current window.
    #[ts(type = "number")]
    pub recent_failures: u32,
    /// Calls made in all.
    #[ts(type = "number")]
    pub calls: u64,
    /// When an open breaker lets the next probe through.
    #[ts(type = "number | null")]
    pub retry_at_unix_ms: Option<i64>,
    /// The latest outcomes, newest first.
    pub recent: Vec<CallOutcome>,
}

const RECENT_KEPT: usize = 20;

#[derive(Debug)]
struct Breaker {
    state: BreakerState,
    failures: VecDeque<Instant>,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
    calls: u64,
    recent: VecDeque<CallOutcome>,
}

impl Breaker {
    fn new() -> Self {
        Breaker {
            state: BreakerState::Closed,
            failures: VecDeque::new(),
            opened_at: None,
            probe_in_flight: false,
            calls: 0,
            recent: VecDeque::new(),
        }
    }
}

/// The resilient client. Cheap to clone; clones share breakers.
#[derive(Clone)]
pub struct ResilientClient {
    inner: reqwest::Client,
    /// Clients trusting only a given CA bundle, by its PEM (built once each).
    trusting: Arc<Mutex<HashMap<String, reqwest::Client>>>,
    policy: HttpPolicy,
    breakers: Arc<Mutex<HashMap<String, Breaker>>>,
    events: Option<EventBus>,
}

impl std::fmt::Debug for ResilientClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResilientClient").field("policy", &self.policy).finish()
    }
}

/// Whether an answer with this status may succeed if asked again.
fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the services we call).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn endpoint_of(url: &reqwest::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn random_fraction() -> f64 {
    let mut bytes = [0_u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

impl ResilientClient {
    /// A client with `policy`, publishing breaker changes on `events` when given.
    pub fn new(policy: HttpPolicy, events: Option<EventBus>) -> Self {
        let inner = Self::builder(&policy).build().unwrap_or_else(|_| reqwest::Client::new());
        ResilientClient {
            inner,
            trusting: Arc::new(Mutex::new(HashMap::new())),
            policy,
            breakers: Arc::new(Mutex::new(HashMap::new())),
            events,
        }
    }

    fn builder(policy: &HttpPolicy) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .timeout(policy.timeout)
            // A redirect is answered, never followed: a signed event (or any
            // call) goes only to the URL that was configured, never to one a
            // receiver (or someone who took it over) names.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OpsDeck/", env!("CARGO_PKG_VERSION")))
    }

    /// The client for a request: the shared one, or one trusting only the
    /// request's CA bundle.
    fn client_for(&self, request: &OutboundRequest) -> Result<reqwest::Client, HttpError> {
        let Some(pem) = &request.trusted_ca_pem else { return Ok(self.inner.clone()) };
        let mut clients = self.trusting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(pem) {
            return Ok(client.clone());
        }
        let bad = |reason: String| HttpError::BadUrl { url: request.url.clone(), reason };
        let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|error| bad(format!("its CA bundle is not PEM certificates: {error}")))?;
        if certificates.is_empty() {
            return Err(bad("its CA bundle holds no certificate".into()));
        }
        let mut builder = Self::builder(&self.policy).tls_built_in_root_certs(false);
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
        let client =
            builder.build().map_err(|error| bad(format!("a client trusting its CA bundle: {error}")))?;
        clients.insert(pem.clone(), client.clone());
        Ok(client)
    }

    /// Every endpoint called so far, with its breaker and recent outcomes.
    pub fn health(&self) -> Vec<EndpointHealth> {
        let breakers = self.lock();
        let mut endpoints: Vec<EndpointHealth> = breakers
            .iter()
            .map(|(endpoint, breaker)| EndpointHealth {
                endpoint: endpoint.clone(),
                state: breaker.state,
                recent_failures: u32::try_from(breaker.failures.len()).unwrap_or(u32::MAX),
                calls: breaker.calls,
                retry_at_unix_ms: breaker.opened_at.filter(|_| breaker.state == BreakerState::Open).map(
                    |opened| {
                        let remaining = self.policy.open_for.saturating_sub(opened.elapsed());
                        now_unix_ms() + i64::try_from(remaining.as_millis()).unwrap_or(0)
                    },
                ),
                recent: breaker.recent.iter().cloned().collect(),
            })
            .collect();
        endpoints.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
        endpoints
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Breaker>> {
        self.breakers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `request`, retrying where safe; see the module docs.
    pub async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, HttpError> {
        let url = reqwest::Url::parse(&request.url)
            .map_err(|error| HttpError::BadUrl { url: request.url.clone(), reason: error.to_string() })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpError::BadUrl {
                url: request.url.clone(),
                reason: "only http and https are supported".into(),
            });
        }
        let endpoint = endpoint_of(&url);
        let client = self.client_for(&request)?;
        let max_attempts = if request.may_repeat() { self.policy.max_attempts.max(1) } else { 1 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let probe = self.admit(&endpoint)?;
            let started = Instant::now();
            let mut builder = client.request(request.method.clone(), url.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if let Some(key) = &request.idempotency_key {
                builder = builder.header("Idempotency-Key", key);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            if let Some(timeout) = request.timeout {
                builder = builder.timeout(timeout.min(self.policy.timeout));
            }
            let result = match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let wait = retry_after(response.headers());
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned);
                    match response.bytes().await {
                        Ok(body) => Ok((status, body.to_vec(), wait, content_type)),
                        Err(error) => Err(error.to_string()),
                    }
                }
                Err(error) => Err(describe(&error)),
            };
            let duration = started.elapsed();
            let (error_text, status, server_wait) = match result {
                Ok((status, body, _, content_type)) if !is_transient_status(status) => {
                    self.record(&endpoint, probe, true, Some(status), None, duration);
                    return Ok(OutboundResponse { status, body, content_type, attempts: attempt });
                }
                Ok((status, _, wait, _)) => {
                    // 429 says "slow down", not "broken": it does not count against the breaker.
                    let counts_as_failure = status != 429;
                    self.record(
                        &endpoint,
                        probe,
                        !counts_as_failure,
                        Some(status),
                        Some(format!("HTTP {status}")),
                        duration,
                    );
                    (format!("HTTP {status}"), Some(status), wait)
                }
                Err(error) => {
                    self.record(&endpoint, probe, false, None, Some(error.clone()), duration);
                    (error, None, None)
                }
            };
            if attempt >= max_attempts {
                return Err(HttpError::Failed {
                    endpoint,
                    attempts: attempt,
                    last_error: error_text,
                    status,
                });
            }
            let backoff = self
                .policy
                .backoff_base
                .saturating_mul(2_u32.saturating_pow(attempt - 1))
                .min(self.policy.backoff_cap);
            let delay = match server_wait {
                Some(wait) => wait.min(self.policy.backoff_cap),
                None => backoff.mul_f64(random_fraction()),
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// Lets a call through the endpoint's breaker, or refuses it. Returns
    /// whether the call is the half-open probe.
    fn admit(&self, endpoint: &str) -> Result<bool, HttpError> {
        let mut breakers = self.lock();
        let breaker = breakers.entry(endpoint.to_owned()).or_insert_with(Breaker::new);
        match breaker.state {
            BreakerState::Closed => Ok(false),
            BreakerState::Open => {
                let elapsed = breaker.opened_at.map(|opened| opened.elapsed()).unwrap_or_default();
                if elapsed >= self.policy.open_for {
                    breaker.state = BreakerState::HalfOpen;
                    breaker.probe_in_flight = true;
                    drop(breakers);
                    self.announce(endpoint, BreakerState::HalfOpen);
                    Ok(true)
                } else {
                    Err(HttpError::CircuitOpen {
                        endpoint: endpoint.to_owned(),
                        retry_in: self.policy.open_for - elapsed,
                    })
                }
            }
            BreakerState::HalfOpen if !breaker.probe_in_flight => {
                breaker.probe_in_flight = true;
                Ok(true)
            }
            BreakerState::HalfOpen => Err(HttpError::CircuitOpen {
                endpoint: endpoint.to_owned(),
                retry_in: Duration::from_secs(1),
            }),
        }
    }

    fn record(
        &self,
        endpoint: &str,
        probe: bool,
        ok: bool,
        status: Option<u16>,
        error: Option<String>,
        duration: Duration,
    ) {
        let mut changed = None;
        {
            let mut breakers = self.lock();
            let breaker = breakers.entry(endpoint.to_owned()).or_insert_with(Breaker::new);
            breaker.calls += 1;
            breaker.recent.push_front(CallOutcome {
                at_unix_ms: now_unix_ms(),
                status,
                error,
                duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                ok,
            });
            breaker.recent.truncate(RECENT_KEPT);
            let now = Instant::now();
            while breaker
                .failures
                .front()
                .is_some_and(|at| now.duration_since(*at) > self.policy.failure_window)
            {
                breaker.failures.pop_front();
            }
            if probe {
                breaker.probe_in_flight = false;
            }
            if ok {
                if breaker.state != BreakerState::Closed {
                    breaker.state = BreakerState::Closed;
                    breaker.failures.clear();
                    breaker.opened_at = None;
                    changed = Some(BreakerState::Closed);
                }
            } else {
                breaker.failures.push_back(now);
                let trips = breaker.state == BreakerState::HalfOpen
                    || (breaker.state == BreakerState::Closed
                        && breaker.failures.len() >= self.policy.failure_threshold);
                if trips {
                    breaker.state = BreakerState::Open;
                    breaker.opened_at = Some(now);
                    changed = Some(BreakerState::Open);
                }
            }
        }
        if let Some(state) = changed {
            self.announce(endpoint, state);
        }
    }

    fn announce(&self, endpoint: &str, state: BreakerState) {
        tracing::info!(endpoint, ?state, "circuit breaker changed");
        if let Some(events) = &self.events {
            events.publish(CoreEvent::BreakerChanged { endpoint: endpoint.to_owned(), state });
        }
    }
}

/// A short, user-facing description of a transport error.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        // Say why when it is the TLS handshake (an untrusted or expired
        // certificate), which is what a person can fix.
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            let text = inner.to_string();
            if text.contains("certificate") || text.contains("Certificate") || text.contains("tls") {
                return format!("could not connect: {text}");
            }
            source = inner.source();
        }
        "could not connect".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    }
}
