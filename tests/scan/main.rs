//! `opsdeck scan` as a user runs it: a real process over a folder with
//! secrets planted in code, config and `.env` files beside decoys, binary
//! files, invalid UTF-8 and a symlink loop; the exit codes are the contract
//! (1 findings, 0 clean, 2 bad input) and no report holds a secret.

use std::path::Path;
use std::process::Output;

use opsdeck_tests::opsdeck_command;
use serde_json::Value;

fn scan(data_dir: &Path, args: &[&str]) -> Output {
    scan_with(data_dir, args, &[])
}

/// `opsdeck scan …` for what writes a file (a baseline, a hook): audited,
/// so it needs the deck's keys (here, from a passphrase). Plain scans do not.
fn scan_with_keys(data_dir: &Path, args: &[&str]) -> Output {
    scan_with(data_dir, args, &[("OPSDECK_PASSPHRASE", "scanning tests keep their keys here")])
}

/// Checks a SARIF document with Microsoft's SARIF Multitool (installed by
/// `make setup`): the SARIF 2.1.0 schema, the SARIF rules and GitHub code
/// scanning's ingestion rules (`Gh`) report no error and no warning.
fn assert_valid_sarif(document: &[u8]) {
    let validator = opsdeck_tests::workspace_root().join(".tools/sarif-multitool/package/Sarif.Multitool");
    assert!(validator.is_file(), "the SARIF Multitool is not installed: run `make setup`");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("scan.sarif");
    std::fs::write(&input, document).unwrap();
    let checked = std::process::Command::new(&validator)
        .args(["validate", "--rule-kind", "Sarif;Gh", "--log", "ForceOverwrite", "-o"])
        .arg(dir.path().join("validation.sarif"))
        .arg(&input)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .expect("run the SARIF Multitool");
    let printed = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "the validator failed: {printed}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(printed.contains("Analysis completed successfully"), "{printed}");
    let problems: Vec<&str> =
        printed.lines().filter(|line| line.contains(": error ") || line.contains(": warning ")).collect();
    assert!(problems.is_empty(), "SARIF problems:\n{}", problems.join("\n"));
}

fn scan_with(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    opsdeck_command()
        .arg("--data-dir")
        .arg(data_dir)
        .arg("scan")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .envs(env.iter().copied())
        .output()
        .expect("run opsdeck")
}

/// A GitHub token with a valid checksum (the CRC32 of its 30 random
/// characters, in base 62, as its last 6).
fn github_token(random: &str) -> String {
    assert_eq!(random.len(), 30);
    let mut value = crc32(random.as_bytes());
    let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut check = Vec::new();
    for _ in 0..6 {
        check.push(digits[(value % 62) as usize]);
        value /= 62;
    }
    check.reverse();
    format!("ghp_{random}{}", String::from_utf8(check).unwrap())
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn a_folder_with_planted_secrets_is_reported_by_file_and_line_and_nothing_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::create_dir_all(repo.join("config")).unwrap();
    let github = github_token("Zq8Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5A");
    let stripe = "sk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6";
    let password = "Xq8vLr2PzW9tB4";
    let aws_id = "AKIAZ7Q4M2LXPVB3N6WT";
    std::fs::write(repo.join("src/app.py"), format!("import os\n\nGITHUB = \"{github}\"\n")).unwrap();
    std::fs::write(repo.join(".env"), format!("STRIPE_SECRET_KEY={stripe}\nDEBUG=true\n")).unwrap();
    std::fs::write(
        repo.join("config/prod.yaml"),
        format!("db:\n  url: postgres://shop:{password}@db.internal:5432/shop\naws:\n  key_id: {aws_id}\n"),
    )
    .unwrap();
    // Decoys: documentation examples, a bad checksum, placeholders, public keys.
    std::fs::write(
        repo.join("README.md"),
        "Set `GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyzABCD012345` and\n\
         `DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost/db`; password = \"changeme\".\n\
         The publishable key pk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6 is public.\n",
    )
    .unwrap();
    // What cannot be scanned is noted, and the scan goes on.
    std::fs::write(repo.join("logo.png"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    std::fs::write(repo.join("latin1.txt"), b"caf\xe9\n").unwrap();
    std::os::unix::fs::symlink(&repo, repo.join("src/loop")).unwrap();
    // A 2 GB dump (sparse: nothing is written) is passed over by its size, unread.
    std::fs::File::create(repo.join("dump.sql")).unwrap().set_len(2 * 1024 * 1024 * 1024).unwrap();
    // A Kubernetes Secret holds the Stripe key again, base64-encoded.
    {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(stripe);
        std::fs::create_dir_all(repo.join("k8s")).unwrap();
        std::fs::write(
            repo.join("k8s/secret.yaml"),
            format!("apiVersion: v1\nkind: Secret\ndata:\n  stripe: {encoded}\n"),
        )
        .unwrap();
    }

    let output = scan(&data_dir, &[repo.to_str().unwrap(), "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "findings exit 1: {stderr}");
    let findings: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let found: Vec<(String, u64, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            let path = finding["path"].as_str().unwrap();
            let relative = Path::new(path).strip_prefix(&repo).unwrap().display().to_string();
            (relative, finding["line"].as_u64().unwrap(), finding["rule"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        found,
        [
            (".env".to_owned(), 1, "stripe-secret-key".to_owned()),
            ("config/prod.yaml".to_owned(), 2, "database-url-password".to_owned()),
            ("config/prod.yaml".to_owned(), 4, "aws-access-key-id".to_owned()),
            ("k8s/secret.yaml".to_owned(), 4, "stripe-secret-key".to_owned()),
            ("src/app.py".to_owned(), 3, "github-pat".to_owned()),
        ],
        "{findings:#}"
    );
    assert_eq!(findings[3]["encoding"], "base64");
    assert_eq!(findings[3]["context"], "stripe: base64(sk_l…(34 chars))");
    assert!(stderr.contains("dump.sql was not scanned: 2048 MB, over the 100 MB limit"), "{stderr}");
    let first = &findings[0];
    assert!(first["path"].as_str().unwrap().starts_with(repo.to_str().unwrap()), "the path as given, joined");
    assert_eq!(first["match"], "sk_l…(34 chars)");
    assert!(stderr.contains("logo.png was not scanned: binary"), "{stderr}");
    assert!(stderr.contains("loop was not scanned: a symbolic link"), "{stderr}");
    assert!(stderr.contains("5 secrets found in 4 files"), "{stderr}");

    // SARIF for code scanning: paths relative to the scanned folder.
    let sarif = scan(&data_dir, &[repo.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&sarif.stdout).expect("a SARIF document");
    assert_eq!(document["version"], "2.1.0");
    let results = document["runs"][0]["results"].as_array().unwrap();
    let uris: Vec<&str> = results
        .iter()
        .map(|result| result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, [".env", "config/prod.yaml", "config/prod.yaml", "k8s/secret.yaml", "src/app.py"]);
    assert_eq!(document["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 4);
    assert_valid_sarif(&sarif.stdout);

    // No report, note or log holds a secret.
    let text = scan(&data_dir, &[repo.to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(printed.contains("src/app.py:3:11  github-pat  ghp_…(40 chars)"), "{printed}");
    let mut everything =
        [&output.stdout[..], &output.stderr, &text.stdout, &text.stderr, &sarif.stdout].concat();
    for entry in walk(&data_dir) {
        everything.extend(std::fs::read(entry).unwrap_or_default());
    }
    let everything = String::from_utf8_lossy(&everything);
    for secret in [github.as_str(), stripe, password, aws_id] {
        assert!(!everything.contains(secret), "a report or the data dir holds {secret}");
    }

    // Clean: exit 0. A rules file adds a rule; a broken one is bad input.
    let clean = dir.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(
        clean.join("main.rs"),
        "fn main() { println!(\"hello\"); }\nconst ACME_ID: &str = \"acme_k3y_2q8LrPwX9ab\";\n",
    )
    .unwrap();
    let quiet = scan(&data_dir, &[clean.to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(0), "{}", String::from_utf8_lossy(&quiet.stderr));
    assert!(String::from_utf8_lossy(&quiet.stdout).starts_with("no secrets found: 1 files"));
    let rules = dir.path().join("acme.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"acme-key\"\ndescription = \"ACME Corp key\"\nkeywords = [\"acme_k3y_\"]\n\
         pattern = '(?P<secret>acme_k3y_[A-Za-z0-9]{11})'\nexamples = [\"acme_k3y_2q8LrPwX9ab\"]\n",
    )
    .unwrap();
    let custom = scan(&data_dir, &[clean.to_str().unwrap(), "--rules", rules.to_str().unwrap(), "--json"]);
    assert_eq!(custom.status.code(), Some(1));
    let custom: Value = serde_json::from_slice(&custom.stdout).unwrap();
    assert_eq!(custom[0]["rule"], "acme-key");
    // A rule whose pattern misses its own example is refused, named.
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"acme-key\"\ndescription = \"ACME Corp key\"\nkeywords = [\"acme_k3y_\"]\n\
         pattern = '(?P<secret>acme_k3y_[0-9]{11})'\nexamples = [\"acme_k3y_2q8LrPwX9ab\"]\n",
    )
    .unwrap();
    let wrong = scan(&data_dir, &[clean.to_str().unwrap(), "--rules", rules.to_str().unwrap()]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("acme.toml has a rule that fails its examples") && message.contains("acme-key"),
        "{message}"
    );
    std::fs::write(&rules, "[[rule]]\nid = \"acme-key\"\npattern = \"(\"\n").unwrap();
    let broken = scan(&data_dir, &[clean.to_str().unwrap(), "--rules", rules.to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(2));
    let message = String::from_utf8_lossy(&broken.stderr);
    assert!(message.contains("acme.toml") && message.contains("missing field"), "{message}");
    let missing = scan(&data_dir, &[dir.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere cannot be scanned"));
}

#[test]
fn a_baseline_keeps_known_findings_out_even_when_lines_move_and_an_allow_comment_silences_one() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let old = github_token("Aq8Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5B");
    let new = github_token("Bq8Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5C");
    std::fs::write(repo.join("app.py"), format!("TOKEN = \"{old}\"\n")).unwrap();
    let baseline = dir.path().join("scan-baseline.json");
    let baseline_arg = baseline.to_str().unwrap();
    let repo_arg = repo.to_str().unwrap();

    let written = scan_with_keys(&data_dir, &[repo_arg, "--baseline", baseline_arg, "--update-baseline"]);
    assert_eq!(written.status.code(), Some(0), "{}", String::from_utf8_lossy(&written.stderr));
    let file = std::fs::read_to_string(&baseline).unwrap();
    assert!(!file.contains(&old), "the baseline holds fingerprints, not secrets");
    let parsed: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(parsed["findings"][0]["path"], "app.py", "paths below the scanned folder");

    // Known: not reported, even after lines are added above it.
    std::fs::write(repo.join("app.py"), format!("import os\n\n\nTOKEN = \"{old}\"\n")).unwrap();
    let known = scan(&data_dir, &[repo_arg, "--baseline", baseline_arg]);
    assert_eq!(known.status.code(), Some(0), "{}", String::from_utf8_lossy(&known.stdout));
    assert!(String::from_utf8_lossy(&known.stdout).contains("1 known from the baseline not shown"));

    // A new secret is new; one with an allow comment is not reported.
    std::fs::write(
        repo.join("app.py"),
        format!("TOKEN = \"{old}\"\nOTHER = \"{new}\"\nTEST = \"{new}\"  # opsdeck:allow github-pat\n"),
    )
    .unwrap();
    let fresh = scan(&data_dir, &[repo_arg, "--baseline", baseline_arg, "--json"]);
    assert_eq!(fresh.status.code(), Some(1));
    let fresh: Value = serde_json::from_slice(&fresh.stdout).unwrap();
    let lines: Vec<u64> =
        fresh.as_array().unwrap().iter().map(|finding| finding["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2]);

    // A broken baseline is bad input, and names the file.
    std::fs::write(&baseline, "{\"version\": 1, \"findings\": [").unwrap();
    let broken = scan(&data_dir, &[repo_arg, "--baseline", baseline_arg]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("scan-baseline.json is not a baseline file"));
}

fn git(repo: &Path, data_dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        // The hook runs the `opsdeck` that installed it, on this test's data dir.
        .env("OPSDECK_DATA_DIR", data_dir)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .expect("git")
}

#[test]
fn the_pre_commit_hook_stops_a_commit_that_adds_a_secret_and_scans_only_what_is_staged() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    assert!(git(&repo, &data_dir, &["init", "-q"]).status.success());
    std::fs::write(repo.join("README.md"), "shop\n").unwrap();
    assert!(git(&repo, &data_dir, &["add", "README.md"]).status.success());
    assert!(git(&repo, &data_dir, &["commit", "-q", "-m", "start"]).status.success());

    let installed = scan_with_keys(&data_dir, &[repo.to_str().unwrap(), "--install-hook"]);
    assert_eq!(installed.status.code(), Some(0), "{}", String::from_utf8_lossy(&installed.stderr));
    let hook = repo.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook).unwrap().contains("opsdeck scan --staged"));

    // A secret staged: the commit is stopped and says where.
    let token = github_token("Cq8Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5D");
    std::fs::write(repo.join("deploy.sh"), format!("export GH_TOKEN={token}\n")).unwrap();
    assert!(git(&repo, &data_dir, &["add", "deploy.sh"]).status.success());
    let refused = git(&repo, &data_dir, &["commit", "-q", "-m", "deploy"]);
    assert!(!refused.status.success(), "the commit went through");
    let said =
        String::from_utf8_lossy(&refused.stdout).into_owned() + &String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("deploy.sh:1:17  github-pat  ghp_…(40 chars)"), "{said}");
    assert!(!said.contains(&token));

    // The staged contents count, not the file: fixed in the index, still
    // there on disk (unstaged), the commit goes through.
    std::fs::write(repo.join("deploy.sh"), "export GH_TOKEN=\"$(opsdeck secret get ci/gh-token)\"\n")
        .unwrap();
    assert!(git(&repo, &data_dir, &["add", "deploy.sh"]).status.success());
    std::fs::write(repo.join("notes.txt"), format!("{token}\n")).unwrap();
    let committed = git(&repo, &data_dir, &["commit", "-q", "-m", "deploy"]);
    assert!(committed.status.success(), "{}", String::from_utf8_lossy(&committed.stderr));
    let staged_only = scan(&data_dir, &[repo.to_str().unwrap(), "--staged"]);
    assert_eq!(staged_only.status.code(), Some(0), "notes.txt is not staged");

    // A hook OpsDeck did not write is kept unless forced.
    std::fs::write(&hook, "#!/bin/sh\nexec make lint\n").unwrap();
    let kept = scan_with_keys(&data_dir, &[repo.to_str().unwrap(), "--install-hook"]);
    assert_eq!(kept.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&kept.stderr)
        .contains("already holds a pre-commit hook OpsDeck did not write"));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), "#!/bin/sh\nexec make lint\n");
    let forced = scan_with_keys(&data_dir, &[repo.to_str().unwrap(), "--install-hook", "--force"]);
    assert_eq!(forced.status.code(), Some(0));
    let outside = scan(&data_dir, &[dir.path().to_str().unwrap(), "--staged"]);
    assert_eq!(outside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("is not inside a git repository"));
}

#[test]
fn history_names_the_commit_that_added_a_secret_since_removed_and_bad_history_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    assert!(git(&repo, &data_dir, &["init", "-q"]).status.success());
    let token = github_token("Hq7Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5Z");
    let commit = |message: &str, date: &str| {
        assert!(git(&repo, &data_dir, &["add", "-A"]).status.success());
        let done = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=Grace Hopper", "-c", "user.email=grace@example.com"])
            .args(["commit", "-q", "--no-verify", "-m", message])
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    };
    std::fs::write(repo.join("README.md"), "shop\n").unwrap();
    commit("start", "2026-01-01T10:00:00Z");
    std::fs::write(repo.join("deploy.sh"), format!("#!/bin/sh\nexport GH_TOKEN={token}\n")).unwrap();
    commit("deploy script", "2026-02-01T10:00:00Z");
    let added = String::from_utf8(git(&repo, &data_dir, &["rev-parse", "HEAD"]).stdout).unwrap();
    std::fs::write(repo.join("deploy.sh"), format!("#!/bin/sh\nset -eu\nexport GH_TOKEN={token}\n")).unwrap();
    commit("strict", "2026-02-02T10:00:00Z");
    std::fs::write(
        repo.join("deploy.sh"),
        "#!/bin/sh\nset -eu\nexport GH_TOKEN=\"$(opsdeck secret get ci/gh)\"\n",
    )
    .unwrap();
    commit("token from the vault", "2026-02-03T10:00:00Z");

    // The tree is clean now; its history is not.
    let tree = scan(&data_dir, &[repo.to_str().unwrap()]);
    assert_eq!(tree.status.code(), Some(0), "{}", String::from_utf8_lossy(&tree.stdout));
    let history = scan(&data_dir, &[repo.to_str().unwrap(), "--history", "--format", "json"]);
    assert_eq!(history.status.code(), Some(1), "{}", String::from_utf8_lossy(&history.stderr));
    let findings: Value = serde_json::from_slice(&history.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 1, "once, though two versions of the file hold it: {findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["relative_path"], "deploy.sh");
    assert_eq!(finding["path"], repo.join("deploy.sh").display().to_string());
    assert_eq!((finding["line"].as_u64(), finding["rule"].as_str()), (Some(2), Some("github-pat")));
    assert_eq!(finding["commit"]["id"], added.trim());
    assert_eq!(finding["commit"]["author"], "Grace Hopper <grace@example.com>");
    assert_eq!(finding["commit"]["date"], "2026-02-01T10:00:00Z");
    assert!(!String::from_utf8_lossy(&history.stdout).contains(&token));
    assert!(
        String::from_utf8_lossy(&history.stderr).contains("4 commits"),
        "{}",
        String::from_utf8_lossy(&history.stderr)
    );

    // `--git` is the same (the CLI contract's name for it).
    let text = scan(&data_dir, &[repo.to_str().unwrap(), "--git"]);
    let said = String::from_utf8_lossy(&text.stdout);
    assert!(said.contains(&format!("first in commit {} by Grace Hopper", &added[..12])), "{said}");

    // Since a date after the secret was removed: clean. On a branch cut before it: clean.
    let since = scan(&data_dir, &[repo.to_str().unwrap(), "--history", "--since", "2026-02-03"]);
    assert_eq!(since.status.code(), Some(0), "{}", String::from_utf8_lossy(&since.stdout));
    assert!(git(&repo, &data_dir, &["branch", "before", "HEAD~3"]).status.success());
    let branch = scan(&data_dir, &[repo.to_str().unwrap(), "--history", "--branch", "before"]);
    assert_eq!(branch.status.code(), Some(0), "{}", String::from_utf8_lossy(&branch.stdout));

    // Bad input is exit 2, with what to do.
    for (args, says) in [
        (vec!["--history", "--since", "last tuesday"], "is not a date: give YYYY-MM-DD"),
        (vec!["--history", "--branch", "no-such"], "`no-such` names no commit"),
    ] {
        let mut all = vec![repo.to_str().unwrap()];
        all.extend(args);
        let refused = scan(&data_dir, &all);
        assert_eq!(refused.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(says),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let refused = scan(&data_dir, &[plain.to_str().unwrap(), "--history"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a git repository"));
    // A damaged .git: a configuration git cannot parse; then the branch's
    // commit object overwritten.
    let config = std::fs::read(repo.join(".git/config")).unwrap();
    std::fs::write(repo.join(".git/config"), "[core\nbroken").unwrap();
    let corrupt = scan(&data_dir, &[repo.to_str().unwrap(), "--history"]);
    assert_eq!(corrupt.status.code(), Some(2), "{}", String::from_utf8_lossy(&corrupt.stderr));
    assert!(String::from_utf8_lossy(&corrupt.stderr).contains("is not a git repository that can be read"));
    std::fs::write(repo.join(".git/config"), config).unwrap();
    assert!(git(&repo, &data_dir, &["branch", "-D", "before"]).status.success());
    let head = String::from_utf8(git(&repo, &data_dir, &["rev-parse", "HEAD"]).stdout).unwrap();
    let object = repo.join(".git/objects").join(&head[..2]).join(head[2..].trim());
    std::fs::remove_file(&object).unwrap();
    std::fs::write(&object, "not a commit").unwrap();
    let damaged = scan(&data_dir, &[repo.to_str().unwrap(), "--history"]);
    assert_eq!(damaged.status.code(), Some(2), "{}", String::from_utf8_lossy(&damaged.stderr));
    assert!(
        String::from_utf8_lossy(&damaged.stderr).contains("no branch or tag of this repository can be read"),
        "{}",
        String::from_utf8_lossy(&damaged.stderr)
    );
}

/// `opsdeck …` with the deck's keys (here, from a passphrase).
fn opsdeck_with_keys(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    opsdeck_on(data_dir, None, args, stdin)
}

/// `opsdeck …` with the deck's keys, on the store at `database_url` (a
/// PostgreSQL URL) or on the data dir's SQLite file.
fn opsdeck_on(data_dir: &Path, database_url: Option<&str>, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut command = opsdeck_command();
    if let Some(url) = database_url {
        command.env("OPSDECK_DATABASE_URL", url);
    }
    let mut child = command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("OPSDECK_PASSPHRASE", "scanning tests keep their keys here")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run opsdeck");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_vault_value_committed_to_history_as_is_and_in_base64_is_named_by_secret_and_version_and_never_shown() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let old_value = "Pl4in-Old-Passw0rd";
    let current = "N3w-Curr3nt:Passw0rd";
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("app:{current}"));
    let made = opsdeck_with_keys(&data_dir, &["vault", "init", "prod", "--no-keychain"], "");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    for value in [old_value, current] {
        let set = opsdeck_with_keys(
            &data_dir,
            &["secret", "set", "prod/db-password", "--type", "database_password", "--value-stdin"],
            value,
        );
        assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    }
    // History: version 1 committed in a config file, then removed; the
    // current value committed base64-encoded (a Basic auth header).
    assert!(git(&repo, &data_dir, &["init", "-q"]).status.success());
    let commit = |message: &str| {
        assert!(git(&repo, &data_dir, &["add", "-A"]).status.success());
        assert!(git(&repo, &data_dir, &["commit", "-q", "--no-verify", "-m", message]).status.success());
        String::from_utf8(git(&repo, &data_dir, &["rev-parse", "HEAD"]).stdout).unwrap().trim().to_owned()
    };
    std::fs::write(repo.join("config.toml"), format!("[db]\npassword = \"{old_value}\"\n")).unwrap();
    let first = commit("config");
    std::fs::write(repo.join("config.toml"), "[db]\npassword_file = \"/run/secrets/db\"\n").unwrap();
    commit("no password in config");
    std::fs::write(repo.join("probe.sh"), format!("curl -H 'Authorization: Basic {encoded}' $URL\n"))
        .unwrap();
    let second = commit("probe");

    let scanned = opsdeck_with_keys(
        &data_dir,
        &["scan", repo.to_str().unwrap(), "--history", "--vault-values", "--format", "json"],
        "",
    );
    assert_eq!(scanned.status.code(), Some(1), "{}", String::from_utf8_lossy(&scanned.stderr));
    let findings: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    let named: Vec<(String, String, i64, bool, Option<String>, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "vault-value")
        .map(|finding| {
            (
                finding["relative_path"].as_str().unwrap().to_owned(),
                finding["vault_secret"].as_str().unwrap().to_owned(),
                finding["version"].as_i64().unwrap(),
                finding["current"].as_bool().unwrap(),
                finding["encoding"].as_str().map(str::to_owned),
                finding["commit"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("config.toml".to_owned(), "prod/db-password".to_owned(), 1, false, None, first),
            (
                "probe.sh".to_owned(),
                "prod/db-password".to_owned(),
                2,
                true,
                Some("base64".to_owned()),
                second
            ),
        ],
        "{findings:#}"
    );
    let text =
        opsdeck_with_keys(&data_dir, &["scan", repo.to_str().unwrap(), "--history", "--vault-values"], "");
    let said = String::from_utf8_lossy(&text.stdout);
    assert!(said.contains("vault-value  prod/db-password version 2 (current: rotate it) (base64)"), "{said}");
    assert!(said.contains("2 secret versions of prod looked for"), "{said}");

    // Without the keys the values cannot be compared, and the scan says so.
    let locked = scan(&data_dir, &[repo.to_str().unwrap(), "--vault-values"]);
    assert_eq!(locked.status.code(), Some(2), "{}", String::from_utf8_lossy(&locked.stdout));

    // No output, log or stored byte holds either value (or the encoded one).
    let mut haystacks = vec![
        String::from_utf8_lossy(&scanned.stdout).into_owned(),
        String::from_utf8_lossy(&scanned.stderr).into_owned(),
        said.into_owned(),
        String::from_utf8_lossy(&text.stderr).into_owned(),
        String::from_utf8_lossy(&locked.stderr).into_owned(),
    ];
    for file in walk(&data_dir) {
        haystacks.push(String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned());
    }
    for haystack in &haystacks {
        for value in [old_value, current, encoded.as_str()] {
            assert!(!haystack.contains(value), "a value leaked: {}", &haystack[..haystack.len().min(300)]);
        }
    }
    // The comparison was audited.
    let audit = opsdeck_with_keys(&data_dir, &["audit", "log", "--json"], "");
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains("scan.vault_values"),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}

fn call(data_dir: &Path, database_url: Option<&str>, operation: &str, input: Value) -> Value {
    let done = opsdeck_on(data_dir, database_url, &["call", operation, "--input", &input.to_string()], "");
    assert!(done.status.success(), "{operation}: {}", String::from_utf8_lossy(&done.stderr));
    serde_json::from_slice(&done.stdout).unwrap_or(Value::Null)
}

#[test]
fn a_remembered_folder_keeps_its_findings_states_across_scans_and_announces_new_ones() {
    findings_store_journey(None);
}

#[test]
fn the_findings_store_works_the_same_on_postgres() {
    findings_store_journey(Some(opsdeck_tests::postgres::shared().fresh_database()));
}

fn findings_store_journey(database_url: Option<String>) {
    let db = database_url.as_deref();
    use opsdeck_tests::http_server::{Scripted, ScriptedServer};
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("deck");
    let repo = dir.path().join("shop");
    std::fs::create_dir_all(repo.join("tests/fixtures")).unwrap();
    let stripe = "sk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6";
    let github = github_token("Tq8Lr2PwX9tVb4Nm7Kc1Hd6Fs3Jg5B");
    std::fs::write(repo.join("billing.py"), format!("STRIPE = \"{stripe}\"\n")).unwrap();
    std::fs::write(repo.join("deploy.sh"), format!("export GH_TOKEN={github}\n")).unwrap();
    std::fs::write(repo.join("tests/fixtures/token.txt"), format!("{github}\n")).unwrap();
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    let added = opsdeck_on(
        &data_dir,
        db,
        &["notify", "add", "security", "--url", &receiver.url("/scan"), "--secret-stdin"],
        "a webhook secret of thirty-two chars",
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    // A bad pattern is refused with what to write; nothing is remembered.
    let refused = opsdeck_on(
        &data_dir,
        db,
        &[
            "call",
            "scan.target_save",
            "--input",
            &serde_json::json!({ "path": repo, "allow_paths": ["tests/[fix"] }).to_string(),
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not a path pattern"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(call(&data_dir, db, "scan.targets", serde_json::json!({})), serde_json::json!([]));

    let saved = call(
        &data_dir,
        db,
        "scan.target_save",
        serde_json::json!({ "path": repo, "allow_paths": ["tests/fixtures/**"] }),
    );
    let target = saved["path"].as_str().unwrap().to_owned();
    let first = call(&data_dir, db, "scan.target_run", serde_json::json!({ "path": target }));
    assert_eq!(
        (first["summary"]["new"].as_u64(), first["summary"]["fixed"].as_u64()),
        (Some(2), Some(0)),
        "{first:#}"
    );
    let states = |run: &Value| -> Vec<(String, String)> {
        run["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|stored| {
                (
                    stored["finding"]["relative_path"].as_str().unwrap().to_owned(),
                    stored["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        states(&first),
        [("billing.py".to_owned(), "new".to_owned()), ("deploy.sh".to_owned(), "new".to_owned())],
        "the fixture is in an allowed path"
    );
    // One webhook delivery named both, redacted.
    opsdeck_tests::process::wait_until(std::time::Duration::from_secs(10), "the webhook", || {
        !receiver.received().is_empty()
    });
    let delivered: Vec<String> = receiver
        .received()
        .iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert!(
        delivered[0].contains("scan.new_findings") && delivered[0].contains("deploy.sh"),
        "{}",
        delivered[0]
    );

    // The Stripe key is a test fixture someone judged harmless; the token is real and is removed.
    let stripe_fingerprint = first["findings"][0]["finding"]["fingerprint"].as_str().unwrap().to_owned();
    let marked = call(
        &data_dir,
        db,
        "scan.finding_mark",
        serde_json::json!({ "target": target, "fingerprint": stripe_fingerprint, "state": "false_positive" }),
    );
    assert_eq!(marked["state"], "false_positive");
    std::fs::write(repo.join("deploy.sh"), "export GH_TOKEN=\"$(opsdeck secret get ci/gh)\"\n").unwrap();
    // Lines moved above the Stripe key: the same finding, still a false positive.
    std::fs::write(repo.join("billing.py"), format!("import os\n\nSTRIPE = \"{stripe}\"\n")).unwrap();
    let second = call(&data_dir, db, "scan.target_run", serde_json::json!({ "path": target }));
    assert_eq!((second["summary"]["new"].as_u64(), second["summary"]["fixed"].as_u64()), (Some(0), Some(1)));
    assert_eq!(
        states(&second),
        [
            ("billing.py".to_owned(), "false_positive".to_owned()),
            ("deploy.sh".to_owned(), "fixed".to_owned())
        ]
    );
    assert_eq!(second["findings"][0]["finding"]["line"], 3);
    assert_eq!(receiver.received().len(), 1, "nothing new, nothing announced");
    // The token comes back: new again.
    std::fs::write(repo.join("deploy.sh"), format!("export GH_TOKEN={github}\n")).unwrap();
    let third = call(&data_dir, db, "scan.target_run", serde_json::json!({ "path": target }));
    assert_eq!(third["summary"]["reopened"].as_u64(), Some(1));
    let targets = call(&data_dir, db, "scan.targets", serde_json::json!({}));
    assert_eq!((targets[0]["open"].as_u64(), targets[0]["new"].as_u64()), (Some(1), Some(1)), "{targets:#}");

    // Each change is in the audit trail; no secret is in the store, the outputs or the deliveries.
    let audit = opsdeck_on(&data_dir, db, &["audit", "log", "--json"], "");
    let audit = String::from_utf8_lossy(&audit.stdout);
    for action in ["scan.target_save", "scan.target_run", "scan.finding_mark"] {
        assert!(audit.contains(action), "{action} not audited");
    }
    let mut haystacks: Vec<String> = [&first, &second, &third].iter().map(|run| run.to_string()).collect();
    haystacks.extend(delivered);
    for file in walk(&data_dir) {
        haystacks.push(String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned());
    }
    for haystack in &haystacks {
        assert!(!haystack.contains(stripe) && !haystack.contains(&github), "a secret was kept");
    }
    let removed = opsdeck_on(
        &data_dir,
        db,
        &["call", "scan.target_remove", "--input", &serde_json::json!({ "path": target }).to_string()],
        "",
    );
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    assert_eq!(call(&data_dir, db, "scan.findings", serde_json::json!({})), serde_json::json!([]));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
