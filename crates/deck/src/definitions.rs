//! Definitions that make OpsDeck run a command or write a file, as the deck
//! seals them when a person sets them and checks them before each use (see
//! `opsdeck_core::definitions`). A refused definition is audited and its
//! error shown where it would have run (a job's run, a config version's
//! reload outcome, a link's error).

use opsdeck_core::definitions::{audit_target, Seal, REMOVED_ACTION, SEALED_ACTION};
use opsdeck_core::CoreError;

use crate::{Caller, Deck, DeckError, Outcome};

/// Kinds of sealed definitions.
pub(crate) const COMMAND_JOB: &str = "job.command";
/// A secret's rotation policy: how often, and its verification command.
pub(crate) const ROTATION_POLICY: &str = "secret.rotation";
pub(crate) const RELOAD_HOOK: &str = "config.reload_hook";
pub(crate) const CONFIG_LINK: &str = "config.link";
/// A metrics scrape target (where OpsDeck sends requests on a schedule).
pub(crate) const SCRAPE_TARGET: &str = "metrics.target";
/// A remote Prometheus data source: where queries are sent, with which token.
pub(crate) const METRIC_SOURCE: &str = "metrics.source";
/// A remembered scan target scanned on a schedule (what it reads, and
/// whether it compares vault values, as whom).
pub(crate) const SCAN_TARGET: &str = "scan.target";
/// A managed certificate's settings: deploy hook, DNS hook, webroot.
pub(crate) const MANAGED_CERT: &str = "cert.managed";

impl Deck {
    /// Seals a definition `caller` just set, recording the seal in the
    /// audit trail (what later tells the current seal from an older one).
    pub(crate) async fn seal_definition(
        &self,
        caller: &Caller,
        kind: &str,
        subject: &str,
        content: &serde_json::Value,
        run_anywhere: bool,
    ) -> Result<Seal, DeckError> {
        let details = serde_json::json!({ "kind": kind, "subject": subject, "run_anywhere": run_anywhere });
        let audit = self.audit.scope(caller, SEALED_ACTION, &audit_target(kind, subject), details).await?;
        let seal = self.seals.seal(kind, subject, content, &caller.actor, run_anywhere, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(seal)
    }

    /// Removes the seal of a definition `caller` removed, recording the
    /// removal in the audit trail so that the definition cannot be put back.
    pub(crate) async fn unseal_definition(
        &self,
        caller: &Caller,
        kind: &str,
        subject: &str,
    ) -> Result<(), DeckError> {
        let details = serde_json::json!({ "kind": kind, "subject": subject });
        let audit = self.audit.scope(caller, REMOVED_ACTION, &audit_target(kind, subject), details).await?;
        self.seals.unseal(kind, subject, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(())
    }

    /// Checks a stored definition before it is used (with `pinned`, also
    /// that this host may run it). A refusal is recorded in the audit trail
    /// as denied, then returned.
    pub(crate) async fn check_definition(
        &self,
        caller: &Caller,
        kind: &str,
        subject: &str,
        content: &serde_json::Value,
        pinned: bool,
    ) -> Result<Seal, DeckError> {
        let audit_log = self.audit.log().await?;
        match self.seals.check(audit_log, kind, subject, content, pinned).await {
            Ok(seal) => Ok(seal),
            Err(error @ (CoreError::DefinitionNotAuthentic { .. } | CoreError::DefinitionPinned { .. })) => {
                let details = serde_json::json!({
                    "kind": kind, "subject": subject, "why": error.to_string(), "code": error.code(),
                });
                self.audit(
                    caller,
                    "definition.refused",
                    &format!("{kind} {subject}"),
                    Outcome::Denied,
                    details,
                )
                .await?;
                Err(error.into())
            }
            Err(error) => Err(error.into()),
        }
    }
}
