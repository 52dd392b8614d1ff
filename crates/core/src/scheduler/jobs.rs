//! The job list: defining jobs (each definition sealed by the caller),
//! listing them with their last run, pausing, pinning to a host, running
//! now, removing, and reading a job's runs.

use super::{
    run_from_row, JobInfo, JobRow, JobRun, JobSpec, RunRow, Schedule, Scheduler, JOB_COLUMNS, RUN_COLUMNS,
};
use crate::clock::now_unix_ms;
use crate::{CoreError, Store};

impl Scheduler {
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

    /// How many jobs were due more than `late_ms` before `now` and are
    /// still waiting: not paused, not done, and nobody holds their lease.
    pub async fn overdue(store: &Store, now: i64, late_ms: i64) -> Result<i64, CoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE paused = 0 AND completed_at_unix_ms IS NULL \
             AND next_run_at_unix_ms < $1 AND (lease_until_unix_ms IS NULL OR lease_until_unix_ms < $2)",
        )
        .bind(now.saturating_sub(late_ms))
        .bind(now)
        .fetch_one(store.pool())
        .await?)
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
}
