//! Signed webhooks: notification targets (URL + secret) and deliveries.
//!
//! Every delivery is a JSON POST with three headers:
//! - `OpsDeck-Event`: what happened (`test`, `job.failed`, …);
//! - `OpsDeck-Delivery`: the delivery's id, the same on every retry — receivers
//!   use it to act on each event once;
//! - `OpsDeck-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//!
//! Receivers recompute the HMAC over the timestamp, a dot and the raw body,
//! compare in constant time, and reject a timestamp older than their replay
//! window (five minutes is the default of [`verify_signature`]). Deliveries go
//! through the [`ResilientClient`] with the delivery id as idempotency key, so
//! transient failures are retried with backoff; what still fails stays
//! `pending` for the redelivery job.

use serde::Serialize;
use ts_rs::TS;

use crate::clock::now_unix_ms;
use crate::http::{HttpError, OutboundRequest, ResilientClient};
use crate::keys::{mac_of_raw, open, seal, Key};
use crate::{CoreError, Store};

/// The name of the deck key that seals webhook secrets.
pub const WEBHOOK_KEY_NAME: &str = "webhooks";
/// How old a signature's timestamp may be before a receiver should refuse it.
pub const DEFAULT_REPLAY_WINDOW_SECS: i64 = 300;
/// Deliveries are retried by the redelivery job until they have had this many attempts.
pub const MAX_DELIVERY_ATTEMPTS: i64 = 12;

/// A notification target as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct WebhookTarget {
    /// Unique name.
    pub name: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// When it was added.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
}

crate::word_enum! {
    /// Where a delivery stands.
    "delivery status" pub enum DeliveryStatus {
        /// Not yet accepted by the receiver; it will be tried again.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up: the receiver refused, or every attempt failed.
        Failed = "failed",
    }
}

/// One notification to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct Delivery {
    /// The idempotency id receivers see in `OpsDeck-Delivery`.
    pub id: String,
    /// The target's name.
    pub target: String,
    /// What happened.
    pub event: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// HTTP attempts so far.
    #[ts(type = "number")]
    pub attempts: i64,
    /// The last HTTP status received.
    #[ts(type = "number | null")]
    pub last_status: Option<i64>,
    /// The last problem, if any.
    pub last_error: String,
    /// When it was created.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
    /// When the target accepted it.
    #[ts(type = "number | null")]
    pub delivered_at_unix_ms: Option<i64>,
}

/// Why a signature does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=…,v1=…`.
    #[error("the OpsDeck-Signature header is malformed")]
    Malformed,
    /// The timestamp is outside the replay window.
    #[error("the signature is too old (or from the future): possible replay")]
    OutsideWindow,
    /// The HMAC does not match the body.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// What the signature covers: the timestamp, a dot, the raw body.
fn signed_payload(timestamp: i64, body: &[u8]) -> Vec<u8> {
    [timestamp.to_string().as_bytes(), b".", body].concat()
}

/// The `OpsDeck-Signature` value for `body` at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac_of_raw(secret, &signed_payload(timestamp, body))))
}

/// Checks an `OpsDeck-Signature` header the way a receiver should.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix_secs: i64,
    window_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_unix_secs - timestamp).abs() > window_secs {
        return Err(SignatureError::OutsideWindow);
    }
    let expected = mac_of_raw(secret, &signed_payload(timestamp, body));
    if signatures.iter().any(|candidate| crate::keys::macs_equal(candidate, &expected)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// What a target's sealed secret is bound to: its name and its URL, so a
/// URL changed in the store (to send signed events elsewhere) no longer
/// opens the secret and nothing is signed or sent.
fn secret_context(name: &str, url: &str) -> Vec<u8> {
    format!("webhook-secret:{name}\n{url}").into_bytes()
}

type DeliveryRow = (String, String, String, String, i64, Option<i64>, String, i64, Option<i64>);
const DELIVERY_COLUMNS: &str =
    "id, target, event, status, attempts, last_status, last_error, created_at_unix_ms, delivered_at_unix_ms";

fn delivery_from_row(row: DeliveryRow) -> Result<Delivery, CoreError> {
    let (
        id,
        target,
        event,
        status,
        attempts,
        last_status,
        last_error,
        created_at_unix_ms,
        delivered_at_unix_ms,
    ) = row;
    Ok(Delivery {
        id,
        target,
        event,
        status: status.parse()?,
        attempts,
        last_status,
        last_error,
        created_at_unix_ms,
        delivered_at_unix_ms,
    })
}

/// True for URLs whose host is this machine (127.0.0.0/8, ::1, localhost).
fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Adds (or replaces) a target. The secret is sealed under `key`.
pub async fn add_target(
    store: &Store,
    key: &Key,
    name: &str,
    url: &str,
    secret: &[u8],
) -> Result<(), CoreError> {
    let parsed = url::Url::parse(url)
        .map_err(|error| CoreError::InvalidTarget(format!("`{url}` is not a URL: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CoreError::InvalidTarget(format!("`{url}` must be an http:// or https:// URL")));
    }
    // Signed events cross the network: in the clear only to this machine.
    if parsed.scheme() == "http" && !is_loopback_host(&parsed) {
        return Err(CoreError::InvalidTarget(format!(
            "`{url}` would send events unencrypted over the network; use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)"
        )));
    }
    if name.trim().is_empty() || secret.len() < 16 {
        return Err(CoreError::InvalidTarget(
            "a target needs a name and a secret of at least 16 bytes".into(),
        ));
    }
    let sealed = seal(key, &secret_context(name, url), secret)?;
    sqlx::query(
        "INSERT INTO webhook_targets (name, url, secret_sealed, created_at_unix_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed",
    )
    .bind(name)
    .bind(url)
    .bind(sealed)
    .bind(now_unix_ms())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Every target, by name.
pub async fn targets(store: &Store) -> Result<Vec<WebhookTarget>, CoreError> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, url, created_at_unix_ms FROM webhook_targets ORDER BY name")
            .fetch_all(store.pool())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(name, url, created_at_unix_ms)| WebhookTarget { name, url, created_at_unix_ms })
        .collect())
}

/// The latest deliveries (of one target, or all), newest first.
pub async fn deliveries(store: &Store, target: Option<&str>, limit: i64) -> Result<Vec<Delivery>, CoreError> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ($1 = '' OR target = $1) \
         ORDER BY created_at_unix_ms DESC, id DESC LIMIT $2"
    ))
    .bind(target.unwrap_or(""))
    .bind(limit.clamp(1, 1000))
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(delivery_from_row).collect()
}

/// Queues `event` with JSON `payload` for `target` (or every target when
/// `None`) and returns the new deliveries' ids.
pub async fn enqueue(
    store: &Store,
    target: Option<&str>,
    event: &str,
    payload: &serde_json::Value,
) -> Result<Vec<String>, CoreError> {
    let mut transaction = store.begin_write().await?;
    let ids = enqueue_in(&mut transaction, target, event, payload).await?;
    transaction.commit().await?;
    Ok(ids)
}

/// [`enqueue`] inside the caller's transaction, so a notification is
/// queued if and only if the change it announces is stored (an alert's
/// transition and its notification commit together: sent once).
pub async fn enqueue_in(
    transaction: &mut crate::WriteTransaction,
    target: Option<&str>,
    event: &str,
    payload: &serde_json::Value,
) -> Result<Vec<String>, CoreError> {
    let names: Vec<String> = match target {
        Some(name) => {
            let found: Option<String> =
                sqlx::query_scalar("SELECT name FROM webhook_targets WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut **transaction)
                    .await?;
            vec![found.ok_or_else(|| CoreError::UnknownTarget { name: name.to_owned() })?]
        }
        None => sqlx::query_scalar("SELECT name FROM webhook_targets").fetch_all(&mut **transaction).await?,
    };
    let mut ids = Vec::new();
    for name in names {
        let mut random = [0_u8; 16];
        getrandom::fill(&mut random).map_err(|error| CoreError::Random(error.to_string()))?;
        let id = format!("dlv_{}", hex::encode(random));
        let body = serde_json::json!({
            "id": id,
            "event": event,
            "created_at_unix_ms": now_unix_ms(),
            "data": payload,
        });
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, target, event, body, created_at_unix_ms, status) \
             VALUES ($1, $2, $3, $4, $5, 'pending')",
        )
        .bind(&id)
        .bind(&name)
        .bind(event)
        .bind(body.to_string())
        .bind(now_unix_ms())
        .execute(&mut **transaction)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Attempts one delivery now (with the client's retries) and records the result.
pub async fn deliver(
    store: &Store,
    key: &Key,
    client: &ResilientClient,
    id: &str,
) -> Result<Delivery, CoreError> {
    let (target, event, body, url, sealed, attempts): (String, String, String, String, Vec<u8>, i64) =
        sqlx::query_as(
            "SELECT d.target, d.event, d.body, t.url, t.secret_sealed, d.attempts \
         FROM webhook_deliveries d JOIN webhook_targets t ON t.name = d.target WHERE d.id = $1",
        )
        .bind(id)
        .fetch_one(store.pool())
        .await?;
    let Ok(secret) = open(key, &secret_context(&target, &url), &sealed) else {
        // The URL (or the sealed secret) was changed in the store: nothing is
        // signed or sent, and the delivery says why (it is not retried).
        let why = format!(
            "not sent: the target `{target}`'s URL or secret was changed in the store without OpsDeck's key \
             (its secret is sealed together with its URL); add the target again with `opsdeck notify add`"
        );
        sqlx::query("UPDATE webhook_deliveries SET status = 'failed', last_error = $1 WHERE id = $2")
            .bind(&why)
            .bind(id)
            .execute(store.pool())
            .await?;
        return Err(CoreError::InvalidTarget(why));
    };
    let timestamp = now_unix_ms() / 1000;
    let request = OutboundRequest::post(url, body.clone().into_bytes())
        .header("Content-Type", "application/json")
        .header("OpsDeck-Event", &event)
        .header("OpsDeck-Delivery", id)
        .header("OpsDeck-Signature", &sign(&secret, timestamp, body.as_bytes()))
        .idempotency_key(id);
    let result = client.send(request).await;
    let (status, tries, last_status, last_error, delivered_at) = match result {
        Ok(response) if (200..300).contains(&response.status) => (
            DeliveryStatus::Delivered,
            response.attempts,
            Some(i64::from(response.status)),
            String::new(),
            Some(now_unix_ms()),
        ),
        Ok(response) => (
            // The receiver answered and refused: retrying the same request will not help.
            DeliveryStatus::Failed,
            response.attempts,
            Some(i64::from(response.status)),
            if (300..400).contains(&response.status) {
                format!(
                    "the receiver answered HTTP {} (a redirect), which is not followed: signed events go only \
                     to the target's own URL; set the URL it redirects to with `opsdeck notify add`",
                    response.status
                )
            } else {
                format!("the receiver answered HTTP {}", response.status)
            },
            None,
        ),
        Err(HttpError::Failed { attempts: tries, last_error, status, .. }) => {
            let exhausted = attempts + i64::from(tries) >= MAX_DELIVERY_ATTEMPTS;
            (
                if exhausted { DeliveryStatus::Failed } else { DeliveryStatus::Pending },
                tries,
                status.map(i64::from),
                last_error,
                None,
            )
        }
        Err(error @ HttpError::CircuitOpen { .. }) => {
            (DeliveryStatus::Pending, 0, None, error.to_string(), None)
        }
        Err(error @ HttpError::BadUrl { .. }) => (DeliveryStatus::Failed, 0, None, error.to_string(), None),
    };
    tracing::info!(delivery = id, %target, %status, attempts = tries, "webhook delivery attempted");
    let row: DeliveryRow = sqlx::query_as(&format!(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + $2, last_status = $3, last_error = $4, \
         delivered_at_unix_ms = $5 WHERE id = $6 RETURNING {DELIVERY_COLUMNS}"
    ))
    .bind(status.as_str())
    .bind(i64::from(tries))
    .bind(last_status)
    .bind(last_error)
    .bind(delivered_at)
    .bind(id)
    .fetch_one(store.pool())
    .await?;
    delivery_from_row(row)
}

/// Ids of deliveries still pending (for the redelivery job), oldest first.
pub async fn pending(store: &Store, limit: i64) -> Result<Vec<String>, CoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' ORDER BY created_at_unix_ms LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// How many deliveries are waiting to be sent (or sent again).
pub async fn pending_count(store: &Store) -> Result<i64, CoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
        .fetch_one(store.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_0123456789abcdef";

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_window() {
        let body = br#"{"event":"test"}"#;
        let header = sign(SECRET, 1_700_000_000, body);
        assert_eq!(verify_signature(SECRET, &header, body, 1_700_000_100, 300), Ok(()));
        assert_eq!(
            verify_signature(SECRET, &header, br#"{"event":"tesT"}"#, 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"another secret!!", &header, body, 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, &header, body, 1_700_000_400, 300),
            Err(SignatureError::OutsideWindow)
        );
        assert_eq!(
            verify_signature(SECRET, "v1=abcd", body, 1_700_000_000, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify_signature(SECRET, "t=1,v1=zz", body, 1, 300), Err(SignatureError::Malformed));
    }

    #[test]
    fn the_signature_binds_the_timestamp() {
        let body = b"{}";
        let header = sign(SECRET, 1_700_000_000, body);
        let replayed = header.replace("t=1700000000", "t=1700000200");
        assert_eq!(
            verify_signature(SECRET, &replayed, body, 1_700_000_200, 300),
            Err(SignatureError::Mismatch)
        );
    }
}
