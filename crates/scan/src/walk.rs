//! Scanning files and folders: walked as ripgrep walks them (the `ignore`
//! crate: `.gitignore` and `.ignore` respected, in parallel), hidden files
//! included (`.env` files are where secrets hide) but never `.git` itself
//! (history is scanned as history). A file that cannot be scanned — binary,
//! too large, unreadable, a symlink — is a note with the reason, and the
//! scan goes on.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::engine::{RawFinding, Scanner};

/// Files larger than this are skipped unless the caller raises it.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// How much of a file's start is looked at to tell binary from text.
const BINARY_SNIFF: usize = 8 * 1024;

/// What a scan of paths is told.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Skip files larger than this.
    pub max_file_bytes: u64,
    /// Threads walking and scanning (at least 1).
    pub threads: usize,
    /// Respect `.gitignore`, `.ignore` and git's excludes.
    pub respect_ignores: bool,
    /// Counts files and bytes as they are scanned, for whoever shows progress.
    pub progress: Option<std::sync::Arc<Progress>>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            threads: std::thread::available_parallelism().map_or(2, usize::from).min(8),
            respect_ignores: true,
            progress: None,
        }
    }
}

/// A running scan's counts, read from another thread while it goes on.
#[derive(Debug, Default)]
pub struct Progress {
    files: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Counts one file (or blob) of `bytes` scanned.
    pub fn add(&self, bytes: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.files.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    /// Files and bytes scanned so far.
    pub fn snapshot(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.files.load(Relaxed), self.bytes.load(Relaxed))
    }
}

/// A secret in a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileFinding {
    /// The path as given, joined with the file's path below it.
    pub path: PathBuf,
    /// What the engine found.
    #[serde(flatten)]
    pub found: FoundSecret,
}

/// The engine's finding, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundSecret {
    /// The rule's id.
    pub rule: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (bytes).
    pub column: usize,
    /// The secret, redacted.
    #[serde(rename = "match")]
    pub redacted: String,
    /// Its line, the secret redacted.
    pub context: String,
    /// A slow, salted hash of rule and secret (stable when lines move).
    pub secret_hash: String,
    /// For a known value: which one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::known::KnownValue>,
    /// How the secret was encoded where it was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<crate::known::Encoding>,
}

impl From<RawFinding> for FoundSecret {
    fn from(raw: RawFinding) -> Self {
        FoundSecret {
            rule: raw.rule,
            line: raw.line,
            column: raw.column,
            redacted: raw.redacted,
            context: raw.context,
            secret_hash: raw.secret_hash,
            known: raw.known,
            encoding: raw.encoding,
        }
    }
}

/// A path the scan could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPath {
    /// The path.
    pub path: PathBuf,
    /// Why, in words.
    pub reason: String,
}

/// What a scan of paths found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WalkReport {
    /// Secrets, by path then line.
    pub findings: Vec<FileFinding>,
    /// Paths not scanned, with the reason.
    pub skipped: Vec<SkippedPath>,
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// Scans every file under `paths` (files or folders). A path that does not
/// exist is an error of the caller's; call [`check_paths`] first.
pub fn scan_paths(scanner: &Scanner, paths: &[PathBuf], options: &WalkOptions) -> WalkReport {
    let report = Mutex::new(WalkReport::default());
    let Some((first, rest)) = paths.split_first() else { return WalkReport::default() };
    let mut builder = ignore::WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .hidden(false)
        .git_ignore(options.respect_ignores)
        .git_exclude(options.respect_ignores)
        .git_global(false)
        .ignore(options.respect_ignores)
        .parents(options.respect_ignores)
        .require_git(false)
        .follow_links(false)
        .threads(options.threads.max(1))
        .filter_entry(|entry| entry.file_name() != ".git");
    builder.build_parallel().run(|| {
        let report = &report;
        let mut buffer = Vec::new();
        Box::new(move |entry| {
            let mut local = WalkReport::default();
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    match entry.file_type() {
                        Some(kind) if kind.is_file() => {
                            scan_file(scanner, path, options, &mut buffer, &mut local)
                        }
                        Some(kind) if kind.is_symlink() => local.skipped.push(SkippedPath {
                            path: path.to_path_buf(),
                            reason: "a symbolic link (not followed)".to_owned(),
                        }),
                        _ => {}
                    }
                }
                Err(error) => local.skipped.push(SkippedPath {
                    path: walk_error_path(&error).unwrap_or_default(),
                    reason: walk_error_text(&error),
                }),
            }
            if !local.findings.is_empty() || !local.skipped.is_empty() || local.files > 0 {
                let mut shared = report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                shared.findings.append(&mut local.findings);
                shared.skipped.append(&mut local.skipped);
                shared.files += local.files;
                shared.bytes += local.bytes;
            }
            ignore::WalkState::Continue
        })
    });
    let mut report = report.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    report.findings.sort_by(|a, b| {
        (&a.path, a.found.line, a.found.column).cmp(&(&b.path, b.found.line, b.found.column))
    });
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report
}

/// Each path that does not exist or cannot be read, with why.
pub fn check_paths(paths: &[PathBuf]) -> Result<(), String> {
    if paths.is_empty() {
        return Err("give a file or folder to scan".to_owned());
    }
    for path in paths {
        if let Err(error) = std::fs::metadata(path) {
            return Err(format!("{} cannot be scanned: {error}", path.display()));
        }
    }
    Ok(())
}

/// Reads one file into `buffer` (kept by the walker's thread, so its pages
/// are not mapped and zeroed again for every file) and scans it.
fn scan_file(
    scanner: &Scanner,
    path: &Path,
    options: &WalkOptions,
    buffer: &mut Vec<u8>,
    report: &mut WalkReport,
) {
    use std::io::Read as _;
    let skip = |report: &mut WalkReport, reason: String| {
        report.skipped.push(SkippedPath { path: path.to_path_buf(), reason });
    };
    let unreadable = |error: std::io::Error| format!("unreadable: {error}");
    // Opened once, then sized from the open file (no second path lookup).
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) => return skip(report, unreadable(error)),
    };
    let size = match file.metadata() {
        Ok(metadata) => metadata.len(),
        Err(error) => return skip(report, unreadable(error)),
    };
    if size > options.max_file_bytes {
        return skip(report, over_limit_note(size, options.max_file_bytes));
    }
    buffer.clear();
    buffer.reserve(usize::try_from(size).unwrap_or(0).saturating_add(1));
    // The first bytes settle whether it is binary: a binary file is not
    // read any further.
    let head = match (&mut file).take(BINARY_SNIFF as u64).read_to_end(buffer) {
        Ok(read) => read as u64,
        Err(error) => return skip(report, unreadable(error)),
    };
    if !looks_binary(buffer) {
        // One byte past the limit, so a file that grew since it was sized
        // is still seen to be over it.
        let rest = options.max_file_bytes.saturating_add(1).saturating_sub(head);
        if let Err(error) = file.take(rest).read_to_end(buffer) {
            return skip(report, unreadable(error));
        }
    }
    scan_contents(scanner, path, buffer, options, report);
    if buffer.capacity() > KEPT_BUFFER {
        *buffer = Vec::new();
    }
}

/// A walker thread keeps a buffer up to this size between files.
const KEPT_BUFFER: usize = 16 * 1024 * 1024;

/// Scans the contents of one file (read from disk, or a blob from git's
/// index) known as `path`: binary and oversized contents are notes.
pub fn scan_contents(
    scanner: &Scanner,
    path: &Path,
    data: &[u8],
    options: &WalkOptions,
    report: &mut WalkReport,
) {
    if data.len() as u64 > options.max_file_bytes {
        report.skipped.push(SkippedPath {
            path: path.to_path_buf(),
            reason: over_limit_note(data.len() as u64, options.max_file_bytes),
        });
        return;
    }
    if looks_binary(data) {
        report.skipped.push(SkippedPath { path: path.to_path_buf(), reason: BINARY_NOTE.to_owned() });
        return;
    }
    report.files += 1;
    report.bytes += data.len() as u64;
    scanner.scan_bytes(data, |raw| {
        report.findings.push(FileFinding { path: path.to_path_buf(), found: raw.into() });
    });
    if let Some(progress) = &options.progress {
        progress.add(data.len() as u64);
    }
}

/// Why a file (or blob) of `size` bytes is not scanned under a `limit`.
pub(crate) fn over_limit_note(size: u64, limit: u64) -> String {
    format!(
        "{} MB, over the {} MB limit for one file (raise it with --max-file-mb)",
        size / (1024 * 1024),
        limit / (1024 * 1024)
    )
}

/// Why a binary file is not scanned.
pub(crate) const BINARY_NOTE: &str = "binary (a NUL byte in its first 8 KiB)";

/// Whether `data` is binary: a NUL byte near its start, as git decides.
pub(crate) fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
}

/// Puts findings in path and line order, and notes in path order (what
/// [`scan_paths`] returns; for reports built with [`scan_contents`]).
pub fn sort_report(report: &mut WalkReport) {
    report.findings.sort_by(|a, b| {
        (&a.path, a.found.line, a.found.column).cmp(&(&b.path, b.found.line, b.found.column))
    });
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
}

fn walk_error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn walk_error_text(error: &ignore::Error) -> String {
    match error {
        ignore::Error::Loop { ancestor, .. } => format!("a link loop back to {}", ancestor.display()),
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => walk_error_text(err),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn scanner() -> Scanner {
        let mut rules = RuleSet::default();
        rules
            .add_toml(
                "t.toml",
                "[[rule]]\nid = \"tok\"\ndescription = \"t\"\nkeywords = [\"tok_\"]\npattern = 'tok_[a-z0-9]{12}'\n",
            )
            .unwrap();
        Scanner::new(rules).unwrap()
    }

    #[test]
    fn a_folder_is_walked_with_its_ignores_and_what_cannot_be_read_is_noted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("src/deep/app.py"), "x = 1\nkey = 'tok_abcdef012345'\n").unwrap();
        std::fs::write(root.join(".env"), "TOKEN=tok_zzzzzz999999\n").unwrap();
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        std::fs::create_dir_all(root.join("build")).unwrap();
        std::fs::write(root.join("build/out.js"), "tok_ignored00000").unwrap();
        std::fs::write(root.join(".git/config"), "tok_inside0git00").unwrap();
        std::fs::write(root.join("image.png"), b"\x89PNG\x00\x00tok_binary000000").unwrap();
        std::fs::write(root.join("latin1.txt"), b"caf\xe9 tok_latin1000000\n").unwrap();
        std::os::unix::fs::symlink(root, root.join("src/loop")).unwrap();

        let report = scan_paths(&scanner(), &[root.to_path_buf()], &WalkOptions::default());
        let found: Vec<(String, usize)> = report
            .findings
            .iter()
            .map(|finding| {
                (finding.path.strip_prefix(root).unwrap().display().to_string(), finding.found.line)
            })
            .collect();
        assert_eq!(
            found,
            [(".env".to_owned(), 1), ("latin1.txt".to_owned(), 1), ("src/deep/app.py".to_owned(), 2)]
        );
        assert!(report.findings[2].path.starts_with(root), "the path as given, joined");
        let skipped: Vec<(String, &str)> = report
            .skipped
            .iter()
            .map(|skip| (skip.path.strip_prefix(root).unwrap().display().to_string(), skip.reason.as_str()))
            .collect();
        assert!(
            skipped.contains(&("image.png".to_owned(), "binary (a NUL byte in its first 8 KiB)")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|(path, reason)| path == "src/loop" && reason.contains("symbolic link")),
            "{skipped:?}"
        );
        assert_eq!(report.files, 4, ".env, .gitignore, latin1.txt, app.py");

        let small = WalkOptions { max_file_bytes: 10, ..WalkOptions::default() };
        let counted = std::sync::Arc::new(Progress::default());
        let watched = WalkOptions { progress: Some(counted.clone()), ..WalkOptions::default() };
        let watched_report = scan_paths(&scanner(), &[root.to_path_buf()], &watched);
        assert_eq!(
            counted.snapshot(),
            (watched_report.files, watched_report.bytes),
            "progress counts what the report does"
        );
        assert_eq!(watched_report.files, 4);
        let report = scan_paths(&scanner(), &[root.join("src")], &small);
        assert!(report.findings.is_empty());
        assert!(
            report.skipped.iter().any(|skip| skip.reason.contains("over the 0 MB limit")),
            "{:?}",
            report.skipped
        );

        assert!(check_paths(&[root.join("missing")]).unwrap_err().contains("missing cannot be scanned"));
        assert!(check_paths(&[]).is_err());
    }
}
