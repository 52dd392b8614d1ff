//! The scheduler: recurring jobs kept in the store, run by whichever process
//! holds the job's lease.
//!
//! A job is due when `next_run_at` has passed. A process takes the job's lease
//! with one conditional UPDATE (only if nobody holds an unexpired lease), so on
//! one data dir or one PostgreSQL, two processes never run the same due time
//! at once. The holder renews the lease while the job runs; if it dies, the
//! lease expires and another process takes the job over, marking the dead
//! process's run `abandoned`. A failed run is retried with capped exponential
//! backoff and jitter, up to a limit, before the job moves on to its next due
//! time. Every attempt is a row in `job_runs`: the history shows exactly one
//! `ok` per due time.
//!
//! `jobs.rs` is the job list (defining, listing, pausing, pinning, removing
//! jobs and reading their runs); `runner.rs` runs due jobs under leases.

mod jobs;
mod runner;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::events::EventBus;
use crate::{CoreError, Store};

/// What a job handler returns: a short message for the run history, or why it failed.
pub type JobResult = Result<String, String>;

/// The future a handler returns.
pub type JobFuture = Pin<Box<dyn Future<Output = JobResult> + Send>>;

/// Runs jobs of one kind.
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt. Should return soon after `job.cancel` is cancelled.
    fn run(&self, job: JobContext) -> JobFuture;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobResult> + Send + 'static,
{
    fn run(&self, job: JobContext) -> JobFuture {
        Box::pin(self(job))
    }
}

/// What a handler is told about the attempt it runs.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job's name.
    pub name: String,
    /// The job's payload.
    pub payload: serde_json::Value,
    /// The due time this attempt is for.
    pub due_at_unix_ms: i64,
    /// 1 for the first attempt at this due time.
    pub attempt: i64,
    /// Cancelled when the process shuts down or loses the lease.
    pub cancel: CancellationToken,
}

/// A job to create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Unique name, e.g. `audit-verify`.
    pub name: String,
    /// The handler that runs it, e.g. `audit.verify` or `command`.
    pub kind: String,
    /// When it runs.
    pub schedule: Schedule,
    /// Input for the handler.
    pub payload: serde_json::Value,
}

/// When a job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every interval (at least a second), counted from the first run.
    Every(Duration),
    /// At the times a 5- or 6-field cron expression names, in local time
    /// (e.g. `0 3 * * *` for 03:00 every day).
    Cron(String),
    /// Once, as soon as possible; then the job is done.
    Once,
}

impl Schedule {
    /// Reads a schedule back from its stored columns.
    fn from_columns(every_ms: i64, cron: &str) -> Schedule {
        match (every_ms, cron) {
            (0, "") => Schedule::Once,
            (0, cron) => Schedule::Cron(cron.to_owned()),
            (every, _) => Schedule::Every(Duration::from_millis(u64::try_from(every).unwrap_or(0))),
        }
    }

    /// "every 1d", "cron 0 3 * * *", "once".
    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(every) => {
                let seconds = every.as_secs();
                match seconds {
                    s if s % 86_400 == 0 => format!("every {}d", s / 86_400),
                    s if s % 3600 == 0 => format!("every {}h", s / 3600),
                    s if s % 60 == 0 => format!("every {}m", s / 60),
                    s => format!("every {s}s"),
                }
            }
            Schedule::Cron(expression) => format!("cron {expression}"),
            Schedule::Once => "once".to_owned(),
        }
    }

    /// The first cron time strictly after `after_unix_ms`, in local time.
    fn next_cron(expression: &str, after_unix_ms: i64) -> Result<i64, CoreError> {
        use std::str::FromStr;
        let cron = croner::Cron::from_str(expression).map_err(|error| {
            CoreError::InvalidJob(format!("`{expression}` is not a cron expression: {error}"))
        })?;
        let after = chrono::DateTime::from_timestamp_millis(after_unix_ms)
            .ok_or_else(|| CoreError::InvalidJob("time out of range".into()))?
            .with_timezone(&chrono::Local);
        let next = cron
            .find_next_occurrence(&after, false)
            .map_err(|error| CoreError::InvalidJob(format!("`{expression}` never runs: {error}")))?;
        Ok(next.timestamp_millis())
    }
}

/// A job as listed.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct JobInfo {
    /// Unique name.
    pub name: String,
    /// The handler that runs it.
    pub kind: String,
    /// When it runs, in words: "every 1d", "cron 0 3 * * *", "once".
    pub schedule: String,
    /// Interval in milliseconds (0 for cron and one-off jobs).
    #[ts(type = "number")]
    pub every_ms: i64,
    /// When a one-off job completed.
    #[ts(type = "number | null")]
    pub completed_at_unix_ms: Option<i64>,
    /// Input for the handler.
    #[ts(type = "unknown")]
    pub payload: serde_json::Value,
    /// Paused jobs are not run until resumed.
    pub paused: bool,
    /// When it runs next (a retry time after a failure).
    #[ts(type = "number")]
    pub next_run_at_unix_ms: i64,
    /// Failed attempts at the current due time.
    #[ts(type = "number")]
    pub attempt: i64,
    /// Which process runs it right now, if any.
    pub running_on: Option<String>,
    /// The latest attempt, if any.
    pub last_run: Option<JobRun>,
}

/// One attempt at one due time of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct JobRun {
    /// Row id.
    #[ts(type = "number")]
    pub id: i64,
    /// The job.
    pub job_name: String,
    /// The due time it was for.
    #[ts(type = "number")]
    pub due_at_unix_ms: i64,
    /// 1 for the first attempt at this due time.
    #[ts(type = "number")]
    pub attempt: i64,
    /// The process that ran it.
    pub owner: String,
    /// When it started.
    #[ts(type = "number")]
    pub started_at_unix_ms: i64,
    /// When it ended (none while running or when abandoned by a dead process).
    #[ts(type = "number | null")]
    pub finished_at_unix_ms: Option<i64>,
    /// How it ended (or `running`).
    pub outcome: RunOutcome,
    /// What the handler said.
    pub message: String,
}

crate::word_enum! {
    /// How a job run ended.
    "job run outcome" pub enum RunOutcome {
        /// Still running.
        Running = "running",
        /// It did its work.
        Ok = "ok",
        /// It failed (a retry may follow).
        Failed = "failed",
        /// It stopped without a result: its process died, lost the lease or shut down.
        Abandoned = "abandoned",
    }
}

/// Timing of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How long a lease lasts without renewal (renewed every third of it).
    pub lease: Duration,
    /// How often due jobs are looked for.
    pub poll: Duration,
    /// First retry delay; doubles with each failed attempt.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_cap: Duration,
    /// Attempts at one due time before moving on to the next.
    pub max_attempts: i64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(15 * 60),
            max_attempts: 5,
        }
    }
}

/// Runs due jobs of the kinds it has handlers for.
pub struct Scheduler {
    store: Store,
    events: EventBus,
    owner: String,
    config: SchedulerConfig,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

type JobRow = (String, String, i64, String, i64, i64, i64, Option<String>, Option<i64>, String, Option<i64>);

type RunRow = (i64, String, i64, i64, String, i64, Option<i64>, String, String);

const JOB_COLUMNS: &str =
    "name, kind, every_ms, payload, paused, next_run_at_unix_ms, attempt, lease_owner, \
     lease_until_unix_ms, cron, completed_at_unix_ms";

const RUN_COLUMNS: &str =
    "id, job_name, due_at_unix_ms, attempt, owner, started_at_unix_ms, finished_at_unix_ms, outcome, message";

fn run_from_row(row: RunRow) -> Result<JobRun, CoreError> {
    let (
        id,
        job_name,
        due_at_unix_ms,
        attempt,
        owner,
        started_at_unix_ms,
        finished_at_unix_ms,
        outcome,
        message,
    ) = row;
    Ok(JobRun {
        id,
        job_name,
        due_at_unix_ms,
        attempt,
        owner,
        started_at_unix_ms,
        finished_at_unix_ms,
        outcome: outcome.parse()?,
        message,
    })
}

/// The first regular due time after `now`, counting from `due_at` in steps of `every_ms`
/// (missed due times are skipped, not caught up one by one).
pub fn next_due_after(due_at: i64, every_ms: i64, now: i64) -> i64 {
    let every_ms = every_ms.max(1);
    if due_at + every_ms > now {
        return due_at + every_ms;
    }
    let missed = (now - due_at) / every_ms;
    due_at + (missed + 1) * every_ms
}

/// The delay before retry number `attempt` (1-based): base · 2^(attempt-1), capped, plus up to 50 % jitter.
pub fn retry_delay(config: &SchedulerConfig, attempt: i64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let base = config.retry_base.saturating_mul(2_u32.saturating_pow(exponent)).min(config.retry_cap);
    let mut random = [0_u8; 8];
    let jitter_fraction = if getrandom::fill(&mut random).is_ok() {
        (u64::from_le_bytes(random) % 1000) as f64 / 2000.0
    } else {
        0.25
    };
    base + base.mul_f64(jitter_fraction)
}

impl Scheduler {
    /// A scheduler for `store` that publishes run results on `events`. The
    /// owner id names this process in leases and run history.
    pub fn new(store: Store, events: EventBus, config: SchedulerConfig) -> Scheduler {
        let mut random = [0_u8; 4];
        let _ = getrandom::fill(&mut random);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_owned());
        let owner = format!("{host}:{}:{}", std::process::id(), hex::encode(random));
        Scheduler { store, events, owner, config, handlers: HashMap::new() }
    }

    /// Registers the handler for jobs of `kind`.
    pub fn register(&mut self, kind: &str, handler: impl JobHandler) {
        self.handlers.insert(kind.to_owned(), Arc::new(handler));
    }

    /// This process's id in leases and run history.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_unix_ms;

    #[test]
    fn the_next_due_time_skips_missed_ones() {
        assert_eq!(next_due_after(1000, 100, 1050), 1100);
        assert_eq!(next_due_after(1000, 100, 1100), 1200);
        assert_eq!(next_due_after(1000, 100, 1555), 1600);
    }

    #[test]
    fn cron_schedules_find_their_next_time_and_reject_nonsense() {
        let now = now_unix_ms();
        let next = Schedule::next_cron("*/5 * * * *", now).unwrap();
        assert!(next > now && next - now <= 5 * 60_000, "{next} vs {now}");
        assert_eq!((next / 1000) % 60, 0, "on a whole minute");
        assert!(Schedule::next_cron("61 * * * *", now).is_err());
        assert!(Schedule::next_cron("every day", now).is_err());
        assert_eq!(Schedule::Cron("0 3 * * *".into()).describe(), "cron 0 3 * * *");
        assert_eq!(Schedule::Every(Duration::from_secs(7200)).describe(), "every 2h");
        assert_eq!(Schedule::from_columns(0, ""), Schedule::Once);
    }

    #[test]
    fn retry_delays_grow_and_stay_capped() {
        let config = SchedulerConfig {
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(10),
            ..SchedulerConfig::default()
        };
        for attempt in 1..=10 {
            let delay = retry_delay(&config, attempt);
            let base = Duration::from_secs(1 << (attempt - 1).min(10)).min(Duration::from_secs(10));
            assert!(delay >= base && delay <= base.mul_f64(1.5), "attempt {attempt}: {delay:?}");
        }
    }
}
