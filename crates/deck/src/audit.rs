//! The audit trail as users reach it: list, verify, and recording for every
//! other service of the deck (and for background jobs, which share it).

use std::sync::Arc;

use tracing::Instrument;

use opsdeck_core::audit::{AuditEvent, AuditLog, AUDIT_KEY_NAME};
use opsdeck_core::events::EventBus;
use opsdeck_core::keys::{load_or_create_key, SharedKeyAccess};
use opsdeck_core::Store;

use crate::{AuditEntry, AuditFilter, Caller, Deck, DeckError, DeckEvent, Outcome, VerifyReport};

/// The audit log with its key, loaded on first use (reaching the key may ask
/// the keychain or run Argon2), shared by the deck and its background jobs.
pub(crate) struct AuditService {
    store: Store,
    keys: SharedKeyAccess,
    events: EventBus,
    log: tokio::sync::OnceCell<AuditLog>,
}

impl AuditService {
    pub(crate) fn new(store: Store, keys: SharedKeyAccess, events: EventBus) -> Arc<AuditService> {
        Arc::new(AuditService { store, keys, events, log: tokio::sync::OnceCell::new() })
    }

    async fn log(&self) -> Result<&AuditLog, DeckError> {
        self.log
            .get_or_try_init(|| async {
                let key = load_or_create_key(&self.store, AUDIT_KEY_NAME, &self.keys.snapshot()).await?;
                Ok::<_, DeckError>(AuditLog::new(self.store.clone(), key))
            })
            .await
    }

    pub(crate) async fn record(
        &self,
        caller: &Caller,
        action: &str,
        target: &str,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> Result<AuditEntry, DeckError> {
        let event = AuditEvent { action: action.to_owned(), target: target.to_owned(), outcome, details };
        let recorded = async {
            let entry = self.log().await?.record(caller, event).await?;
            tracing::info!(action, target, outcome = entry.outcome, seq = entry.seq, "audited");
            Ok::<_, DeckError>(entry)
        }
        .instrument(caller.span())
        .await;
        if let Err(error) = &recorded {
            // The caller reports the error itself; the log file keeps a trace of it.
            tracing::info!(
                correlation_id = %caller.correlation_id, actor = %caller.actor, action, target, %error,
                "could not write the audit trail"
            );
        }
        let entry = recorded?;
        self.events.publish(DeckEvent::AuditRecorded { entry: entry.clone() });
        Ok(entry)
    }

    /// Loads the audit key now (checks a newly given passphrase).
    pub(crate) async fn load_key(&self) -> Result<(), DeckError> {
        self.log().await.map(|_| ())
    }

    pub(crate) async fn verify(&self, caller: &Caller) -> Result<VerifyReport, DeckError> {
        let report = self.log().await?.verify().await?;
        if report.ok {
            let details = serde_json::json!({ "entries": report.entries });
            self.record(caller, "audit.verify", "audit trail", Outcome::Ok, details).await?;
        }
        Ok(report)
    }
}

impl Deck {
    /// Records one action of `caller`. Services call this before they act on
    /// anything sensitive; when it fails, they do not act.
    pub async fn audit(
        &self,
        caller: &Caller,
        action: &str,
        target: &str,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> Result<AuditEntry, DeckError> {
        self.audit.record(caller, action, target, outcome, details).await
    }

    /// Entries matching `filter`, newest first. Reading needs no key.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DeckError> {
        Ok(AuditLog::list(&self.store, filter).await?)
    }

    /// Checks the whole chain. An intact chain records that it was verified.
    pub async fn audit_verify(&self, caller: &Caller) -> Result<VerifyReport, DeckError> {
        self.audit.verify(caller).await
    }
}
