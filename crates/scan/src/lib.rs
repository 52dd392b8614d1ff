//! `opsdeck-scan`: finds hardcoded secrets in files and git history.
//!
//! [`rules`] loads rules as data — TOML files of provider token formats,
//! each with its keywords, pattern, optional checksum and entropy floor,
//! and the strings it must and must not match; the built-in set lives in
//! `rules/*.toml`, and users add their own files. [`engine`] runs them: one
//! Aho-Corasick pass of every keyword over a buffer, then each rule's
//! regular expression only around its keywords (the keyword pass walks
//! four pieces of a buffer side by side, see `keywords.rs`). [`walk`] scans files and
//! folders in parallel, `.gitignore`-aware, noting what it could not read
//! and why. [`history`] reads a git repository's history, each blob once,
//! and names the commit where a secret first appeared. [`entropy`] scores candidates and spots placeholders.
//! [`decode`] finds base64 and percent-encoded blobs, whose decoded text
//! is scanned too; [`known`] looks for the values a team actually holds
//! (as keyed hashes, never in plaintext). [`baseline`] keeps findings already known out of reports; a line with
//! an `opsdeck:allow` comment is not reported either. [`sarif`] writes
//! findings as SARIF 2.1.0 for code scanning.
//!
//! The crate reads files and nothing else: no store, no keys of its own.
//! The deck hands it the rules and the key its secret hashes are made with.

pub mod baseline;
pub mod decode;
pub mod engine;
pub mod entropy;
pub mod history;
mod keywords;
pub mod known;
pub mod rules;
pub mod sarif;
pub mod walk;

pub use baseline::{fingerprint, relative_path, Baseline, BaselineEntry};
pub use engine::{redact, RawFinding, Scanner, ALLOW_MARK, KNOWN_VALUE_RULE};
pub use known::{Encoding, KnownValue, KnownValues};

/// What went wrong in a scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rules file is unreadable or wrong.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// A path or option the scan was given is wrong.
    #[error("{0}")]
    Input(String),
}

impl ScanError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::Rules(_) => "scan_rules_invalid",
            ScanError::Input(_) => "invalid_input",
        }
    }
}
pub use history::{scan_history, CommitInfo, HistoryFinding, HistoryOptions, HistoryReport};
pub use rules::{Rule, RuleError, RuleSet};
pub use walk::{
    check_paths, scan_contents, scan_paths, sort_report, FileFinding, FoundSecret, Progress, SkippedPath,
    WalkOptions, WalkReport,
};
