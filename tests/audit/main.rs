//! The audit trail: recorded through the deck, tampered with directly in the
//! store in every way an attacker could, and checked by `opsdeck audit verify`
//! (a real process) and the library. Keys come from a real Secret Service or a
//! passphrase.

use std::process::Output;

use opsdeck::{AuditFilter, Caller, Deck, DeckOptions, Outcome};
use opsdeck_core::keys::KeyAccess;
use opsdeck_core::sqlx;
use opsdeck_tests::keychain::SecretService;
use opsdeck_tests::{opsdeck_command, postgres};
use serde_json::{json, Value};

const PASSPHRASE: &str = "correct horse battery staple";

struct Backend {
    data_dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Backend {
    fn sqlite() -> Backend {
        Backend { data_dir: tempfile::tempdir().unwrap(), database_url: None }
    }

    fn postgres() -> Backend {
        Backend {
            data_dir: tempfile::tempdir().unwrap(),
            database_url: Some(postgres::shared().fresh_database()),
        }
    }

    fn options(&self, passphrase: Option<&str>) -> DeckOptions {
        DeckOptions {
            data_dir: Some(self.data_dir.path().to_path_buf()),
            database_url: self.database_url.clone(),
            keys: KeyAccess {
                passphrase: passphrase.map(|text| text.to_owned().into()),
                no_keychain: true,
                key_dir: None,
            },
            ..DeckOptions::default()
        }
    }

    async fn deck(&self) -> Deck {
        Deck::open(self.options(Some(PASSPHRASE))).await.unwrap()
    }

    /// `opsdeck audit verify --json` on this deck, as a separate process.
    fn verify_with_cli(&self) -> (Output, Value) {
        let mut command = opsdeck_command();
        command
            .args(["--json", "--data-dir", self.data_dir.path().to_str().unwrap(), "audit", "verify"])
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            // No session bus: the keychain is unreachable, as on a server.
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        if let Some(url) = &self.database_url {
            command.env("OPSDECK_DATABASE_URL", url);
        }
        let output = command.output().unwrap();
        let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (output, report)
    }
}

async fn record_entries(deck: &Deck, count: usize) {
    let caller = Caller::new("test:alice");
    for n in 1..=count {
        deck.audit(&caller, "secret.reveal", &format!("prod/key-{n}"), Outcome::Ok, json!({ "n": n }))
            .await
            .unwrap();
    }
}

async fn execute(deck: &Deck, sql: &str) {
    sqlx::query(sql).execute(deck.store().pool()).await.unwrap();
}

/// Records ten entries, applies `tamper`, and checks that verification fails
/// at `first_bad` — through the library and through the CLI (exit 1).
async fn assert_tampering_detected(
    backend: Backend,
    tamper: &[&str],
    first_bad: i64,
    problem_mentions: &str,
) {
    let deck = backend.deck().await;
    record_entries(&deck, 10).await;
    for sql in tamper {
        execute(&deck, sql).await;
    }
    let report = deck.audit_trail().verify(&Caller::new("test:auditor")).await.unwrap();
    assert!(!report.ok, "tampering went unnoticed: {tamper:?}");
    assert_eq!(report.first_bad, Some(first_bad), "{report:?}");
    assert!(report.problem.as_deref().unwrap_or("").contains(problem_mentions), "{report:?}");
    deck.shutdown().await;

    let (output, json) = backend.verify_with_cli();
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(json["ok"], false);
    assert_eq!(json["first_bad"], first_bad);
    assert!(json["entries"].is_number());
}

macro_rules! tamper_case {
    ($name:ident, [$($sql:expr),+], $first_bad:expr, $mentions:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                assert_tampering_detected(Backend::sqlite(), &[$($sql),+], $first_bad, $mentions).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                assert_tampering_detected(Backend::postgres(), &[$($sql),+], $first_bad, $mentions).await;
            }
        }
    };
}

tamper_case!(
    an_edited_actor_is_found,
    ["UPDATE audit_log SET actor = 'test:mallory' WHERE seq = 4"],
    4,
    "edited"
);
tamper_case!(
    an_edited_outcome_is_found,
    ["UPDATE audit_log SET outcome = 'denied' WHERE seq = 7"],
    7,
    "edited"
);
tamper_case!(
    edited_details_are_found,
    ["UPDATE audit_log SET details = '{\"n\":99}' WHERE seq = 2"],
    2,
    "edited"
);
tamper_case!(
    a_changed_time_is_found,
    ["UPDATE audit_log SET at_unix_ms = at_unix_ms - 1 WHERE seq = 9"],
    9,
    "edited"
);
tamper_case!(a_deleted_entry_is_found, ["DELETE FROM audit_log WHERE seq = 5"], 5, "deleted");
tamper_case!(
    a_forged_entry_at_the_end_is_found,
    [
        "INSERT INTO audit_log (seq, at_unix_ms, actor, action, target, outcome, details, correlation_id, prev_mac, mac) \
         SELECT 11, at_unix_ms, actor, action, target, outcome, details, correlation_id, mac, mac FROM audit_log WHERE seq = 10"
    ],
    11,
    "edited or forged"
);
tamper_case!(
    two_swapped_entries_are_found,
    [
        "UPDATE audit_log SET seq = 100 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 100"
    ],
    3,
    "inserted or moved"
);
tamper_case!(a_cut_off_tail_is_found, ["DELETE FROM audit_log WHERE seq >= 9"], 9, "deleted from the end");
tamper_case!(
    a_removed_head_record_is_found,
    ["DELETE FROM store_meta WHERE key = 'audit_head'"],
    1,
    "head record"
);

#[tokio::test]
async fn an_intact_chain_verifies_and_the_cli_exits_0() {
    let backend = Backend::sqlite();
    let deck = backend.deck().await;
    record_entries(&deck, 25).await;
    let report = deck.audit_trail().verify(&Caller::new("test:auditor")).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 25);
    deck.shutdown().await;

    let (output, json) = backend.verify_with_cli();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(json, json!({"ok": true, "entries": 26, "first_bad": null, "problem": null}));
}

#[tokio::test]
async fn nothing_more_is_recorded_on_a_chain_whose_tail_was_cut() {
    let backend = Backend::sqlite();
    let deck = backend.deck().await;
    record_entries(&deck, 5).await;
    execute(&deck, "DELETE FROM audit_log WHERE seq = 5").await;
    let error = deck
        .audit(&Caller::new("test:alice"), "secret.reveal", "prod/x", Outcome::Ok, json!({}))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "audit_chain_broken", "{error}");
    let report = deck.audit_trail().verify(&Caller::new("test:auditor")).await.unwrap();
    assert_eq!(report.first_bad, Some(5), "the evidence of the cut is still there: {report:?}");
}

#[tokio::test]
async fn concurrent_writers_on_one_store_keep_one_unbroken_chain() {
    for backend in [Backend::sqlite(), Backend::postgres()] {
        // Two decks on one store, as two processes on one data dir would be.
        let first = backend.deck().await;
        let second = backend.deck().await;
        let mut writers = Vec::new();
        for (deck_index, deck) in [&first, &second].into_iter().enumerate() {
            for writer in 0..3 {
                writers.push(async move {
                    let caller = Caller::new(format!("test:writer-{deck_index}-{writer}"));
                    for n in 0..15 {
                        deck.audit(&caller, "config.save", &format!("svc/{n}"), Outcome::Ok, json!({}))
                            .await
                            .unwrap();
                    }
                });
            }
        }
        join_all(writers).await;
        let report = first.audit_trail().verify(&Caller::new("test:auditor")).await.unwrap();
        assert!(report.ok, "{report:?}");
        assert_eq!(report.entries, 90);
        first.shutdown().await;
        second.shutdown().await;
    }
}

/// Runs futures concurrently on this task.
async fn join_all<F: std::future::Future<Output = ()>>(futures: Vec<F>) {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    std::future::poll_fn(move |context| {
        pinned.retain_mut(|future| future.as_mut().poll(context).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

#[tokio::test]
async fn listing_filters_by_actor_action_target_and_pages_newest_first() {
    let backend = Backend::sqlite();
    let deck = backend.deck().await;
    let alice = Caller::new("cli:alice");
    let bob = Caller::new("app:bob");
    deck.audit(&alice, "secret.reveal", "prod/db", Outcome::Ok, json!({})).await.unwrap();
    deck.audit(&bob, "secret.rotate", "prod/db", Outcome::Failed, json!({"why": "verify failed"}))
        .await
        .unwrap();
    deck.audit(&bob, "config.promote", "billing/prod", Outcome::Ok, json!({})).await.unwrap();

    let by_bob = deck
        .audit_trail()
        .entries(&AuditFilter { actor: Some("bob".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_bob.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2]);
    let secrets = deck
        .audit_trail()
        .entries(&AuditFilter { action: Some("secret.".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(secrets.len(), 2);
    let on_db = deck
        .audit_trail()
        .entries(&AuditFilter { target: Some("prod/db".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(on_db.len(), 2);
    let page = deck
        .audit_trail()
        .entries(&AuditFilter { before_seq: Some(3), limit: Some(1), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, 2);
    assert_eq!(page[0].outcome, opsdeck::Outcome::Failed);
    assert_eq!(page[0].details, json!({"why": "verify failed"}));
    assert_eq!(page[0].correlation_id, bob.correlation_id);
}

#[tokio::test]
async fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let backend = Backend::sqlite();
    let deck = backend.deck().await;
    record_entries(&deck, 3).await;
    deck.shutdown().await;

    let deck = Deck::open(backend.options(Some("not the passphrase"))).await.unwrap();
    let error = deck.audit(&Caller::new("test:x"), "a.b", "t", Outcome::Ok, json!({})).await.unwrap_err();
    assert_eq!(error.code(), "wrong_passphrase");
    assert_eq!(
        deck.audit_trail().entries(&AuditFilter::default()).await.unwrap().len(),
        3,
        "reading needs no key"
    );

    let deck = Deck::open(backend.options(None)).await.unwrap();
    let error = deck.audit_trail().verify(&Caller::new("test:x")).await.unwrap_err();
    assert_eq!(error.code(), "passphrase_needed");
    assert!(error.to_string().contains("OPSDECK_PASSPHRASE"));
}

#[test]
fn without_keychain_or_passphrase_the_cli_says_how_to_continue() {
    let dir = tempfile::tempdir().unwrap();
    let output = opsdeck_command()
        .args(["--data-dir", dir.path().to_str().unwrap(), "audit", "verify"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no OS keychain is reachable"), "{stderr}");
    assert!(stderr.contains("OPSDECK_PASSPHRASE"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn the_audit_key_lives_in_the_os_keychain_when_one_is_reachable() {
    let keychain = SecretService::start();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        opsdeck_command()
            .args(["--data-dir", dir.path().to_str().unwrap()])
            .args(args)
            .envs(keychain.env())
            .output()
            .unwrap()
    };
    let first = run(&["--json", "audit", "verify"]);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(keychain.opsdeck_items(), 1, "one key item was created in the keychain");
    // No passphrase anywhere: the key comes back from the keychain.
    let second = run(&["--json", "audit", "verify"]);
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["entries"], 1);

    // The same data dir without the keychain cannot write or verify, and says why.
    let without = opsdeck_command()
        .args(["--data-dir", dir.path().to_str().unwrap(), "audit", "verify"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("OPSDECK_PASSPHRASE", "irrelevant")
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("keychain"));
}

#[test]
fn audit_log_prints_entries_newest_first_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        opsdeck_command()
            .args(["--data-dir", dir.path().to_str().unwrap()])
            .args(args)
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap()
    };
    let empty = run(&["audit", "log"]);
    assert!(String::from_utf8_lossy(&empty.stdout).contains("No audit entries yet"));
    run(&["audit", "verify"]);
    run(&["audit", "verify"]);
    let json: Value =
        serde_json::from_slice(&run(&["--json", "audit", "log", "--limit", "1"]).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["seq"], 2);
    assert_eq!(json[0]["action"], "audit.verify");
    assert!(json[0]["actor"].as_str().unwrap().starts_with("cli:"));
    let text = String::from_utf8(run(&["audit", "log"]).stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("SEQ"), "a header row first: {text}");
    assert!(lines.next().unwrap().starts_with('2'), "then the newest entry: {text}");
}
