//! Secret scanning in the deck: the `scan.run` operation runs
//! `opsdeck-scan` over files and folders of this machine, over what is
//! staged in a repository, or over a repository's history, with the
//! built-in rules and any rule files given, and reports findings with
//! their secrets redacted (and, in history, the commit that brought each
//! in). Findings a baseline file lists are left out (`update_baseline`
//! writes one); a line with an `opsdeck:allow` comment is not reported.
//!
//! A scan reads files and changes nothing, so it needs no key: `opsdeck
//! scan` works in CI and in a pre-commit hook without a keychain or a
//! passphrase. It reads paths of the machine the deck runs on, so it needs
//! the operator role and its `paths` are marked as machine inputs (the app
//! asks before sending them; MCP and the OpenAPI document say so).

use std::path::PathBuf;
use std::time::Instant;

use opsdeck_scan::{
    relative_path, Baseline, BaselineEntry, HistoryOptions, KnownValue, KnownValues, RuleSet, ScanError,
    Scanner, WalkOptions, KNOWN_VALUE_RULE,
};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Operation};

pub mod findings;
mod git;
use crate::{Caller, Deck, DeckError, Outcome};

/// The deck's own migrations (versions 6000–6999): the scan targets and
/// findings store.
pub fn migrator(kind: opsdeck_core::StoreKind) -> sqlx::migrate::Migrator {
    match kind {
        opsdeck_core::StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        opsdeck_core::StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

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
    /// Scan the git history of the repository at `paths` (one path) rather
    /// than its files: every blob of every commit, each once, with the
    /// commit that first brought a secret in.
    #[serde(default)]
    pub history: bool,
    /// With `history`: only the history of this branch, tag or commit
    /// (without it, of every branch and tag).
    #[serde(default)]
    pub branch: Option<String>,
    /// With `history`: leave out commits older than this date
    /// (`YYYY-MM-DD`, or a date and time in RFC 3339).
    #[serde(default)]
    pub since: Option<String>,
    /// Also look for the values of your vaults' secrets, every version, as
    /// they are and base64- or URL-encoded (vaults where you may reveal
    /// values; the values are compared as keyed hashes and never leave the
    /// deck).
    #[serde(default)]
    pub vault_values: bool,
    /// Paths below the scanned folder whose findings are not reported
    /// (globs such as `tests/fixtures/**`).
    #[serde(default)]
    pub allow_paths: Vec<String>,
}

/// Which vault values a scan looked for.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct VaultValuesChecked {
    /// The vaults whose values were looked for.
    pub vaults: Vec<String>,
    /// Secret versions looked for.
    #[ts(type = "number")]
    pub versions: u64,
    /// Versions not looked for: shorter than 8 characters, or holding
    /// spaces or quotes.
    #[ts(type = "number")]
    pub not_looked_for: u64,
}

/// The commit where a secret in history first appeared.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, TS)]
pub struct FindingCommit {
    /// The commit's id.
    pub id: String,
    /// Its author, `Name <email>`.
    pub author: String,
    /// When it was authored (RFC 3339, UTC).
    pub date: String,
}

/// A secret found in a file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, TS)]
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
    /// In a history scan: the commit that brought the secret in.
    pub commit: Option<FindingCommit>,
    /// For a vault value: the secret it is, `VAULT/NAME`.
    pub vault_secret: Option<String>,
    /// For a vault value: which version of it.
    #[ts(type = "number | null")]
    pub version: Option<i64>,
    /// For a vault value: whether that version is the current one (rotate
    /// it: it is exposed).
    pub current: Option<bool>,
    /// How the secret was encoded where it was found (`base64`, `url`), if
    /// it was.
    pub encoding: Option<String>,
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
    /// Commits visited (a history scan).
    #[ts(type = "number")]
    pub commits: u64,
    /// Rules run.
    #[ts(type = "number")]
    pub rules: u64,
    /// Findings left out because the baseline lists them.
    #[ts(type = "number")]
    pub baselined: u64,
    /// Findings left out because their path is allowed.
    #[ts(type = "number")]
    pub allowed: u64,
    /// With `vault_values`: what was looked for.
    pub vault_values: Option<VaultValuesChecked>,
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
    /// The git history of the repository at `root`.
    History { root: PathBuf, options: HistoryOptions },
}

/// A finding of any source, before baselines and the report.
struct Found {
    path: String,
    relative: String,
    secret: opsdeck_scan::FoundSecret,
    commit: Option<FindingCommit>,
}

/// What scanning publishes on the deck's event bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanEvent {
    /// A remembered target's scan is under way: what it has scanned so far
    /// (about four times a second while it runs).
    ScanProgress {
        /// The target.
        target: String,
        /// Files (or file versions, in history) scanned so far.
        #[ts(type = "number")]
        files: u64,
        /// Bytes scanned so far.
        #[ts(type = "number")]
        bytes: u64,
        /// Since the scan started, in milliseconds.
        #[ts(type = "number")]
        elapsed_ms: u64,
    },
}

/// Runs a scan (on a blocking thread: it is all reading and matching).
pub async fn scan(deck: &Deck, caller: &Caller, input: ScanInput) -> Result<ScanReport, DeckError> {
    run_scan(deck, caller, input, false, None).await
}

/// Runs a scan of the remembered target `target`, announcing its progress.
pub(crate) async fn scan_target(
    deck: &Deck,
    caller: &Caller,
    input: ScanInput,
    target: &str,
) -> Result<ScanReport, DeckError> {
    run_scan(deck, caller, input, false, Some(target)).await
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
    run_scan(deck, caller, input, true, None).await
}

async fn run_scan(
    deck: &Deck,
    caller: &Caller,
    input: ScanInput,
    write_baseline: bool,
    announce: Option<&str>,
) -> Result<ScanReport, DeckError> {
    let started = Instant::now();
    let paths: Vec<PathBuf> = input.paths.iter().map(PathBuf::from).collect();
    opsdeck_scan::check_paths(&paths).map_err(ScanError::Input)?;
    if input.staged && input.history {
        return Err(ScanError::Input("scan either what is staged or the history, not both".to_owned()).into());
    }
    if !input.history && (input.branch.is_some() || input.since.is_some()) {
        return Err(ScanError::Input(
            "a branch or a date to start from applies to a history scan".to_owned(),
        )
        .into());
    }
    let one_repository = |what: &str| match paths.as_slice() {
        [path] => Ok(path.clone()),
        _ => Err(ScanError::Input(format!("a scan of {what} takes one repository path"))),
    };
    let source = if input.staged {
        let root = git::repository_root(&one_repository("staged files")?).await?;
        let files = git::staged_files(&root).await?;
        Source::Staged { root, files }
    } else if input.history {
        let root = one_repository("history")?;
        let since = input.since.as_deref().map(parse_since).transpose()?;
        let options = HistoryOptions { branch: input.branch.clone(), since, ..HistoryOptions::default() };
        Source::History { root, options }
    } else {
        Source::Paths(paths)
    };
    let known = if input.vault_values { Some(known_values(deck, caller, &input.paths).await?) } else { None };
    let progress = std::sync::Arc::new(opsdeck_scan::Progress::default());
    let counted = progress.clone();
    let task = tokio::task::spawn_blocking(move || {
        scan_now(&input, source, known, counted, started, write_baseline)
    });
    let announcing = announce.map(|target| {
        let events = deck.events.clone();
        let target = target.to_owned();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (files, bytes) = progress.snapshot();
                let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                events.publish_area(&ScanEvent::ScanProgress {
                    target: target.clone(),
                    files,
                    bytes,
                    elapsed_ms,
                });
            }
        })
    });
    let outcome = task.await;
    if let Some(announcing) = announcing {
        announcing.abort();
    }
    outcome.map_err(|error| ScanError::Input(format!("the scan stopped unexpectedly: {error}")))?
}

/// Every version of every secret in the vaults where `caller` may reveal
/// values, as keyed hashes under a key made for this scan (and forgotten
/// with it). Audited first: it decrypts every value, though none leaves.
async fn known_values(
    deck: &Deck,
    caller: &Caller,
    paths: &[String],
) -> Result<(KnownValues, VaultValuesChecked), DeckError> {
    // A token made without the reveal grant may not compare values either:
    // a match says what a value is.
    deck.require_reveal_grant(caller, "vault values").await?;
    let mut vaults = Vec::new();
    for vault in deck.vaults.list().await? {
        if deck.vaults().role(caller, &vault.name).await?.is_some_and(|role| role >= Role::Operator) {
            vaults.push(vault.name);
        }
    }
    deck.audit(
        caller,
        "scan.vault_values",
        &vaults.join(","),
        Outcome::Ok,
        serde_json::json!({ "paths": paths }),
    )
    .await?;
    let mut key = zeroize::Zeroizing::new([0_u8; 32]);
    getrandom::fill(key.as_mut_slice())
        .map_err(|error| ScanError::Input(format!("no randomness for the scan's key: {error}")))?;
    let mut known = KnownValues::new(*key);
    let mut versions = 0;
    for vault in &vaults {
        for secret in deck.vaults.secrets(Some(vault)).await? {
            for version in deck.vaults.history(vault, &secret.name).await? {
                let value = deck.vaults.get(vault, &secret.name, Some(version.version)).await?;
                known.add(
                    value.value.as_bytes(),
                    KnownValue {
                        name: format!("{vault}/{}", secret.name),
                        version: version.version,
                        current: version.current,
                    },
                );
                versions += 1;
            }
        }
    }
    let checked = VaultValuesChecked { versions, not_looked_for: known.not_looked_for() as u64, vaults };
    Ok((known, checked))
}

fn scan_now(
    input: &ScanInput,
    source: Source,
    known: Option<(KnownValues, VaultValuesChecked)>,
    progress: std::sync::Arc<opsdeck_scan::Progress>,
    started: Instant,
    write_baseline: bool,
) -> Result<ScanReport, DeckError> {
    let mut rules = RuleSet::built_in().map_err(ScanError::from)?;
    for file in &input.rule_files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| ScanError::Input(format!("the rules file {file} cannot be read: {error}")))?;
        let before = rules.rules().len();
        rules.add_toml(file, &text).map_err(ScanError::from)?;
        // A rule of the user's that misses its own examples (or finds a
        // counter-example) is refused, as the built-in rules' tests refuse theirs.
        if let Some(failure) = rules.rules()[before..].iter().flat_map(|rule| rule.check_examples()).next() {
            return Err(ScanError::Input(format!(
                "the rules file {file} has a rule that fails its examples: {failure}"
            ))
            .into());
        }
    }
    let descriptions: std::collections::HashMap<String, String> = rules
        .rules()
        .iter()
        .map(|rule| (rule.id().to_owned(), rule.definition.description.clone()))
        .collect();
    let rule_count = rules.rules().len() as u64;
    let mut scanner = Scanner::new(rules).map_err(ScanError::from)?;
    let mut vault_values = None;
    if let Some((values, checked)) = known {
        scanner = scanner.with_known_values(values);
        vault_values = Some(checked);
    }
    let mut options = WalkOptions { respect_ignores: !input.no_ignore, ..WalkOptions::default() };
    if let Some(megabytes) = input.max_file_mb {
        if megabytes == 0 {
            return Err(ScanError::Input("the largest file to scan must be at least 1 MB".to_owned()).into());
        }
        options.max_file_bytes = megabytes.saturating_mul(1024 * 1024);
    }
    let max_file_bytes = options.max_file_bytes;
    options.progress = Some(progress.clone());
    let known = match (&input.baseline, write_baseline) {
        (Some(file), false) => Some(Baseline::load(std::path::Path::new(file))?),
        _ => None,
    };
    let mut commits = 0;
    let (found, skipped, files, bytes) = match source {
        Source::Paths(paths) => {
            let walked = opsdeck_scan::scan_paths(&scanner, &paths, &options);
            let found = walked.findings.into_iter().map(|finding| Found {
                relative: relative_path(&finding.path, &paths),
                path: finding.path.display().to_string(),
                secret: finding.found,
                commit: None,
            });
            (found.collect::<Vec<_>>(), walked.skipped, walked.files, walked.bytes)
        }
        Source::Staged { root, files } => {
            let mut report = opsdeck_scan::WalkReport::default();
            for (name, contents) in files {
                opsdeck_scan::scan_contents(&scanner, &root.join(name), &contents, &options, &mut report);
            }
            opsdeck_scan::sort_report(&mut report);
            let roots = [root];
            let found = report.findings.into_iter().map(|finding| Found {
                relative: relative_path(&finding.path, &roots),
                path: finding.path.display().to_string(),
                secret: finding.found,
                commit: None,
            });
            (found.collect(), report.skipped, report.files, report.bytes)
        }
        Source::History { root, mut options } => {
            options.max_blob_bytes = max_file_bytes;
            options.progress = Some(progress);
            let history = opsdeck_scan::scan_history(&scanner, &root, &options)?;
            commits = history.commits;
            let found = history.findings.into_iter().map(|finding| Found {
                path: root.join(&finding.path).display().to_string(),
                relative: finding.path,
                secret: finding.found,
                commit: Some(FindingCommit {
                    date: chrono::DateTime::from_timestamp(finding.commit.seconds, 0)
                        .map(|date| date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                    id: finding.commit.id,
                    author: finding.commit.author,
                }),
            });
            (found.collect(), history.skipped, history.blobs, history.bytes)
        }
    };
    let mut baselined = 0;
    let findings: Vec<ScanFinding> = found
        .into_iter()
        .map(|found| ScanFinding {
            fingerprint: opsdeck_scan::fingerprint(
                &found.secret.rule,
                &found.relative,
                &found.secret.secret_hash,
            ),
            relative_path: found.relative,
            path: found.path,
            line: found.secret.line as u64,
            column: found.secret.column as u64,
            description: descriptions.get(&found.secret.rule).cloned().unwrap_or_else(|| {
                if found.secret.rule == KNOWN_VALUE_RULE {
                    "A value held in one of your vaults".to_owned()
                } else {
                    String::new()
                }
            }),
            rule: found.secret.rule,
            redacted: found.secret.redacted,
            context: found.secret.context,
            secret_hash: found.secret.secret_hash,
            commit: found.commit,
            vault_secret: found.secret.known.as_ref().map(|known| known.name.clone()),
            version: found.secret.known.as_ref().map(|known| known.version),
            current: found.secret.known.as_ref().map(|known| known.current),
            encoding: found.secret.encoding.map(|encoding| encoding.name().to_owned()),
        })
        .filter(|finding| {
            let known = known.as_ref().is_some_and(|baseline| baseline.contains(&finding.fingerprint));
            baselined += u64::from(known);
            !known
        })
        .collect();
    let mut findings = findings;
    let allowed = findings::drop_allowed(&mut findings, &input.allow_paths)?;
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
    let skipped = skipped
        .into_iter()
        .map(|skip| ScanSkipped { path: skip.path.display().to_string(), reason: skip.reason })
        .collect();
    Ok(ScanReport {
        findings,
        skipped,
        files,
        bytes,
        commits,
        rules: rule_count,
        baselined,
        allowed,
        baseline_written,
        vault_values,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date and time, as seconds
/// since the Unix epoch.
fn parse_since(text: &str) -> Result<i64, ScanError> {
    let text = text.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(midnight.and_utc().timestamp());
        }
    }
    chrono::DateTime::parse_from_rfc3339(text).map(|when| when.timestamp()).map_err(|_| {
        ScanError::Input(format!(
            "`{text}` is not a date: give YYYY-MM-DD, or a date and time such as 2026-01-31T12:00:00Z"
        ))
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
        "Scans files and folders of this machine, or a git repository's history, for hardcoded secrets \
        (provider tokens, private keys, passwords in URLs and assignments) and reports each with its place \
        and the secret redacted.";
    // A read (it changes nothing), sent as a body: its paths are a list.
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/scan";
    const MACHINE_INPUTS: &'static [&'static str] = &["paths", "rule_files", "baseline"];

    async fn run(deck: &Deck, caller: &Caller, input: ScanInput) -> Result<ScanReport, DeckError> {
        scan(deck, caller, input).await
    }
}

/// This area's operations in the catalogue.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    vec![
        crate::catalogue::entry::<ScanRun>(),
        crate::catalogue::entry::<BaselineUpdate>(),
        crate::catalogue::entry::<HookInstall>(),
        crate::catalogue::entry::<findings::TargetList>(),
        crate::catalogue::entry::<findings::TargetSave>(),
        crate::catalogue::entry::<findings::TargetRemove>(),
        crate::catalogue::entry::<findings::TargetRunNow>(),
        crate::catalogue::entry::<findings::FindingList>(),
        crate::catalogue::entry::<findings::FindingMark>(),
    ]
}
