//! Who may send telemetry to the receivers, and how many connections they
//! hold at once.
//!
//! The receivers listen on 127.0.0.1 by default. Bound beyond it (to take
//! telemetry from other machines), anyone who reaches the port could fill
//! the store or forge spans: an API key (`OPSDECK_OTLP_API_KEY`) makes every
//! request carry it, in the `x-opsdeck-api-key` header or as
//! `Authorization: Bearer KEY` (what OTLP exporters' `headers` setting
//! sends). A bounded number of connections and a time limit on reading a
//! request's headers keep slow or idle clients from holding the receiver.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "x-opsdeck-api-key";

/// Connections one receiver keeps open at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 512;

/// How long a client may take to send a request's headers (OTLP/HTTP).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The receivers' admission rules (cheap to clone).
#[derive(Clone)]
pub struct Gate {
    api_key: Option<Arc<Zeroizing<String>>>,
    connections: Arc<Semaphore>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").field("api_key", &self.api_key.as_ref().map(|_| "<set>")).finish()
    }
}

impl Gate {
    /// A gate asking for `api_key` (none: any local sender is admitted).
    pub fn new(api_key: Option<String>) -> Gate {
        Gate {
            api_key: api_key.filter(|key| !key.is_empty()).map(|key| Arc::new(Zeroizing::new(key))),
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }

    /// True when an API key is asked for.
    pub fn requires_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// True when a request with `headers` may be received.
    pub fn admits(&self, headers: &hyper::HeaderMap) -> bool {
        let Some(key) = &self.api_key else { return true };
        let given = headers.get(API_KEY_HEADER).and_then(|value| value.to_str().ok()).or_else(|| {
            headers
                .get(hyper::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
        });
        given.is_some_and(|given| opsdeck_core::keys::macs_equal(given.trim().as_bytes(), key.as_bytes()))
    }

    /// Room for one more connection, or `None` when the receiver is full.
    pub fn connection(&self) -> Option<OwnedSemaphorePermit> {
        self.connections.clone().try_acquire_owned().ok()
    }

    /// What to tell a sender without the right key.
    pub fn refusal() -> String {
        format!("this receiver asks for an API key: send it in the {API_KEY_HEADER} header (or Authorization: Bearer)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_key_in_either_header_is_admitted() {
        let gate = Gate::new(Some("s3cret-key".into()));
        let mut headers = hyper::HeaderMap::new();
        assert!(!gate.admits(&headers));
        headers.insert(API_KEY_HEADER, "wrong".parse().unwrap());
        assert!(!gate.admits(&headers));
        headers.insert(API_KEY_HEADER, "s3cret-key".parse().unwrap());
        assert!(gate.admits(&headers));
        let mut bearer = hyper::HeaderMap::new();
        bearer.insert(hyper::header::AUTHORIZATION, "Bearer s3cret-key".parse().unwrap());
        assert!(gate.admits(&bearer));
        assert!(Gate::new(None).admits(&hyper::HeaderMap::new()));
    }
}
