//! Prometheus scrape targets: an HTTP endpoint that exposes metrics in the
//! Prometheus text format or OpenMetrics, read on a schedule into the
//! series store.
//!
//! Each target is a scheduler job (`scrape:NAME`, kind `metrics.scrape`), so
//! two `opsdeck serve` on one store scrape it once (the job's lease), and a
//! scrape goes through the resilient HTTP client (its breaker shows on the
//! Connections page). A target's scrapes sit on a fixed grid: the first is
//! set at an offset within the interval taken from the target's name (as
//! Prometheus spreads its targets), every next one an interval later, and
//! the samples are stamped with the grid time, so they are evenly spaced
//! and `rate()` extrapolates as it would on Prometheus' own data.
//!
//! Every scrape records `up`, `scrape_duration_seconds` and
//! `scrape_samples_scraped`. A series that a scrape no longer returns, and
//! every series of a target whose scrape failed, gets a staleness marker,
//! so its line stops instead of being drawn flat for five minutes. The
//! series a target returned last are kept in this process; a process that
//! takes a target over from another marks staleness from its own second
//! scrape on.
//!
//! A target's definition (where OpsDeck sends requests, with which
//! credentials) is sealed like the other definitions that make OpsDeck act
//! on stored data, and checked before each scrape. Credentials are vault
//! references, never values: whoever sets them must be allowed to reveal
//! them, and scrapes reveal them as that person (audited), keeping the
//! header in memory for ten minutes or until the endpoint answers 401/403.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use opsdeck_core::http::OutboundRequest;
use opsdeck_core::scheduler::{JobContext, JobSpec, Schedule, Scheduler};
use opsdeck_metrics::exposition::{parse, Format, MetricKind, ParseOptions};
use opsdeck_metrics::{series_text, HistogramNames, Labels, STALE_NAN_BITS};
use opsdeck_vault::SecretReference;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::definitions::SCRAPE_TARGET;
use crate::{Caller, DeckError, Outcome};

/// The job kind that scrapes a target.
pub const SCRAPE_JOB_KIND: &str = "metrics.scrape";

/// What a scrape asks for: OpenMetrics first, the text format next, as
/// Prometheus asks.
const ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// A target's default interval and timeout, and the most samples one scrape
/// may return unless the target says otherwise.
const DEFAULT_INTERVAL_SECONDS: f64 = 60.0;
const DEFAULT_TIMEOUT_SECONDS: f64 = 10.0;
const DEFAULT_SAMPLE_LIMIT: i64 = 50_000;

/// How long a target's revealed credentials are kept in memory before they
/// are revealed (and audited) again.
const CREDENTIALS_KEPT_FOR: Duration = Duration::from_secs(600);

/// A Prometheus scrape target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ScrapeTarget {
    /// The target's name; also its series' `job` label.
    pub name: String,
    /// The metrics endpoint: `http://127.0.0.1:9100/metrics`.
    pub url: String,
    /// Seconds between scrapes (default 60, at least 1).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub interval_seconds: Option<f64>,
    /// Seconds a scrape may take (default 10; never more than the interval).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub timeout_seconds: Option<f64>,
    /// Labels added to every series of the target (`env=prod`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Keep the target's own value when a scraped label clashes with one
    /// OpsDeck sets (`job`, `instance`, the labels above); otherwise the
    /// scraped one is kept as `exported_NAME`.
    #[serde(default)]
    pub honor_labels: bool,
    /// The most samples one scrape may return (default 50,000): a scrape
    /// over it counts as failed, so a target that suddenly grew cannot
    /// flood the store.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub sample_limit: Option<i64>,
    /// A bearer token for the endpoint, as a vault reference
    /// (`opsdeck://VAULT/NAME`), never the token itself.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// A user name for HTTP basic authentication.
    #[serde(default)]
    pub basic_auth_username: Option<String>,
    /// Its password, as a vault reference (`opsdeck://VAULT/NAME`).
    #[serde(default)]
    pub basic_auth_password: Option<String>,
    /// The certificate authorities (PEM) an https endpoint's certificate
    /// must chain to, instead of the system's: a private CA. Kept in the
    /// sealed definition, so a changed bundle is refused like a changed URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_bundle: Option<String>,
}

impl ScrapeTarget {
    /// The vault references the target's credentials name.
    fn references(&self) -> Vec<SecretReference> {
        [&self.bearer_token, &self.basic_auth_password]
            .into_iter()
            .flatten()
            .filter_map(|reference| SecretReference::parse(reference).ok())
            .collect()
    }

    fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS))
    }

    /// The scrape timeout, cut to the interval.
    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS)).min(self.interval())
    }

    /// `host:port` of the URL: the series' `instance` label.
    fn instance(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port_or_known_default() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| self.url.clone())
    }

    /// What is wrong with the target, if anything.
    fn check(&self) -> Result<(), String> {
        super::check_endpoint_name("target", &self.name)?;
        super::check_http_url(
            &self.url,
            "an http(s) URL of a metrics endpoint, like http://127.0.0.1:9100/metrics",
        )?;
        let interval = self.interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS);
        if !(1.0..=86_400.0).contains(&interval) {
            return Err(format!("an interval of {interval} s is not between 1 s and a day"));
        }
        let timeout = self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        if !(timeout > 0.0 && timeout.is_finite()) {
            return Err(format!("a timeout of {timeout} s is not positive"));
        }
        if self.sample_limit.is_some_and(|limit| limit < 1) {
            return Err("a sample limit must be at least 1".into());
        }
        for (what, reference) in
            [("bearer token", &self.bearer_token), ("basic auth password", &self.basic_auth_password)]
        {
            super::check_credential_reference(what, reference.as_deref(), "opsdeck://ops/scrape-token")?;
        }
        if let Some(pem) = &self.ca_bundle {
            let certificates = pem.matches("-----BEGIN CERTIFICATE-----").count();
            if certificates == 0 || pem.matches("-----END CERTIFICATE-----").count() != certificates {
                return Err("the CA bundle must be PEM certificates (-----BEGIN CERTIFICATE----- …)".into());
            }
            if !self.url.starts_with("https://") {
                return Err("a CA bundle is for an https:// endpoint".into());
            }
        }
        if self.basic_auth_password.is_some() != self.basic_auth_username.is_some() {
            return Err("basic auth needs both a user name and a password reference".into());
        }
        if self.bearer_token.is_some() && self.basic_auth_password.is_some() {
            return Err("give a bearer token or basic auth, not both".into());
        }
        for label in self.labels.keys() {
            let valid = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid || label.starts_with("__") {
                return Err(format!("`{label}` is not a label name a target may set"));
            }
        }
        Ok(())
    }
}

/// A target with how its scrapes are going.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct TargetInfo {
    /// The target.
    pub target: ScrapeTarget,
    /// `up`, `down`, or `unknown` before its first scrape.
    pub health: String,
    /// What the last scrape said (`143 samples in 12 ms`, or why it failed).
    pub last_message: String,
    /// When it last ran, Unix milliseconds.
    #[ts(type = "number | null")]
    pub last_scrape_unix_ms: Option<i64>,
    /// When it runs next, Unix milliseconds.
    #[ts(type = "number")]
    pub next_scrape_unix_ms: i64,
}

/// The scheduler job of a target.
pub fn job_name(target: &str) -> String {
    format!("scrape:{target}")
}

/// The target's offset within its interval: spread by its name, fixed.
fn offset_ms(name: &str, interval_ms: i64) -> i64 {
    // FNV-1a: stable across processes and versions (unlike std's hasher).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::try_from(hash % u64::try_from(interval_ms.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// The first grid time after `now` for a target.
fn next_grid_time(name: &str, interval_ms: i64, now: i64) -> i64 {
    let offset = offset_ms(name, interval_ms);
    let base = (now - offset).div_euclid(interval_ms) * interval_ms + offset;
    if base > now {
        base
    } else {
        base + interval_ms
    }
}

impl super::Metrics<'_> {
    /// Adds or changes a scrape target, sealed as set by `caller`, and
    /// schedules its scrapes on its grid. Audited.
    pub async fn set_target(self, caller: &Caller, target: ScrapeTarget) -> Result<TargetInfo, DeckError> {
        target.check().map_err(opsdeck_metrics::MetricsError::Invalid)?;
        let deck = self.deck;
        // Whoever sets a target's credentials must be allowed to reveal them:
        // the scrapes reveal them as that person.
        deck.vaults().check_references(caller, &target.references()).await?;
        let payload = serde_json::to_value(&target)
            .map_err(|error| opsdeck_metrics::MetricsError::Invalid(error.to_string()))?;
        let details =
            serde_json::json!({ "url": target.url, "interval_seconds": target.interval().as_secs_f64() });
        deck.audit(caller, "metrics.target_set", &target.name, Outcome::Ok, details).await?;
        deck.seal_definition(caller, SCRAPE_TARGET, &target.name, &payload, true).await?;
        self.forget_header(&target.name);
        let job = job_name(&target.name);
        let interval = target.interval();
        Scheduler::upsert_job(
            &deck.store,
            &JobSpec {
                name: job.clone(),
                kind: SCRAPE_JOB_KIND.to_owned(),
                schedule: Schedule::Every(interval),
                payload,
            },
        )
        .await?;
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(60_000);
        let first = next_grid_time(&target.name, interval_ms, opsdeck_core::clock::now_unix_ms());
        Scheduler::schedule_at(&deck.store, &job, first).await?;
        self.targets().await?.into_iter().find(|info| info.target.name == target.name).ok_or_else(|| {
            opsdeck_metrics::MetricsError::Invalid(format!("the target `{}` was not stored", target.name))
                .into()
        })
    }

    /// Every scrape target with its health.
    pub async fn targets(self) -> Result<Vec<TargetInfo>, DeckError> {
        let jobs = Scheduler::list_jobs(&self.deck.store).await?;
        Ok(jobs
            .into_iter()
            .filter(|job| job.kind == SCRAPE_JOB_KIND)
            .filter_map(|job| {
                let target: ScrapeTarget = serde_json::from_value(job.payload.clone()).ok()?;
                let (health, last_message, last_scrape_unix_ms) = match &job.last_run {
                    Some(run) => {
                        let health = if run.message.starts_with("up") { "up" } else { "down" };
                        (health.to_owned(), run.message.clone(), Some(run.started_at_unix_ms))
                    }
                    None => ("unknown".to_owned(), String::new(), None),
                };
                Some(TargetInfo {
                    target,
                    health,
                    last_message,
                    last_scrape_unix_ms,
                    next_scrape_unix_ms: job.next_run_at_unix_ms,
                })
            })
            .collect())
    }

    /// Removes a target (its series stay until retention drops them). Audited.
    pub async fn remove_target(self, caller: &Caller, name: &str) -> Result<(), DeckError> {
        let deck = self.deck;
        let job = job_name(name);
        if !Scheduler::exists(&deck.store, &job).await? {
            return Err(opsdeck_metrics::MetricsError::Invalid(format!(
                "there is no scrape target `{name}`; `opsdeck metrics target list` shows them"
            ))
            .into());
        }
        deck.audit(caller, "metrics.target_remove", name, Outcome::Ok, serde_json::json!({})).await?;
        Scheduler::remove(&deck.store, &job).await?;
        deck.unseal_definition(caller, SCRAPE_TARGET, name).await?;
        if let Ok(mut last) = deck.scraped_series.lock() {
            last.remove(name);
        }
        self.forget_header(name);
        Ok(())
    }

    /// One scrape of the job's target at its grid time.
    pub(crate) async fn run_scrape_job(self, job: &JobContext) -> Result<String, String> {
        let deck = self.deck;
        let target: ScrapeTarget = serde_json::from_value(job.payload.clone())
            .map_err(|error| format!("the stored target is unreadable: {error}"))?;
        let seal = deck
            .check_definition(&Caller::new("scheduler"), SCRAPE_TARGET, &target.name, &job.payload, false)
            .await
            .map_err(|error| error.to_string())?;
        let at = job.due_at_unix_ms;
        let started = Instant::now();
        let scraped = match self.authorization(&target, &seal.defined_by).await {
            Ok(authorization) => self.scrape(&target, at, authorization.as_deref().map(String::as_str)).await,
            Err(error) => Err(format!("its credentials cannot be read: {error}")),
        };
        let duration = started.elapsed().as_secs_f64();
        let base = target_labels(&target);
        let mut samples: Vec<(Labels, i64, f64)> = Vec::new();
        let mut histograms = HistogramNames::new();
        let (up, count, message) = match scraped {
            Ok((series, names)) => {
                histograms = names;
                let count = series.len();
                samples.extend(series);
                (
                    1.0,
                    count,
                    format!(
                        "up: {count} sample{} in {:.0} ms",
                        if count == 1 { "" } else { "s" },
                        duration * 1000.0
                    ),
                )
            }
            Err(why) => (0.0, 0, format!("down: {why}")),
        };
        // Series the last scrape had and this one has not end now.
        let current: HashSet<Labels> = samples.iter().map(|(labels, _, _)| labels.clone()).collect();
        let gone: Vec<Labels> = match deck.scraped_series.lock() {
            Ok(mut last) => {
                let previous = last.insert(target.name.clone(), current).unwrap_or_default();
                let current = last.get(&target.name);
                previous
                    .into_iter()
                    .filter(|labels| current.is_none_or(|now| !now.contains(labels)))
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        for labels in gone {
            samples.push((labels, at, f64::from_bits(STALE_NAN_BITS)));
        }
        for (name, value) in
            [("up", up), ("scrape_duration_seconds", duration), ("scrape_samples_scraped", count as f64)]
        {
            let mut labels = base.clone();
            labels.insert("__name__".to_owned(), name.to_owned());
            samples.push((labels, at, value));
        }
        let appended =
            deck.metrics.append_typed(&samples, &histograms).await.map_err(|error| error.to_string())?;
        if appended.out_of_order > 0 {
            tracing::debug!(target = %target.name, late = appended.out_of_order, "scraped samples older than stored ones were dropped");
        }
        // Written at once: other processes (the CLI, another window) query
        // the store, and this process may run no OTLP receiver (whose
        // ingest task flushes every second).
        deck.metrics.flush().await.map_err(|error| error.to_string())?;
        Ok(message)
    }

    /// The `Authorization` header the target's credentials make, revealed
    /// from the vault as `definer` (the person who set the target; audited)
    /// and kept in memory for [`CREDENTIALS_KEPT_FOR`], so a scrape every
    /// few seconds is not a reveal every few seconds.
    async fn authorization(
        self,
        target: &ScrapeTarget,
        definer: &str,
    ) -> Result<Option<Zeroizing<String>>, DeckError> {
        if target.references().is_empty() {
            return Ok(None);
        }
        if let Some(header) = self.kept_header(&target.name, CREDENTIALS_KEPT_FOR) {
            return Ok(Some(header));
        }
        let caller = Caller::new(definer);
        let header = if let Some(reference) = &target.bearer_token {
            let reference = SecretReference::parse(reference)?;
            let token = self.deck.vaults().resolve_reference(&caller, &reference).await?;
            Zeroizing::new(format!("Bearer {}", token.as_str()))
        } else {
            let (Some(user), Some(reference)) = (&target.basic_auth_username, &target.basic_auth_password)
            else {
                return Ok(None);
            };
            let reference = SecretReference::parse(reference)?;
            let password = self.deck.vaults().resolve_reference(&caller, &reference).await?;
            let pair = Zeroizing::new(format!("{user}:{}", password.as_str()));
            use base64::Engine as _;
            Zeroizing::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
            ))
        };
        self.keep_header(&target.name, &header);
        Ok(Some(header))
    }

    /// The target's series at `at`, or why the scrape failed.
    async fn scrape(
        self,
        target: &ScrapeTarget,
        at: i64,
        authorization: Option<&str>,
    ) -> Result<(Vec<(Labels, i64, f64)>, HistogramNames), String> {
        let mut request = OutboundRequest::get(target.url.clone())
            .header("Accept", ACCEPT)
            .header("X-Prometheus-Scrape-Timeout-Seconds", &format!("{}", target.timeout().as_secs_f64()));
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        if let Some(pem) = &target.ca_bundle {
            request = request.trusting(pem);
        }
        let answer = self
            .deck
            .http
            .send(request.once_within(target.timeout()))
            .await
            .map_err(|error| error.to_string())?;
        if matches!(answer.status, 401 | 403) {
            // Perhaps a rotated credential: read it again before the next scrape.
            self.forget_header(&target.name);
        }
        if answer.status != 200 {
            return Err(format!("the endpoint answered HTTP {}", answer.status));
        }
        let text = String::from_utf8(answer.body).map_err(|_| "the answer is not UTF-8 text".to_owned())?;
        let format = Format::from_content_type(answer.content_type.as_deref().unwrap_or("text/plain"));
        let limit =
            usize::try_from(target.sample_limit.unwrap_or(DEFAULT_SAMPLE_LIMIT)).unwrap_or(usize::MAX);
        let scrape = parse(&text, ParseOptions { format, sample_limit: Some(limit) })
            .map_err(|error| error.to_string())?;
        // Histograms' buckets, count and sum are stored together.
        let histograms: HistogramNames = scrape
            .families
            .iter()
            .filter(|(_, family)| family.kind == MetricKind::Histogram)
            .map(|(name, _)| name.clone())
            .collect();
        let base = target_labels(target);
        let mut series = Vec::with_capacity(scrape.samples.len());
        let mut seen: HashSet<Labels> = HashSet::with_capacity(scrape.samples.len());
        for sample in scrape.samples {
            let mut labels: Labels = sample.labels.into_iter().collect();
            for (name, value) in &base {
                match labels.get(name) {
                    Some(_) if target.honor_labels => {}
                    Some(scraped) => {
                        let scraped = scraped.clone();
                        labels.insert(format!("exported_{name}"), scraped);
                        labels.insert(name.clone(), value.clone());
                    }
                    None => {
                        labels.insert(name.clone(), value.clone());
                    }
                }
            }
            labels.retain(|_, value| !value.is_empty());
            labels.insert("__name__".to_owned(), sample.name);
            if !seen.insert(labels.clone()) {
                return Err(format!("the answer holds {} twice", series_text(&labels)));
            }
            series.push((labels, sample.timestamp_ms.unwrap_or(at), sample.value));
        }
        Ok((series, histograms))
    }
}

/// The labels OpsDeck sets on a target's series: `job`, `instance` and the
/// target's own.
fn target_labels(target: &ScrapeTarget) -> Labels {
    let mut labels: Labels = target.labels.clone();
    labels.insert("job".to_owned(), target.name.clone());
    labels.insert("instance".to_owned(), target.instance());
    labels
}

/// Registers the scrape job kind.
pub(crate) fn register_jobs(kinds: &mut crate::jobs::JobKinds<'_>) {
    kinds.register(SCRAPE_JOB_KIND, |deck, job| async move { deck.metrics().run_scrape_job(&job).await });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_sit_on_a_fixed_grid_spread_by_the_targets_name() {
        let interval = 15_000;
        let first = next_grid_time("shop", interval, 1_700_000_000_123);
        assert!(first > 1_700_000_000_123 && first <= 1_700_000_000_123 + interval);
        assert_eq!((first - offset_ms("shop", interval)).rem_euclid(interval), 0);
        assert_eq!(next_grid_time("shop", interval, first), first + interval, "the grid, not the clock");
        assert_ne!(offset_ms("shop", interval), offset_ms("payments", interval), "targets are spread");
    }

    #[test]
    fn a_target_that_cannot_be_scraped_is_refused_with_what_to_fix() {
        let target = |url: &str, interval: Option<f64>| ScrapeTarget {
            name: "shop".into(),
            url: url.into(),
            interval_seconds: interval,
            timeout_seconds: None,
            labels: BTreeMap::new(),
            honor_labels: false,
            sample_limit: None,
            bearer_token: None,
            basic_auth_username: None,
            basic_auth_password: None,
            ca_bundle: None,
        };
        assert!(target("ftp://example.com/metrics", None).check().unwrap_err().contains("http(s) URL"));
        assert!(target("http://127.0.0.1:9100/metrics", Some(0.1))
            .check()
            .unwrap_err()
            .contains("between 1 s"));
        let fine = target("http://127.0.0.1:9100/metrics", Some(5.0));
        assert!(fine.check().is_ok());
        assert_eq!(fine.timeout(), Duration::from_secs(5), "a timeout over the interval is cut to it");
        assert_eq!(fine.instance(), "127.0.0.1:9100");
        let mut reserved = fine.clone();
        reserved.labels.insert("__name__".into(), "x".into());
        assert!(reserved.check().is_err());
        let mut literal = fine.clone();
        literal.bearer_token = Some("s3cret-token-value".into());
        assert!(literal.check().unwrap_err().contains("vault reference"), "a literal token is never stored");
        let mut referenced = fine.clone();
        referenced.bearer_token = Some("opsdeck://ops/scrape-token".into());
        assert!(referenced.check().is_ok());
    }
}
