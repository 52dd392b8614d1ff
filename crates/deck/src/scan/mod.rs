//! Secret scanning in the deck: the `scan.run` operation runs
//! `opsdeck-scan` over files and folders of this machine with the built-in
//! rules and any rule files given, and reports findings with their secrets
//! redacted. Findings a baseline file lists are left out (`update_baseline`
//! writes one); a line with an `opsdeck:allow` comment is not reported.
//!
//! A scan reads files and changes nothing, so it needs no key: `opsdeck
//! scan` works in CI and in a pre-commit hook without a keychain or a
//! passphrase. It reads paths of the machine the deck runs on, so it needs
//! the operator role and its `paths` are marked as machine inputs (the app
//! asks before sending them; MCP and the OpenAPI document say so).

use std::path::PathBuf;
use std::time::Instant;

use opsdeck_scan::{relative_path, Baseline, BaselineEntry, RuleSet, ScanError, Scanner, WalkOptions};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Operation};

mod git;
use crate::{Caller, Deck, DeckError, Outcome};

/// What to scan.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    /// Files or folders (folders are walked, `.gitignore` respected).
    pub paths: Vec<String>,
    /// Rule files (TOML, `[[rule]]` tables) added to the built-in rules.
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Skip files larger than this many megabytes (default 100).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub max_file_mb: Option<u64>,
    /// Scan files `.gitignore` and `.ignore` leave out too.
    #[serde(default)]
    pub no_ignore: bool,
    /// A baseline file: findings it lists are not reported again
    /// (`scan.baseline_update` writes one).
    #[serde(default)]
    pub baseline: Option<String>,
    /// Scan only what is staged for the next commit in the git repository
    /// holding `paths` (one path): the index's contents, not the files.
    #[serde(default)]
    pub staged: bool,
}

/// A secret found in a file.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ScanFinding {
    /// The path as given, joined with the file's path below it.
    pub path: String,
    /// The path below the scanned folder (`/`-separated; what baselines and
    /// SARIF name).
    pub relative_path: String,
    /// 1-based line.
    #[ts(type = "number")]
    pub line: u64,
    /// 1-based column (bytes).
    #[ts(type = "number")]
    pub column: u64,
    /// The rule that found it.
    pub rule: String,
    /// What the rule finds.
    pub description: String,
    /// The secret, redacted: its first characters and its length.
    #[serde(rename = "match")]
    #[ts(rename = "match")]
    pub redacted: String,
    /// Its line, with the secret redacted.
    pub context: String,
    /// Identifies the secret across scans and machines without holding it
    /// (a slow, salted hash).
    pub secret_hash: String,
    /// Identifies the finding in baselines: rule, path below the scanned
    /// folder and secret (the same when lines move).
    pub fingerprint: String,
}

/// A path not scanned.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ScanSkipped {
    /// The path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What a scan found.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ScanReport {
    /// Secrets, by path and line.
    pub findings: Vec<ScanFinding>,
    /// Paths not scanned, each with why.
    pub skipped: Vec<ScanSkipped>,
    /// Files scanned.
    #[ts(type = "number")]
    pub files: u64,
    /// Bytes scanned.
    #[ts(type = "number")]
    pub bytes: u64,
    /// Rules run.
    #[ts(type = "number")]
    pub rules: u64,
    /// Findings left out because the baseline lists them.
    #[ts(type = "number")]
    pub baselined: u64,
    /// The baseline file written (by `scan.baseline_update`).
    pub baseline_written: Option<String>,
    /// How long it took, in milliseconds.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

/// What a scan reads.
enum Source {
    /// Files and folders.
    Paths(Vec<PathBuf>),
    /// The staged files of the repository at `root` (paths below it, contents).
    Staged { root: PathBuf, files: Vec<(String, Vec<u8>)> },
}

/// Runs a scan (on a blocking thread: it is all reading and matching).
pub async fn scan(input: ScanInput) -> Result<ScanReport, DeckError> {
    run_scan(input, false).await
}

/// Runs a scan and writes every finding into its `baseline` file (made or
/// replaced), as `caller` (audited: it writes a file).
pub async fn update_baseline(
    deck: &Deck,
    caller: &Caller,
    input: ScanInput,
) -> Result<ScanReport, DeckError> {
    let Some(file) = input.baseline.clone() else {
        return Err(ScanError::Input("name the baseline file to write".to_owned()).into());
    };
    deck.audit(
        caller,
        "scan.baseline_update",
        &file,
        Outcome::Ok,
        serde_json::json!({ "paths": input.paths }),
    )
    .await?;
    run_scan(input, true).await
}

async fn run_scan(input: ScanInput, write_baseline: bool) -> Result<ScanReport, DeckError> {
    let started = Instant::now();
    let paths: Vec<PathBuf> = input.paths.iter().map(PathBuf::from).collect();
    opsdeck_scan::check_paths(&paths).map_err(ScanError::Input)?;
    let source = if input.staged {
        let [path] = paths.as_slice() else {
            return Err(
                ScanError::Input("a scan of staged files takes one repository path".to_owned()).into()
            );
        };
        let root = git::repository_root(path).await?;
        let files = git::staged_files(&root).await?;
        Source::Staged { root, files }
    } else {
        Source::Paths(paths)
    };
    let task = tokio::task::spawn_blocking(move || scan_now(&input, source, started, write_baseline));
    task.await.map_err(|error| ScanError::Input(format!("the scan stopped unexpectedly: {error}")))?
}

fn scan_now(
    input: &ScanInput,
    source: Source,
    started: Instant,
    write_baseline: bool,
) -> Result<ScanReport, DeckError> {
    let mut rules = RuleSet::built_in().map_err(ScanError::from)?;
    for file in &input.rule_files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| ScanError::Input(format!("the rules file {file} cannot be read: {error}")))?;
        rules.add_toml(file, &text).map_err(ScanError::from)?;
    }
    let descriptions: std::collections::HashMap<String, String> = rules
        .rules()
        .iter()
        .map(|rule| (rule.id().to_owned(), rule.definition.description.clone()))
        .collect();
    let rule_count = rules.rules().len() as u64;
    let scanner = Scanner::new(rules).map_err(ScanError::from)?;
    let mut options = WalkOptions { respect_ignores: !input.no_ignore, ..WalkOptions::default() };
    if let Some(megabytes) = input.max_file_mb {
        if megabytes == 0 {
            return Err(ScanError::Input("the largest file to scan must be at least 1 MB".to_owned()).into());
        }
        options.max_file_bytes = megabytes.saturating_mul(1024 * 1024);
    }
    let known = match (&input.baseline, write_baseline) {
        (Some(file), false) => Some(Baseline::load(std::path::Path::new(file))?),
        _ => None,
    };
    let (walked, paths) = match source {
        Source::Paths(paths) => (opsdeck_scan::scan_paths(&scanner, &paths, &options), paths),
        Source::Staged { root, files } => {
            let mut report = opsdeck_scan::WalkReport::default();
            for (name, contents) in files {
                opsdeck_scan::scan_contents(&scanner, &root.join(name), &contents, &options, &mut report);
            }
            opsdeck_scan::sort_report(&mut report);
            (report, vec![root])
        }
    };
    let mut baselined = 0;
    let findings: Vec<ScanFinding> = walked
        .findings
        .into_iter()
        .map(|finding| {
            let relative = relative_path(&finding.path, &paths);
            ScanFinding {
                fingerprint: opsdeck_scan::fingerprint(
                    &finding.found.rule,
                    &relative,
                    &finding.found.secret_hash,
                ),
                relative_path: relative,
                path: finding.path.display().to_string(),
                line: finding.found.line as u64,
                column: finding.found.column as u64,
                description: descriptions.get(&finding.found.rule).cloned().unwrap_or_default(),
                rule: finding.found.rule,
                redacted: finding.found.redacted,
                context: finding.found.context,
                secret_hash: finding.found.secret_hash,
            }
        })
        .filter(|finding| {
            let known = known.as_ref().is_some_and(|baseline| baseline.contains(&finding.fingerprint));
            baselined += u64::from(known);
            !known
        })
        .collect();
    let mut baseline_written = None;
    if let (Some(file), true) = (&input.baseline, write_baseline) {
        let baseline = Baseline {
            version: opsdeck_scan::baseline::BASELINE_VERSION,
            findings: findings
                .iter()
                .map(|finding| BaselineEntry {
                    fingerprint: finding.fingerprint.clone(),
                    rule: finding.rule.clone(),
                    path: finding.relative_path.clone(),
                    line: usize::try_from(finding.line).unwrap_or(usize::MAX),
                })
                .collect(),
        };
        baseline.save(std::path::Path::new(file))?;
        baseline_written = Some(file.clone());
    }
    let skipped = walked
        .skipped
        .into_iter()
        .map(|skip| ScanSkipped { path: skip.path.display().to_string(), reason: skip.reason })
        .collect();
    Ok(ScanReport {
        findings,
        skipped,
        files: walked.files,
        bytes: walked.bytes,
        rules: rule_count,
        baselined,
        baseline_written,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Which repository gets the pre-commit hook.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct HookInput {
    /// A folder inside the git repository.
    pub repository: String,
    /// Replace a pre-commit hook OpsDeck did not write.
    #[serde(default)]
    pub force: bool,
}

/// The hook written.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct HookInstalled {
    /// The hook file.
    pub hook: String,
}

/// What marks a pre-commit hook as OpsDeck's own (replaced without asking).
const HOOK_MARK: &str = "opsdeck scan --staged";

/// Writes the repository's pre-commit hook: it scans what is staged and
/// stops the commit when a secret is found.
pub async fn install_hook(
    deck: &Deck,
    caller: &Caller,
    input: HookInput,
) -> Result<HookInstalled, DeckError> {
    let root = git::repository_root(std::path::Path::new(&input.repository)).await?;
    let hook = git::pre_commit_hook_path(&root).await?;
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(HOOK_MARK) && !input.force {
            return Err(ScanError::Input(format!(
                "{} already holds a pre-commit hook OpsDeck did not write; add `{HOOK_MARK} \"$(git rev-parse --show-toplevel)\"` to it, or replace it with force",
                hook.display()
            ))
            .into());
        }
    }
    deck.audit(
        caller,
        "scan.install_hook",
        &hook.display().to_string(),
        Outcome::Ok,
        serde_json::json!({ "force": input.force }),
    )
    .await?;
    let program = std::env::current_exe().ok().filter(|path| path.is_file());
    let fallback =
        program.map_or_else(|| "opsdeck".to_owned(), |path| shell_quote(&path.display().to_string()));
    let script = format!(
        "#!/bin/sh\n\
         # Written by `opsdeck scan --install-hook`: runs `{HOOK_MARK}` and stops a\n\
         # commit that adds a secret. A finding that is not one: an `opsdeck:allow`\n\
         # comment on its line.\n\
         opsdeck=$(command -v opsdeck || echo {fallback})\n\
         exec \"$opsdeck\" scan --staged \"$(git rev-parse --show-toplevel)\"\n"
    );
    if let Some(folder) = hook.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|error| ScanError::Input(format!("{} cannot be made: {error}", folder.display())))?;
    }
    std::fs::write(&hook, script)
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|error| ScanError::Input(format!("{} cannot be written: {error}", hook.display())))?;
    Ok(HookInstalled { hook: hook.display().to_string() })
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `scan.install_hook`.
pub struct HookInstall;

impl Operation for HookInstall {
    type Input = HookInput;
    type Output = HookInstalled;
    const NAME: &'static str = "scan.install_hook";
    const SUMMARY: &'static str =
        "Writes a git repository's pre-commit hook that scans what is staged and stops a commit that adds a \
        secret.";
    const EFFECT: Effect = Effect::Change;
    // It writes a program git runs: the deck's administrators only.
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan/hook";
    const MACHINE_INPUTS: &'static [&'static str] = &["repository"];

    async fn run(deck: &Deck, caller: &Caller, input: HookInput) -> Result<HookInstalled, DeckError> {
        install_hook(deck, caller, input).await
    }
}

/// `scan.baseline_update`.
pub struct BaselineUpdate;

impl Operation for BaselineUpdate {
    type Input = ScanInput;
    type Output = ScanReport;
    const NAME: &'static str = "scan.baseline_update";
    const SUMMARY: &'static str =
        "Scans files and folders and writes every finding into the baseline file named, so later scans \
        with that baseline report only new ones.";
    const EFFECT: Effect = Effect::Change;
    // It writes a file where it is told: the deck's administrators only.
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan/baseline";
    const MACHINE_INPUTS: &'static [&'static str] = &["paths", "rule_files", "baseline"];

    async fn run(deck: &Deck, caller: &Caller, input: ScanInput) -> Result<ScanReport, DeckError> {
        update_baseline(deck, caller, input).await
    }
}

/// `scan.run`.
pub struct ScanRun;

impl Operation for ScanRun {
    type Input = ScanInput;
    type Output = ScanReport;
    const NAME: &'static str = "scan.run";
    const SUMMARY: &'static str =
        "Scans files and folders of this machine for hardcoded secrets (provider tokens, private keys, \
        passwords in URLs and assignments) and reports each with its place and the secret redacted.";
    // A read (it changes nothing), sent as a body: its paths are a list.
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan";
    const MACHINE_INPUTS: &'static [&'static str] = &["paths", "rule_files", "baseline"];

    async fn run(_deck: &Deck, _caller: &Caller, input: ScanInput) -> Result<ScanReport, DeckError> {
        scan(input).await
    }
}

/// This area's operations in the catalogue.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    vec![
        crate::catalogue::entry::<ScanRun>(),
        crate::catalogue::entry::<BaselineUpdate>(),
        crate::catalogue::entry::<HookInstall>(),
    ]
}
