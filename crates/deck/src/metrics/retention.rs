//! How long the series store keeps samples, and at what resolution: the
//! built-in `metrics-retention` job (every 10 minutes) rolls samples older
//! than the full-resolution days up to one per five minutes (so a 90-day
//! panel reads a few thousand samples per series, not half a million),
//! drops what is older than the kept days, then the oldest chunks beyond
//! the size limit — Prometheus' `retention.time` and `retention.size`, with
//! the downsampling Thanos adds. Alert history is kept as long.

use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::operations::NoInput;
use crate::catalogue::{Effect, Method, Operation};
use crate::{Caller, Deck, DeckError, Outcome};

/// The built-in job that downsamples and prunes the series store.
pub const RETENTION_JOB: &str = "metrics-retention";
const RETENTION_JOB_KIND: &str = "metrics.retention";
const DAY_MS: i64 = 24 * 3600 * 1000;

/// How the series store keeps samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct MetricsRetention {
    /// Days kept at full resolution; older samples are kept one per five minutes.
    #[ts(type = "number")]
    pub full_resolution_days: i64,
    /// Days kept at all (alert history too).
    #[ts(type = "number")]
    pub keep_days: i64,
    /// Bytes of sample data kept at most; the oldest go first.
    #[ts(type = "number")]
    pub max_bytes: i64,
}

impl Default for MetricsRetention {
    fn default() -> Self {
        MetricsRetention { full_resolution_days: 7, keep_days: 90, max_bytes: 1024 * 1024 * 1024 }
    }
}

impl MetricsRetention {
    fn check(&self) -> Result<(), String> {
        if !(1..=36_500).contains(&self.keep_days) {
            return Err(format!("keep_days is {}: keep between 1 and 36500 days", self.keep_days));
        }
        if !(1..=self.keep_days).contains(&self.full_resolution_days) {
            return Err(format!(
                "full_resolution_days is {}: give between 1 and keep_days ({})",
                self.full_resolution_days, self.keep_days
            ));
        }
        if self.max_bytes < 1024 * 1024 {
            return Err(format!("max_bytes is {}: keep at least 1 MiB (1048576)", self.max_bytes));
        }
        Ok(())
    }
}

/// The series store's retention and what it holds now.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct RetentionStatus {
    /// The settings.
    pub retention: MetricsRetention,
    /// Bytes of sample data held.
    #[ts(type = "number")]
    pub stored_bytes: i64,
    /// What the last pass did, if one ran.
    pub last_run: Option<String>,
}

/// The built-in job, every 10 minutes, with `payload` (a [`MetricsRetention`]).
fn job_spec(payload: serde_json::Value) -> JobSpec {
    JobSpec {
        name: RETENTION_JOB.to_owned(),
        kind: RETENTION_JOB_KIND.to_owned(),
        schedule: Schedule::Every(std::time::Duration::from_secs(600)),
        payload,
    }
}

/// Makes the built-in job and registers its work.
pub(crate) async fn register_jobs(
    deck: &Deck,
    kinds: &mut crate::jobs::JobKinds<'_>,
) -> Result<(), DeckError> {
    let payload = serde_json::to_value(MetricsRetention::default()).unwrap_or_else(|_| serde_json::json!({}));
    Scheduler::ensure_job(&deck.store, &job_spec(payload)).await?;
    kinds.register(RETENTION_JOB_KIND, |deck, job| async move {
        let retention: MetricsRetention = serde_json::from_value(job.payload.clone())
            .map_err(|error| format!("the job's retention settings are not readable: {error}"))?;
        retention.check()?;
        deck.metrics().apply_retention(&retention).await.map_err(|error| error.to_string())
    });
    Ok(())
}

impl super::Metrics<'_> {
    /// One pass of `retention`: roll up, drop by age, drop by size; says what it did.
    pub async fn apply_retention(self, retention: &MetricsRetention) -> Result<String, DeckError> {
        let now = opsdeck_core::clock::now_unix_ms();
        let series = &self.deck.metrics;
        let rolled = series
            .downsample(now.saturating_sub(retention.full_resolution_days.saturating_mul(DAY_MS)))
            .await?;
        let before = now.saturating_sub(retention.keep_days.saturating_mul(DAY_MS));
        let aged = series.prune(before).await?;
        let sized = series.prune_to_size(retention.max_bytes).await?;
        let transitions = opsdeck_metrics::alerts::store::prune_transitions(&self.deck.store, before).await?;
        Ok(format!(
            "rolled {} series up to 5-minute samples ({} samples became {}), removed {aged} chunks older than \
             {} days and {sized} beyond {} MB, and {transitions} alert transitions",
            rolled.series,
            rolled.samples_before,
            rolled.samples_after,
            retention.keep_days,
            retention.max_bytes / (1024 * 1024)
        ))
    }

    /// The retention settings and what the store holds.
    pub async fn retention(self) -> Result<RetentionStatus, DeckError> {
        let job =
            Scheduler::list_jobs(&self.deck.store).await?.into_iter().find(|job| job.name == RETENTION_JOB);
        let retention =
            job.as_ref().and_then(|job| serde_json::from_value(job.payload.clone()).ok()).unwrap_or_default();
        let last_run = job.and_then(|job| job.last_run).map(|run| run.message);
        Ok(RetentionStatus { retention, stored_bytes: self.deck.metrics.size_bytes().await?, last_run })
    }

    /// Changes the retention (audited) and applies it at once (then the job
    /// every 10 minutes); the status says what this first pass did.
    pub async fn set_retention(
        self,
        caller: &Caller,
        retention: MetricsRetention,
    ) -> Result<RetentionStatus, DeckError> {
        retention.check().map_err(opsdeck_metrics::MetricsError::Invalid)?;
        let payload = serde_json::to_value(&retention)
            .map_err(|error| opsdeck_metrics::MetricsError::Invalid(error.to_string()))?;
        self.deck.audit(caller, "metrics.retention_set", RETENTION_JOB, Outcome::Ok, payload.clone()).await?;
        Scheduler::upsert_job(&self.deck.store, &job_spec(payload)).await?;
        let done = self.apply_retention(&retention).await?;
        let mut status = self.retention().await?;
        status.last_run = Some(done);
        Ok(status)
    }
}

/// `metric.retention`.
pub struct RetentionGet;

impl Operation for RetentionGet {
    type Input = NoInput;
    type Output = RetentionStatus;
    const NAME: &'static str = "metric.retention";
    const SUMMARY: &'static str =
        "How long the series store keeps samples (full resolution, then one per five minutes), its size \
        limit, and how much it holds.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/retention";

    async fn run(deck: &Deck, _caller: &Caller, _input: NoInput) -> Result<RetentionStatus, DeckError> {
        deck.metrics().retention().await
    }
}

/// `metric.retention_set`.
pub struct RetentionSet;

impl Operation for RetentionSet {
    type Input = MetricsRetention;
    type Output = RetentionStatus;
    const NAME: &'static str = "metric.retention_set";
    const SUMMARY: &'static str =
        "Sets how many days samples stay at full resolution, how many days they are kept at all, and the \
        most bytes kept; applied at once, then every 10 minutes.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/metrics/retention";

    async fn run(
        deck: &Deck,
        caller: &Caller,
        input: MetricsRetention,
    ) -> Result<RetentionStatus, DeckError> {
        deck.metrics().set_retention(caller, input).await
    }
}
