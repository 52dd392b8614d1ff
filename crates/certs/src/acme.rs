//! ACME (RFC 8555) through `instant-acme`: accounts, orders, challenges,
//! finalisation, download, revocation and renewal information (RFC 9773).
//!
//! HTTP goes through our own `reqwest` client (rustls with ring, trusting the
//! system roots plus an optional private CA bundle). Transient failures —
//! rejected nonces (after the library's own retries), dropped connections,
//! 5xx answers — are retried per step with capped backoff; the CA's own error
//! text is kept for everything else. This module never stores anything: the
//! caller seals the account credentials and the private key (see the deck).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, BodyWrapper, BytesResponse, CertificateIdentifier,
    ChallengeType, ExternalAccountKey, HttpClient, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy, RevocationReason, RevocationRequest,
};
use rustls_pki_types::CertificateDer;
use zeroize::Zeroizing;

use crate::challenges::{DnsProvider, Http01Responder, Webroot};
use crate::keys::{generate, signing_request, KeyKind};
use crate::x509::certificates_in;
use crate::CertError;

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// How the CA's challenges are answered.
#[derive(Clone)]
pub enum ChallengePlan {
    /// HTTP-01 by the built-in responder listening on this address.
    Http01 {
        /// Where to listen (the CA must reach it on port 80, directly or forwarded).
        bind: SocketAddr,
    },
    /// HTTP-01 by files under the document root of the user's web server.
    Webroot(PathBuf),
    /// DNS-01 through a provider (required for wildcard names).
    Dns01(Arc<dyn DnsProvider>),
}

impl ChallengePlan {
    /// `http-01`, `http-01 (webroot)`, `dns-01 (script: ...)`.
    pub fn describe(&self) -> String {
        match self {
            ChallengePlan::Http01 { bind } => format!("http-01 (responder on {bind})"),
            ChallengePlan::Webroot(root) => format!("http-01 (webroot {})", root.display()),
            ChallengePlan::Dns01(provider) => format!("dns-01 ({})", provider.describe()),
        }
    }
}

/// A certificate fresh from the CA.
pub struct Issued {
    /// The chain, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// The chain as the CA sent it (PEM).
    pub chain_pem: String,
    /// The new private key (PKCS#8 PEM).
    pub key_pem: Zeroizing<String>,
    /// The order's URL at the CA.
    pub order_url: String,
}

/// A suggested renewal window from the CA (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalWindow {
    /// Renew no earlier than this.
    pub start: i64,
    /// Renew no later than this.
    pub end: i64,
}

/// Our HTTP client for `instant-acme`.
struct AcmeHttp {
    client: reqwest::Client,
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let client = self.client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            // Reads are retried on any transport error; a POST only when it
            // never reached the server (its JWS carries a one-time nonce).
            let safe_to_repeat = parts.method == http::Method::GET || parts.method == http::Method::HEAD;
            let mut attempt = 0;
            loop {
                let sent = client
                    .request(parts.method.clone(), parts.uri.to_string())
                    .headers(parts.headers.clone())
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        let status = response.status();
                        if safe_to_repeat && status.is_server_error() && attempt < 3 {
                            attempt += 1;
                            tokio::time::sleep(backoff(attempt)).await;
                            continue;
                        }
                        let mut builder = http::Response::builder().status(status);
                        for (name, value) in response.headers() {
                            builder = builder.header(name, value);
                        }
                        let bytes = response
                            .bytes()
                            .await
                            .map_err(|error| instant_acme::Error::Other(error.into()))?;
                        let response = builder
                            .body(http_body_util::Full::new(bytes))
                            .map_err(instant_acme::Error::Http)?;
                        return Ok(BytesResponse::from(response));
                    }
                    Err(error) if attempt < 3 && (safe_to_repeat || error.is_connect()) => {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    Err(error) => return Err(instant_acme::Error::Other(error.into())),
                }
            }
        })
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(5)))
}

/// True for failures worth another try of the same step.
fn transient(error: &instant_acme::Error) -> bool {
    match error {
        instant_acme::Error::Api(problem) => matches!(
            problem.r#type.as_deref(),
            Some("urn:ietf:params:acme:error:badNonce") | Some("urn:ietf:params:acme:error:serverInternal")
        ),
        instant_acme::Error::Other(_) => true,
        _ => false,
    }
}

fn acme_error(step: &str, error: instant_acme::Error) -> CertError {
    CertError::Acme { step: step.to_owned(), reason: error.to_string() }
}

/// Runs one ACME call again (up to 5 times) while it fails transiently.
macro_rules! retrying {
    ($step:expr, $call:expr) => {{
        let mut attempt = 0u32;
        loop {
            match $call.await {
                Ok(value) => break Ok(value),
                Err(error) if transient(&error) && attempt < 5 => {
                    attempt += 1;
                    tracing::info!(step = $step, attempt, error = %error, "retrying an ACME step");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(error) => break Err(acme_error($step, error)),
            }
        }
    }};
}

fn http_client(ca_bundle: Option<&Path>) -> Result<Box<dyn HttpClient>, CertError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_bundle {
        let bytes = std::fs::read(path)
            .map_err(|error| CertError::Io { path: path.display().to_string(), reason: error.to_string() })?;
        for der in certificates_in(&bytes, &path.display().to_string())? {
            let certificate = reqwest::Certificate::from_der(&der)
                .map_err(|error| CertError::Invalid(format!("{}: {error}", path.display())))?;
            builder = builder.add_root_certificate(certificate);
        }
    }
    let client = builder.build().map_err(|error| CertError::Invalid(format!("HTTP client: {error}")))?;
    Ok(Box::new(AcmeHttp { client }))
}

/// An external account binding (RFC 8555 §7.3.4): the key id and HMAC key a
/// CA such as ZeroSSL or Google Trust Services hands out to tie the ACME
/// account to the user's account with them.
pub struct ExternalBinding {
    /// The key id.
    pub kid: String,
    /// The HMAC key (decoded).
    pub hmac_key: Zeroizing<Vec<u8>>,
}

impl ExternalBinding {
    /// Reads an HMAC key the way CAs print it: base64url (padding optional) or standard base64.
    pub fn decode_key(text: &str) -> Result<Zeroizing<Vec<u8>>, CertError> {
        use base64::Engine;
        let text = text.trim();
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
            .map(Zeroizing::new)
            .map_err(|_| {
                CertError::Invalid("the EAB HMAC key is not base64url; copy it as the CA shows it".to_owned())
            })
    }
}

/// Restores the account from `credentials` (JSON from an earlier call), or
/// registers a new one for `email` (bound to `binding` when the CA requires
/// it) and returns its credentials to keep.
pub async fn account(
    directory_url: &str,
    email: &str,
    credentials: Option<&str>,
    ca_bundle: Option<&Path>,
    binding: Option<&ExternalBinding>,
) -> Result<(Account, Option<Zeroizing<String>>), CertError> {
    if let Some(json) = credentials {
        let credentials: AccountCredentials = serde_json::from_str(json)
            .map_err(|error| CertError::Invalid(format!("stored ACME account is unreadable: {error}")))?;
        let account = retrying!(
            "account",
            Account::builder_with_http(http_client(ca_bundle)?)
                .from_credentials(clone_credentials(&credentials)?)
        )?;
        return Ok((account, None));
    }
    if email.trim().is_empty() || !email.contains('@') {
        return Err(CertError::Invalid(format!(
            "{email:?} is not an email address; the CA writes to it about expiry and problems"
        )));
    }
    let contact = format!("mailto:{}", email.trim());
    let new_account = NewAccount {
        contact: &[contact.as_str()],
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let external = binding.map(|binding| ExternalAccountKey::new(binding.kid.clone(), &binding.hmac_key));
    let (account, credentials) = retrying!(
        "account",
        Account::builder_with_http(http_client(ca_bundle)?).create(
            &new_account,
            directory_url.to_owned(),
            external.as_ref()
        )
    )?;
    let json = serde_json::to_string(&credentials)
        .map_err(|error| CertError::Invalid(format!("cannot keep the ACME account: {error}")))?;
    Ok((account, Some(Zeroizing::new(json))))
}

fn clone_credentials(credentials: &AccountCredentials) -> Result<AccountCredentials, CertError> {
    let unreadable = |error: serde_json::Error| CertError::Invalid(format!("stored ACME account: {error}"));
    let json = Zeroizing::new(serde_json::to_string(credentials).map_err(unreadable)?);
    serde_json::from_str(&json).map_err(unreadable)
}

/// Checks the names of an order before anything is sent.
pub fn check_domains(domains: &[String], plan: &ChallengePlan) -> Result<(), CertError> {
    if domains.is_empty() {
        return Err(CertError::Invalid("name at least one domain (--domain example.com)".to_owned()));
    }
    for domain in domains {
        let bare = domain.strip_prefix("*.").unwrap_or(domain);
        let valid = !bare.is_empty()
            && bare.len() <= 253
            && bare.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(CertError::Invalid(format!("{domain:?} is not a domain name")));
        }
        if domain.starts_with("*.") && !matches!(plan, ChallengePlan::Dns01(_)) {
            return Err(CertError::Invalid(format!(
                "{domain} is a wildcard: CAs validate wildcards only over dns-01 (--challenge dns-01 --dns-hook CMD)"
            )));
        }
    }
    Ok(())
}

enum Cleanup {
    File(PathBuf),
    Txt { domain: String, name: String, value: String },
}

/// Orders a certificate for `domains` with a new `key` and answers its
/// challenges by `plan`; `progress` hears each step.
pub async fn issue(
    account: &Account,
    domains: &[String],
    key: KeyKind,
    plan: &ChallengePlan,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Issued, CertError> {
    check_domains(domains, plan)?;
    let responder = match plan {
        ChallengePlan::Http01 { bind } => Some(Http01Responder::start(*bind).await?),
        _ => None,
    };
    progress("creating the order");
    let identifiers: Vec<Identifier> = domains.iter().map(|domain| Identifier::Dns(domain.clone())).collect();
    let mut order = retrying!("order", account.new_order(&NewOrder::new(&identifiers)))?;

    let mut cleanup = Vec::new();
    let validated = answer_challenges(&mut order, plan, responder.as_ref(), &mut cleanup, progress).await;
    for item in cleanup {
        match item {
            Cleanup::File(path) => {
                if let Err(error) = std::fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), %error, "could not remove a challenge file");
                }
            }
            Cleanup::Txt { domain, name, value } => {
                if let ChallengePlan::Dns01(provider) = plan {
                    if let Err(error) = provider.remove_txt(&domain, &name, &value).await {
                        tracing::warn!(%domain, %error, "could not remove a DNS-01 record");
                    }
                }
            }
        }
    }
    drop(responder);
    validated?;

    progress("finalizing with a new key");
    let new_key = generate(key)?;
    let request = signing_request(domains, &new_key.pair)?;
    retrying!("finalize", order.finalize_csr(&request))?;
    progress("downloading the certificate");
    let policy =
        RetryPolicy::new().initial_delay(Duration::from_millis(100)).timeout(Duration::from_secs(90));
    let chain_pem = retrying!("download", order.poll_certificate(&policy))?;
    let chain = certificates_in(chain_pem.as_bytes(), "the CA's answer")?;
    Ok(Issued { chain, chain_pem, key_pem: new_key.pem, order_url: order.url().to_owned() })
}

async fn answer_challenges(
    order: &mut instant_acme::Order,
    plan: &ChallengePlan,
    responder: Option<&Http01Responder>,
    cleanup: &mut Vec<Cleanup>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), CertError> {
    let wanted = match plan {
        ChallengePlan::Dns01(_) => ChallengeType::Dns01,
        _ => ChallengeType::Http01,
    };
    // Fetching an authorization can fail transiently (a rejected nonce after the
    // library's own retries); a failed fetch is not cached, so a new pass over
    // the authorizations fetches it again and skips those already answered.
    let mut answered: Vec<String> = Vec::new();
    let mut passes = 0u32;
    'passes: loop {
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authorization = match next {
                Ok(authorization) => authorization,
                Err(error) if transient(&error) && passes < 5 => {
                    passes += 1;
                    tokio::time::sleep(backoff(passes)).await;
                    continue 'passes;
                }
                Err(error) => return Err(acme_error("authorization", error)),
            };
            if answered.iter().any(|url| url == authorization.url()) {
                continue;
            }
            answered.push(authorization.url().to_owned());
            match authorization.status {
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(CertError::Acme {
                        step: "authorization".to_owned(),
                        reason: format!("{} is {other:?} at the CA", authorization.identifier()),
                    })
                }
            }
            let domain = authorization.identifier().to_string();
            let mut challenge = authorization.challenge(wanted.clone()).ok_or_else(|| CertError::Acme {
                step: "challenge".to_owned(),
                reason: format!("the CA offers no {wanted:?} challenge for {domain}"),
            })?;
            let key_authorization = challenge.key_authorization();
            progress(&format!("answering the challenge for {domain}"));
            match plan {
                ChallengePlan::Http01 { .. } => {
                    if let Some(responder) = responder {
                        responder.add(&challenge.token, key_authorization.as_str());
                    }
                }
                ChallengePlan::Webroot(root) => {
                    let path = Webroot { root: root.clone() }.write(
                        &domain,
                        &challenge.token,
                        key_authorization.as_str(),
                    )?;
                    cleanup.push(Cleanup::File(path));
                }
                ChallengePlan::Dns01(provider) => {
                    let base = domain.trim_start_matches("*.").to_owned();
                    let name = format!("_acme-challenge.{base}.");
                    let value = key_authorization.dns_value();
                    provider.set_txt(&base, &name, &value).await?;
                    cleanup.push(Cleanup::Txt { domain: base, name, value });
                }
            }
            retrying!("challenge", challenge.set_ready())?;
        }
        break;
    }
    progress("waiting for the CA to validate");
    let policy =
        RetryPolicy::new().initial_delay(Duration::from_millis(100)).timeout(Duration::from_secs(90));
    let mut attempt = 0u32;
    let status = loop {
        match order.poll_ready(&policy).await {
            Ok(status) => break status,
            Err(error) if transient(&error) && attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(instant_acme::Error::Api(problem)) => {
                let details = validation_errors(order).await;
                return Err(CertError::Acme {
                    step: "validation".to_owned(),
                    reason: if details.is_empty() { problem.to_string() } else { details },
                });
            }
            Err(error) => return Err(acme_error("validation", error)),
        }
    };
    if status != OrderStatus::Ready {
        let details = validation_errors(order).await;
        return Err(CertError::Acme {
            step: "validation".to_owned(),
            reason: if details.is_empty() { format!("the order is {status:?}") } else { details },
        });
    }
    Ok(())
}

/// The CA's words on each failed challenge: `a.example: connection refused (urn:...)`.
async fn validation_errors(order: &mut instant_acme::Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authorization)) = authorizations.next().await {
        if authorization.refresh().await.is_err() {
            continue;
        }
        let domain = authorization.identifier().to_string();
        for challenge in &authorization.challenges {
            if let Some(problem) = &challenge.error {
                reasons.push(format!(
                    "{domain}: {} ({})",
                    problem.detail.as_deref().unwrap_or("validation failed"),
                    problem.r#type.as_deref().unwrap_or("no type")
                ));
            }
        }
    }
    reasons.join("; ")
}

/// Asks the CA to revoke `leaf` (DER).
pub async fn revoke(
    account: &Account,
    leaf: &[u8],
    reason: Option<RevocationReason>,
) -> Result<(), CertError> {
    let certificate = CertificateDer::from(leaf);
    let request = RevocationRequest { certificate: &certificate, reason };
    retrying!("revoke", account.revoke(&request))
}

/// The CA's suggested renewal window for `leaf`, or `None` when the CA has
/// no renewal information (ARI) or the certificate has no authority key id.
pub async fn renewal_window(account: &Account, leaf: &[u8]) -> Result<Option<RenewalWindow>, CertError> {
    let certificate = CertificateDer::from(leaf);
    let Ok(identifier) = CertificateIdentifier::try_from(&certificate) else {
        return Ok(None);
    };
    match account.renewal_info(&identifier).await {
        Ok((info, _)) => Ok(Some(RenewalWindow {
            start: (info.suggested_window.start.unix_timestamp_nanos() / 1_000_000) as i64,
            end: (info.suggested_window.end.unix_timestamp_nanos() / 1_000_000) as i64,
        })),
        Err(instant_acme::Error::Unsupported(_)) => Ok(None),
        Err(error) => Err(acme_error("renewal information", error)),
    }
}
