//! The `opsdeck` command line as a user runs it: a real process, real stores.

use std::process::Output;

use opsdeck_tests::{opsdeck_command, postgres};
use serde_json::Value;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    opsdeck_command().args(args).envs(env.iter().copied()).output().expect("run opsdeck")
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr).lines().map(str::to_owned).collect()
}

/// Asserts a usage/input error: exit 2, exactly one `error:` line that contains
/// `mentions`, no panic, nothing on stdout without `--json`.
fn assert_input_error(output: &Output, mentions: &str) {
    let lines = stderr_lines(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {lines:?}");
    assert_eq!(lines.len(), 1, "expected one error line, got {lines:?}");
    assert!(lines[0].starts_with("error: "), "{lines:?}");
    assert!(lines[0].contains(mentions), "`{}` does not mention `{mentions}`", lines[0]);
    assert!(!lines[0].contains("panicked"), "{lines:?}");
}

#[test]
fn status_json_reports_the_data_dir_the_sqlite_store_and_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let output = run(&["--data-dir", data_dir.to_str().unwrap(), "status", "--json"], &[]);
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    let status: Value = serde_json::from_slice(&output.stdout).expect("one JSON document on stdout");
    assert_eq!(status["data_dir"], data_dir.canonicalize().unwrap().display().to_string());
    assert_eq!(status["store"], "sqlite");
    assert!(status["schema_version"].as_i64().unwrap() >= 1);
    assert!(data_dir.join("opsdeck.db").is_file());
}

#[test]
fn status_text_is_readable_and_the_data_dir_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(&["status"], &[("OPSDECK_DATA_DIR", dir.path().to_str().unwrap())]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("data dir"), "{text}");
    assert!(text.contains(&dir.path().canonicalize().unwrap().display().to_string()), "{text}");
    assert!(text.contains("sqlite"), "{text}");
}

#[test]
fn status_reports_postgres_when_a_database_url_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let url = postgres::shared().fresh_database();
    let output = run(
        &["--data-dir", dir.path().to_str().unwrap(), "--json", "status"],
        &[("OPSDECK_DATABASE_URL", &url)],
    );
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["store"], "postgres");
    assert!(status["schema_version"].as_i64().unwrap() >= 1);
    assert!(!dir.path().join("opsdeck.db").exists(), "no SQLite file is made when Postgres is used");
}

#[test]
fn a_data_dir_that_is_a_file_gives_one_clear_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    let output = run(&["--data-dir", file.to_str().unwrap(), "status"], &[]);
    assert_input_error(&output, "is a file, not a directory");
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

#[test]
fn an_unwritable_data_dir_gives_one_clear_error_and_exit_2() {
    // Root can write almost anywhere, so use a place no one can create a directory in.
    let output = run(&["--data-dir", "/proc/opsdeck-cannot-live-here", "status"], &[]);
    assert_input_error(&output, "not writable");
}

#[test]
fn a_malformed_database_url_gives_one_clear_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["postgres//missing-colon", "mysql://db.example/app", "postgres://:5432/db"] {
        let output =
            run(&["--data-dir", dir.path().to_str().unwrap(), "status"], &[("OPSDECK_DATABASE_URL", url)]);
        assert_input_error(&output, "OPSDECK_DATABASE_URL");
    }
}

#[test]
fn a_corrupt_store_file_is_reported_and_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("opsdeck.db");
    let garbage = b"this is not a SQLite database, but someone's notes".repeat(100);
    std::fs::write(&store, &garbage).unwrap();
    let output = run(&["--data-dir", dir.path().to_str().unwrap(), "status"], &[]);
    assert_input_error(&output, "not a readable OpsDeck store");
    assert_eq!(std::fs::read(&store).unwrap(), garbage);
}

#[test]
fn errors_with_json_also_print_a_json_document_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "").unwrap();
    let output = run(&["--json", "--data-dir", file.to_str().unwrap(), "status"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(document["error"]["code"], "data_dir_not_a_directory");
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    let output = run(&["frobnicate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("frobnicate"));
}

#[test]
fn completions_and_the_man_page_come_from_the_arguments_and_open_no_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("never-made");
    let env = [("OPSDECK_DATA_DIR", data_dir.to_str().unwrap())];
    let bash = run(&["completions", "bash"], &env);
    assert!(bash.status.success(), "{}", String::from_utf8_lossy(&bash.stderr));
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(script.contains("_opsdeck()") && script.contains("rotate-verify"), "{script}");
    let man = run(&["man"], &env);
    assert!(man.status.success(), "{}", String::from_utf8_lossy(&man.stderr));
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH opsdeck 1"), "{}", &page[..200.min(page.len())]);
    assert!(page.contains(".SH \"OPSDECK SECRET SET\""), "every subcommand has its section");
    assert!(page.contains("\\-\\-value\\-stdin"), "with its options");
    let unknown = run(&["completions", "tcsh"], &env);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(!data_dir.exists(), "neither opened the data dir");
}
