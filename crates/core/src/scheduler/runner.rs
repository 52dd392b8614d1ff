//! Running due jobs: claiming one under a lease (so one process runs it),
//! renewing the lease while it runs, and recording how each attempt ended
//! (success moves the job to its next due time, failure retries with
//! backoff, a lost lease or shutdown abandons the attempt).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{
    next_due_after, retry_delay, run_from_row, JobContext, RunOutcome, RunRow, Schedule, Scheduler,
    RUN_COLUMNS,
};
use crate::clock::now_unix_ms;
use crate::events::CoreEvent;
use crate::CoreError;

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

impl Scheduler {
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
                self.events.publish(CoreEvent::JobRunFinished { run });
            }
            Err(error) => tracing::error!(job = %claim.name, %error, "could not record a job run"),
        }
    }
}
