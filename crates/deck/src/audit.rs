//! The audit trail as users reach it: list, verify, and recording for every
//! other service of the deck.

use opsdeck_core::audit::{AuditEvent, AuditLog, AUDIT_KEY_NAME};
use opsdeck_core::keys::load_or_create_key;

use crate::{AuditEntry, AuditFilter, Caller, Deck, DeckError, DeckEvent, Outcome, VerifyReport};

impl Deck {
    /// The audit log with its key loaded (created on first use).
    pub(crate) async fn audit_log(&self) -> Result<&AuditLog, DeckError> {
        self.audit
            .get_or_try_init(|| async {
                let key = load_or_create_key(&self.store, AUDIT_KEY_NAME, &self.keys).await?;
                Ok::<_, DeckError>(AuditLog::new(self.store.clone(), key))
            })
            .await
    }

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
        let event = AuditEvent { action: action.to_owned(), target: target.to_owned(), outcome, details };
        let entry = self.audit_log().await?.record(caller, event).await?;
        self.events.publish(DeckEvent::AuditRecorded { entry: entry.clone() });
        Ok(entry)
    }

    /// Entries matching `filter`, newest first. Reading needs no key.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DeckError> {
        Ok(AuditLog::list(&self.store, filter).await?)
    }

    /// Checks the whole chain. An intact chain records that it was verified.
    pub async fn audit_verify(&self, caller: &Caller) -> Result<VerifyReport, DeckError> {
        let report = self.audit_log().await?.verify().await?;
        if report.ok {
            let details = serde_json::json!({ "entries": report.entries });
            self.audit(caller, "audit.verify", "audit trail", Outcome::Ok, details).await?;
        }
        Ok(report)
    }
}
