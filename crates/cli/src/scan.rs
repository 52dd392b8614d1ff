//! `opsdeck scan`: hardcoded secrets in files and folders, in what is
//! staged, or in a repository's git history (the `scan.run` operation),
//! printed for people, as JSON, or as SARIF for code scanning. Exit code 1
//! when anything is found, 0 when clean, 2 on bad input (a missing path,
//! an unreadable rules file, a folder that is not a repository).

use std::path::PathBuf;
use std::process::ExitCode;

use opsdeck::scan::{BaselineUpdate, HookInput, HookInstall, ScanInput, ScanReport, ScanRun};
use opsdeck::{Deck, DeckError};

use crate::{operation, Output};

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ScanFormat {
    /// `path:line:column  rule  redacted match`, then the line.
    Text,
    /// A JSON list of findings: path, line, column, rule, match (redacted)…
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other review tools.
    Sarif,
}

/// `opsdeck scan PATH…`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// Files or folders to scan (folders are walked; `.gitignore` is respected).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How to print findings (`--json` is `--format json`).
    #[arg(long, value_enum, default_value = "text")]
    format: ScanFormat,
    /// A rules file (TOML `[[rule]]` tables) to add to the built-in rules; repeatable.
    #[arg(long = "rules", value_name = "FILE")]
    rule_files: Vec<PathBuf>,
    /// Skip files larger than this (megabytes).
    #[arg(long, value_name = "MB", default_value_t = 100)]
    max_file_mb: u64,
    /// Scan what `.gitignore` and `.ignore` leave out too.
    #[arg(long)]
    no_ignore: bool,
    /// A baseline file (JSON): findings it lists are not reported again.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write this scan's findings into the --baseline file (exit 0).
    #[arg(long, requires = "baseline")]
    update_baseline: bool,
    /// Scan only what is staged for the next commit in the repository at PATH.
    #[arg(long)]
    staged: bool,
    /// Scan the git history of the repository at PATH (every blob of every commit, once) instead of its files.
    #[arg(long, visible_alias = "git", conflicts_with = "staged")]
    history: bool,
    /// With --history: only this branch's history (a branch, tag or commit; default every branch and tag).
    #[arg(long, value_name = "REV", requires = "history")]
    branch: Option<String>,
    /// With --history: leave out commits older than this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "history")]
    since: Option<String>,
    /// Also look for your vaults' secret values (every version, as is, base64 or URL-encoded): a match names the secret and version.
    #[arg(long)]
    vault_values: bool,
    /// Don't report findings in paths matching this pattern (below PATH, e.g. `tests/fixtures/**`); repeatable.
    #[arg(long = "allow-path", value_name = "GLOB")]
    allow_paths: Vec<String>,
    /// Write the repository's pre-commit hook (it runs `opsdeck scan --staged`).
    #[arg(long, conflicts_with_all = ["staged", "update_baseline", "history"])]
    install_hook: bool,
    /// With --install-hook: replace a pre-commit hook OpsDeck did not write.
    #[arg(long, requires = "install_hook")]
    force: bool,
}

pub(crate) async fn run(deck: &Deck, args: ScanArgs, output: Output) -> Result<ExitCode, DeckError> {
    if args.install_hook {
        let [repository] = args.paths.as_slice() else {
            return Err(crate::input_error("--install-hook takes one repository path".to_owned()));
        };
        let input = HookInput { repository: repository.display().to_string(), force: args.force };
        let installed = operation::<HookInstall>(deck, input).await?;
        output.print(&installed, |installed| {
            format!("pre-commit hook written: {} (commits that add a secret are stopped)\n", installed.hook)
        });
        return Ok(ExitCode::SUCCESS);
    }
    let input = ScanInput {
        paths: args.paths.iter().map(|path| path.display().to_string()).collect(),
        rule_files: args.rule_files.iter().map(|path| path.display().to_string()).collect(),
        max_file_mb: Some(args.max_file_mb),
        no_ignore: args.no_ignore,
        baseline: args.baseline.as_ref().map(|path| path.display().to_string()),
        staged: args.staged,
        history: args.history,
        branch: args.branch.clone(),
        since: args.since.clone(),
        vault_values: args.vault_values,
        allow_paths: args.allow_paths.clone(),
    };
    let report = if args.update_baseline {
        operation::<BaselineUpdate>(deck, input).await?
    } else {
        operation::<ScanRun>(deck, input).await?
    };
    if let Some(file) = &report.baseline_written {
        eprintln!("baseline {file} written: {} findings are known from now on", report.findings.len());
        return Ok(ExitCode::SUCCESS);
    }
    for skipped in &report.skipped {
        eprintln!("note: {} was not scanned: {}", skipped.path, skipped.reason);
    }
    let json = matches!(output, Output::Json) || args.format == ScanFormat::Json;
    let printed = if args.format == ScanFormat::Sarif {
        let findings: Vec<opsdeck_scan::sarif::SarifFinding<'_>> = report
            .findings
            .iter()
            .map(|finding| opsdeck_scan::sarif::SarifFinding {
                rule: &finding.rule,
                description: &finding.description,
                path: &finding.relative_path,
                line: finding.line,
                column: finding.column,
                redacted: &finding.redacted,
                fingerprint: &finding.fingerprint,
            })
            .collect();
        let document = opsdeck_scan::sarif::document(&findings, env!("CARGO_PKG_VERSION"));
        eprintln!("{}", summary(&report));
        serde_json::to_string_pretty(&document).map_err(|error| {
            crate::input_error(format!("the SARIF document could not be encoded: {error}"))
        })? + "\n"
    } else if json {
        let document = serde_json::to_string_pretty(&report.findings).map_err(|error| {
            crate::input_error(format!("the findings could not be encoded as JSON: {error}"))
        })?;
        eprintln!("{}", summary(&report));
        document + "\n"
    } else {
        text(&report)
    };
    // A reader that stops early (`| head`) is not an error of the scan's.
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(printed.as_bytes());
    Ok(if report.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn text(report: &ScanReport) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let encoded = finding.encoding.as_ref().map_or(String::new(), |encoding| format!(" ({encoding})"));
        let what = match (&finding.vault_secret, finding.version) {
            (Some(secret), Some(version)) => {
                let current = if finding.current == Some(true) { " (current: rotate it)" } else { "" };
                format!("{secret} version {version}{current}{encoded}")
            }
            _ => format!("{}{encoded}", finding.redacted),
        };
        out.push_str(&format!(
            "{}:{}:{}  {}  {what}\n    {}\n",
            finding.path, finding.line, finding.column, finding.rule, finding.context
        ));
        if let Some(commit) = &finding.commit {
            let short = &commit.id[..commit.id.len().min(12)];
            out.push_str(&format!("    first in commit {short} by {} on {}\n", commit.author, commit.date));
        }
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn summary(report: &ScanReport) -> String {
    let files_with: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|finding| finding.path.as_str()).collect();
    let seconds = report.elapsed_ms as f64 / 1000.0;
    let megabytes = report.bytes as f64 / 1_048_576.0;
    let found = match report.findings.len() {
        0 => "no secrets found".to_owned(),
        1 => "1 secret found".to_owned(),
        count => format!("{count} secrets found in {} files", files_with.len()),
    };
    let allowed = match report.allowed {
        0 => String::new(),
        count => format!("; {count} in allowed paths not shown"),
    };
    let baselined = match report.baselined {
        0 => String::new(),
        count => format!("; {count} known from the baseline not shown"),
    };
    let skipped = match report.skipped.len() {
        0 => String::new(),
        1 => "; 1 path skipped (see the notes above)".to_owned(),
        count => format!("; {count} paths skipped (see the notes above)"),
    };
    let scanned = match report.commits {
        0 => format!("{} files", report.files),
        commits => format!("{commits} commits, {} distinct file versions", report.files),
    };
    let vault_values = match &report.vault_values {
        None => String::new(),
        Some(checked) if checked.vaults.is_empty() => {
            "; no vault values looked for (you may reveal values in no vault)".to_owned()
        }
        Some(checked) => format!(
            "; {} secret versions of {} looked for{}",
            checked.versions - checked.not_looked_for,
            checked.vaults.join(", "),
            match checked.not_looked_for {
                0 => String::new(),
                count => format!(" ({count} too short or not one word: not looked for)"),
            }
        ),
    };
    format!(
        "{found}: {scanned}, {megabytes:.1} MB scanned with {} rules in {seconds:.2} s{vault_values}{baselined}{allowed}{skipped}",
        report.rules
    )
}
