//! Background work of a deck: the scheduler (each area registers the job
//! kinds it runs through [`JobKinds`]), the `command` job users define, and
//! the job actions users take (list, history, run now, pause, add, remove).

pub mod operations;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use opsdeck_core::scheduler::{JobContext, JobResult, JobSpec, Schedule, Scheduler};

use crate::definitions::COMMAND_JOB;
use crate::{Caller, Deck, DeckError, JobInfo, JobRun, Outcome, SchedulerConfig};

/// A deck's scheduled jobs: `deck.jobs()`.
#[derive(Clone, Copy)]
pub struct Jobs<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// The kind of the jobs users define to run a shell command.
const COMMAND_JOB_KIND: &str = "command";

/// The jobs every deck makes for itself at start.
const BUILT_IN_JOBS: [&str; 5] = [
    crate::audit::AUDIT_VERIFY_JOB,
    crate::notify::WEBHOOK_REDELIVERY_JOB,
    crate::certs::EXPIRY_JOB,
    crate::telemetry::RETENTION_JOB,
    crate::metrics::retention::RETENTION_JOB,
];

/// A command job runs with the rights of whoever set it: only a scheduler
/// running under the OS account of that name runs it (a job set by `alice`
/// must not run as `root` because root's `opsdeck serve` shares the store).
fn refuse_another_account(job: &str, defined_by: &str) -> Result<(), String> {
    let definer = defined_by.split_once(':').map_or(defined_by, |(_, user)| user);
    let here = Caller::local_user("serve");
    let account = here.user().unwrap_or_default();
    if definer == account {
        return Ok(());
    }
    Err(format!(
        "the command job `{job}` was set by {definer} and runs only under that OS account, and this scheduler \
         runs as {account}; run `opsdeck serve` (or the app) as {definer}, or have {account} set the job again"
    ))
}

/// The longest a `command` job may run unless its payload says otherwise.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

impl Deck {
    /// Starts the deck's background work (the scheduler), as the app and
    /// `opsdeck serve` do; one-shot CLI commands do not. Idempotent.
    ///
    /// Each area registers the job kinds it runs (and makes sure its built-in
    /// jobs exist) in its own `register_jobs`.
    pub async fn start_background(self: &Arc<Self>, config: SchedulerConfig) -> Result<(), DeckError> {
        if self.background_started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let mut scheduler = Scheduler::new(self.store.clone(), self.events.clone(), config);
        let mut kinds = JobKinds { scheduler: &mut scheduler, deck: Arc::downgrade(self) };
        // A command job runs only when its stored definition carries a valid
        // seal, on the host that set it (unless set to run anywhere).
        kinds.register(COMMAND_JOB_KIND, |deck, job| async move {
            let seal = deck
                .check_definition(&Caller::new("scheduler"), COMMAND_JOB, &job.name, &job.payload, true)
                .await
                .map_err(|error| error.to_string())?;
            refuse_another_account(&job.name, &seal.defined_by)?;
            run_command_job(job).await
        });
        crate::audit::register_jobs(self, &mut kinds).await?;
        crate::notify::register_jobs(self, &mut kinds).await?;
        crate::vaults::register_jobs(&mut kinds);
        crate::certs::register_jobs(self, &mut kinds).await?;
        crate::telemetry::register_jobs(self, &mut kinds).await?;
        crate::metrics::scrape::register_jobs(&mut kinds);
        crate::metrics::retention::register_jobs(self, &mut kinds).await?;
        crate::alerts::register_jobs(&mut kinds);
        crate::scan::findings::register_jobs(&mut kinds);
        let scheduler = Arc::new(scheduler);
        self.tasks.spawn("scheduler", move |stop| scheduler.run(stop));
        self.start_link_watcher();
        let audit = self.audit.clone();
        self.tasks.spawn("audit-follower", move |stop| audit.follow(stop));
        self.start_telemetry().await;
        crate::metrics::start_self_metrics(self);
        Ok(())
    }
}

/// Where an area registers the job kinds it runs. Each kind's work gets the
/// deck through a weak reference: the deck owns the scheduler, not the
/// other way round, so a job that starts while the deck shuts down fails
/// cleanly instead of keeping it alive.
pub(crate) struct JobKinds<'s> {
    scheduler: &'s mut Scheduler,
    deck: Weak<Deck>,
}

impl JobKinds<'_> {
    /// Runs `work` for every due job of `kind`.
    pub(crate) fn register<W, Fut>(&mut self, kind: &str, work: W)
    where
        W: Fn(Arc<Deck>, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        let deck = self.deck.clone();
        let work = Arc::new(work);
        self.scheduler.register(kind, move |job: JobContext| {
            let deck = deck.upgrade();
            let work = work.clone();
            async move {
                let deck = deck.ok_or_else(|| "the deck is shutting down".to_owned())?;
                work(deck, job).await
            }
        });
    }
}

impl Jobs<'_> {
    /// Every job with its latest run.
    pub async fn list(self) -> Result<Vec<JobInfo>, DeckError> {
        Ok(Scheduler::list_jobs(&self.deck.store).await?)
    }

    /// The latest attempts of a job, newest first.
    pub async fn runs(self, name: &str, limit: i64) -> Result<Vec<JobRun>, DeckError> {
        Ok(Scheduler::runs(&self.deck.store, name, limit).await?)
    }

    /// Makes a job due now. A job that acts on a vault's secret or a
    /// certificate takes the operator role of that vault.
    pub async fn run_now(self, caller: &Caller, name: &str) -> Result<(), DeckError> {
        self.require_role_for_job(caller, name).await?;
        self.deck.audit(caller, "job.run_now", name, Outcome::Ok, serde_json::json!({})).await?;
        Ok(Scheduler::run_now(&self.deck.store, name).await?)
    }

    /// Checks `caller`'s role for what job `name` acts on (its target).
    async fn require_role_for_job(self, caller: &Caller, name: &str) -> Result<(), DeckError> {
        let job = Scheduler::list_jobs(&self.deck.store).await?.into_iter().find(|job| job.name == name);
        let Some(job) = job else {
            return Err(opsdeck_core::CoreError::UnknownJob { name: name.to_owned() }.into());
        };
        let vault = match job.kind.as_str() {
            crate::vaults::ROTATE_JOB_KIND => job
                .payload
                .get("reference")
                .and_then(serde_json::Value::as_str)
                .and_then(|reference| reference.split_once('/'))
                .map(|(vault, _)| vault.to_owned()),
            crate::certs::RENEW_JOB_KIND => match job.payload.get("id").and_then(serde_json::Value::as_str) {
                Some(id) => self.deck.certs.get(id).await?.managed.map(|managed| managed.vault),
                None => None,
            },
            _ => None,
        };
        if let Some(vault) = vault {
            self.deck
                .require(
                    caller,
                    &vault,
                    opsdeck_vault::Role::Operator,
                    "job.run_now",
                    name,
                    "running its job",
                )
                .await?;
        }
        Ok(())
    }

    /// Pauses or resumes a job.
    pub async fn set_paused(self, caller: &Caller, name: &str, paused: bool) -> Result<(), DeckError> {
        self.require_role_for_job(caller, name).await?;
        let action = if paused { "job.pause" } else { "job.resume" };
        self.deck.audit(caller, action, name, Outcome::Ok, serde_json::json!({})).await?;
        Ok(Scheduler::set_paused(&self.deck.store, name, paused).await?)
    }

    /// Adds (or changes) a job that runs a shell command on `schedule`.
    pub async fn add_command(
        self,
        caller: &Caller,
        name: &str,
        schedule: Schedule,
        command: &str,
        run_anywhere: bool,
    ) -> Result<(), DeckError> {
        if name.trim().is_empty() || command.trim().is_empty() {
            return Err(
                opsdeck_core::CoreError::InvalidJob("a job needs a name and a command".to_owned()).into()
            );
        }
        let spec = JobSpec {
            name: name.to_owned(),
            kind: COMMAND_JOB_KIND.to_owned(),
            schedule,
            payload: serde_json::json!({ "command": command }),
        };
        let details = serde_json::json!({
            "schedule": spec.schedule.describe(), "command": command, "run_anywhere": run_anywhere,
            "host": opsdeck_core::definitions::this_host(),
        });
        self.deck.audit(caller, "job.add", name, Outcome::Ok, details).await?;
        let seal = self.deck.seal_definition(caller, COMMAND_JOB, name, &spec.payload, run_anywhere).await?;
        Scheduler::upsert_job(&self.deck.store, &spec).await?;
        let host = (!run_anywhere).then_some(seal.host.as_str());
        Ok(Scheduler::pin_to_host(&self.deck.store, name, host).await?)
    }

    /// Deletes a job and its history. A built-in job is refused (the deck
    /// would make it again at its next start; pausing it is what stops it),
    /// and a job acting on a vault needs that vault's operator role.
    pub async fn remove(self, caller: &Caller, name: &str) -> Result<(), DeckError> {
        if BUILT_IN_JOBS.contains(&name) {
            return Err(opsdeck_core::CoreError::InvalidJob(format!(
                "`{name}` is a built-in job and cannot be removed; pause it instead \
                 (`opsdeck jobs pause {name}`)"
            ))
            .into());
        }
        self.require_role_for_job(caller, name).await?;
        self.deck.audit(caller, "job.remove", name, Outcome::Ok, serde_json::json!({})).await?;
        Scheduler::remove(&self.deck.store, name).await?;
        self.deck.unseal_definition(caller, COMMAND_JOB, name).await
    }
}

/// The `command` job kind: runs `payload.command` through `sh -c`. Exit code 0
/// is success; the end of its output becomes the run's message. The command
/// is killed when it outlives `payload.timeout_secs` (default 300) or when the
/// attempt is cancelled.
async fn run_command_job(job: JobContext) -> JobResult {
    let command = job.payload.get("command").and_then(|value| value.as_str()).unwrap_or_default().to_owned();
    if command.is_empty() {
        return Err("the job's payload has no `command`".to_owned());
    }
    let timeout = job
        .payload
        .get("timeout_secs")
        .and_then(serde_json::Value::as_u64)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_COMMAND_TIMEOUT);
    // A minimal environment: none of OpsDeck's own secrets reach the job.
    let child = opsdeck_core::child_process::hook_command(&command)
        .env("OPSDECK_JOB", &job.name)
        .env("OPSDECK_JOB_DUE_AT_MS", job.due_at_unix_ms.to_string())
        .env("OPSDECK_JOB_ATTEMPT", job.attempt.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("could not start `sh`: {error}"))?;
    let output = tokio::select! {
        output = child.wait_with_output() => output.map_err(|error| format!("could not wait for the command: {error}"))?,
        _ = tokio::time::sleep(timeout) => return Err(format!("timed out after {}s and was stopped", timeout.as_secs())),
        _ = job.cancel.cancelled() => return Err("stopped: OpsDeck is shutting down".to_owned()),
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let tail = last_chars(text.trim(), 500);
    match output.status.code() {
        Some(0) => Ok(if tail.is_empty() { "exit code 0".to_owned() } else { tail }),
        Some(code) => Err(format!("exit code {code}: {tail}")),
        None => Err("the command was killed by a signal".to_owned()),
    }
}

/// The last `count` characters of `text` (the end of a command's output says most).
pub(crate) fn last_chars(text: &str, count: usize) -> String {
    let skip = text.chars().count().saturating_sub(count);
    text.chars().skip(skip).collect()
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::JobList>(),
        entry::<operations::JobRuns>(),
        entry::<operations::JobRunNow>(),
        entry::<operations::JobSetPaused>(),
        entry::<operations::JobRemove>(),
    ]
}
