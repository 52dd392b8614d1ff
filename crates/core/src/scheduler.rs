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

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::clock::now_unix_ms;
use crate::events::{DeckEvent, EventBus};
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

    /// Creates a job, or updates its kind, interval and payload (keeping its
    /// pause state and next due time). A new job is first due now.
    pub async fn upsert_job(store: &Store, spec: &JobSpec) -> Result<(), CoreError> {
        let now = now_unix_ms();
        let first_due = match &spec.schedule {
            Schedule::Cron(expression) => Schedule::next_cron(expression, now)?,
            Schedule::Every(_) | Schedule::Once => now,
        };
        Self::insert_job(store, spec, first_due, true).await
    }

    /// Creates a job only when none of that name exists, first due one interval
    /// from now (built-in jobs use this, so a user's changes to them are kept
    /// and a new deck does not start with a burst of work).
    pub async fn ensure_job(store: &Store, spec: &JobSpec) -> Result<(), CoreError> {
        let now = now_unix_ms();
        let first_due = match &spec.schedule {
            Schedule::Every(every) => now + i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2),
            Schedule::Cron(expression) => Schedule::next_cron(expression, now)?,
            Schedule::Once => now,
        };
        Self::insert_job(store, spec, first_due, false).await
    }

    async fn insert_job(
        store: &Store,
        spec: &JobSpec,
        first_due: i64,
        update: bool,
    ) -> Result<(), CoreError> {
        let (every_ms, cron) = match &spec.schedule {
            Schedule::Every(every) => {
                let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
                if every_ms < 1000 {
                    return Err(CoreError::InvalidJob(format!(
                        "`{}` must run at most once a second",
                        spec.name
                    )));
                }
                (every_ms, String::new())
            }
            Schedule::Cron(expression) => (0, expression.trim().to_owned()),
            Schedule::Once => (0, String::new()),
        };
        // A changed definition is a new start: due again, not completed.
        let on_conflict = if update {
            "DO UPDATE SET kind = excluded.kind, every_ms = excluded.every_ms, cron = excluded.cron, \
             payload = excluded.payload, next_run_at_unix_ms = excluded.next_run_at_unix_ms, \
             due_at_unix_ms = excluded.due_at_unix_ms, attempt = 0, completed_at_unix_ms = NULL"
        } else {
            "DO NOTHING"
        };
        sqlx::query(&format!(
            "INSERT INTO jobs (name, kind, every_ms, cron, payload, paused, next_run_at_unix_ms, due_at_unix_ms, attempt, created_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6, 0, $7) ON CONFLICT (name) {on_conflict}"
        ))
        .bind(&spec.name)
        .bind(&spec.kind)
        .bind(every_ms)
        .bind(cron)
        .bind(spec.payload.to_string())
        .bind(first_due)
        .bind(now_unix_ms())
        .execute(store.pool())
        .await?;
        Ok(())
    }

    /// Every job with its latest run, by name.
    pub async fn list_jobs(store: &Store) -> Result<Vec<JobInfo>, CoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY name"))
            .fetch_all(store.pool())
            .await?;
        let now = now_unix_ms();
        let mut jobs = Vec::with_capacity(rows.len());
        for (
            name,
            kind,
            every_ms,
            payload,
            paused,
            next_run_at,
            attempt,
            lease_owner,
            lease_until,
            cron,
            completed,
        ) in rows
        {
            let last_run = Self::runs(store, &name, 1).await?.into_iter().next();
            jobs.push(JobInfo {
                kind,
                schedule: Schedule::from_columns(every_ms, &cron).describe(),
                every_ms,
                completed_at_unix_ms: completed,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
                paused: paused != 0,
                next_run_at_unix_ms: next_run_at,
                attempt,
                running_on: lease_owner.filter(|_| lease_until.is_some_and(|until| until > now)),
                last_run,
                name,
            });
        }
        Ok(jobs)
    }

    /// The latest `limit` attempts of a job, newest first.
    pub async fn runs(store: &Store, name: &str, limit: i64) -> Result<Vec<JobRun>, CoreError> {
        let rows: Vec<RunRow> = sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM job_runs WHERE job_name = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(name)
        .bind(limit.clamp(1, 1000))
        .fetch_all(store.pool())
        .await?;
        rows.into_iter().map(run_from_row).collect()
    }

    /// Makes a job due now (it runs within one poll, on whichever process takes it).
    pub async fn run_now(store: &Store, name: &str) -> Result<(), CoreError> {
        Self::schedule_at(store, name, now_unix_ms()).await
    }

    /// Sets when a job is next due (a rotation policy's job follows the
    /// secret's last change). Unknown jobs are an error.
    pub async fn schedule_at(store: &Store, name: &str, due_at_unix_ms: i64) -> Result<(), CoreError> {
        let changed = sqlx::query(
            "UPDATE jobs SET next_run_at_unix_ms = $1, due_at_unix_ms = $1, attempt = 0, completed_at_unix_ms = NULL \
             WHERE name = $2",
        )
        .bind(due_at_unix_ms)
        .bind(name)
        .execute(store.pool())
        .await?;
        Self::require_one(changed.rows_affected(), name)
    }

    /// Whether a job of this name exists.
    pub async fn exists(store: &Store, name: &str) -> Result<bool, CoreError> {
        let found: Option<String> = sqlx::query_scalar("SELECT name FROM jobs WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Pauses or resumes a job.
    pub async fn set_paused(store: &Store, name: &str, paused: bool) -> Result<(), CoreError> {
        let changed = sqlx::query("UPDATE jobs SET paused = $1 WHERE name = $2")
            .bind(i64::from(paused))
            .bind(name)
            .execute(store.pool())
            .await?;
        Self::require_one(changed.rows_affected(), name)
    }

    /// Lets only `host` claim job `name` (`None`: any host). The host a job
    /// is pinned to is also sealed with its definition, which is what is
    /// trusted; this only keeps other hosts from taking it.
    pub async fn pin_to_host(store: &Store, name: &str, host: Option<&str>) -> Result<(), CoreError> {
        sqlx::query("UPDATE jobs SET run_on_host = $1 WHERE name = $2")
            .bind(host)
            .bind(name)
            .execute(store.pool())
            .await?;
        Ok(())
    }

    /// Deletes a job and its history.
    pub async fn remove(store: &Store, name: &str) -> Result<(), CoreError> {
        sqlx::query("DELETE FROM job_runs WHERE job_name = $1").bind(name).execute(store.pool()).await?;
        let changed =
            sqlx::query("DELETE FROM jobs WHERE name = $1").bind(name).execute(store.pool()).await?;
        Self::require_one(changed.rows_affected(), name)
    }

    fn require_one(rows: u64, name: &str) -> Result<(), CoreError> {
        if rows == 1 {
            Ok(())
        } else {
            Err(CoreError::UnknownJob { name: name.to_owned() })
        }
    }

    /// Runs due jobs until `stop` is cancelled; running attempts are then
    /// cancelled, recorded as abandoned and their leases released, so another
    /// process can take them at once.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut running = tokio::task::JoinSet::new();
        loop {
            match self.claim_due_jobs().await {
                Ok(claimed) => {
                    for claim in claimed {
                        let scheduler = self.clone();
                        let cancel = stop.child_token();
                        running.spawn(async move { scheduler.execute(claim, cancel).await });
                    }
                }
                Err(error) => tracing::warn!(%error, "could not look for due jobs"),
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        // The child tokens are cancelled with `stop`; wait for every attempt to record how it ended.
        while running.join_next().await.is_some() {}
    }

    /// Takes the lease of every due job this process has a handler for
    /// (and that may run on this host).
    async fn claim_due_jobs(&self) -> Result<Vec<Claim>, CoreError> {
        let now = now_unix_ms();
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM jobs WHERE paused = 0 AND completed_at_unix_ms IS NULL AND next_run_at_unix_ms <= $1 \
             AND (lease_owner IS NULL OR lease_until_unix_ms < $1) \
             AND (run_on_host IS NULL OR run_on_host = $2) ORDER BY next_run_at_unix_ms LIMIT 32",
        )
        .bind(now)
        .bind(crate::definitions::this_host())
        .fetch_all(self.store.pool())
        .await?;
        let mut claims = Vec::new();
        for (name,) in due {
            if let Some(claim) = self.try_claim(&name).await? {
                claims.push(claim);
            }
        }
        Ok(claims)
    }

    async fn try_claim(&self, name: &str) -> Result<Option<Claim>, CoreError> {
        let now = now_unix_ms();
        let lease_until = now + i64::try_from(self.config.lease.as_millis()).unwrap_or(30_000);
        let mut transaction = self.store.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE jobs SET lease_owner = $1, lease_until_unix_ms = $2 \
             WHERE name = $3 AND paused = 0 AND completed_at_unix_ms IS NULL AND next_run_at_unix_ms <= $4 \
             AND (lease_owner IS NULL OR lease_until_unix_ms < $4)",
        )
        .bind(&self.owner)
        .bind(lease_until)
        .bind(name)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(None); // another process was faster
        }
        let (kind, every_ms, cron, payload, due_at, attempt): (String, i64, String, String, i64, i64) =
            sqlx::query_as(
                "SELECT kind, every_ms, cron, payload, due_at_unix_ms, attempt FROM jobs WHERE name = $1",
            )
            .bind(name)
            .fetch_one(&mut *transaction)
            .await?;

        // A run still marked running belonged to a process whose lease expired: it died.
        let abandoned = sqlx::query(
            "UPDATE job_runs SET outcome = 'abandoned', message = 'the process running it stopped (its lease expired)' \
             WHERE job_name = $1 AND outcome = 'running'",
        )
        .bind(name)
        .execute(&mut *transaction)
        .await?;
        let attempt = attempt + i64::try_from(abandoned.rows_affected()).unwrap_or(0);
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(attempt) FROM job_runs WHERE job_name = $1 AND due_at_unix_ms = $2",
        )
        .bind(name)
        .bind(due_at)
        .fetch_one(&mut *transaction)
        .await?;
        let this_attempt = previous.unwrap_or(0).max(attempt) + 1;
        sqlx::query("UPDATE jobs SET attempt = $1 WHERE name = $2")
            .bind(this_attempt - 1)
            .bind(name)
            .execute(&mut *transaction)
            .await?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO job_runs (job_name, due_at_unix_ms, attempt, owner, started_at_unix_ms, outcome) \
             VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id",
        )
        .bind(name)
        .bind(due_at)
        .bind(this_attempt)
        .bind(&self.owner)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Some(Claim {
            name: name.to_owned(),
            kind,
            schedule: Schedule::from_columns(every_ms, &cron),
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            due_at,
            attempt: this_attempt,
            run_id,
        }))
    }

    /// Runs one claimed attempt, renewing the lease, and records how it ended.
    async fn execute(&self, claim: Claim, cancel: CancellationToken) {
        let outcome = match self.handlers.get(&claim.kind) {
            None => Err(format!("no handler for jobs of kind `{}` in this version of OpsDeck", claim.kind)),
            Some(handler) => {
                let context = JobContext {
                    name: claim.name.clone(),
                    payload: claim.payload.clone(),
                    due_at_unix_ms: claim.due_at,
                    attempt: claim.attempt,
                    cancel: cancel.clone(),
                };
                let mut attempt = handler.run(context);
                let mut renew = tokio::time::interval(self.config.lease / 3);
                renew.tick().await;
                loop {
                    tokio::select! {
                        result = &mut attempt => break result,
                        _ = renew.tick() => {
                            if !self.renew_lease(&claim.name).await {
                                // Someone else holds the job now: stop, and let them finish it.
                                cancel.cancel();
                                let _ = attempt.await;
                                self.finish_run(&claim, RunOutcome::Abandoned, "this process lost the job's lease").await;
                                return;
                            }
                        }
                    }
                }
            }
        };
        if cancel.is_cancelled() {
            self.release(&claim, RunOutcome::Abandoned, "stopped because OpsDeck shut down").await;
            return;
        }
        match outcome {
            Ok(message) => self.complete(&claim, RunOutcome::Ok, &message).await,
            Err(message) => self.fail(&claim, &message).await,
        }
    }

    async fn renew_lease(&self, name: &str) -> bool {
        let until = now_unix_ms() + i64::try_from(self.config.lease.as_millis()).unwrap_or(30_000);
        sqlx::query("UPDATE jobs SET lease_until_unix_ms = $1 WHERE name = $2 AND lease_owner = $3")
            .bind(until)
            .bind(name)
            .bind(&self.owner)
            .execute(self.store.pool())
            .await
            .map(|result| result.rows_affected() == 1)
            .unwrap_or(false)
    }

    /// Success (or giving up): the job moves on to its next regular due time.
    async fn complete(&self, claim: &Claim, outcome: RunOutcome, message: &str) {
        let now = now_unix_ms();
        let (next, completed_at) = match &claim.schedule {
            Schedule::Every(every) => (
                next_due_after(claim.due_at, i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2), now),
                None,
            ),
            Schedule::Cron(expression) => match Schedule::next_cron(expression, now.max(claim.due_at)) {
                Ok(next) => (next, None),
                Err(error) => {
                    tracing::error!(job = %claim.name, %error, "the job's cron expression stopped working");
                    (claim.due_at, Some(now))
                }
            },
            Schedule::Once => (claim.due_at, Some(now)),
        };
        let moved = sqlx::query(
            "UPDATE jobs SET due_at_unix_ms = $1, next_run_at_unix_ms = $1, attempt = 0, completed_at_unix_ms = $2, \
             lease_owner = NULL, lease_until_unix_ms = NULL WHERE name = $3 AND lease_owner = $4",
        )
        .bind(next)
        .bind(completed_at)
        .bind(&claim.name)
        .bind(&self.owner)
        .execute(self.store.pool())
        .await;
        match moved {
            Ok(result) if result.rows_affected() == 1 => self.finish_run(claim, outcome, message).await,
            Ok(_) => self.finish_run(claim, RunOutcome::Abandoned, "this process lost the job's lease").await,
            Err(error) => tracing::error!(job = %claim.name, %error, "could not record a finished job"),
        }
    }

    /// A failed attempt: retry later, or give up on this due time after the last attempt.
    async fn fail(&self, claim: &Claim, message: &str) {
        if claim.attempt >= self.config.max_attempts {
            let message = format!("{message} (gave up after {} attempts)", claim.attempt);
            return self.complete(claim, RunOutcome::Failed, &message).await;
        }
        let delay = retry_delay(&self.config, claim.attempt);
        let retry_at = now_unix_ms() + i64::try_from(delay.as_millis()).unwrap_or(0);
        let updated = sqlx::query(
            "UPDATE jobs SET next_run_at_unix_ms = $1, attempt = $2, lease_owner = NULL, lease_until_unix_ms = NULL \
             WHERE name = $3 AND lease_owner = $4",
        )
        .bind(retry_at)
        .bind(claim.attempt)
        .bind(&claim.name)
        .bind(&self.owner)
        .execute(self.store.pool())
        .await;
        if let Err(error) = updated {
            tracing::error!(job = %claim.name, %error, "could not schedule a retry");
        }
        self.finish_run(claim, RunOutcome::Failed, &format!("{message} (retry in {}s)", delay.as_secs()))
            .await;
    }

    /// Stopped without a result: the lease is released so another process can take it at once.
    async fn release(&self, claim: &Claim, outcome: RunOutcome, message: &str) {
        let released = sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until_unix_ms = NULL WHERE name = $1 AND lease_owner = $2",
        )
        .bind(&claim.name)
        .bind(&self.owner)
        .execute(self.store.pool())
        .await;
        if let Err(error) = released {
            tracing::error!(job = %claim.name, %error, "could not release a job's lease");
        }
        self.finish_run(claim, outcome, message).await;
    }

    async fn finish_run(&self, claim: &Claim, outcome: RunOutcome, message: &str) {
        let finished: Result<RunRow, sqlx::Error> = sqlx::query_as(&format!(
            "UPDATE job_runs SET outcome = $1, message = $2, finished_at_unix_ms = $3 WHERE id = $4 \
             RETURNING {RUN_COLUMNS}"
        ))
        .bind(outcome.as_str())
        .bind(message)
        .bind(now_unix_ms())
        .bind(claim.run_id)
        .fetch_one(self.store.pool())
        .await;
        match finished {
            Ok(row) => {
                let run = match run_from_row(row) {
                    Ok(run) => run,
                    Err(error) => {
                        return tracing::error!(job = %claim.name, %error, "could not read a finished job run")
                    }
                };
                tracing::info!(
                    job = %run.job_name, run = run.id, attempt = run.attempt, outcome = %run.outcome,
                    correlation_id = %format!("job-run-{}", run.id), "job run finished"
                );
                self.events.publish(DeckEvent::JobRunFinished { run });
            }
            Err(error) => tracing::error!(job = %claim.name, %error, "could not record a job run"),
        }
    }
}

/// A job whose lease this process holds.
#[derive(Debug, Clone)]
struct Claim {
    name: String,
    kind: String,
    schedule: Schedule,
    payload: serde_json::Value,
    due_at: i64,
    attempt: i64,
    run_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

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
