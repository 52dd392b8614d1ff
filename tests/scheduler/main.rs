//! The scheduler across processes: two `opsdeck serve` on one data dir run
//! each due time once, a SIGKILLed process's job is taken over when its lease
//! expires, and failed attempts are retried with backoff (in process, with a
//! flaky handler). Also on PostgreSQL.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck::{Deck, DeckOptions, KeyAccess};
use opsdeck_core::scheduler::{JobContext, JobSpec, Schedule, Scheduler, SchedulerConfig};
use opsdeck_tests::{opsdeck_command, postgres};
use serde_json::Value;

const PASSPHRASE: &str = "scheduler test passphrase";

struct Deckdir {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Deckdir {
    fn new(database_url: Option<String>) -> Deckdir {
        Deckdir { dir: tempfile::tempdir().unwrap(), database_url }
    }

    fn command(&self) -> Command {
        let mut command = opsdeck_command();
        command
            .arg("--data-dir")
            .arg(self.dir.path())
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        if let Some(url) = &self.database_url {
            command.env("OPSDECK_DATABASE_URL", url);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Value {
        let output = self.command().arg("--json").args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    fn serve(&self, lease_secs: u32) -> Child {
        self.command().args(["serve", "--job-lease", &lease_secs.to_string()]).spawn().unwrap()
    }

    fn runs(&self, job: &str) -> Vec<Value> {
        self.run(&["jobs", "runs", job, "--limit", "1000"]).as_array().cloned().unwrap_or_default()
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "serve did not stop cleanly on SIGTERM: {status}");
}

/// Every due time has at most one `ok` run.
fn assert_each_due_time_completed_once(runs: &[Value]) -> usize {
    let mut ok_per_due: HashMap<i64, usize> = HashMap::new();
    for run in runs.iter().filter(|run| run["outcome"] == "ok") {
        *ok_per_due.entry(run["due_at_unix_ms"].as_i64().unwrap()).or_default() += 1;
    }
    let doubled: Vec<_> = ok_per_due.iter().filter(|(_, count)| **count > 1).collect();
    assert!(doubled.is_empty(), "due times completed twice: {doubled:?}\n{runs:#?}");
    ok_per_due.len()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn two_processes_run_each_due_time_once(deck: Deckdir) {
    let ticks = deck.dir.path().join("ticks");
    let command = format!("echo $OPSDECK_JOB_DUE_AT_MS >> {}; sleep 0.2", ticks.display());
    deck.run(&["jobs", "add", "tick", "--every", "1s", "--command", &command]);
    let first = deck.serve(3);
    let second = deck.serve(3);
    std::thread::sleep(Duration::from_secs(6));
    stop(first);
    stop(second);

    let runs = deck.runs("tick");
    let completed = assert_each_due_time_completed_once(&runs);
    assert!(completed >= 4, "only {completed} due times ran in 6 s: {runs:#?}");
    let written = lines(&ticks);
    let mut unique = written.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), written.len(), "a due time ran twice: {written:?}");
    let owners: std::collections::HashSet<_> =
        runs.iter().map(|run| run["owner"].as_str().unwrap().to_owned()).collect();
    assert!(!owners.is_empty());
}

#[test]
fn two_serve_processes_on_one_data_dir_run_each_due_time_once() {
    two_processes_run_each_due_time_once(Deckdir::new(None));
}

#[test]
fn two_serve_processes_on_one_postgres_run_each_due_time_once() {
    two_processes_run_each_due_time_once(Deckdir::new(Some(postgres::shared().fresh_database())));
}

#[test]
fn a_job_of_a_sigkilled_process_is_taken_over_when_its_lease_expires() {
    let deck = Deckdir::new(None);
    let log = deck.dir.path().join("log");
    let command = format!(
        "echo start $OPSDECK_JOB_DUE_AT_MS $$ >> {log}; sleep 2; echo end $OPSDECK_JOB_DUE_AT_MS >> {log}",
        log = log.display()
    );
    deck.run(&["jobs", "add", "slow", "--every", "60s", "--command", &command]);
    let mut doomed = deck.serve(2);
    let start = Instant::now();
    while !lines(&log).iter().any(|line| line.starts_with("start")) {
        assert!(start.elapsed() < Duration::from_secs(15), "the first process never started the job");
        std::thread::sleep(Duration::from_millis(50));
    }
    let survivor = deck.serve(2);
    doomed.kill().unwrap(); // SIGKILL, mid-run
    doomed.wait().unwrap();

    let start = Instant::now();
    loop {
        let runs = deck.runs("slow");
        if runs.iter().any(|run| run["outcome"] == "ok") {
            assert!(runs.iter().any(|run| run["outcome"] == "abandoned"), "{runs:#?}");
            assert_eq!(assert_each_due_time_completed_once(&runs), 1);
            let ok = runs.iter().find(|run| run["outcome"] == "ok").unwrap();
            let abandoned = runs.iter().find(|run| run["outcome"] == "abandoned").unwrap();
            assert_eq!(
                ok["due_at_unix_ms"], abandoned["due_at_unix_ms"],
                "the survivor finished the same due time"
            );
            assert_ne!(ok["owner"], abandoned["owner"]);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "nobody took the job over: {runs:#?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    stop(survivor);
}

#[test]
fn job_commands_report_unknown_jobs_and_bad_intervals_clearly() {
    let deck = Deckdir::new(None);
    let output = deck.command().args(["jobs", "pause", "nope"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no job called `nope`"));
    let output =
        deck.command().args(["jobs", "add", "x", "--every", "soon", "--command", "true"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("interval"));
}

#[test]
fn pause_run_now_and_resume_change_what_runs_and_are_audited() {
    let deck = Deckdir::new(None);
    deck.run(&["jobs", "add", "nightly", "--every", "1d", "--command", "true"]);
    deck.run(&["jobs", "pause", "nightly"]);
    let jobs = deck.run(&["jobs", "list"]);
    let nightly = jobs.as_array().unwrap().iter().find(|job| job["name"] == "nightly").unwrap().clone();
    assert_eq!(nightly["paused"], true);
    deck.run(&["jobs", "resume", "nightly"]);
    deck.run(&["jobs", "run", "nightly"]);
    let audit = deck.run(&["audit", "log", "--action", "job."]);
    let actions: Vec<_> =
        audit.as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["job.run_now", "job.resume", "job.pause", "job.add"]);
}

#[test]
fn a_job_is_removed_with_its_history_and_a_built_in_job_is_refused() {
    let deck = Deckdir::new(None);
    deck.run(&["jobs", "add", "nightly", "--every", "1d", "--command", "true"]);
    let removed = deck.run(&["call", "job.remove", "name=nightly"]);
    assert_eq!(removed, serde_json::json!({ "name": "nightly", "removed": true }));
    let jobs = deck.run(&["jobs", "list"]);
    assert!(jobs.as_array().unwrap().iter().all(|job| job["name"] != "nightly"), "{jobs}");
    let audit = deck.run(&["audit", "log", "--action", "job.remove"]);
    assert_eq!(audit[0]["target"], "nightly", "{audit}");

    // A built-in job would only come back at the next start: refused, and it stays.
    let output = deck.command().args(["call", "job.remove", "name=audit-verify"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("built-in job and cannot be removed; pause it instead"), "{stderr}");
    let output = deck.command().args(["jobs", "rm", "nope"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no job called `nope`"));
}

async fn deck_with_passphrase(dir: &Path) -> Deck {
    Deck::open(DeckOptions {
        data_dir: Some(dir.to_path_buf()),
        keys: KeyAccess { passphrase: Some(PASSPHRASE.to_owned().into()), no_keychain: true, key_dir: None },
        ..DeckOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn failed_attempts_are_retried_with_backoff_until_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let deck = deck_with_passphrase(dir.path()).await;
    let spec = JobSpec {
        name: "flaky".into(),
        kind: "flaky".into(),
        schedule: Schedule::Every(Duration::from_secs(3600)),
        payload: Value::Null,
    };
    Scheduler::upsert_job(deck.store(), &spec).await.unwrap();

    let config = SchedulerConfig {
        poll: Duration::from_millis(20),
        retry_base: Duration::from_millis(100),
        retry_cap: Duration::from_millis(400),
        max_attempts: 5,
        ..SchedulerConfig::default()
    };
    let mut scheduler = Scheduler::new(deck.store().clone(), deck.events().clone(), config);
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    scheduler.register("flaky", move |job: JobContext| {
        let counter = counter.clone();
        async move {
            let call = counter.fetch_add(1, Ordering::SeqCst) + 1;
            if call < 3 {
                Err(format!("attempt {} failed", job.attempt))
            } else {
                Ok("finally".into())
            }
        }
    });
    let started = Instant::now();
    deck.tasks().spawn("scheduler", move |stop| Arc::new(scheduler).run(stop));
    while Scheduler::runs(deck.store(), "flaky", 10)
        .await
        .unwrap()
        .first()
        .is_none_or(|run| run.outcome != opsdeck::RunOutcome::Ok)
    {
        assert!(started.elapsed() < Duration::from_secs(10), "the job never succeeded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    deck.shutdown().await;

    let deck = deck_with_passphrase(dir.path()).await;
    let runs = Scheduler::runs(deck.store(), "flaky", 10).await.unwrap();
    let outcomes: Vec<_> = runs.iter().rev().map(|run| (run.attempt, run.outcome.as_str())).collect();
    assert_eq!(outcomes, [(1, "failed"), (2, "failed"), (3, "ok")]);
    assert!(
        runs.iter().all(|run| run.due_at_unix_ms == runs[0].due_at_unix_ms),
        "retries keep their due time"
    );
    assert!(runs[2].message.contains("retry in"), "{:?}", runs[2]);
    // Two retries: at least 100 ms, then at least 200 ms.
    assert!(elapsed >= Duration::from_millis(300), "retried too soon: {elapsed:?}");
    let job = Scheduler::list_jobs(deck.store())
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.name == "flaky")
        .unwrap();
    assert_eq!(job.attempt, 0);
    assert!(
        job.next_run_at_unix_ms > runs[0].due_at_unix_ms + 3_500_000,
        "the next run is an hour after the due time"
    );
}

#[tokio::test]
async fn after_the_last_attempt_the_job_gives_up_and_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let deck = deck_with_passphrase(dir.path()).await;
    let spec = JobSpec {
        name: "broken".into(),
        kind: "broken".into(),
        schedule: Schedule::Every(Duration::from_secs(3600)),
        payload: Value::Null,
    };
    Scheduler::upsert_job(deck.store(), &spec).await.unwrap();
    let config = SchedulerConfig {
        poll: Duration::from_millis(20),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(40),
        max_attempts: 3,
        ..SchedulerConfig::default()
    };
    let mut scheduler = Scheduler::new(deck.store().clone(), deck.events().clone(), config);
    scheduler.register("broken", |_job: JobContext| async { Err::<String, _>("always fails".to_owned()) });
    let mut events = deck.events().subscribe();
    deck.tasks().spawn("scheduler", move |stop| Arc::new(scheduler).run(stop));
    let mut finished = 0;
    while finished < 3 {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(opsdeck::DeckEvent::Core(opsdeck::CoreEvent::JobRunFinished { run })))
                if run.job_name == "broken" =>
            {
                finished += 1
            }
            Ok(_) => {}
            Err(_) => panic!("no job events within 10 s"),
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let runs = Scheduler::runs(deck.store(), "broken", 10).await.unwrap();
    assert_eq!(runs.len(), 3, "no fourth attempt: {runs:#?}");
    assert!(runs[0].message.contains("gave up after 3 attempts"), "{:?}", runs[0]);
    let job = Scheduler::list_jobs(deck.store())
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.name == "broken")
        .unwrap();
    assert_eq!(job.attempt, 0);
    deck.shutdown().await;
}

#[test]
fn cron_and_one_off_jobs_are_listed_with_their_schedule_and_a_one_off_job_runs_once() {
    let deck = Deckdir::new(None);
    let marker = deck.dir.path().join("once");
    deck.run(&["jobs", "add", "nightly", "--cron", "0 3 * * *", "--command", "true"]);
    deck.run(&[
        "jobs",
        "add",
        "migrate",
        "--once",
        "--command",
        &format!("echo ran >> {}", marker.display()),
    ]);
    let bad = deck
        .command()
        .args(["jobs", "add", "x", "--cron", "0 25 * * *", "--command", "true"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a cron expression"));

    let serve = deck.serve(3);
    let start = Instant::now();
    while lines(&marker).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(15), "the one-off job never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    stop(serve);
    assert_eq!(lines(&marker), ["ran"], "a one-off job runs exactly once");

    let jobs = deck.run(&["jobs", "list"]);
    let find = |name: &str| jobs.as_array().unwrap().iter().find(|job| job["name"] == name).unwrap().clone();
    let nightly = find("nightly");
    assert_eq!(nightly["schedule"], "cron 0 3 * * *");
    let next = nightly["next_run_at_unix_ms"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!(next > now && next - now <= 24 * 3600 * 1000, "next 03:00 is within a day");
    let migrate = find("migrate");
    assert_eq!(migrate["schedule"], "once");
    assert!(migrate["completed_at_unix_ms"].is_number());
}
