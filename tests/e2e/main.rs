//! End-to-end journeys: the real app window under Xvfb, driven through
//! tauri-driver and WebKitWebDriver as a person would use it. Each journey
//! saves screenshots under `target/e2e-screenshots/`.

use opsdeck_tests::webdriver::RunningApp;

const CTRL: &str = "\u{E009}";

fn is_dark(app: &RunningApp) -> bool {
    app.session.execute("return document.documentElement.classList.contains('dark');")
        == serde_json::json!(true)
}

#[test]
fn the_app_opens_on_overview_and_shows_its_data_dir_and_store() {
    let app = RunningApp::launch();
    let expected = app.data_dir.path().canonicalize().unwrap().display().to_string();

    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    let shown = app.session.wait_for_text("[data-testid=data-dir]", &expected);
    assert_eq!(shown.trim(), expected);
    app.session.wait_for_text("[data-testid=store-kind]", "SQLite");
    // The window and the command line report the same deck.
    let status = app.cli(&["--json", "status"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let version = format!("Version {}", status["schema_version"]);
    app.session.wait_for_text("[data-testid=schema-card]", &version);
    // The sidebar is there and marks where we are.
    let current = app.session.find("nav [aria-current=page]");
    assert_eq!(app.session.text(&current).trim(), "Overview");
    app.screenshot("overview-light");
    assert!(app.data_dir.path().join("opsdeck.db").is_file(), "the app created its store in the data dir");
}

#[test]
fn settings_switch_the_theme_and_it_applies_everywhere() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");

    app.session.click_css("[data-testid=nav-settings]");
    app.session.wait_for_text("[data-testid=page-title]", "Settings");
    let expected = app.data_dir.path().canonicalize().unwrap().display().to_string();
    app.session.wait_for_text("[data-testid=settings-data-dir]", &expected);
    // The local API is off unless asked for; the page says how to turn it on and make a token.
    app.session.wait_for_text("[data-testid=settings-api]", "OPSDECK_API=127.0.0.1:7878");
    app.session.wait_for_text("[data-testid=settings-no-tokens]", "opsdeck api token create");
    app.screenshot("settings-light");

    app.session.click_css("[data-testid=theme-dark]");
    assert!(is_dark(&app), "choosing Dark sets the dark theme");
    app.screenshot("settings-dark");

    app.session.click_css("[data-testid=nav-overview]");
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    app.session.wait_for_text("[data-testid=data-dir]", &expected);
    assert!(is_dark(&app), "the theme stays when changing pages");
    app.screenshot("overview-dark");

    app.session.click_css("[data-testid=theme-toggle]");
    assert!(!is_dark(&app), "the sidebar toggle switches back to light");
}

#[test]
fn the_command_palette_reaches_pages_from_the_keyboard() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");

    let body = app.session.find("body");
    app.session.click(&body);
    app.session.press_keys(&[CTRL, "k"]);
    let input = app.session.find("[data-testid=palette-input]");
    app.session.type_text(&input, "sett");
    app.screenshot("command-palette");
    app.session.type_text(&input, "\u{E007}"); // Enter
    app.session.wait_for_text("[data-testid=page-title]", "Settings");
}

#[test]
fn activity_records_a_verification_live_and_shows_tampering() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    app.session.click_css("[data-testid=nav-activity]");
    app.session.wait_for_text("[data-testid=page-title]", "Activity");
    app.session.wait_for_text("[data-testid=activity-empty]", "No activity yet");
    app.screenshot("activity-empty");

    // Verifying an intact chain records that it was verified; the entry arrives as an event.
    app.session.click_css("[data-testid=verify-chain]");
    app.session.wait_for_text("[data-testid=verify-result]", "Chain intact");
    let row = app.session.wait_for_text("[data-testid=activity-row]", "audit.verify");
    assert!(row.contains("app:"), "the app is the actor: {row}");

    // Entries written by another process arrive by themselves (the deck
    // follows the trail), and the actor filter keeps only the CLI's.
    let output = app.cli(&["audit", "verify"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    app.session.wait_for_text("[data-testid=activity-table]", "cli:");
    let filter = app.session.find("[data-testid=filter-actor]");
    app.session.type_text(&filter, "cli:");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let count =
            app.session.execute("return document.querySelectorAll('[data-testid=activity-row]').length;");
        if count == serde_json::json!(1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only the CLI's entry matches the actor filter: {count} rows"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    app.session.wait_for_text("[data-testid=activity-row]", "cli:");
    app.session.execute(
        "const input = document.querySelector('[data-testid=filter-actor]'); \
         input.value = ''; input.dispatchEvent(new Event('input', { bubbles: true }));",
    );
    app.session.wait_for_text("[data-testid=activity-table]", "app:");
    app.screenshot("activity-light");

    // Someone edits the first entry in the store: verification names it.
    let tampered = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); c.execute(\"UPDATE audit_log SET actor = 'app:mallory' WHERE seq = 1\"); c.commit()",
            app.data_dir.path().join("opsdeck.db").display()
        ))
        .status()
        .expect("run python3");
    assert!(tampered.success());
    app.session.click_css("[data-testid=verify-chain]");
    app.session.wait_for_text("[data-testid=verify-result]", "Tampering found at entry 1");
    let bad_row = app.session.wait_for_text("[data-bad=true]", "app:mallory");
    assert!(bad_row.starts_with('1'), "the edited entry is marked: {bad_row}");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("activity-tampered-dark");
}

#[test]
fn jobs_can_be_run_now_paused_and_resumed_and_show_their_runs() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    // A job added from the command line appears in the window.
    let added =
        app.cli(&["jobs", "add", "nightly-report", "--every", "1d", "--command", "echo 42 reports sent"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    app.session.click_css("[data-testid=nav-jobs]");
    app.session.wait_for_text("[data-testid=page-title]", "Jobs");
    app.session.wait_for_text("[data-testid=jobs-table]", "audit-verify");
    app.session.wait_for_text("[data-testid=jobs-table]", "nightly-report");

    // The built-in daily check has not run yet; run it now.
    app.session.click_css("[data-job=audit-verify] button");
    app.session.wait_for_text("[data-testid=job-detail]", "has not run yet");
    app.session.click_css("[data-testid=job-run-now]");
    let history = app.session.wait_for_text("[data-testid=job-runs]", "chain intact");
    assert!(history.contains("ok"), "{history}");

    // The command job: run it, see its output, pause it.
    app.session.click_css("[data-job=nightly-report] button");
    app.session.click_css("[data-testid=job-run-now]");
    app.session.wait_for_text("[data-testid=job-runs]", "42 reports sent");
    app.session.wait_for_text("[data-testid=job-toggle-pause]", "Pause");
    app.session.click_css("[data-testid=job-toggle-pause]");
    app.session.wait_for_text("[data-job=nightly-report]", "Paused");
    app.screenshot("jobs-light");
    app.session.click_css("[data-testid=job-toggle-pause]");
    app.session.wait_for_text("[data-job=nightly-report]", "Scheduled");

    // Both actions were audited, with the app as the actor.
    let audit = app.cli(&["--json", "audit", "log", "--action", "job."]);
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    let actions: Vec<_> =
        entries.as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["job.resume", "job.pause", "job.run_now", "job.run_now", "job.add"]);
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("jobs-dark");
}

#[test]
fn a_webhook_added_in_the_app_is_signed_with_the_secret_it_showed_and_breakers_are_visible() {
    use opsdeck_tests::http_server::{Scripted, ScriptedServer};

    let receiver = ScriptedServer::start(vec![Scripted::status(503), Scripted::status(200)]);
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    app.session.click_css("[data-testid=nav-connections]");
    app.session.wait_for_text("[data-testid=page-title]", "Connections");
    app.session.wait_for_text("[data-testid=targets-empty]", "No webhook targets yet");

    app.session.click_css("[data-testid=add-webhook]");
    let name = app.session.find("[data-testid=webhook-name]");
    app.session.type_text(&name, "ops-alerts");
    let url = app.session.find("[data-testid=webhook-url]");
    app.session.type_text(&url, &receiver.url("/hook"));
    app.session.click_css("[data-testid=webhook-save]");
    let shown = app.session.wait_for_text("[data-testid=webhook-secret]", "whsec_");
    let secret = shown
        .split_whitespace()
        .find(|word| word.starts_with("whsec_"))
        .expect("the secret is shown")
        .to_owned();

    // A test send: the first attempt gets 503, the retry is accepted.
    app.session.click_css("[data-testid=send-test]");
    app.session.wait_for_text("[data-testid=deliveries-table]", "delivered");
    app.session.wait_for_text("[data-testid=endpoints-table]", "Closed — healthy");
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let accepted = received.last().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signature = &accepted.headers["opsdeck-signature"];
    assert_eq!(
        opsdeck_core::webhooks::verify_signature(secret.as_bytes(), signature, &accepted.body, now, 300),
        Ok(()),
        "the delivery is signed with the secret the app showed once"
    );
    app.screenshot("connections-light");

    // The receiver breaks: after enough failures the breaker opens and the page says so.
    receiver.set_script(vec![Scripted::status(500)]);
    app.session.click_css("[data-testid=send-test]");
    app.session.click_css("[data-testid=send-test]");
    app.session.wait_for_text("[data-testid=endpoints-table]", "Open — calls paused");
    app.session.wait_for_text("[data-testid=deliveries-table]", "pending");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("connections-breaker-open-dark");
}

#[test]
fn a_secret_added_in_the_app_is_revealed_copied_rotated_rolled_back_and_edited_and_the_cli_sees_it() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    app.session.click_css("[data-testid=nav-vaults]");
    app.session.wait_for_text("[data-testid=vaults-empty]", "No vaults yet");
    app.screenshot("vaults-empty");

    app.session.click_css("[data-testid=create-vault]");
    let name = app.session.find("[data-testid=vault-name]");
    app.session.type_text(&name, "prod");
    app.session.click_css("[data-testid=vault-save]");
    app.session.wait_for_text("[data-testid=secrets-empty]", "No secrets in this vault yet");

    app.session.click_css("[data-testid=add-secret]");
    let secret = app.session.find("[data-testid=secret-name]");
    app.session.type_text(&secret, "db-password");
    let value = app.session.find("[data-testid=secret-value]");
    app.session.type_text(&value, "correct-horse-42");
    app.session.click_css("[data-testid=secret-save]");
    app.session.wait_for_text("[data-testid=secrets-table]", "db-password");
    // The value is not on the page until it is revealed.
    let page = app.session.execute("return document.body.textContent;");
    assert!(!page.as_str().unwrap().contains("correct-horse-42"), "the value is on the page before a reveal");

    app.session.click_css("[data-testid=reveal]");
    app.session.wait_for_text("[data-testid=revealed-value]", "correct-horse-42");
    app.screenshot("vaults-revealed");
    app.session.click_css("[data-testid=hide]");
    let page = app.session.execute("return document.body.textContent;");
    assert!(!page.as_str().unwrap().contains("correct-horse-42"), "Hide removes the value");

    // The same deck from the command line: the value, and the app's audited reveal.
    let output = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let got: serde_json::Value = serde_json::from_slice(&output.stdout).expect("secret JSON");
    assert_eq!(got["value"], "correct-horse-42");
    let audit = app.cli(&["--json", "audit", "log", "--action", "secret.reveal"]);
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert!(entries
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["actor"].as_str().unwrap().starts_with("app:")));
    // Copy puts the value on the clipboard without it passing through the page.
    app.session.click_css("[data-testid=copy]");
    app.session.wait_for_text("[data-testid=copy]", "clears in");
    assert_eq!(app.clipboard_text().as_deref(), Some("correct-horse-42"));
    // ... marked for clipboard managers to keep out of their history.
    let targets = app.clipboard_targets();
    assert!(targets.iter().any(|target| target == "x-kde-passwordManagerHint"), "{targets:?}");
    let page = app.session.execute("return document.body.textContent;");
    assert!(!page.as_str().unwrap().contains("correct-horse-42"), "Copy does not put the value on the page");

    // Rotate with a verification command that refuses: the old value stays.
    app.session.click_css("[data-testid=rotate]");
    let verify = app.session.find("[data-testid=rotate-verify]");
    app.session.type_text(&verify, "echo 'login refused' >&2; exit 3");
    app.session.click_css("[data-testid=rotate-run]");
    // The app shows the exact command and runs it only when allowed.
    app.session.wait_for_text("[data-testid=machine-confirm-text]", "echo 'login refused' >&2; exit 3");
    app.screenshot("machine-confirm");
    app.session.click_css("[data-testid=machine-confirm]");
    app.session.wait_for_text("[data-testid=rotation-result]", "Not rotated");
    app.session.wait_for_text("[data-testid=rotation-result]", "login refused");
    app.screenshot("vaults-rotation-refused");
    // Rotate again (the form starts from the secret's own verification command, here none).
    app.session.click_css("[data-testid=rotate]");
    app.session.click_css("[data-testid=rotate-run]");
    app.session.wait_for_text("[data-testid=rotation-result]", "Rotated: version 2 is current");
    app.session.wait_for_text("[data-testid=version-2]", "current");
    let rotated = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    assert_ne!(rotated["value"], "correct-horse-42");
    assert_eq!(rotated["version"], 2);

    // Roll back to version 1: its value is current again, as version 3.
    app.session.click_css("[data-testid=rollback-1]");
    app.session.wait_for_text("[data-testid=version-3]", "current");
    let back = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let back: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(back["value"], "correct-horse-42");
    app.screenshot("vaults-history");

    // Edit: tags, a rotation policy and a new value in one save.
    app.session.click_css("[data-testid=edit]");
    let tags = app.session.find("[data-testid=meta-tags]");
    app.session.type_text(&tags, "team:payments, prod");
    let every = app.session.find("[data-testid=meta-rotate-every]");
    app.session.type_text(&every, "30");
    let value = app.session.find("[data-testid=edit-value]");
    app.session.type_text(&value, "battery-staple-7");
    app.session.click_css("[data-testid=edit-save]");
    app.session.wait_for_text("[data-testid=rotation-policy]", "every 30 days");
    app.session.wait_for_text("[data-testid=version-4]", "current");
    let shown = app.cli(&["--json", "secret", "show", "prod/db-password"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["tags"], serde_json::json!(["prod", "team:payments"]));
    assert_eq!(shown["rotate_every_days"], 30);
    let got = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["value"], "battery-staple-7");
    app.screenshot("vaults-metadata");

    // Access: the creator is the vault's admin; its key slot is listed.
    app.session.click_css("[data-testid=vault-access-toggle]");
    app.session.wait_for_text("[data-testid=vault-access]", "admin");
    app.session.wait_for_text("[data-testid=slots]", "Passphrase");
    app.screenshot("vaults-access");
    // The add form with its generator.
    app.session.click_css("[data-testid=add-secret]");
    app.session.wait_for_text("[data-testid=secret-form]", "Generator");
    app.screenshot("vaults-add-form");

    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("vaults-dark");
}

/// Sets a form field as typing or choosing would (`input`/`change` events), for
/// fields that already hold a value (WebDriver's clear does not tell Svelte).
fn set_field(app: &RunningApp, css: &str, value: &str) {
    app.session.execute(&format!(
        "const el = document.querySelector({css:?}); el.value = {value:?}; \
         el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', {{ bubbles: true }}));"
    ));
}

#[test]
fn a_certificate_issued_from_the_app_against_pebble_shows_in_the_table_with_its_days_left() {
    use opsdeck_tests::testpki::{now_ms, Pki};
    const DAY: i64 = 86_400_000;
    let pebble = opsdeck_tests::pebble::Pebble::start(&[]);
    let bundle = pebble.trust_bundle().display().to_string();
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        // The theme choice outlives a data dir (it is kept by the web view): start light.
        app.session.click_css("[data-testid=theme-toggle]");
    }
    app.session.click_css("[data-testid=nav-certificates]");
    app.session.wait_for_text("[data-testid=certs-empty]", "No certificates yet");
    app.screenshot("certs-empty");

    // Two certificates from files: one expiring in 5 days (red), one in 20 (amber).
    let pki = Pki::new();
    let files = tempfile::tempdir().unwrap();
    let now = now_ms();
    std::fs::write(
        files.path().join("shop.pem"),
        pki.leaf_chain("shop.example.test", now - 85 * DAY, now + 5 * DAY + 3_600_000),
    )
    .unwrap();
    std::fs::write(
        files.path().join("api.pem"),
        pki.leaf_chain("api.example.test", now - 70 * DAY, now + 20 * DAY + 3_600_000),
    )
    .unwrap();
    let trust_dir = tempfile::tempdir().unwrap();
    let root = trust_dir.path().join("root.pem");
    std::fs::write(&root, pki.root_pem()).unwrap();
    app.session.click_css("[data-testid=cert-open-import]");
    let paths = app.session.find("[data-testid=cert-import-paths]");
    app.session.type_text(&paths, &files.path().display().to_string());
    let trust = app.session.find("[data-testid=cert-import-bundle]");
    app.session.type_text(&trust, &root.display().to_string());
    app.session.click_css("[data-testid=cert-import-submit]");
    app.session.wait_for_text("[data-testid=cert-notice]", "Imported 2 certificates");
    app.session.wait_for_text("[data-testid=certs-table]", "shop.example.test");

    // Issue from the app against pebble.
    app.session.click_css("[data-testid=cert-open-issue]");
    let domains = app.session.find("[data-testid=issue-domains]");
    app.session.type_text(&domains, "app.example.test, www.example.test");
    set_field(&app, "[data-testid=issue-directory]", "custom");
    let url = app.session.find("[data-testid=issue-directory-url]");
    app.session.type_text(&url, &pebble.directory_url);
    let email = app.session.find("[data-testid=issue-email]");
    app.session.type_text(&email, "ops@example.test");
    set_field(&app, "[data-testid=issue-http-port]", &pebble.http_port.to_string());
    let ca = app.session.find("[data-testid=issue-ca-bundle]");
    app.session.type_text(&ca, &bundle);
    app.screenshot("certs-issue-form");
    app.session.click_css("[data-testid=issue-submit]");
    app.session.wait_for_text("[data-testid=cert-notice]", "Issued app.example.test, www.example.test");
    app.session.wait_for_text("[data-testid=certs-table]", "app.example.test");
    let days = app.session.execute(
        "return [...document.querySelectorAll('[data-testid=cert-row]')]\
           .find((row) => row.textContent.includes('app.example.test'))\
           .querySelector('[data-testid=cert-days-left]').textContent.trim();",
    );
    let days = days.as_str().unwrap().to_owned();
    assert!(
        days.ends_with("days") && days.trim_end_matches(" days").parse::<i64>().unwrap() > 1000,
        "{days}"
    );
    app.session.wait_for_text("[data-testid=cert-sans]", "www.example.test");
    app.session.wait_for_text("[data-testid=cert-history]", "active until");
    // Rows are soonest expiry first, coloured by days left.
    let bands = app.session.execute(
        "return [...document.querySelectorAll('[data-testid=cert-row]')].map((row) => row.dataset.band);",
    );
    assert_eq!(bands, serde_json::json!(["critical", "warning", "ok"]), "{bands}");
    app.screenshot("certs-issued");

    // Add a deploy hook in the app, renew from the app: the files appear.
    let out = tempfile::tempdir().unwrap();
    let (fullchain, key) = (out.path().join("fullchain.pem"), out.path().join("key.pem"));
    app.session.click_css("[data-testid=cert-configure]");
    let field = app.session.find("[data-testid=cert-configure-form] [data-testid=deploy-fullchain]");
    app.session.type_text(&field, &fullchain.display().to_string());
    let field = app.session.find("[data-testid=cert-configure-form] [data-testid=deploy-key]");
    app.session.type_text(&field, &key.display().to_string());
    app.screenshot("certs-configure");
    app.session.click_css("[data-testid=cert-configure-save]");
    app.session.wait_for_text("[data-testid=machine-confirm-dialog]", "fullchain.pem");
    app.session.click_css("[data-testid=machine-confirm]");
    app.session.wait_for_text("[data-testid=cert-history]", "deploy hook set");
    app.session.click_css("[data-testid=cert-renew]");
    app.session.wait_for_text("[data-testid=cert-history]", "deployed: wrote");
    assert!(std::fs::read_to_string(&fullchain).unwrap().contains("BEGIN CERTIFICATE"));
    assert!(std::fs::read_to_string(&key).unwrap().contains("PRIVATE KEY"));

    // The command line sees the same certificate, with its key sealed in the new vault.
    let output = app.cli(&["--json", "cert", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cert list JSON");
    let issued =
        list.as_array().unwrap().iter().find(|cert| cert["source"] == "acme").expect("an ACME certificate");
    assert_eq!(issued["state"], "active");
    let key =
        app.cli(&["--json", "secret", "show", &format!("certs/tls-key-{}", issued["id"].as_str().unwrap())]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));

    // Probe a live endpoint (openssl's TLS server with a test chain) from the app.
    let (leaf, leaf_key) = pki.leaf_with_key("localhost", now - DAY, now + 45 * DAY);
    std::fs::write(files.path().join("served.crt"), leaf).unwrap();
    std::fs::write(files.path().join("served.key"), leaf_key).unwrap();
    std::fs::write(files.path().join("chain.crt"), pki.intermediate_pem()).unwrap();
    let port = opsdeck_tests::process::free_port();
    let accept = format!("127.0.0.1:{port}");
    let mut server = opsdeck_tests::process::spawn_tied_to_this_process(
        "sh",
        &[
            "-c",
            &format!(
                "cd {} && exec openssl s_server -quiet -www -accept {accept} -cert served.crt -key served.key -cert_chain chain.crt",
                files.path().display()
            ),
        ],
        &[],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(std::time::Duration::from_secs(10), "openssl s_server", || {
        std::net::TcpStream::connect(&accept).is_ok()
    });
    app.session.click_css("[data-testid=cert-open-probe]");
    let endpoint = app.session.find("[data-testid=cert-probe-endpoint]");
    app.session.type_text(&endpoint, &format!("localhost:{port}"));
    app.session.click_css("[data-testid=cert-probe-submit]");
    app.session.wait_for_text("[data-testid=cert-notice]", "serves localhost");
    app.session.wait_for_text("[data-testid=cert-detail]", "endpoint");
    opsdeck_tests::process::stop(&mut server);

    // Revoke the issued one from the app, after confirming.
    app.session.execute(
        "[...document.querySelectorAll('[data-testid=cert-row]')]\
           .find((row) => row.textContent.includes('app.example.test')).click();",
    );
    app.session.wait_for_text("[data-testid=cert-sans]", "app.example.test");
    app.session.click_css("[data-testid=cert-revoke]");
    app.session.click_css("[data-testid=cert-revoke-confirm]");
    app.session.wait_for_text("[data-testid=cert-history]", "revoked at the CA");

    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("certs-issued-dark");
    app.session.click_css("[data-testid=theme-toggle]");
}

#[test]
fn a_config_edited_in_the_app_is_linted_against_its_schema_saved_promoted_and_compared() {
    const END: &str = "\u{E010}";
    const HOME: &str = "\u{E011}";
    const SHIFT: &str = "\u{E008}";
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        app.session.click_css("[data-testid=theme-toggle]");
    }
    app.session.click_css("[data-testid=nav-configs]");
    app.session.wait_for_text("[data-testid=configs-empty]", "No config projects yet");
    app.screenshot("configs-empty");

    // The team's schema and dev file, imported from the command line.
    let files = tempfile::tempdir().unwrap();
    let schema = files.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type": "object", "properties": {
             "server": {"type": "object", "properties": {
               "port": {"type": "integer", "minimum": 1, "description": "Listening port"}}},
             "log": {"enum": ["debug", "info", "warn"]},
             "workers": {"type": "integer", "minimum": 1, "description": "Worker threads"}}}"#,
    )
    .unwrap();
    let dev = files.path().join("dev.yaml");
    std::fs::write(&dev, "# shop settings\nserver:\n  port: 8080\nlog: info\n").unwrap();
    for args in [
        vec!["config", "schema", "shop", schema.to_str().unwrap()],
        vec!["config", "import", "shop", "dev", dev.to_str().unwrap(), "-m", "first import"],
    ] {
        let output = app.cli(&args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // Reload the page to pick the project up.
    app.session.click_css("[data-testid=nav-overview]");
    app.session.click_css("[data-testid=nav-configs]");
    app.session.wait_for_text("[data-testid=config-title]", "shop / dev");
    app.session.wait_for_text("[data-testid=config-editor]", "port: 8080");
    app.session.wait_for_text("[data-testid=config-check-status]", "Meets the schema");

    // Type a value the schema refuses: it is marked in the editor and listed with its line.
    let content = app.session.find("[data-testid=config-editor] .cm-content");
    app.session.click(&content);
    app.session.press_keys(&[CTRL, END]);
    // The file ends with a newline: Ctrl+End is the start of line 5.
    app.session.type_text(&content, "workers: many");
    app.session.wait_for_text("[data-testid=config-check-status]", "1 schema problem");
    let problem = app.session.wait_for_text("[data-testid=config-problem]", "workers");
    assert!(problem.contains("integer"), "{problem}");
    app.session.wait_for_text("[data-testid=config-problems] button", "line 5");
    let marked = app.session.execute("return document.querySelectorAll('.cm-lintRange-error').length;");
    assert_eq!(marked, serde_json::json!(1), "the bad value is underlined in the editor");
    app.screenshot("configs-inline-error");
    // Saving it anyway is refused by the backend too, and nothing is stored.
    app.session.click_css("[data-testid=config-save]");
    app.session.wait_for_text("[data-testid=error-panel]", "breaks the schema");
    let history = app.cli(&["--json", "config", "history", "shop", "dev"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");

    // Fix the line, save with a message.
    app.session.press_keys(&[HOME]);
    app.session.press_keys(&[SHIFT, END]);
    let content = app.session.find("[data-testid=config-editor] .cm-content");
    app.session.type_text(&content, "workers: 4");
    app.session.wait_for_text("[data-testid=config-check-status]", "Meets the schema");
    let message = app.session.find("[data-testid=config-message]");
    app.session.type_text(&message, "four workers");
    app.session.click_css("[data-testid=config-save]");
    app.session.wait_for_text("[data-testid=config-saved]", "Saved committed as version 2");

    // The effective view shows who set each key.
    app.session.click_css("[data-testid=config-tab-effective]");
    app.session.wait_for_text("[data-testid=config-effective]", "workers");
    let layers = app.session.execute(
        "return Object.fromEntries([...document.querySelectorAll('[data-testid=config-key]')]\
           .map((row) => [row.dataset.key, row.dataset.layer]));",
    );
    assert_eq!(layers["workers"], "committed", "{layers}");
    assert_eq!(layers["server.port"], "committed", "{layers}");
    app.screenshot("configs-effective");

    // Promote dev to staging: the dialog shows the changes and the schema result.
    app.session.click_css("[data-testid=config-promote]");
    app.session.wait_for_text("[data-testid=promote-status]", "Meets the schema");
    app.session.wait_for_text("[data-testid=promote-dialog] [data-testid=config-changes]", "workers");
    app.screenshot("configs-promote");
    let message = app.session.find("[data-testid=promote-message]");
    app.session.type_text(&message, "ship four workers");
    app.session.click_css("[data-testid=promote-confirm]");
    app.session.wait_for_text("[data-testid=config-notice]", "Promoted dev to staging as version 1");
    app.session.wait_for_text("[data-testid=config-title]", "shop / staging");
    app.session.wait_for_text("[data-testid=config-history]", "ship four workers");

    // Dev's history: version 2 against version 1, key by key and side by side.
    app.session.click_css("[data-testid=config-env][data-project=shop][data-env=dev]");
    app.session.wait_for_text("[data-testid=config-history]", "four workers");
    app.session.click_css("[data-testid=config-version][data-version='2']");
    app.session.wait_for_text("[data-testid=config-changes]", "workers");
    let kind =
        app.session.execute("return document.querySelector('[data-testid=config-change]').dataset.kind;");
    assert_eq!(kind, "added");
    app.session.wait_for_text("[data-testid=side-by-side]", "workers: 4");
    let marked = app.session.execute(
        "return document.querySelectorAll('[data-testid=side-by-side] .cm-changedLine').length > 0;",
    );
    assert_eq!(marked, serde_json::json!(true), "the changed line is marked");
    app.screenshot("configs-history");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("configs-history-dark");
    app.session.click_css("[data-testid=config-tab-editor]");
    app.session.wait_for_text("[data-testid=config-editor]", "workers: 4");
    app.screenshot("configs-editor-dark");

    // Linked to a file on disk: an edit there shows up in the open editor by itself.
    let linked = files.path().join("shop.dev.yaml");
    std::fs::write(&linked, "# shop settings\nserver:\n  port: 8080\nlog: info\nworkers: 4\n").unwrap();
    app.session.click_css("[data-testid=config-link-open]");
    let path = app.session.find("[data-testid=config-link-path]");
    app.session.type_text(&path, &format!("{}\u{E007}", linked.display()));
    app.session.wait_for_text("[data-testid=machine-confirm-text]", "shop.dev.yaml");
    app.session.click_css("[data-testid=machine-confirm]");
    app.session.wait_for_text("[data-testid=config-link]", "shop.dev.yaml");
    std::fs::write(&linked, "# shop settings\nserver:\n  port: 8080\nlog: debug\nworkers: 8\n").unwrap();
    app.session.wait_for_text("[data-testid=config-editor]", "workers: 8");
    // An edit that breaks the schema is held back, and said so where the user looks.
    std::fs::write(&linked, "# shop settings\nserver:\n  port: 8080\nlog: loud\nworkers: 8\n").unwrap();
    app.session.wait_for_text("[data-testid=config-link-error]", "log");
    app.screenshot("configs-linked-dark");
    // A change stored meanwhile (from a script) is not written over that
    // held-back edit: the page shows the conflict, both texts side by side.
    let set = app.cli(&["config", "set", "shop", "dev", "workers", "6"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    app.session.wait_for_text("[data-testid=config-link-conflict]", "has an edit OpsDeck has not stored");
    app.session.wait_for_text("[data-testid=config-link-conflict]", "Stored: version");
    assert!(std::fs::read_to_string(&linked).unwrap().contains("log: loud"), "the file was overwritten");
    app.screenshot("configs-link-conflict-dark");
    // Writing the stored version keeps the file's text beside it.
    app.session.click_css("[data-testid=config-conflict-keep-stored]");
    app.session.wait_for_text("[data-testid=config-saved]", "Wrote the stored version");
    assert!(std::fs::read_to_string(&linked).unwrap().contains("workers: 6"));
    let copies = std::fs::read_dir(files.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("shop.dev.yaml.opsdeck-conflict-"))
        .count();
    assert_eq!(copies, 1, "the file's text was not kept beside it");
    // The broken edit again, so the Overview below has something to point at.
    std::fs::write(&linked, "# shop settings\nserver:\n  port: 8080\nlog: loud\nworkers: 6\n").unwrap();
    app.session.wait_for_text("[data-testid=config-link-error]", "log");
    // The Reload and Approvals tabs, as a user first finds them.
    app.session.click_css("[data-testid=config-tab-reload]");
    app.session.wait_for_text("[data-testid=config-reload-form]", "Command");
    app.screenshot("configs-reload-dark");
    app.session.click_css("[data-testid=config-tab-approvals]");
    app.session.wait_for_text("[data-testid=page-title]", "Configs");
    app.session.click_css("[data-testid=config-approval-prod]");
    app.session.wait_for_text("body", "No promotion requests yet");
    app.screenshot("configs-approvals-dark");
    // The Overview counts it as needing attention.
    app.session.click_css("[data-testid=nav-overview]");
    app.session.wait_for_text("[data-testid=configs-summary]", "1 project, 2 environments");
    app.session.wait_for_text("[data-testid=configs-card]", "shop/dev committed");
    app.session.wait_for_text("[data-testid=configs-card]", "Action needed");

    // The command line reads what the app stored.
    let output = app.cli(&["--json", "config", "get", "shop", "staging", "workers"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("config get JSON");
    assert_eq!(value["value"], 4, "{value}");
    assert_eq!(value["layer"], "committed", "{value}");
}

/// A trace of `count` spans sent to the app's OTLP/HTTP receiver: a root
/// with ten workers, each with a long chain of steps (so the waterfall has
/// depth and a long critical path).
fn send_big_trace(app: &RunningApp, trace_id: &str, count: usize) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;
    let trace: Vec<u8> =
        (0..16).map(|i| u8::from_str_radix(&trace_id[i * 2..i * 2 + 2], 16).unwrap()).collect();
    let id = |n: usize| (n as u64 + 1).to_be_bytes().to_vec();
    let now = u64::try_from(opsdeck_core::clock::now_unix_ms()).unwrap() * 1_000_000;
    let mut spans = vec![Span {
        trace_id: trace.clone(),
        span_id: id(0),
        name: "batch import".to_owned(),
        start_time_unix_nano: now - 20_000_000_000,
        end_time_unix_nano: now,
        ..Default::default()
    }];
    for n in 1..count {
        let worker = (n - 1) % 10;
        let parent = n.saturating_sub(10);
        let start = now - 20_000_000_000 + (n as u64) * 1_900_000;
        spans.push(Span {
            trace_id: trace.clone(),
            span_id: id(n),
            parent_span_id: id(parent),
            name: format!("step {n} of worker {worker}"),
            start_time_unix_nano: start,
            end_time_unix_nano: start + 1_800_000,
            ..Default::default()
        });
    }
    let resource = Resource {
        attributes: vec![KeyValue {
            key: "service.name".to_owned(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue("importer".to_owned())) }),
        }],
        ..Default::default()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    };
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let answer = agent
        .post(&format!("http://{}/v1/traces", app.otlp_http))
        .header("Content-Type", "application/x-protobuf")
        .send(&request.encode_to_vec()[..])
        .expect("the app's receiver answers");
    assert_eq!(answer.status().as_u16(), 200);
}

#[test]
fn demo_traffic_fills_the_traces_page_and_a_trace_shows_its_critical_path_and_span_detail() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        app.session.click_css("[data-testid=theme-toggle]");
    }
    app.session.click_css("[data-testid=nav-traces]");
    app.session.wait_for_text("[data-testid=traces-empty]", "No traces yet");
    app.screenshot("traces-empty");

    // `opsdeck demo` against the app's receiver; the page fills in by itself.
    let sent =
        app.cli(&["--json", "demo", "--endpoint", &format!("http://{}", app.otlp_http), "--traces", "80"]);
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    app.session.wait_for_css("[data-testid=trace-row]");
    app.session.wait_for_css("[data-testid=histogram-bar]");
    // A checkout: the longest chain of services.
    let listed = app.cli(&["--json", "traces", "list", "--operation", "POST /checkout", "--limit", "1"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let trace_id = listed[0]["trace_id"].as_str().expect("a checkout trace").to_owned();
    let detail: serde_json::Value =
        serde_json::from_slice(&app.cli(&["--json", "traces", "show", &trace_id]).stdout).unwrap();
    app.session.wait_for_css(&format!("[data-testid=trace-row][data-trace-id='{trace_id}']"));
    app.screenshot("traces-search");

    app.session.click_css(&format!("[data-testid=trace-row][data-trace-id='{trace_id}'] td"));
    app.session.wait_for_text("[data-testid=trace-title]", "POST /checkout");
    let on_path = detail["critical_path"].as_array().unwrap().len();
    app.session.wait_for_text("[data-testid=critical-path-count]", &format!("{on_path} spans"));
    let spans = detail["spans"].as_array().unwrap().len();
    assert_eq!(
        app.session.execute("return document.querySelector('[data-testid=waterfall-rows]').dataset.rows;"),
        serde_json::json!(spans.to_string())
    );
    let marked = app
        .session
        .execute("return document.querySelectorAll('[data-testid=span-row][data-critical=true]').length;");
    assert_eq!(marked, serde_json::json!(on_path), "every span on the critical path is marked");
    // The span detail of the payment call: attributes, self time, logs.
    let payments = detail["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|span| span["service"] == "payments")
        .expect("a payments span")
        .clone();
    app.session.click_css(&format!(
        "[data-testid=span-row][data-span-id='{}']",
        payments["span_id"].as_str().unwrap()
    ));
    app.session.wait_for_text("[data-testid=span-detail-name]", payments["name"].as_str().unwrap());
    app.session.wait_for_css("[data-testid=span-attributes]");
    app.session.wait_for_css("[data-testid=span-self-time]");
    app.screenshot("traces-waterfall");
    app.session.click_css("[data-testid=critical-path-only]");
    assert_eq!(
        app.session.execute("return document.querySelector('[data-testid=waterfall-rows]').dataset.rows;"),
        serde_json::json!(on_path.to_string())
    );
    app.session.click_css("[data-testid=critical-path-only]");
    app.session.click_css("[data-testid=set-baseline]");

    // Back to the results; the service map of the same traffic.
    app.session.click_css("[data-testid=trace-back]");
    app.session.click_css("[data-testid=traces-tab-map]");
    app.session.wait_for_css("[data-testid=map-edge][data-from=gateway]");
    app.screenshot("traces-map");

    // Compare the baseline with another checkout.
    app.session.click_css("[data-testid=traces-tab-search]");
    let others = app.cli(&["--json", "traces", "list", "--operation", "POST /checkout", "--limit", "2"]);
    let others: serde_json::Value = serde_json::from_slice(&others.stdout).unwrap();
    let other = others[1]["trace_id"].as_str().expect("a second checkout").to_owned();
    app.session.click_css(&format!("[data-testid=trace-row][data-trace-id='{other}'] td"));
    app.session.click_css("[data-testid=compare-with-baseline]");
    app.session.wait_for_css("[data-testid=compare-counts]");
    app.screenshot("traces-compare");

    // Logs: live, filtered, and a line opens its trace.
    app.session.click_css("[data-testid=nav-logs]");
    app.session.wait_for_css("[data-testid=log-row]");
    app.screenshot("logs");
    app.session.click_css("[data-testid=log-trace-link]");
    app.session.wait_for_css("[data-testid=trace-view]");

    // A 10,000-span trace: all rows counted, only those in view in the page, the last reachable.
    let big = "0123456789abcdef0123456789abcdef";
    send_big_trace(&app, big, 10_000);
    // The writer stores a request this large in several short transactions
    // (so other processes never wait long for the store): open the trace
    // once all of it is in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let shown = app.cli(&["--json", "traces", "show", big]);
        let stored = serde_json::from_slice::<serde_json::Value>(&shown.stdout)
            .ok()
            .and_then(|trace| trace["spans"].as_array().map(Vec::len))
            .unwrap_or(0);
        if stored == 10_000 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "only {stored} of 10,000 spans were stored");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    app.session.click_css("[data-testid=nav-logs]");
    app.session.click_css("[data-testid=nav-traces]");
    app.session.wait_for_css(&format!("[data-testid=trace-row][data-trace-id='{big}']"));
    app.session.click_css(&format!("[data-testid=trace-row][data-trace-id='{big}'] td"));
    app.session.wait_for_text("[data-testid=trace-title]", "batch import");
    assert_eq!(
        app.session.execute("return document.querySelector('[data-testid=waterfall-rows]').dataset.rows;"),
        serde_json::json!("10000")
    );
    let in_dom = app.session.execute("return document.querySelectorAll('[data-testid=span-row]').length;");
    assert!(in_dom.as_u64().unwrap() < 120, "only the rows in view are drawn: {in_dom}");
    app.session.execute(
        "const rows = document.querySelector('[data-testid=waterfall-rows]'); rows.scrollTop = rows.scrollHeight; \
         rows.dispatchEvent(new Event('scroll')); return true;",
    );
    // The last row of the tree: the end of worker 9's chain (span 9,991).
    app.session.wait_for_css("[data-testid=span-row][data-span-id='0000000000002707']");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("traces-big-trace-dark");
    // The Overview counts the last hour's traces (80 from the demo, the big one).
    app.session.click_css("[data-testid=nav-overview]");
    app.session.wait_for_text("[data-testid=telemetry-summary]", "81 traces in the last hour");
    app.screenshot("overview-telemetry-dark");
}

/// Sends, over OTLP/HTTP JSON, a counter `orders.placed` (unit `1`) from two
/// instances of `shop`: a point every 15 s over the last ten minutes.
fn send_order_counters(app: &RunningApp) {
    let now_ns = u64::try_from(opsdeck_core::clock::now_unix_ms()).unwrap() * 1_000_000;
    let start_ns = now_ns - 600_000_000_000;
    let mut resource_metrics = Vec::new();
    for (instance, per_point) in [("a", 3.0), ("b", 1.0)] {
        // A cumulative count that grows by 1 to 5 times `per_point` each scrape.
        let mut total = 0.0;
        let points: Vec<serde_json::Value> = (0..40_u64)
            .map(|i| {
                total += per_point * (1 + (i * 7) % 5) as f64;
                serde_json::json!({
                    "startTimeUnixNano": start_ns.to_string(),
                    "timeUnixNano": (start_ns + i * 15_000_000_000).to_string(),
                    "asDouble": total,
                    "attributes": [{ "key": "region", "value": { "stringValue": "eu" } }],
                })
            })
            .collect();
        resource_metrics.push(serde_json::json!({
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": "shop" } },
                { "key": "service.instance.id", "value": { "stringValue": instance } },
            ] },
            "scopeMetrics": [{ "scope": { "name": "e2e" }, "metrics": [{
                "name": "orders.placed", "unit": "1",
                "sum": { "aggregationTemporality": 2, "isMonotonic": true, "dataPoints": points },
            }] }],
        }));
    }
    let body = serde_json::json!({ "resourceMetrics": resource_metrics }).to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let answer = agent
        .post(&format!("http://{}/v1/metrics", app.otlp_http))
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .expect("the app's receiver answers");
    assert_eq!(answer.status().as_u16(), 200);
}

#[test]
fn metrics_sent_over_otlp_are_charted_with_promql_and_a_bad_query_says_why() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        app.session.click_css("[data-testid=theme-toggle]");
    }
    app.session.click_css("[data-testid=nav-metrics]");
    app.session.wait_for_text("[data-testid=metrics-empty]", "No metrics yet");
    app.screenshot("metrics-empty");

    // Points arrive; the page finds the metric and charts it by itself.
    send_order_counters(&app);
    app.session.wait_for_text("[data-testid=metrics-table]", "instance=\"b\"");
    app.session.wait_for_css("[data-testid=metrics-chart] canvas");

    // A PromQL query typed in the page: per-instance rate.
    set_field(&app, "[data-testid=metrics-query]", "sum by (instance) (rate(orders_placed_total[2m]))");
    app.session.click_css("[data-testid=metrics-run]");
    let table = app.session.wait_for_text("[data-testid=metrics-table]", "{instance=\"a\"}");
    assert!(!table.contains("orders_placed_total"), "rate drops the name: {table}");
    // The CLI answers the same query.
    let cli = app.cli(&["--json", "metrics", "query", "sum by (instance) (rate(orders_placed_total[2m]))"]);
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(cli["data"]["result"].as_array().map(Vec::len), Some(2), "{cli}");
    app.screenshot("metrics-light");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("metrics-dark");

    // A malformed query: the error shows where it was typed.
    set_field(&app, "[data-testid=metrics-query]", "sum(rate(orders_placed_total[2m])");
    app.session.click_css("[data-testid=metrics-run]");
    app.session.wait_for_text("[data-testid=error-panel]", "not valid PromQL");
    app.screenshot("metrics-bad-query-dark");

    // A scrape target added in the page is scraped by the app itself.
    let port = opsdeck_tests::process::free_port();
    let exporter_script = app.data_dir.path().join("exporter.py");
    std::fs::write(
        &exporter_script,
        "import http.server, sys\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       body = b'# TYPE jobs_done_total counter\\njobs_done_total 42\\n'\n\
         \x20       self.send_response(200); self.send_header('Content-Type', 'text/plain; version=0.0.4')\n\
         \x20       self.end_headers(); self.wfile.write(body)\n\
         \x20   def log_message(self, *args): pass\n\
         http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n",
    )
    .unwrap();
    let mut exporter = opsdeck_tests::process::spawn_tied_to_this_process(
        "python3",
        &[&exporter_script.display().to_string(), &port.to_string()],
        &[],
        "TERM",
        None,
    );
    app.session.click_css("[data-testid=target-add]");
    set_field(&app, "[data-testid=target-name]", "worker");
    set_field(&app, "[data-testid=target-url]", &format!("http://127.0.0.1:{port}/metrics"));
    set_field(&app, "[data-testid=target-every]", "1");
    app.session.click_css("[data-testid=target-save]");
    app.session.wait_for_text("[data-testid=targets-table]", "up: 1 sample in");
    app.screenshot("metrics-targets-dark");
    let scraped = app.cli(&["--json", "metrics", "query", "jobs_done_total{job=\"worker\"}"]);
    let scraped: serde_json::Value = serde_json::from_slice(&scraped.stdout).unwrap();
    assert_eq!(scraped["data"]["result"][0]["value"][1], "42", "{scraped}");
    opsdeck_tests::process::stop(&mut exporter);

    // The store's retention: a refusal shows where it happened; a change is
    // applied at once and the CLI reads it back.
    set_field(&app, "[data-testid=retention-full]", "40");
    set_field(&app, "[data-testid=retention-keep]", "30");
    app.session.click_css("[data-testid=retention-save]");
    app.session.wait_for_text("[data-testid=retention-panel]", "full_resolution_days is 40");
    set_field(&app, "[data-testid=retention-full]", "3");
    app.session.click_css("[data-testid=retention-save]");
    app.session.wait_for_text("[data-testid=retention-status]", "last pass: rolled");
    app.session.execute("document.querySelector('[data-testid=retention-panel]').scrollIntoView();");
    app.screenshot("metrics-retention-dark");
    let retention = app.cli(&["--json", "metrics", "retention"]);
    let retention: serde_json::Value = serde_json::from_slice(&retention.stdout).unwrap();
    assert_eq!(
        (&retention["retention"]["full_resolution_days"], &retention["retention"]["keep_days"]),
        (&3.into(), &30.into()),
        "{retention}"
    );
}

#[test]
fn a_rule_made_in_the_app_fires_on_the_alerts_page_and_on_overview_and_is_silenced() {
    let app = RunningApp::launch_with_desktop_notifications();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        app.session.click_css("[data-testid=theme-toggle]");
    }
    app.session.click_css("[data-testid=nav-alerts]");
    app.session.wait_for_text("[data-testid=alerts-empty]", "Nothing is firing");
    app.session.wait_for_text("[data-testid=rules-empty]", "No rules yet");

    // Orders flow in over OTLP; a P1 rule on them is written in the page,
    // tried against the store first, and saved.
    send_order_counters(&app);
    app.session.click_css("[data-testid=rule-new]");
    set_field(&app, "[data-testid=rule-name]", "OrdersFlowing");
    set_field(&app, "[data-testid=rule-group]", "shop");
    set_field(&app, "[data-testid=rule-for]", "0");
    set_field(&app, "[data-testid=rule-expr]", "sum by (instance) (rate(orders_placed_total[2m])) > 0");
    set_field(
        &app,
        "[data-testid=rule-summary]",
        "instance {{ $labels.instance }} takes {{ printf \"%.2f\" $value }} orders/s",
    );
    app.session.execute(
        "const s = document.querySelector('[data-testid=rule-severity]'); s.value = 'P1'; \
         s.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    app.session.click_css("[data-testid=rule-try]");
    app.session.wait_for_text("[data-testid=rule-trial]", "Returns 2 series now");
    app.session.click_css("[data-testid=rule-save]");
    app.session.wait_for_text("[data-testid=rules-table]", "OrdersFlowing");

    // The app's own scheduler evaluates it: both instances fire.
    app.session.wait_for_css("[data-testid=alert-row][data-state=firing][data-rule=OrdersFlowing]");
    let list = app.session.wait_for_text("[data-testid=alerts-list]", "instance a takes");
    assert!(list.contains("instance b takes"), "{list}");
    assert!(app.session.text(&app.session.find("[data-testid=alerts-summary]")).contains("2"));
    app.session.wait_for_text("[data-testid=rules-table]", "ok");
    app.screenshot("alerts-light");

    // The desktop was told, once per alert, through the notification daemon.
    let mut shown = Vec::new();
    for _ in 0..40 {
        shown = app.desktop_notifications();
        if shown.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let firing: Vec<&(String, String)> =
        shown.iter().filter(|(summary, _)| summary == "P1 OrdersFlowing is firing").collect();
    assert_eq!(firing.len(), 2, "one notification per firing alert: {shown:?}");
    let mut bodies: Vec<&str> = firing.iter().map(|(_, body)| body.as_str()).collect();
    bodies.sort_unstable();
    assert!(
        bodies[0].starts_with("instance a takes") && bodies[1].starts_with("instance b takes"),
        "{bodies:?}"
    );

    // A bad rule says why where it was typed, and nothing is saved.
    app.session.click_css("[data-testid=rule-new]");
    set_field(&app, "[data-testid=rule-name]", "Broken");
    set_field(&app, "[data-testid=rule-expr]", "sum(rate(orders_placed_total[2m])");
    app.session.click_css("[data-testid=rule-save]");
    app.session.wait_for_text("[data-testid=rules-panel] [data-testid=error-panel]", "not valid PromQL");
    app.screenshot("alerts-bad-rule-light");
    app.session.click_css("[data-testid=rule-cancel]");

    // Silenced from its row, with a reason; the CLI sees the same.
    app.session.click_css("[data-testid=alert-silence]");
    set_field(&app, "[data-testid=silence-reason]", "load test in progress");
    app.session.click_css("[data-testid=silence-save]");
    app.session.wait_for_text("[data-testid=alert-held]", "Silenced");
    app.session.wait_for_text("[data-testid=silences-table]", "load test in progress");
    let listed = app.cli(&["--json", "alerts", "list"]);
    assert_eq!(listed.status.code(), Some(1), "firing alerts make `alerts list` exit 1");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(listed.as_array().unwrap().iter().any(|alert| alert["silenced_by"].is_string()), "{listed}");
    app.session.click_css("[data-testid=alert-history]");
    app.session.wait_for_text("[data-testid=alert-transitions]", "inactive → firing");
    app.session.click_css("[data-testid=theme-toggle]");
    app.session.execute("document.querySelector('main').scrollTo(0, 0);");
    app.screenshot("alerts-dark");

    // Overview shows what fires.
    app.session.click_css("[data-testid=nav-overview]");
    app.session.wait_for_text("[data-testid=alerts-card]", "2 firing");
    app.session.wait_for_text("[data-testid=alerts-card]", "OrdersFlowing");
    app.screenshot("overview-alerts-dark");
}

/// The value of an instant PromQL query through the CLI (the first series).
fn cli_value(app: &RunningApp, query: &str) -> Option<f64> {
    let output = app.cli(&["--json", "metrics", "query", query]);
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn the_red_dashboard_draws_from_demo_traffic_takes_a_panel_and_exports_a_png() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    if is_dark(&app) {
        app.session.click_css("[data-testid=theme-toggle]");
    }
    // Demo traffic, twice, so the derived counters grow between two emissions.
    let endpoint = format!("http://{}", app.otlp_http);
    let demo = || {
        let sent = app.cli(&["demo", "--traces", "150", "--endpoint", &endpoint]);
        assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    };
    demo();
    opsdeck_tests::process::wait_until(std::time::Duration::from_secs(60), "span metrics", || {
        cli_value(&app, "sum(traces_span_metrics_calls_total)").is_some()
    });
    demo();
    opsdeck_tests::process::wait_until(std::time::Duration::from_secs(60), "a request rate", || {
        cli_value(&app, "sum(rate(traces_span_metrics_calls_total[5m]))").is_some_and(|rate| rate > 0.0)
    });

    app.session.click_css("[data-testid=nav-metrics]");
    app.session.click_css("[data-testid=metrics-tab-dashboards]");
    app.session.wait_for_css("[data-testid=dashboard-panel][data-kind=timeseries] canvas");
    app.session.execute(
        "const s = document.querySelector('[data-testid=dashboard-variable]'); s.value = 'gateway'; \
         s.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    app.session.wait_for_text("[data-testid=dashboard-pick]", "Service RED");
    let requests = app.session.wait_for_text("[data-testid=panel-value]", "/s");
    assert!(!requests.starts_with("0/s"), "the gateway takes requests: {requests}");
    app.session.wait_for_text("[data-testid=dashboard-grid]", "POST /checkout");
    app.session.wait_for_css("[data-testid=dashboard-panel][data-kind=heatmap] rect");
    assert!(
        app.session
            .execute("return location.hash;")
            .as_str()
            .is_some_and(|hash| hash.contains("service%3Dgateway")),
        "the dashboard and its variable are in the route"
    );
    app.screenshot("dashboard-red-light");

    // Dragging across a time series zooms every panel to that range.
    let chart = app.session.find("[data-testid=dashboard-panel][data-kind=timeseries] .u-over");
    let width = app
        .session
        .execute(
            "return document.querySelector('[data-testid=dashboard-panel][data-kind=timeseries] .u-over').clientWidth;",
        )
        .as_i64()
        .unwrap();
    // The last fifth of the hour, where the demo's traffic is (past the
    // plot's right edge: the selection stops there).
    app.session.drag(&chart, (width / 2 - width / 5, 0), (width / 5 + 40, 0));
    app.session.wait_for_css("[data-testid=custom-range]");
    let zoomed_minutes = app
        .session
        .execute(
            "const from = new Date(document.querySelector('[data-testid=custom-from]').value).getTime(); \
             const to = new Date(document.querySelector('[data-testid=custom-to]').value).getTime(); \
             return Math.round((to - from) / 60000);",
        )
        .as_i64()
        .unwrap();
    assert!((8..=14).contains(&zoomed_minutes), "a fifth of the hour was selected: {zoomed_minutes} minutes");
    assert_eq!(
        app.session.execute("return document.querySelector('[data-testid=dashboard-range]').value;"),
        "0"
    );
    app.session.wait_for_css("[data-testid=dashboard-panel][data-kind=timeseries] canvas");
    app.screenshot("dashboard-red-zoomed");
    app.session.execute(
        "const s = document.querySelector('[data-testid=dashboard-range]'); s.value = '60'; \
         s.dispatchEvent(new Event('change', { bubbles: true }));",
    );

    // A panel added to the generated dashboard is saved as the person's copy.
    app.session.click_css("[data-testid=panel-add]");
    set_field(&app, "[data-testid=panel-title]", "Gateway errors");
    set_field(
        &app,
        "[data-testid=panel-expr]",
        "sum(rate(traces_span_metrics_calls_total{service_name=\"$service\", status_code=\"STATUS_CODE_ERROR\"}[5m]))",
    );
    app.session.click_css("[data-testid=panel-save]");
    app.session.wait_for_text("[data-testid=dashboard-notice]", "saved as your copy, red-copy");
    app.session.wait_for_text("[data-testid=dashboard-grid]", "Gateway errors");

    // Arranged: the first panel made narrower from its corner, saved as the next version.
    app.session.click_css("[data-testid=dashboard-arrange]");
    let first_label = || {
        app.session
            .execute(
                "return document.querySelector('[data-testid=arranged-panel]').getAttribute('aria-label');",
            )
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = first_label();
    let grid_width = app
        .session
        .execute("return document.querySelector('[data-testid=dashboard-grid]').clientWidth;")
        .as_i64()
        .unwrap();
    let corner = app.session.find("[data-testid=arranged-panel] [data-testid=panel-resize]");
    // One column is a twelfth of the grid: a column and a half to the left.
    app.session.drag(&corner, (0, 0), (-(grid_width / 8), 0));
    let after = first_label();
    assert_ne!(before, after, "the panel was resized");
    app.screenshot("dashboard-arrange");
    app.session.click_css("[data-testid=arrange-save]");
    app.session.wait_for_text("[data-testid=dashboard-notice]", "Layout saved; red-copy is now version 2");
    app.session.wait_for_text("[data-testid=dashboards]", "version 2");
    let shown = app.cli(&["--json", "metrics", "dashboard", "show", "red-copy"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let width = shown["dashboard"]["panels"][0]["w"].as_i64().unwrap();
    assert!(after.contains(&format!("columns 1 to {width},")), "{after} is what was saved: {shown}");
    let listed = app.cli(&["--json", "metrics", "dashboards"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(
        listed.as_array().unwrap().iter().any(|one| one["name"] == "red-copy" && one["version"] == 2),
        "{listed}"
    );

    // Exported as a PNG drawn in Rust, saved for the person.
    app.session.click_css("[data-testid=dashboard-png]");
    let notice = app.session.wait_for_text("[data-testid=dashboard-notice]", "Saved the dashboard as");
    let path = notice.rsplit("Saved the dashboard as ").next().unwrap().trim().to_owned();
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    std::fs::copy(&path, opsdeck_tests::webdriver::screenshot_dir().join("dashboard-export.png")).unwrap();
    // One panel alone, as SVG, from its own buttons (shown on hover).
    app.session.execute("document.querySelectorAll('[data-testid=panel-export-svg]')[1].click();");
    let notice = app.session.wait_for_text("[data-testid=dashboard-notice]", "Saved the panel");
    let path = notice.rsplit(" as ").next().unwrap().trim().to_owned();
    let drawn = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    assert!(drawn.starts_with("<svg") && drawn.contains("Errors"), "the second panel, Errors, alone: {path}");
    // The CLI draws the same dashboard.
    let svg = app.data_dir.path().join("red-copy.svg");
    let drawn = app.cli(&[
        "metrics",
        "render",
        "red-copy",
        "--var",
        "service=gateway",
        "-o",
        &svg.display().to_string(),
    ]);
    assert!(drawn.status.success(), "{}", String::from_utf8_lossy(&drawn.stderr));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Gateway errors"));

    app.session.click_css("[data-testid=theme-toggle]");
    app.session.execute("document.querySelector('main').scrollTo(0, 0);");
    app.screenshot("dashboard-red-copy-dark");
}

#[test]
fn the_scanning_page_finds_a_vault_value_rotates_it_and_a_rescan_shows_it_fixed() {
    let app = RunningApp::launch();
    app.session.wait_for_text("[data-testid=page-title]", "Overview");
    // A vault secret, and a folder where its value (and a Stripe key) were pasted.
    let made = app.cli(&["vault", "init", "prod", "--no-keychain"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let set = app.cli(&["secret", "set", "prod/db-password", "--type", "database_password", "--generate"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let got = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let value = serde_json::from_slice::<serde_json::Value>(&got.stdout).unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("settings.env"), format!("DB_HOST=db.internal\nDB_PASSWORD={value}\n"))
        .unwrap();
    std::fs::write(
        folder.path().join("billing.env"),
        "STRIPE_SECRET_KEY=sk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6\n",
    )
    .unwrap();

    app.session.click_css("[data-testid=nav-scanning]");
    app.session.wait_for_text("[data-testid=scan-empty]", "Nothing scanned yet");
    app.screenshot("scanning-empty");
    app.session.click_css("[data-testid=scan-open-add]");
    let path = app.session.find("[data-testid=scan-path]");
    app.session.type_text(&path, &folder.path().display().to_string());
    app.screenshot("scanning-add");
    app.session.click_css("[data-testid=scan-save]");
    app.session.wait_for_text("[data-testid=scan-notice]", "new");
    app.session.wait_for_text("[data-testid=scan-vault-secret]", "prod/db-password · version 1 (current)");
    let page = app.session.execute("return document.body.textContent;");
    assert!(!page.as_str().unwrap().contains(&value), "the vault value is on the page");
    app.screenshot("scanning-findings");

    // Rotate from the finding: version 2 is current, so the pasted value is dead.
    app.session.click_css("[data-testid=scan-rotate]");
    app.session.wait_for_text("[data-testid=scan-notice]", "rotated to version 2");
    let rotated = app.cli(&["--json", "secret", "get", "prod/db-password"]);
    let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    assert_eq!(rotated["version"], 2);
    assert_ne!(rotated["value"].as_str().unwrap(), value);
    app.session.click_css("[data-testid=scan-run]");
    app.session.wait_for_text("[data-testid=scan-notice]", "1 fixed");
    app.session.click_css("[data-testid=scan-filter-fixed]");
    app.session.wait_for_text("[data-testid=scan-vault-secret]", "prod/db-password · version 1");
    let state = app.session.execute(
        "return document.querySelector('[data-testid=scan-finding][data-rule=vault-value]').dataset.state;",
    );
    assert_eq!(state.as_str(), Some("fixed"));
    app.screenshot("scanning-fixed");
    // The Stripe key is still open, and Overview says so.
    app.session.click_css("[data-testid=nav-overview]");
    app.session.wait_for_text("[data-testid=scanning-summary]", "1 open finding in 1 folder");
    app.session.click_css("[data-testid=nav-scanning]");
    app.session.wait_for_text("[data-testid=scan-finding]", "sk_l");
    app.session.click_css("[data-testid=theme-toggle]");
    app.screenshot("scanning-dark");
    // Open in editor: the person's editor (a script, see `install_editor`)
    // is given the file, line and column, and none of our secrets.
    app.session.click_css("[data-testid=scan-open]");
    app.session.wait_for_text("[data-testid=scan-notice]", "Opened with");
    let args_file = app.data_dir.path().join("editor-args");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !args_file.exists() {
        assert!(std::time::Instant::now() < deadline, "the editor was not started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let billing = std::fs::canonicalize(folder.path().join("billing.env")).unwrap();
    assert_eq!(std::fs::read_to_string(&args_file).unwrap(), format!("{}:1:19\n", billing.display()));
    let editor_env = std::fs::read_to_string(app.data_dir.path().join("editor-env")).unwrap();
    assert!(editor_env.contains("DISPLAY="), "the editor is started with the desktop's environment");
    for ours in ["OPSDECK_PASSPHRASE", "OPSDECK_DATABASE_URL"] {
        assert!(!editor_env.contains(ours), "the editor inherited {ours}");
    }
    assert!(
        !editor_env.contains(opsdeck_tests::webdriver::E2E_PASSPHRASE),
        "the editor's environment holds the passphrase"
    );
}
