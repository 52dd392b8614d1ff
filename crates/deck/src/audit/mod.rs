//! The audit trail as users reach it: list, verify, and recording for every
//! other service of the deck (and for background jobs, which share it).

pub mod operations;

use std::sync::Arc;

use tracing::Instrument;

use opsdeck_core::audit::{AuditEvent, AuditLog, AuditScope, Checkpoint};
use opsdeck_core::events::EventBus;
use opsdeck_core::keys::SharedKeyAccess;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_core::webhooks::DeliveryStatus;
use opsdeck_core::Store;

use crate::jobs::JobKinds;
use crate::{AuditEntry, AuditFilter, Caller, CoreEvent, Deck, DeckError, Outcome, VerifyReport};

/// A deck's audit trail as users reach it: `deck.audit_trail()`.
#[derive(Clone, Copy)]
pub struct AuditTrail<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// The audit log with its key, loaded on first use (reaching the key may ask
/// the keychain or run Argon2), shared by the deck and its background jobs.
pub(crate) struct AuditService {
    store: Store,
    keys: SharedKeyAccess,
    /// Where this machine keeps its checkpoint of the chain (the data dir).
    anchor_dir: std::path::PathBuf,
    events: EventBus,
    log: tokio::sync::OnceCell<AuditLog>,
    /// Entries this process recorded (and announced) that the follower has
    /// not passed yet: it announces only the others' entries.
    announced_here: std::sync::Mutex<std::collections::BTreeSet<i64>>,
}

/// How often the trail is looked at for entries other processes appended.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl AuditService {
    pub(crate) fn new(
        store: Store,
        keys: SharedKeyAccess,
        anchor_dir: std::path::PathBuf,
        events: EventBus,
    ) -> Arc<AuditService> {
        Arc::new(AuditService {
            store,
            keys,
            anchor_dir,
            events,
            log: tokio::sync::OnceCell::new(),
            announced_here: std::sync::Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// Announces, as `AuditRecorded` events, the entries other processes
    /// sharing the store append (a `config set` from a script, a CLI
    /// reveal), so the app's pages follow them without a refresh. Runs
    /// until `stop`.
    pub(crate) async fn follow(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut last = match AuditLog::last_seq(&self.store).await {
            Ok(seq) => seq,
            Err(error) => {
                tracing::warn!(%error, "cannot follow the audit trail; changes made by other processes show after a refresh");
                return;
            }
        };
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(FOLLOW_EVERY) => {}
            }
            let entries = match AuditLog::after(&self.store, last, 500).await {
                Ok(entries) => entries,
                Err(error) => {
                    tracing::warn!(%error, "reading new audit entries failed; trying again");
                    continue;
                }
            };
            for entry in entries {
                last = entry.seq;
                let ours = self.announced_here.lock().is_ok_and(|mut here| here.remove(&entry.seq));
                if !ours {
                    self.events.publish(CoreEvent::AuditRecorded { entry });
                }
            }
            if let Ok(mut here) = self.announced_here.lock() {
                // Anything at or below `last` was passed already.
                *here = here.split_off(&(last + 1));
            }
        }
    }

    pub(crate) async fn log(&self) -> Result<&AuditLog, DeckError> {
        self.log
            .get_or_try_init(|| async {
                let access = self.keys.snapshot();
                let log = AuditLog::open(self.store.clone(), &access, Some(self.anchor_dir.clone())).await?;
                Ok::<_, DeckError>(log)
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
            tracing::info!(action, target, outcome = %entry.outcome, seq = entry.seq, "audited");
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
        if let Ok(mut here) = self.announced_here.lock() {
            here.insert(entry.seq);
        }
        self.events.publish(CoreEvent::AuditRecorded { entry: entry.clone() });
        Ok(entry)
    }

    /// An entry for a change to write inside its own transaction (see
    /// [`AuditScope`]); [`AuditService::announce`] it once committed.
    pub(crate) async fn scope<'a>(
        &'a self,
        caller: &'a Caller,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<AuditScope<'a>, DeckError> {
        Ok(AuditScope::new(self.log().await?, caller, action, target, details))
    }

    /// Tells the app and the log about the entry a committed change wrote.
    pub(crate) async fn announce(&self, scope: &AuditScope<'_>) {
        let Some(entry) = scope.written() else { return };
        if let Some(log) = self.log.get() {
            log.advance_anchor().await;
        }
        tracing::info!(
            action = entry.action, target = entry.target, outcome = %entry.outcome, seq = entry.seq,
            correlation_id = %entry.correlation_id, "audited"
        );
        if let Ok(mut here) = self.announced_here.lock() {
            here.insert(entry.seq);
        }
        self.events.publish(CoreEvent::AuditRecorded { entry });
    }

    /// Loads the audit key now (checks a newly given passphrase).
    pub(crate) async fn load_key(&self) -> Result<(), DeckError> {
        self.log().await.map(|_| ())
    }

    /// Accepts the store's chain as it is now on this machine (after a
    /// deliberate restore of an older copy in place): the checkpoint is
    /// forgotten, the chain must verify otherwise, and the decision is
    /// recorded with what the checkpoint had seen.
    pub(crate) async fn reanchor(&self, caller: &Caller) -> Result<AuditEntry, DeckError> {
        let log = self.log().await?;
        let forgotten = log.forget_anchor()?;
        let report = log.verify().await?;
        if !report.ok {
            return Err(opsdeck_core::CoreError::AuditChainBroken {
                problem: report.problem.unwrap_or_else(|| "the chain does not verify".to_owned()),
            }
            .into());
        }
        let details = serde_json::json!({ "checkpoint_was": forgotten, "entries": report.entries });
        self.record(caller, "audit.reanchor", "audit trail", Outcome::Ok, details).await
    }

    pub(crate) async fn checkpoint(&self) -> Result<Checkpoint, DeckError> {
        Ok(self.log().await?.checkpoint().await?)
    }

    pub(crate) async fn verify(
        &self,
        caller: &Caller,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<VerifyReport, DeckError> {
        let report = self.log().await?.verify_against(checkpoint).await?;
        if report.ok {
            let details = match checkpoint {
                None => serde_json::json!({ "entries": report.entries }),
                Some(checkpoint) => {
                    serde_json::json!({ "entries": report.entries, "checkpoint_seq": checkpoint.seq })
                }
            };
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
}

impl AuditTrail<'_> {
    /// Entries matching `filter`, newest first. Reading needs no key.
    pub async fn entries(self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DeckError> {
        Ok(AuditLog::list(&self.deck.store, filter).await?)
    }

    /// Accepts the store's trail as it now is, on this machine (after a
    /// deliberate restore of an older store in place), and records that.
    pub async fn reanchor(self, caller: &Caller) -> Result<AuditEntry, DeckError> {
        self.deck.audit.reanchor(caller).await
    }

    /// Checks the whole chain. An intact chain records that it was verified.
    pub async fn verify(self, caller: &Caller) -> Result<VerifyReport, DeckError> {
        self.deck.audit.verify(caller, None).await
    }

    /// Checks the whole chain and that it still holds the entry a checkpoint
    /// kept elsewhere vouches for (finds a rollback even on a machine that
    /// keeps no checkpoint of its own).
    pub async fn verify_against(
        self,
        caller: &Caller,
        checkpoint: &Checkpoint,
    ) -> Result<VerifyReport, DeckError> {
        self.deck.audit.verify(caller, Some(checkpoint)).await
    }

    /// A checkpoint of the chain as it is now, to keep away from this machine.
    pub async fn checkpoint(self) -> Result<Checkpoint, DeckError> {
        self.deck.audit.checkpoint().await
    }

    /// Sends a checkpoint of the chain to a webhook target now (event
    /// `audit.checkpoint`, signed like every delivery); returns it and the
    /// delivery's status. Recorded in the trail.
    pub async fn checkpoint_send(
        self,
        caller: &Caller,
        target: &str,
    ) -> Result<(Checkpoint, DeliveryStatus), DeckError> {
        let checkpoint = self.deck.audit.checkpoint().await?;
        let payload = serde_json::json!(checkpoint);
        let status = self.deck.notify().send_to(target, AUDIT_CHECKPOINT_EVENT, &payload).await?;
        let outcome = if status == DeliveryStatus::Delivered { Outcome::Ok } else { Outcome::Failed };
        let details = serde_json::json!({ "seq": checkpoint.seq, "delivery": status });
        self.deck.audit(caller, "audit.checkpoint", target, outcome, details).await?;
        Ok((checkpoint, status))
    }

    /// Sends a checkpoint to `target` every `every` from the scheduler (the
    /// app or `opsdeck serve`); job `audit-checkpoint-TARGET`. Recorded.
    pub async fn checkpoint_schedule(
        self,
        caller: &Caller,
        target: &str,
        every: std::time::Duration,
    ) -> Result<String, DeckError> {
        if every < std::time::Duration::from_secs(60) {
            return Err(opsdeck_core::CoreError::InvalidJob(format!(
                "a checkpoint every {} s is too often: take at least a minute between two",
                every.as_secs()
            ))
            .into());
        }
        opsdeck_core::webhooks::targets(&self.deck.store)
            .await?
            .iter()
            .find(|known| known.name == target)
            .ok_or_else(|| opsdeck_core::CoreError::UnknownTarget { name: target.to_owned() })?;
        let name = format!("audit-checkpoint-{target}");
        // First due now, so the first checkpoint leaves as soon as a scheduler runs.
        Scheduler::upsert_job(
            &self.deck.store,
            &JobSpec {
                name: name.clone(),
                kind: AUDIT_CHECKPOINT_JOB_KIND.to_owned(),
                schedule: Schedule::Every(every),
                payload: serde_json::json!({ "target": target }),
            },
        )
        .await?;
        let details = serde_json::json!({ "job": name, "every_secs": every.as_secs() });
        self.deck.audit(caller, "audit.checkpoint_schedule", target, Outcome::Ok, details).await?;
        Ok(name)
    }
}

/// The webhook event a checkpoint of the audit chain is sent as.
pub const AUDIT_CHECKPOINT_EVENT: &str = "audit.checkpoint";

/// The scheduler job kind that sends one (payload `{"target": NAME}`).
pub const AUDIT_CHECKPOINT_JOB_KIND: &str = "audit.checkpoint";

impl AuditTrail<'_> {
    /// Runs one scheduled checkpoint: a delivery that did not go through is
    /// queued for redelivery and reported as the run's failure.
    pub(crate) async fn run_checkpoint_job(self, payload: &serde_json::Value) -> Result<String, String> {
        let target = payload["target"].as_str().ok_or("the job names no webhook target")?;
        let (checkpoint, status) = self
            .checkpoint_send(&Caller::new("scheduler"), target)
            .await
            .map_err(|error| error.to_string())?;
        if status == DeliveryStatus::Delivered {
            Ok(format!("checkpoint at entry {} delivered to {target}", checkpoint.seq))
        } else {
            Err(format!(
                "checkpoint at entry {} not delivered to {target} ({status}); it will be retried",
                checkpoint.seq
            ))
        }
    }
}

/// The built-in job that checks the audit chain every day.
pub const AUDIT_VERIFY_JOB: &str = "audit-verify";
const AUDIT_VERIFY_JOB_KIND: &str = "audit.verify";

/// The audit trail's jobs: the daily chain check (built in) and scheduled
/// checkpoints sent to a webhook target.
pub(crate) async fn register_jobs(deck: &Deck, kinds: &mut JobKinds<'_>) -> Result<(), DeckError> {
    let daily = JobSpec {
        name: AUDIT_VERIFY_JOB.to_owned(),
        kind: AUDIT_VERIFY_JOB_KIND.to_owned(),
        schedule: Schedule::Every(std::time::Duration::from_secs(24 * 3600)),
        payload: serde_json::json!({}),
    };
    Scheduler::ensure_job(&deck.store, &daily).await?;
    kinds.register(AUDIT_VERIFY_JOB_KIND, |deck, _job| async move {
        let report =
            deck.audit.verify(&Caller::new("scheduler"), None).await.map_err(|error| error.to_string())?;
        match report.first_bad {
            None => Ok(format!("chain intact: {} entries", report.entries)),
            Some(seq) => {
                Err(format!("tampering found at entry {seq}: {}", report.problem.unwrap_or_default()))
            }
        }
    });
    kinds.register(AUDIT_CHECKPOINT_JOB_KIND, |deck, job| async move {
        deck.audit_trail().run_checkpoint_job(&job.payload).await
    });
    Ok(())
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![entry::<operations::AuditLog>(), entry::<operations::AuditVerify>()]
}
