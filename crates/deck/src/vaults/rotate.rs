//! Rotation: a new value from the type's generator, kept only when an
//! optional verification command accepts it; otherwise the previous value is
//! current again and the reason is reported (and audited).
//!
//! Rotation policies ("every N days") are scheduler jobs named
//! `rotate:VAULT/NAME`, due when the current value reaches the policy's age:
//! any change of the value (set, rollback, import, rotation) moves the job to
//! the new due time, so a secret is rotated N days after it last changed.

use serde::Serialize;
use ts_rs::TS;

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_vault::{split_reference, MetadataChange, Role, SecretInfo};

use super::Vaults;
use crate::definitions::ROTATION_POLICY;
use crate::{Caller, DeckError, Outcome};
use opsdeck_vault::generators::{generate_for, StringPolicy};

/// The scheduler job kind that rotates one secret.
pub const ROTATE_JOB_KIND: &str = "secret.rotate";

/// The name of the job that carries `VAULT/NAME`'s rotation policy.
pub(crate) fn rotation_job_name(reference: &str) -> String {
    format!("rotate:{reference}")
}

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct RotationReport {
    /// The vault.
    pub vault: String,
    /// The secret.
    pub name: String,
    /// The current version after the rotation (the new one, or the old one when restored).
    #[ts(type = "number")]
    pub version: i64,
    /// True when the new value was kept.
    pub rotated: bool,
    /// Why the new value was not kept.
    pub reason: Option<String>,
    /// For a new SSH key: its public key, to install where it is trusted.
    pub public_key: Option<String>,
}

/// Runs `command` through `sh -c` with the new and old values; `None` when it exits 0.
async fn verification_failure(
    command: &str,
    new_value: &str,
    old_value: &str,
    public_key: Option<&str>,
) -> Option<String> {
    // A minimal environment: the two values it checks, none of OpsDeck's own secrets.
    let mut process = opsdeck_core::child_process::hook_command(command);
    process.env("OPSDECK_NEW_VALUE", new_value).env("OPSDECK_OLD_VALUE", old_value);
    if let Some(public_key) = public_key {
        process.env("OPSDECK_NEW_PUBLIC_KEY", public_key);
    }
    match process.output().await {
        Ok(output) if output.status.success() => None,
        Ok(output) => {
            // What it printed goes into the audit trail and the error: never the values it was given.
            let said = opsdeck_core::child_process::redact(
                &String::from_utf8_lossy(&output.stderr),
                &[new_value, old_value],
            );
            let said = crate::jobs::last_chars(said.trim(), 300);
            Some(format!(
                "the verification command exited with {}{}",
                output.status.code().map_or("a signal".to_owned(), |code| format!("code {code}")),
                if said.is_empty() { String::new() } else { format!(": {said}") }
            ))
        }
        Err(error) => Some(format!("the verification command could not start: {error}")),
    }
}

impl Vaults<'_> {
    /// Rotates `VAULT/NAME` (operators and admins); with `verify`, runs it
    /// through `sh -c` with the new value in `OPSDECK_NEW_VALUE` and the old
    /// one in `OPSDECK_OLD_VALUE` (and an SSH key's public key in
    /// `OPSDECK_NEW_PUBLIC_KEY`), and keeps the new value only when it exits 0.
    pub async fn secret_rotate(
        self,
        caller: &Caller,
        reference: &str,
        verify: Option<&str>,
    ) -> Result<RotationReport, DeckError> {
        let report = self.rotate_once(caller, reference, verify).await?;
        self.sync_rotation_job(&report.vault, &report.name).await?;
        Ok(report)
    }

    /// One rotation, leaving the policy's job alone (the scheduler moves it on
    /// when a scheduled rotation ends, and retries a failed one).
    async fn rotate_once(
        self,
        caller: &Caller,
        reference: &str,
        verify: Option<&str>,
    ) -> Result<RotationReport, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck.require(caller, vault, Role::Operator, "secret.rotate", reference, "rotating").await?;
        let old = self.secret_get(caller, reference, None).await?;
        let secret_type = old.secret_type;
        let generated = generate_for(secret_type, StringPolicy::default(), &format!("opsdeck:{reference}"))?;
        // The new version and its entry commit together; a failed check
        // takes it back in a second change, audited as failed.
        let verification = if verify.is_some() { "pending" } else { "none" };
        let details = serde_json::json!({ "verification": verification });
        let audit = self.deck.audit.scope(caller, "secret.rotate", reference, details).await?;
        let info = self
            .deck
            .vaults
            .set(vault, name, secret_type, generated.value.as_bytes(), &MetadataChange::default(), &audit)
            .await?;
        self.deck.audit.announce(&audit).await;

        let failure = match verify {
            None => None,
            Some(command) => {
                verification_failure(command, &generated.value, &old.value, generated.public_key.as_deref())
                    .await
            }
        };

        Ok(match failure {
            None => {
                if verify.is_some() {
                    let details = serde_json::json!({ "version": info.version, "verification": "passed" });
                    self.deck.audit(caller, "secret.rotate", reference, Outcome::Ok, details).await?;
                }
                RotationReport {
                    vault: vault.into(),
                    name: name.into(),
                    version: info.version,
                    rotated: true,
                    reason: None,
                    public_key: generated.public_key,
                }
            }
            Some(reason) => {
                let details = serde_json::json!({
                    "version": info.version, "verification": "failed", "reason": reason,
                });
                let audit = self
                    .deck
                    .audit
                    .scope(caller, "secret.rotate", reference, details)
                    .await?
                    .with_outcome(Outcome::Failed);
                let restored = self.deck.vaults.discard_version(vault, name, info.version, &audit).await?;
                self.deck.audit.announce(&audit).await;
                RotationReport {
                    vault: vault.into(),
                    name: name.into(),
                    version: restored,
                    rotated: false,
                    reason: Some(reason),
                    public_key: None,
                }
            }
        })
    }

    /// Secrets (of vaults the caller can see) due for rotation or expiring
    /// within `within_days` from now, soonest first.
    pub async fn secrets_due(self, caller: &Caller, within_days: i64) -> Result<Vec<SecretInfo>, DeckError> {
        let by = now_unix_ms() + within_days.max(0) * 86_400_000;
        let mut due: Vec<SecretInfo> = self
            .secret_list(caller, None)
            .await?
            .into_iter()
            .filter(|secret| secret.due_at().is_some_and(|at| at <= by))
            .collect();
        due.sort_by_key(SecretInfo::due_at);
        Ok(due)
    }

    /// Makes the scheduler match `VAULT/NAME`'s rotation policy: a job due
    /// when the current value reaches the policy's age, or no job.
    pub(crate) async fn sync_rotation_job(self, vault: &str, name: &str) -> Result<(), DeckError> {
        let reference = format!("{vault}/{name}");
        let job = rotation_job_name(&reference);
        let info = match self.deck.vaults.info(vault, name).await {
            Ok(info) => Some(info),
            Err(opsdeck_vault::VaultError::UnknownSecret { .. }) => None,
            Err(error) => return Err(error.into()),
        };
        match info.and_then(|info| Some((info.rotate_every_days?, info.rotation_due_at?))) {
            Some((days, due_at)) => {
                let spec = JobSpec {
                    name: job.clone(),
                    kind: ROTATE_JOB_KIND.to_owned(),
                    schedule: Schedule::Every(std::time::Duration::from_secs(
                        u64::try_from(days).unwrap_or(1) * 86_400,
                    )),
                    payload: serde_json::json!({ "reference": reference }),
                };
                Scheduler::upsert_job(&self.deck.store, &spec).await?;
                Scheduler::schedule_at(&self.deck.store, &job, due_at).await?;
            }
            None => {
                if Scheduler::exists(&self.deck.store, &job).await? {
                    Scheduler::remove(&self.deck.store, &job).await?;
                }
            }
        }
        Ok(())
    }

    /// The `secret.rotate` job: rotates the secret of `payload.reference`
    /// with its policy's verification command, as the scheduler.
    pub(crate) async fn run_rotation_job(self, payload: &serde_json::Value) -> Result<String, String> {
        let reference = payload.get("reference").and_then(|value| value.as_str()).unwrap_or_default();
        let (vault, name) = split_reference(reference).map_err(|error| error.to_string())?;
        let info = self.deck.vaults.info(vault, name).await.map_err(|error| error.to_string())?;
        // The policy runs only as sealed, on its host when it has a command,
        // and with the rights of whoever set it (not the scheduler's).
        let content = crate::vaults::rotation_policy_content(&info);
        let pinned = info.rotate_verify.is_some();
        let seal = self
            .deck
            .check_definition(&Caller::new("scheduler"), ROTATION_POLICY, reference, &content, pinned)
            .await
            .map_err(|error| error.to_string())?;
        let caller = Caller::new(seal.defined_by);
        let report = self
            .rotate_once(&caller, reference, info.rotate_verify.as_deref())
            .await
            .map_err(|error| error.to_string())?;
        match report.reason {
            None => Ok(format!("{reference} rotated to version {}", report.version)),
            Some(reason) => Err(format!("{reference} not rotated: {reason}")),
        }
    }
}
