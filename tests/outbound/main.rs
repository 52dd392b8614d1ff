//! Outbound calls against real local HTTP servers: the circuit breaker opens,
//! half-opens and closes; only safe requests are retried; Retry-After is
//! honoured; signed webhooks reach a flapping receiver exactly once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use opsdeck_core::http::{BreakerState, HttpError, HttpPolicy, OutboundRequest, ResilientClient};
use opsdeck_core::webhooks::verify_signature;
use opsdeck_tests::http_server::{Scripted, ScriptedServer};
use opsdeck_tests::opsdeck_command;
use serde_json::Value;

fn quick_policy() -> HttpPolicy {
    HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_secs(2),
        failure_threshold: 3,
        failure_window: Duration::from_secs(60),
        open_for: Duration::from_millis(400),
    }
}

fn state_of(client: &ResilientClient) -> BreakerState {
    client.health()[0].state
}

#[tokio::test]
async fn the_breaker_opens_after_failures_refuses_calls_then_half_opens_and_closes() {
    let server = ScriptedServer::start(vec![Scripted::status(500)]);
    let client = ResilientClient::new(HttpPolicy { max_attempts: 1, ..quick_policy() }, None);
    for _ in 0..3 {
        let error = client.send(OutboundRequest::get(server.url("/health"))).await.unwrap_err();
        assert!(matches!(error, HttpError::Failed { status: Some(500), .. }), "{error}");
    }
    assert_eq!(state_of(&client), BreakerState::Open);

    // While open, calls fail at once without reaching the server.
    let before = server.received().len();
    let error = client.send(OutboundRequest::get(server.url("/health"))).await.unwrap_err();
    assert!(matches!(error, HttpError::CircuitOpen { .. }), "{error}");
    assert!(error.to_string().contains("paused after repeated failures"));
    assert_eq!(server.received().len(), before);

    // After the open period one probe goes through; it fails, so the breaker opens again.
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(client.send(OutboundRequest::get(server.url("/health"))).await.is_err());
    assert_eq!(server.received().len(), before + 1);
    assert_eq!(state_of(&client), BreakerState::Open);

    // The server recovers: the next probe succeeds and closes the breaker.
    server.set_script(vec![Scripted::status(200)]);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let response = client.send(OutboundRequest::get(server.url("/health"))).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(state_of(&client), BreakerState::Closed);
    let health = &client.health()[0];
    assert!(health.recent[0].ok);
    assert_eq!(health.calls, 5);
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_never_repeated() {
    let server = ScriptedServer::start(vec![Scripted::status(503)]);
    let client = ResilientClient::new(quick_policy(), None);
    let error = client.send(OutboundRequest::post(server.url("/charge"), b"{}".to_vec())).await.unwrap_err();
    assert!(matches!(error, HttpError::Failed { attempts: 1, .. }), "{error}");
    assert_eq!(server.received().len(), 1);

    // The same POST with a key is safe to repeat, and the key is sent each time.
    let server =
        ScriptedServer::start(vec![Scripted::status(503), Scripted::status(503), Scripted::status(201)]);
    let response = client
        .send(OutboundRequest::post(server.url("/charge"), b"{}".to_vec()).idempotency_key("order-17"))
        .await
        .unwrap();
    assert_eq!((response.status, response.attempts), (201, 3));
    let keys: HashSet<_> = server.received().iter().map(|r| r.headers["idempotency-key"].clone()).collect();
    assert_eq!(keys, HashSet::from(["order-17".to_owned()]));
}

#[tokio::test]
async fn retry_after_is_honoured_and_client_errors_are_not_retried() {
    let server = ScriptedServer::start(vec![
        Scripted { status: 429, headers: vec![("Retry-After".into(), "1".into())] },
        Scripted::status(200),
    ]);
    let client = ResilientClient::new(quick_policy(), None);
    let started = Instant::now();
    let response = client.send(OutboundRequest::get(server.url("/limited"))).await.unwrap();
    assert_eq!(response.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(950), "waited only {:?}", started.elapsed());
    assert_eq!(state_of(&client), BreakerState::Closed, "429 is not a failure of the endpoint");

    let server = ScriptedServer::start(vec![Scripted::status(404)]);
    let response = client.send(OutboundRequest::get(server.url("/missing"))).await.unwrap();
    assert_eq!((response.status, response.attempts), (404, 1));
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_with_a_clear_error() {
    let port = opsdeck_tests::process::free_port();
    let client = ResilientClient::new(quick_policy(), None);
    let error = client.send(OutboundRequest::get(format!("http://127.0.0.1:{port}/"))).await.unwrap_err();
    assert!(error.to_string().contains("could not connect"), "{error}");
    let error = client.send(OutboundRequest::get("ftp://example.invalid/")).await.unwrap_err();
    assert!(matches!(error, HttpError::BadUrl { .. }), "{error}");
}

const SECRET: &str = "whsec_test_secret_0123456789";

fn notify(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut command = opsdeck_command();
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_PASSPHRASE", "webhook test passphrase")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_signed_webhook_reaches_a_flapping_receiver_once_with_a_valid_signature() {
    let receiver =
        ScriptedServer::start(vec![Scripted::status(503), Scripted::status(502), Scripted::status(200)]);
    let dir = tempfile::tempdir().unwrap();
    let added = notify(
        dir.path(),
        &["notify", "add", "ops-hook", "--url", &receiver.url("/hook"), "--secret-stdin"],
        Some(SECRET),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    let sent = notify(dir.path(), &["--json", "notify", "test", "ops-hook"], None);
    assert_eq!(sent.status.code(), Some(0), "{}", String::from_utf8_lossy(&sent.stderr));
    let delivery: Value = serde_json::from_slice(&sent.stdout).unwrap();
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 3);

    // The receiver saw three attempts of one delivery; acting once per id, it
    // handles the event once, and the signature of what it accepted is valid.
    let requests = receiver.received();
    assert_eq!(requests.len(), 3);
    let ids: HashSet<_> = requests.iter().map(|r| r.headers["opsdeck-delivery"].clone()).collect();
    assert_eq!(ids.len(), 1, "every retry carries the same delivery id");
    let accepted = requests.last().unwrap();
    assert_eq!(accepted.headers["opsdeck-event"], "test");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signature = &accepted.headers["opsdeck-signature"];
    assert_eq!(verify_signature(SECRET.as_bytes(), signature, &accepted.body, now, 300), Ok(()));
    let mut tampered = accepted.body.clone();
    tampered[0] ^= 0x01;
    assert!(verify_signature(SECRET.as_bytes(), signature, &tampered, now, 300).is_err());
    // The helper we give receivers agrees.
    for (body, expected) in [(&accepted.body, Some(0)), (&tampered, Some(1))] {
        let mut helper = std::process::Command::new("python3")
            .arg(opsdeck_tests::workspace_root().join("contrib/verify_webhook.py"))
            .args([SECRET, signature.as_str()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut helper.stdin.take().unwrap(), body).unwrap();
        assert_eq!(helper.wait().unwrap().code(), expected);
    }
    let body: Value = serde_json::from_slice(&accepted.body).unwrap();
    assert_eq!(body["id"], delivery["id"]);
    assert_eq!(body["event"], "test");

    // The delivery log and the audit trail both record it; the secret is stored sealed.
    let log = notify(dir.path(), &["--json", "notify", "deliveries"], None);
    let log: Value = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(log[0]["status"], "delivered");
    let store = std::fs::read(dir.path().join("opsdeck.db")).unwrap();
    let wal = std::fs::read(dir.path().join("opsdeck.db-wal")).unwrap_or_default();
    for bytes in [store, wal] {
        assert!(
            !bytes.windows(SECRET.len()).any(|window| window == SECRET.as_bytes()),
            "the secret is on disk in plain text"
        );
    }
}

#[test]
fn a_receiver_that_stays_down_leaves_the_delivery_pending_and_the_cli_exits_1() {
    let receiver = ScriptedServer::start(vec![Scripted::status(503)]);
    let dir = tempfile::tempdir().unwrap();
    let added = notify(dir.path(), &["--json", "notify", "add", "down", "--url", &receiver.url("/")], None);
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert!(added["secret"].as_str().unwrap().starts_with("whsec_"), "a secret is generated and shown once");
    let sent = notify(dir.path(), &["notify", "test", "down"], None);
    assert_eq!(sent.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&sent.stdout).contains("NOT delivered"));
    let log = notify(dir.path(), &["--json", "notify", "deliveries", "--target", "down"], None);
    let log: Value = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(log[0]["status"], "pending", "the redelivery job will try again");
    let unknown = notify(dir.path(), &["notify", "test", "nope"], None);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no notification target called `nope`"));
}

#[test]
fn no_secret_or_passphrase_reaches_the_logs_even_at_trace_level() {
    const PASSPHRASE: &str = "passphrase-that-must-stay-private-7731";
    const PLANTED: &str = "whsec_planted_secret_that_must_never_be_logged_9915";
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut command = opsdeck_command();
        command
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("OPSDECK_LOG", "trace")
            .env("OPSDECK_FILE_LOG", "trace")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output
    };
    let mut everything = String::new();
    for (args, stdin) in [
        (vec!["notify", "add", "planted", "--url", &receiver.url("/")[..], "--secret-stdin"], Some(PLANTED)),
        (vec!["notify", "test", "planted"], None),
        (vec!["audit", "verify"], None),
        (vec!["notify", "deliveries"], None),
    ] {
        let output = run(&args, stdin);
        everything.push_str(&String::from_utf8_lossy(&output.stdout));
        everything.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    let logs = dir.path().join("logs");
    let mut log_text = String::new();
    for entry in std::fs::read_dir(&logs).expect("the log directory exists") {
        log_text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(everything.len() > 1000, "trace logging produced output");
    for (name, text) in [("terminal output", &everything), ("log files", &log_text)] {
        assert!(!text.contains(PLANTED), "the webhook secret appears in the {name}");
        assert!(!text.contains(PASSPHRASE), "the passphrase appears in the {name}");
    }
    // The JSON log ties each audited action to its correlation id.
    let audited: Vec<Value> = log_text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "audited")
        .collect();
    assert!(audited.len() >= 3, "{log_text}");
    assert!(audited
        .iter()
        .all(|line| line["span"]["correlation_id"].as_str().is_some_and(|id| id.len() == 16)));
    assert!(audited
        .iter()
        .all(|line| line["span"]["actor"].as_str().is_some_and(|actor| actor.starts_with("cli:"))));
}
