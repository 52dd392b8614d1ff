//! Remembered scan targets and the findings store: the folders and
//! repositories the Scanning page scans (by hand or every few hours), and
//! every finding their scans made, with its triage state — `new`,
//! `confirmed`, `false_positive` or `fixed` — keyed by fingerprint, so a
//! finding keeps its state when lines move. A scan records what it saw in
//! one transaction with its audit entry: findings not seen before are new,
//! open ones no longer seen are fixed, fixed ones seen again are new again;
//! a false positive stays one; a vault value whose version is no longer
//! current (rotated away) is fixed. New findings are announced to the webhook
//! targets (`scan.new_findings`, redacted as in reports).
//!
//! A scheduled scan runs only as its sealed definition says, with the
//! rights of whoever saved it (vault values are compared only where that
//! person may reveal them).

use std::collections::HashMap;

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_scan::ScanError;
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use ts_rs::TS;

use super::{ScanFinding, ScanInput, ScanReport, ScanSkipped};
use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::definitions::SCAN_TARGET;
use crate::{Caller, Deck, DeckError};

/// The scheduler's job kind for scheduled scans.
const SCAN_JOB_KIND: &str = "scan.target";

/// A store error, as the deck reports it.
fn db(error: sqlx::Error) -> DeckError {
    opsdeck_core::CoreError::from(error).into()
}

fn job_name(path: &str) -> String {
    format!("scan:{path}")
}

/// A finding's triage state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// Seen, not looked at yet.
    New,
    /// A real secret, being dealt with.
    Confirmed,
    /// Not a secret: not reported as new again.
    FalsePositive,
    /// Gone from the target (its last scan did not see it), or marked so.
    Fixed,
}

impl FindingState {
    fn as_str(self) -> &'static str {
        match self {
            FindingState::New => "new",
            FindingState::Confirmed => "confirmed",
            FindingState::FalsePositive => "false_positive",
            FindingState::Fixed => "fixed",
        }
    }

    fn parse(text: &str) -> FindingState {
        match text {
            "confirmed" => FindingState::Confirmed,
            "false_positive" => FindingState::FalsePositive,
            "fixed" => FindingState::Fixed,
            _ => FindingState::New,
        }
    }

    fn is_open(self) -> bool {
        matches!(self, FindingState::New | FindingState::Confirmed)
    }
}

/// How a remembered folder or repository is scanned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    /// The folder or repository.
    pub path: String,
    /// Scan its git history (every commit) rather than its files.
    #[serde(default)]
    pub history: bool,
    /// Also look for the vaults' values.
    #[serde(default)]
    pub vault_values: bool,
    /// Paths below it whose findings are not reported (globs such as
    /// `tests/fixtures/**`).
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Scan it on a schedule, every this many hours (none: by hand only).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub every_hours: Option<i64>,
}

/// What a target's last scan did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, TS)]
pub struct TargetScanSummary {
    /// Files (or file versions, in history) scanned.
    #[ts(type = "number")]
    pub files: u64,
    /// Bytes scanned.
    #[ts(type = "number")]
    pub bytes: u64,
    /// Commits visited (history).
    #[ts(type = "number")]
    pub commits: u64,
    /// How long it took, in milliseconds.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Findings it reported.
    #[ts(type = "number")]
    pub findings: u64,
    /// Findings not seen before.
    #[ts(type = "number")]
    pub new: u64,
    /// Open findings it no longer saw (now fixed).
    #[ts(type = "number")]
    pub fixed: u64,
    /// Fixed findings seen again (new again).
    #[ts(type = "number")]
    pub reopened: u64,
    /// Paths not scanned.
    #[ts(type = "number")]
    pub skipped: u64,
    /// Why the scan failed, when it did.
    pub error: Option<String>,
}

/// A remembered target with its findings' counts.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ScanTarget {
    /// How it is scanned.
    #[serde(flatten)]
    pub settings: TargetSettings,
    /// Who added it.
    pub added_by: String,
    /// When its last scan ran (ms since the epoch).
    #[ts(type = "number | null")]
    pub last_scan_at_unix_ms: Option<i64>,
    /// What its last scan did.
    pub last_scan: Option<TargetScanSummary>,
    /// Findings new or confirmed.
    #[ts(type = "number")]
    pub open: u64,
    /// Findings new.
    #[ts(type = "number")]
    pub new: u64,
}

/// A finding as the store keeps it.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct StoredFinding {
    /// The target whose scan found it.
    pub target: String,
    /// Its triage state.
    pub state: FindingState,
    /// When a scan first saw it.
    #[ts(type = "number")]
    pub first_seen_unix_ms: i64,
    /// When a scan last saw it.
    #[ts(type = "number")]
    pub last_seen_unix_ms: i64,
    /// Who set its state last (`scan` when a scan did).
    pub state_by: Option<String>,
    /// The finding as last seen (redacted).
    pub finding: ScanFinding,
}

/// Which findings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct FindingsQuery {
    /// One target's (default every target's).
    #[serde(default)]
    pub target: Option<String>,
    /// Only those in this state.
    #[serde(default)]
    pub state: Option<FindingState>,
}

/// A target, by path.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TargetPath {
    /// The folder or repository, as remembered.
    pub path: String,
}

/// A new state for a finding.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    /// The target whose finding it is.
    pub target: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// Its new state.
    pub state: FindingState,
}

/// What a target's scan did and what its findings are now.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct TargetRun {
    /// The scan's counts.
    pub summary: TargetScanSummary,
    /// Paths not scanned, with why.
    pub skipped: Vec<ScanSkipped>,
    /// The target's findings, open ones first.
    pub findings: Vec<StoredFinding>,
}

/// A folder as remembered: absolute, links resolved (one row per folder
/// however it was named).
fn canonical(path: &str) -> Result<String, DeckError> {
    let resolved = std::fs::canonicalize(path).map_err(|error| {
        ScanError::Input(format!("{path} cannot be scanned: {error}; give a folder or file that exists"))
    })?;
    Ok(resolved.display().to_string())
}

fn allow_set(globs: &[String]) -> Result<globset::GlobSet, ScanError> {
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let compiled = globset::GlobBuilder::new(glob).literal_separator(true).build().map_err(|error| {
            ScanError::Input(format!(
                "`{glob}` is not a path pattern: {error} (write e.g. `tests/fixtures/**`)"
            ))
        })?;
        builder.add(compiled);
    }
    builder.build().map_err(|error| ScanError::Input(format!("the allowed paths cannot be used: {error}")))
}

/// Drops the findings whose path below the scanned folder matches one of
/// `globs`; returns how many.
pub(crate) fn drop_allowed(findings: &mut Vec<ScanFinding>, globs: &[String]) -> Result<u64, ScanError> {
    if globs.is_empty() {
        return Ok(0);
    }
    let set = allow_set(globs)?;
    let before = findings.len();
    findings.retain(|finding| !set.is_match(&finding.relative_path));
    Ok((before - findings.len()) as u64)
}

impl Deck {
    /// Remembers (or changes) a target; with `every_hours`, schedules it.
    pub async fn scan_target_save(
        &self,
        caller: &Caller,
        mut settings: TargetSettings,
    ) -> Result<ScanTarget, DeckError> {
        settings.path = canonical(&settings.path)?;
        allow_set(&settings.allow_paths)?;
        if let Some(hours) = settings.every_hours {
            if !(1..=24 * 30).contains(&hours) {
                return Err(ScanError::Input(format!(
                    "a scan every {hours} hours is not a schedule: give 1 to 720 hours, or none to scan by hand"
                ))
                .into());
            }
        }
        let payload = serde_json::to_value(&settings)
            .map_err(|error| ScanError::Input(format!("the settings cannot be kept: {error}")))?;
        let audit = self.audit.scope(caller, "scan.target_save", &settings.path, payload.clone()).await?;
        let mut transaction = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO scan_targets (path, history, vault_values, allow_paths, every_hours, added_by, added_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (path) DO UPDATE SET history = excluded.history, vault_values = excluded.vault_values, \
             allow_paths = excluded.allow_paths, every_hours = excluded.every_hours",
        )
        .bind(&settings.path)
        .bind(i64::from(settings.history))
        .bind(i64::from(settings.vault_values))
        .bind(serde_json::to_string(&settings.allow_paths).unwrap_or_else(|_| "[]".to_owned()))
        .bind(settings.every_hours)
        .bind(&caller.actor)
        .bind(now_unix_ms())
        .execute(&mut *transaction)
        .await
        .map_err(db)?;
        audit.append(&mut transaction, serde_json::json!({})).await?;
        transaction.commit().await.map_err(db)?;
        self.audit.announce(&audit).await;
        let job = job_name(&settings.path);
        match settings.every_hours {
            Some(hours) => {
                self.seal_definition(caller, SCAN_TARGET, &settings.path, &payload, true).await?;
                let every = std::time::Duration::from_secs(u64::try_from(hours).unwrap_or(24) * 3600);
                let spec = JobSpec {
                    name: job.clone(),
                    kind: SCAN_JOB_KIND.to_owned(),
                    schedule: Schedule::Every(every),
                    payload,
                };
                Scheduler::upsert_job(&self.store, &spec).await?;
            }
            None => {
                if Scheduler::exists(&self.store, &job).await? {
                    Scheduler::remove(&self.store, &job).await?;
                    self.unseal_definition(caller, SCAN_TARGET, &settings.path).await?;
                }
            }
        }
        self.scan_targets()
            .await?
            .into_iter()
            .find(|target| target.settings.path == settings.path)
            .ok_or_else(|| ScanError::Input(format!("{} was not remembered", settings.path)).into())
    }

    /// Forgets a target, its findings and its schedule.
    pub async fn scan_target_remove(&self, caller: &Caller, path: &str) -> Result<(), DeckError> {
        let settings = self.scan_target_settings(path).await?;
        let audit =
            self.audit.scope(caller, "scan.target_remove", &settings.path, serde_json::json!({})).await?;
        let mut transaction = self.store.begin_write().await?;
        for table in ["scan_findings WHERE target", "scan_targets WHERE path"] {
            sqlx::query(&format!("DELETE FROM {table} = $1"))
                .bind(&settings.path)
                .execute(&mut *transaction)
                .await
                .map_err(db)?;
        }
        audit.append(&mut transaction, serde_json::json!({})).await?;
        transaction.commit().await.map_err(db)?;
        self.audit.announce(&audit).await;
        let job = job_name(&settings.path);
        if Scheduler::exists(&self.store, &job).await? {
            Scheduler::remove(&self.store, &job).await?;
            self.unseal_definition(caller, SCAN_TARGET, &settings.path).await?;
        }
        Ok(())
    }

    /// Every remembered target, with its open findings' counts.
    pub async fn scan_targets(&self) -> Result<Vec<ScanTarget>, DeckError> {
        let rows = sqlx::query(
            "SELECT t.path, t.history, t.vault_values, t.allow_paths, t.every_hours, t.added_by, \
                    t.last_scan_at_unix_ms, t.last_scan, \
                    (SELECT COUNT(*) FROM scan_findings f WHERE f.target = t.path AND f.state IN ('new', 'confirmed')) AS open, \
                    (SELECT COUNT(*) FROM scan_findings f WHERE f.target = t.path AND f.state = 'new') AS fresh \
             FROM scan_targets t ORDER BY t.path",
        )
        .fetch_all(self.store.pool())
        .await
        .map_err(db)?;
        let mut targets = Vec::with_capacity(rows.len());
        for row in rows {
            let allow: String = row.try_get("allow_paths").map_err(db)?;
            let last_scan: Option<String> = row.try_get("last_scan").map_err(db)?;
            targets.push(ScanTarget {
                settings: TargetSettings {
                    path: row.try_get("path").map_err(db)?,
                    history: row.try_get::<i64, _>("history").map_err(db)? != 0,
                    vault_values: row.try_get::<i64, _>("vault_values").map_err(db)? != 0,
                    allow_paths: serde_json::from_str(&allow).unwrap_or_default(),
                    every_hours: row.try_get("every_hours").map_err(db)?,
                },
                added_by: row.try_get("added_by").map_err(db)?,
                last_scan_at_unix_ms: row.try_get("last_scan_at_unix_ms").map_err(db)?,
                last_scan: last_scan.and_then(|text| serde_json::from_str(&text).ok()),
                open: u64::try_from(row.try_get::<i64, _>("open").map_err(db)?).unwrap_or(0),
                new: u64::try_from(row.try_get::<i64, _>("fresh").map_err(db)?).unwrap_or(0),
            });
        }
        Ok(targets)
    }

    async fn scan_target_settings(&self, path: &str) -> Result<TargetSettings, DeckError> {
        let resolved =
            std::fs::canonicalize(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string());
        self.scan_targets()
            .await?
            .into_iter()
            .map(|target| target.settings)
            .find(|settings| settings.path == resolved || settings.path == path)
            .ok_or_else(|| {
                ScanError::Input(format!(
                    "{path} is not a remembered scan target; add it on the Scanning page first"
                ))
                .into()
            })
    }

    /// Findings in the store, open ones first, then by path and line.
    pub async fn scan_findings(&self, query: &FindingsQuery) -> Result<Vec<StoredFinding>, DeckError> {
        let rows = sqlx::query(
            "SELECT target, finding, state, first_seen_unix_ms, last_seen_unix_ms, state_by FROM scan_findings \
             WHERE ($1 IS NULL OR target = $1) AND ($2 IS NULL OR state = $2)",
        )
        .bind(query.target.as_deref())
        .bind(query.state.map(FindingState::as_str))
        .fetch_all(self.store.pool())
        .await
        .map_err(db)?;
        let mut findings = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.try_get("finding").map_err(db)?;
            // A row this version cannot read is skipped, not fatal: it is
            // replaced by the next scan of its target.
            let Ok(finding) = serde_json::from_str::<ScanFinding>(&text) else {
                tracing::warn!(
                    "a stored scan finding is unreadable; the next scan of its target replaces it"
                );
                continue;
            };
            let state: String = row.try_get("state").map_err(db)?;
            findings.push(StoredFinding {
                target: row.try_get("target").map_err(db)?,
                state: FindingState::parse(&state),
                first_seen_unix_ms: row.try_get("first_seen_unix_ms").map_err(db)?,
                last_seen_unix_ms: row.try_get("last_seen_unix_ms").map_err(db)?,
                state_by: row.try_get("state_by").map_err(db)?,
                finding,
            });
        }
        findings.sort_by(|a, b| {
            (!a.state.is_open(), &a.target, &a.finding.relative_path, a.finding.line).cmp(&(
                !b.state.is_open(),
                &b.target,
                &b.finding.relative_path,
                b.finding.line,
            ))
        });
        Ok(findings)
    }

    /// Sets a finding's state (audited with it).
    pub async fn scan_finding_mark(
        &self,
        caller: &Caller,
        input: &MarkInput,
    ) -> Result<StoredFinding, DeckError> {
        let details = serde_json::json!({ "fingerprint": input.fingerprint, "state": input.state.as_str() });
        let audit = self.audit.scope(caller, "scan.finding_mark", &input.target, details).await?;
        let mut transaction = self.store.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE scan_findings SET state = $1, state_by = $2, state_at_unix_ms = $3 \
             WHERE target = $4 AND fingerprint = $5",
        )
        .bind(input.state.as_str())
        .bind(&caller.actor)
        .bind(now_unix_ms())
        .bind(&input.target)
        .bind(&input.fingerprint)
        .execute(&mut *transaction)
        .await
        .map_err(db)?;
        if changed.rows_affected() == 0 {
            return Err(ScanError::Input(format!(
                "{} has no finding {}; list them with scan.findings",
                input.target, input.fingerprint
            ))
            .into());
        }
        audit.append(&mut transaction, serde_json::json!({})).await?;
        transaction.commit().await.map_err(db)?;
        self.audit.announce(&audit).await;
        let query = FindingsQuery { target: Some(input.target.clone()), state: None };
        self.scan_findings(&query)
            .await?
            .into_iter()
            .find(|stored| stored.finding.fingerprint == input.fingerprint)
            .ok_or_else(|| ScanError::Input("the finding was removed meanwhile".to_owned()).into())
    }

    /// Scans a remembered target now and records what it saw.
    pub async fn scan_target_run(&self, caller: &Caller, path: &str) -> Result<TargetRun, DeckError> {
        let settings = self.scan_target_settings(path).await?;
        let input = ScanInput {
            paths: vec![settings.path.clone()],
            rule_files: Vec::new(),
            max_file_mb: None,
            no_ignore: false,
            baseline: None,
            staged: false,
            history: settings.history,
            branch: None,
            since: None,
            vault_values: settings.vault_values,
            allow_paths: settings.allow_paths.clone(),
        };
        let scanned = super::scan_target(self, caller, input, &settings.path).await;
        let (report, error) = match scanned {
            Ok(report) => (Some(report), None),
            Err(error) => (None, Some(error)),
        };
        let summary = self.record_scan(caller, &settings.path, report.as_ref(), error.as_ref()).await?;
        if let Some(error) = error {
            return Err(error);
        }
        let findings =
            self.scan_findings(&FindingsQuery { target: Some(settings.path.clone()), state: None }).await?;
        let skipped = report.map(|report| report.skipped).unwrap_or_default();
        Ok(TargetRun { summary, skipped, findings })
    }

    /// Records a scan's findings against the store (or its failure), with
    /// its audit entry and the webhook deliveries of new findings, in one
    /// transaction.
    async fn record_scan(
        &self,
        caller: &Caller,
        target: &str,
        report: Option<&ScanReport>,
        error: Option<&DeckError>,
    ) -> Result<TargetScanSummary, DeckError> {
        let now = now_unix_ms();
        let mut summary = TargetScanSummary { error: error.map(ToString::to_string), ..Default::default() };
        let audit = self.audit.scope(caller, "scan.target_run", target, serde_json::json!({})).await?;
        let mut transaction = self.store.begin_write().await?;
        let mut fresh = Vec::new();
        if let Some(report) = report {
            summary.files = report.files;
            summary.bytes = report.bytes;
            summary.commits = report.commits;
            summary.elapsed_ms = report.elapsed_ms;
            summary.findings = report.findings.len() as u64;
            summary.skipped = report.skipped.len() as u64;
            let rows = sqlx::query("SELECT fingerprint, state FROM scan_findings WHERE target = $1")
                .bind(target)
                .fetch_all(&mut *transaction)
                .await
                .map_err(db)?;
            let mut known: HashMap<String, FindingState> = HashMap::new();
            for row in rows {
                let fingerprint: String = row.try_get("fingerprint").map_err(db)?;
                let state: String = row.try_get("state").map_err(db)?;
                known.insert(fingerprint, FindingState::parse(&state));
            }
            for finding in &report.findings {
                let json = serde_json::to_string(finding)
                    .map_err(|error| ScanError::Input(format!("a finding cannot be kept: {error}")))?;
                // A vault value whose version is no longer current was
                // rotated away: still in the file, but no longer a live
                // secret — fixed.
                let rotated_away =
                    finding.rule == opsdeck_scan::KNOWN_VALUE_RULE && finding.current == Some(false);
                match known.remove(&finding.fingerprint) {
                    None => {
                        let (state, by) = if rotated_away { ("fixed", "rotation") } else { ("new", "scan") };
                        sqlx::query(
                            "INSERT INTO scan_findings (target, fingerprint, finding, state, first_seen_unix_ms, \
                             last_seen_unix_ms, state_by, state_at_unix_ms) VALUES ($1, $2, $3, $4, $5, $5, $6, $5)",
                        )
                        .bind(target)
                        .bind(&finding.fingerprint)
                        .bind(&json)
                        .bind(state)
                        .bind(now)
                        .bind(by)
                        .execute(&mut *transaction)
                        .await
                        .map_err(db)?;
                        if !rotated_away {
                            summary.new += 1;
                            fresh.push(finding);
                        }
                    }
                    Some(state) if rotated_away => {
                        sqlx::query(
                            "UPDATE scan_findings SET finding = $1, last_seen_unix_ms = $2, \
                             state = CASE WHEN state IN ('new', 'confirmed') THEN 'fixed' ELSE state END, \
                             state_by = CASE WHEN state IN ('new', 'confirmed') THEN 'rotation' ELSE state_by END \
                             WHERE target = $3 AND fingerprint = $4",
                        )
                        .bind(&json)
                        .bind(now)
                        .bind(target)
                        .bind(&finding.fingerprint)
                        .execute(&mut *transaction)
                        .await
                        .map_err(db)?;
                        summary.fixed += u64::from(state.is_open());
                    }
                    Some(state) => {
                        let reopened = state == FindingState::Fixed;
                        sqlx::query(
                            "UPDATE scan_findings SET finding = $1, last_seen_unix_ms = $2, \
                             state = CASE WHEN state = 'fixed' THEN 'new' ELSE state END, \
                             state_by = CASE WHEN state = 'fixed' THEN 'scan' ELSE state_by END \
                             WHERE target = $3 AND fingerprint = $4",
                        )
                        .bind(&json)
                        .bind(now)
                        .bind(target)
                        .bind(&finding.fingerprint)
                        .execute(&mut *transaction)
                        .await
                        .map_err(db)?;
                        if reopened {
                            summary.reopened += 1;
                            fresh.push(finding);
                        }
                    }
                }
            }
            // What the scan no longer saw is fixed (a false positive stays one).
            for (fingerprint, state) in known {
                if state.is_open() {
                    sqlx::query(
                        "UPDATE scan_findings SET state = 'fixed', state_by = 'scan', state_at_unix_ms = $1 \
                         WHERE target = $2 AND fingerprint = $3",
                    )
                    .bind(now)
                    .bind(target)
                    .bind(&fingerprint)
                    .execute(&mut *transaction)
                    .await
                    .map_err(db)?;
                    summary.fixed += 1;
                }
            }
        }
        let summary_json = serde_json::to_string(&summary).unwrap_or_default();
        sqlx::query("UPDATE scan_targets SET last_scan_at_unix_ms = $1, last_scan = $2 WHERE path = $3")
            .bind(now)
            .bind(&summary_json)
            .bind(target)
            .execute(&mut *transaction)
            .await
            .map_err(db)?;
        let mut queued = Vec::new();
        if !fresh.is_empty() {
            let payload = serde_json::json!({
                "target": target,
                "new": fresh.iter().map(|finding| serde_json::json!({
                    "rule": finding.rule,
                    "path": finding.relative_path,
                    "line": finding.line,
                    "match": finding.redacted,
                    "vault_secret": finding.vault_secret,
                    "version": finding.version,
                    "commit": finding.commit.as_ref().map(|commit| &commit.id),
                })).collect::<Vec<_>>(),
            });
            queued =
                opsdeck_core::webhooks::enqueue_in(&mut transaction, None, "scan.new_findings", &payload)
                    .await?;
        }
        let details = serde_json::json!({
            "new": summary.new, "fixed": summary.fixed, "reopened": summary.reopened, "error": summary.error,
        });
        audit.append(&mut transaction, details).await?;
        transaction.commit().await.map_err(db)?;
        self.audit.announce(&audit).await;
        if !queued.is_empty() {
            // Undelivered ones stay queued for the redelivery job.
            if let Err(error) = self.notify().deliver_queued(&queued).await {
                tracing::warn!(%error, "new scan findings could not be announced yet; redelivery will retry");
            }
        }
        Ok(summary)
    }

    /// The scheduled scan of a target, as its sealed definition says and
    /// with the rights of whoever saved it.
    pub(crate) async fn run_scan_job(
        &self,
        job: &str,
        payload: &serde_json::Value,
    ) -> Result<String, String> {
        // The seal is looked up by the job's own name, not by what the
        // stored payload says: a payload pointed elsewhere fails its seal.
        let subject = job.strip_prefix("scan:").unwrap_or(job);
        let seal = self
            .check_definition(&Caller::new("scheduler"), SCAN_TARGET, subject, payload, false)
            .await
            .map_err(|error| error.to_string())?;
        let settings: TargetSettings = serde_json::from_value(payload.clone())
            .map_err(|error| format!("the stored scan target is unreadable: {error}"))?;
        let caller = Caller::new(seal.defined_by);
        let run = self.scan_target_run(&caller, &settings.path).await.map_err(|error| error.to_string())?;
        let open = run.findings.iter().filter(|stored| stored.state.is_open()).count();
        Ok(format!(
            "{}: {} new, {} fixed, {open} open ({} files)",
            settings.path, run.summary.new, run.summary.fixed, run.summary.files
        ))
    }
}

/// The scheduled scans' job.
pub(crate) fn register_jobs(kinds: &mut crate::jobs::JobKinds<'_>) {
    kinds
        .register(SCAN_JOB_KIND, |deck, job| async move { deck.run_scan_job(&job.name, &job.payload).await });
}

/// `scan.targets`.
pub struct TargetList;

impl Operation for TargetList {
    type Input = Nothing;
    type Output = Vec<ScanTarget>;
    const NAME: &'static str = "scan.targets";
    const SUMMARY: &'static str =
        "The folders and repositories remembered for scanning, with their schedule, last scan and open findings.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/scan/targets";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<ScanTarget>, DeckError> {
        deck.scan_targets().await
    }
}

/// `scan.target_save`.
pub struct TargetSave;

impl Operation for TargetSave {
    type Input = TargetSettings;
    type Output = ScanTarget;
    const NAME: &'static str = "scan.target_save";
    const SUMMARY: &'static str =
        "Remembers a folder or repository to scan (files or history, vault values, allowed paths), \
        optionally every few hours.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan/targets";
    const MACHINE_INPUTS: &'static [&'static str] = &["path"];

    async fn run(deck: &Deck, caller: &Caller, input: TargetSettings) -> Result<ScanTarget, DeckError> {
        deck.scan_target_save(caller, input).await
    }
}

/// `scan.target_remove`.
pub struct TargetRemove;

impl Operation for TargetRemove {
    type Input = TargetPath;
    type Output = ();
    const NAME: &'static str = "scan.target_remove";
    const SUMMARY: &'static str = "Forgets a scan target, its findings and its schedule.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/scan/targets";

    async fn run(deck: &Deck, caller: &Caller, input: TargetPath) -> Result<(), DeckError> {
        deck.scan_target_remove(caller, &input.path).await
    }
}

/// `scan.target_run`.
pub struct TargetRunNow;

impl Operation for TargetRunNow {
    type Input = TargetPath;
    type Output = TargetRun;
    const NAME: &'static str = "scan.target_run";
    const SUMMARY: &'static str =
        "Scans a remembered target now and records its findings: new ones, fixed ones (no longer seen), \
        and announces new ones to the webhook targets.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan/targets/run";

    async fn run(deck: &Deck, caller: &Caller, input: TargetPath) -> Result<TargetRun, DeckError> {
        deck.scan_target_run(caller, &input.path).await
    }
}

/// `scan.findings`.
pub struct FindingList;

impl Operation for FindingList {
    type Input = FindingsQuery;
    type Output = Vec<StoredFinding>;
    const NAME: &'static str = "scan.findings";
    const SUMMARY: &'static str =
        "Findings of the remembered targets' scans with their state (new, confirmed, false positive, fixed), \
        secrets redacted.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/scan/findings";

    async fn run(
        deck: &Deck,
        _caller: &Caller,
        input: FindingsQuery,
    ) -> Result<Vec<StoredFinding>, DeckError> {
        deck.scan_findings(&input).await
    }
}

/// `scan.finding_mark`.
pub struct FindingMark;

impl Operation for FindingMark {
    type Input = MarkInput;
    type Output = StoredFinding;
    const NAME: &'static str = "scan.finding_mark";
    const SUMMARY: &'static str =
        "Sets a finding's state: confirmed, false positive (not reported as new again), fixed, or new.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan/findings/mark";

    async fn run(deck: &Deck, caller: &Caller, input: MarkInput) -> Result<StoredFinding, DeckError> {
        deck.scan_finding_mark(caller, &input).await
    }
}
