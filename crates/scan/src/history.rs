//! Git history: every blob of every commit, each read once. Commits are
//! visited oldest first; a commit's tree is walked only where it differs
//! from what was already seen (a subtree seen before is skipped whole, as
//! its blobs were read with it), so a file's unchanged contents are never
//! scanned twice however many commits carry them. A finding names the
//! commit that first brought the blob in — its id, author and date — and
//! a secret that stays in a file across edits is reported once, at the
//! commit that added it.
//!
//! Objects come straight from the object database (`gix`); no `git`
//! process is started. An object that cannot be read is a note with the
//! reason, and the scan goes on.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use gix::ObjectId;
use serde::Serialize;

use crate::engine::Scanner;
use crate::walk::{FoundSecret, SkippedPath};
use crate::ScanError;

/// What a history scan is told.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// A revision (branch, tag, commit) whose history is scanned; without
    /// one, the history of every branch and tag, and of `HEAD`.
    pub branch: Option<String>,
    /// Commits older than this (seconds since the Unix epoch) are left out.
    pub since: Option<i64>,
    /// Blobs larger than this are skipped, with a note.
    pub max_blob_bytes: u64,
    /// Threads reading and scanning blobs (at least 1).
    pub threads: usize,
    /// Counts blobs and bytes as they are scanned.
    pub progress: Option<std::sync::Arc<crate::walk::Progress>>,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            branch: None,
            since: None,
            max_blob_bytes: crate::walk::DEFAULT_MAX_FILE_BYTES,
            threads: std::thread::available_parallelism().map_or(2, usize::from).min(8),
            progress: None,
        }
    }
}

/// A commit, as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    /// The commit's id (hex).
    pub id: String,
    /// Its author, `Name <email>`.
    pub author: String,
    /// When it was authored, seconds since the Unix epoch.
    pub seconds: i64,
}

/// A secret in history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryFinding {
    /// The file's path in the repository (`/`-separated).
    pub path: String,
    /// The commit that first brought it in.
    pub commit: CommitInfo,
    /// What the engine found.
    #[serde(flatten)]
    pub found: FoundSecret,
}

/// What a history scan found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryReport {
    /// Secrets, each once, by path then line.
    pub findings: Vec<HistoryFinding>,
    /// Blobs and objects not scanned, each with why (the path names the
    /// commit: `path@abbreviated-id`).
    pub skipped: Vec<SkippedPath>,
    /// Commits visited.
    pub commits: u64,
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// A blob to scan: where it was first seen.
struct BlobJob {
    id: ObjectId,
    path: String,
    commit: usize,
}

/// Scans the history of the git repository at `repository` (its work tree
/// or its `.git`). A folder that is not a readable repository, or a
/// revision that does not exist, is an error; an object that cannot be
/// read is a note.
pub fn scan_history(
    scanner: &Scanner,
    repository: &Path,
    options: &HistoryOptions,
) -> Result<HistoryReport, ScanError> {
    let mut repo = gix::open(repository).map_err(|error| {
        ScanError::Input(format!(
            "{} is not a git repository that can be read ({error}): give the folder holding `.git`, or repair it (`git fsck` says what is damaged)",
            repository.display()
        ))
    })?;
    // Trees are read once each; commits twice (walk, then author): a small
    // cache saves the second read.
    repo.object_cache_size_if_unset(16 * 1024 * 1024);
    let (tips, notes) = tips(&repo, options.branch.as_deref())?;
    let mut report = HistoryReport { skipped: notes, ..HistoryReport::default() };
    let commits = commits_oldest_first(&repo, tips, options.since, &mut report)?;
    report.commits = commits.len() as u64;
    let jobs = new_blobs(&repo, &commits, &mut report);
    let scanned = scan_blobs(scanner, &repo.into_sync(), &jobs, &commits, options);
    report.blobs = scanned.blobs;
    report.bytes = scanned.bytes;
    report.skipped.extend(scanned.skipped);
    report.findings = first_appearances(scanned.findings);
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.skipped.dedup();
    Ok(report)
}

/// Where the walk starts: the revision given, or every branch, tag and
/// `HEAD`. A reference that cannot be read is a note (the others are still
/// walked); when none can be, that is the error.
fn tips(
    repo: &gix::Repository,
    branch: Option<&str>,
) -> Result<(Vec<ObjectId>, Vec<SkippedPath>), ScanError> {
    if let Some(revision) = branch {
        let spec = format!("{revision}^{{commit}}");
        let id = repo.rev_parse_single(spec.as_str()).map_err(|error| {
            ScanError::Input(format!("`{revision}` names no commit in this repository: {error}"))
        })?;
        return Ok((vec![id.detach()], Vec::new()));
    }
    let unreadable = |error: &dyn std::fmt::Display| {
        ScanError::Input(format!("the repository's references cannot be read: {error}"))
    };
    let mut tips = Vec::new();
    let mut notes = Vec::new();
    let references = repo.references().map_err(|error| unreadable(&error))?;
    for reference in references.all().map_err(|error| unreadable(&error))? {
        let mut reference = match reference {
            Ok(reference) => reference,
            Err(error) => {
                notes.push(SkippedPath {
                    path: PathBuf::from("(references)"),
                    reason: format!("unreadable: {error}"),
                });
                continue;
            }
        };
        let name = reference.name().as_bstr().to_string();
        match reference.peel_to_id() {
            // Tags may point at trees or blobs: only commits have history.
            Ok(id) => match id.object().map(|object| object.kind) {
                Ok(gix::object::Kind::Commit) => tips.push(id.detach()),
                Ok(gix::object::Kind::Tag) => match reference.peel_to_commit() {
                    Ok(commit) => tips.push(commit.id),
                    Err(error) => {
                        notes.push(SkippedPath { path: PathBuf::from(name), reason: format!("{error}") })
                    }
                },
                Ok(_) => {}
                Err(error) => notes.push(SkippedPath {
                    path: PathBuf::from(name),
                    reason: format!("points at an object that cannot be read: {error}"),
                }),
            },
            Err(error) => notes.push(SkippedPath {
                path: PathBuf::from(name),
                reason: format!("cannot be resolved: {error}"),
            }),
        }
    }
    match repo.head_id() {
        Ok(head) => tips.push(head.detach()),
        // A new repository's HEAD names a branch with no commit yet.
        Err(_) if tips.is_empty() && notes.is_empty() => {}
        Err(error) => notes.push(SkippedPath {
            path: PathBuf::from("HEAD"),
            reason: format!("cannot be resolved: {error}"),
        }),
    }
    tips.sort_unstable();
    tips.dedup();
    if tips.is_empty() {
        return Err(match notes.first() {
            Some(note) => ScanError::Input(format!(
                "no branch or tag of this repository can be read ({}: {}); `git fsck` says what is damaged",
                note.path.display(),
                note.reason
            )),
            None => ScanError::Input("the repository has no commits yet".to_owned()),
        });
    }
    Ok((tips, notes))
}

/// A commit to visit, oldest first.
struct Visit {
    tree: ObjectId,
    info: CommitInfo,
}

fn commits_oldest_first(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    since: Option<i64>,
    report: &mut HistoryReport,
) -> Result<Vec<Visit>, ScanError> {
    use gix::revision::walk::Sorting;
    use gix::traverse::commit::simple::CommitTimeOrder;
    let sorting = match since {
        Some(seconds) => Sorting::ByCommitTimeCutoff { order: CommitTimeOrder::NewestFirst, seconds },
        None => Sorting::ByCommitTime(CommitTimeOrder::NewestFirst),
    };
    let walk = repo
        .rev_walk(tips)
        .sorting(sorting)
        .all()
        .map_err(|error| ScanError::Input(format!("the history cannot be walked: {error}")))?;
    let mut visits = Vec::new();
    for info in walk {
        let info = match info {
            Ok(info) => info,
            Err(error) => {
                report.skipped.push(SkippedPath {
                    path: PathBuf::from("(history)"),
                    reason: format!("the walk stopped at an unreadable commit: {error}"),
                });
                break;
            }
        };
        let commit = match info.object() {
            Ok(commit) => commit,
            Err(error) => {
                report.skipped.push(note_for(&info.id, "(commit)", format!("unreadable commit: {error}")));
                continue;
            }
        };
        let (tree, author) = match (commit.tree_id(), commit.author()) {
            (Ok(tree), Ok(author)) => (tree.detach(), author),
            (Err(error), _) => {
                report.skipped.push(note_for(&info.id, "(commit)", format!("unreadable commit: {error}")));
                continue;
            }
            (_, Err(error)) => {
                report.skipped.push(note_for(&info.id, "(commit)", format!("unreadable author: {error}")));
                continue;
            }
        };
        let seconds = author.time().map_or(0, |time| time.seconds);
        let author = format!("{} <{}>", author.name.to_string().trim(), author.email.to_string().trim());
        visits.push(Visit { tree, info: CommitInfo { id: info.id.to_string(), author, seconds } });
    }
    visits.reverse();
    Ok(visits)
}

fn note_for(commit: &gix::oid, path: &str, reason: String) -> SkippedPath {
    let id = commit.to_string();
    SkippedPath { path: PathBuf::from(format!("{path}@{}", &id[..id.len().min(12)])), reason }
}

/// Every blob not seen before, with the path and commit it was first seen
/// at. A tree seen before is not walked again: all its blobs were seen.
fn new_blobs(repo: &gix::Repository, commits: &[Visit], report: &mut HistoryReport) -> Vec<BlobJob> {
    let mut seen_trees: HashSet<ObjectId> = HashSet::new();
    let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
    let mut jobs = Vec::new();
    let mut pending: Vec<(ObjectId, String)> = Vec::new();
    for (index, commit) in commits.iter().enumerate() {
        pending.push((commit.tree, String::new()));
        while let Some((tree_id, prefix)) = pending.pop() {
            if !seen_trees.insert(tree_id) {
                continue;
            }
            let tree = match repo.find_tree(tree_id) {
                Ok(tree) => tree,
                Err(error) => {
                    let place = if prefix.is_empty() { "(root tree)" } else { prefix.as_str() };
                    report.skipped.push(note_for(&tree_id, place, format!("unreadable tree: {error}")));
                    continue;
                }
            };
            let decoded = match tree.decode() {
                Ok(decoded) => decoded,
                Err(error) => {
                    report.skipped.push(note_for(&tree_id, &prefix, format!("corrupt tree: {error}")));
                    continue;
                }
            };
            for entry in &decoded.entries {
                let path = if prefix.is_empty() {
                    entry.filename.to_string()
                } else {
                    format!("{prefix}/{}", entry.filename)
                };
                let id = entry.oid.to_owned();
                if entry.mode.is_tree() {
                    if !seen_trees.contains(&id) {
                        pending.push((id, path));
                    }
                } else if entry.mode.is_blob() && seen_blobs.insert(id) {
                    jobs.push(BlobJob { id, path, commit: index });
                }
                // Symlinks hold a path, submodules a commit of another
                // repository: neither is this repository's content.
            }
        }
    }
    jobs
}

struct Scanned {
    findings: Vec<(usize, HistoryFinding)>,
    skipped: Vec<SkippedPath>,
    blobs: u64,
    bytes: u64,
}

fn scan_blobs(
    scanner: &Scanner,
    repo: &gix::ThreadSafeRepository,
    jobs: &[BlobJob],
    commits: &[Visit],
    options: &HistoryOptions,
) -> Scanned {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Scanned { findings: Vec::new(), skipped: Vec::new(), blobs: 0, bytes: 0 });
    std::thread::scope(|scope| {
        for _ in 0..options.threads.max(1) {
            scope.spawn(|| {
                let repo = repo.to_thread_local();
                let mut local = Scanned { findings: Vec::new(), skipped: Vec::new(), blobs: 0, bytes: 0 };
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(at) else { break };
                    scan_blob(scanner, &repo, job, commits, options, &mut local);
                }
                if let Ok(mut results) = results.lock() {
                    results.findings.append(&mut local.findings);
                    results.skipped.append(&mut local.skipped);
                    results.blobs += local.blobs;
                    results.bytes += local.bytes;
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scan_blob(
    scanner: &Scanner,
    repo: &gix::Repository,
    job: &BlobJob,
    commits: &[Visit],
    options: &HistoryOptions,
    out: &mut Scanned,
) {
    let commit = &commits[job.commit].info;
    let skip = |reason: String| SkippedPath {
        path: PathBuf::from(format!("{}@{}", job.path, &commit.id[..commit.id.len().min(12)])),
        reason,
    };
    match repo.find_header(job.id) {
        Ok(header) if header.size() > options.max_blob_bytes => {
            out.skipped.push(skip(crate::walk::over_limit_note(header.size(), options.max_blob_bytes)));
            return;
        }
        Ok(_) => {}
        Err(error) => {
            out.skipped.push(skip(format!("unreadable blob {}: {error}", job.id)));
            return;
        }
    }
    let blob = match repo.find_object(job.id) {
        Ok(blob) => blob,
        Err(error) => {
            out.skipped.push(skip(format!("unreadable blob {}: {error}", job.id)));
            return;
        }
    };
    let data = &blob.data;
    if crate::walk::looks_binary(data) {
        out.skipped.push(SkippedPath {
            path: PathBuf::from(&job.path),
            reason: crate::walk::BINARY_NOTE.to_owned(),
        });
        return;
    }
    out.blobs += 1;
    out.bytes += data.len() as u64;
    if let Some(progress) = &options.progress {
        progress.add(data.len() as u64);
    }
    scanner.scan_bytes(data, |raw| {
        out.findings.push((
            job.commit,
            HistoryFinding { path: job.path.clone(), commit: commit.clone(), found: raw.into() },
        ));
    });
}

/// One finding per secret in a file: the one from the oldest commit (a
/// secret that stays in a file while other lines change is in many blobs).
fn first_appearances(found: Vec<(usize, HistoryFinding)>) -> Vec<HistoryFinding> {
    let mut first: HashMap<(String, String, String), (usize, HistoryFinding)> = HashMap::new();
    for (commit, finding) in found {
        let key = (finding.found.rule.clone(), finding.path.clone(), finding.found.secret_hash.clone());
        match first.get(&key) {
            Some((held, earlier)) if (*held, earlier.found.line) <= (commit, finding.found.line) => {}
            _ => {
                first.insert(key, (commit, finding));
            }
        }
    }
    let mut findings: Vec<HistoryFinding> = first.into_values().map(|(_, finding)| finding).collect();
    findings.sort_by(|a, b| {
        (&a.path, a.found.line, a.found.column, &a.found.rule).cmp(&(
            &b.path,
            b.found.line,
            b.found.column,
            &b.found.rule,
        ))
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    const TOKEN_RULE: &str = "[[rule]]\nid = \"tok\"\ndescription = \"a token\"\nkeywords = [\"tok_\"]\n\
        pattern = '\\b(?P<secret>tok_[A-Za-z0-9]{20})\\b'\nexamples = [\"tok_abcdefghij0123456789\"]\n";

    fn scanner() -> Scanner {
        let mut rules = RuleSet::default();
        rules.add_toml("test.toml", TOKEN_RULE).unwrap();
        Scanner::new(rules).unwrap()
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git").arg("-C").arg(dir).args(args).output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// A repository of `count` commits on `main` (commit `i` at second
    /// 1,700,000,000 + 60·i, message `commit i`), each changing
    /// `counter.txt`; `extra(i)` gives more files to write in commit `i`.
    fn repository(count: usize, extra: impl Fn(usize) -> Vec<(&'static str, String)>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let mut stream = String::new();
        for i in 0..count {
            let when = 1_700_000_000 + 60 * i;
            let message = format!("commit {i}");
            stream.push_str(&format!(
                "commit refs/heads/main\nmark :{}\nauthor Ada Lovelace <ada@example.com> {when} +0000\n\
                 committer Ada Lovelace <ada@example.com> {when} +0000\ndata {}\n{message}\n",
                i + 1,
                message.len()
            ));
            if i > 0 {
                stream.push_str(&format!("from :{i}\n"));
            }
            let mut files = vec![("counter.txt", format!("{i}\n"))];
            files.extend(extra(i));
            for (path, contents) in files {
                stream.push_str(&format!("M 644 inline {path}\ndata {}\n{contents}\n", contents.len()));
            }
        }
        let mut child = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stream.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        dir
    }

    fn commit_id(dir: &Path, message: &str) -> String {
        git(dir, &["log", "--format=%H", "--grep", &format!("^{message}$"), "main"]).trim().to_owned()
    }

    #[test]
    fn a_secret_added_and_removed_three_commits_later_is_reported_once_at_the_commit_that_added_it() {
        const SECRET: &str = "tok_abcdefghij0123456789";
        // 10,000 commits; the secret is in settings.py from commit 5,000 to
        // 5,002 (line 2, while line 1 changes), and gone from 5,003.
        let dir = repository(10_000, |i| match i {
            5_000..=5_002 => vec![("app/settings.py", format!("# edit {i}\nKEY = \"{SECRET}\"\n"))],
            5_003.. => vec![("app/settings.py", format!("# edit {i}\nKEY = env('KEY')\n"))],
            _ => vec![],
        });
        let report = scan_history(&scanner(), dir.path(), &HistoryOptions::default()).unwrap();
        assert_eq!(report.commits, 10_000);
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let finding = &report.findings[0];
        assert_eq!((finding.path.as_str(), finding.found.line), ("app/settings.py", 2));
        assert_eq!(finding.commit.id, commit_id(dir.path(), "commit 5000"));
        assert_eq!(finding.commit.author, "Ada Lovelace <ada@example.com>");
        assert_eq!(finding.commit.seconds, 1_700_000_000 + 60 * 5_000);
        assert!(!format!("{report:?}").contains(SECRET), "the report holds the secret");
        // Each blob once: 10,000 counters and 5,000 versions of settings.py.
        assert_eq!(report.blobs, 10_000 + 5_000);

        // Commits before the cut are not visited.
        let since = HistoryOptions { since: Some(1_700_000_000 + 60 * 5_001), ..HistoryOptions::default() };
        let recent = scan_history(&scanner(), dir.path(), &since).unwrap();
        assert_eq!(recent.commits, 10_000 - 5_001);
        assert_eq!(recent.findings.len(), 1, "the secret is still there at 5,001 and 5,002");
        assert_eq!(recent.findings[0].commit.id, commit_id(dir.path(), "commit 5001"));

        // A branch cut before the secret does not have it.
        let before = commit_id(dir.path(), "commit 4999");
        git(dir.path(), &["branch", "old", &before]);
        let branch = HistoryOptions { branch: Some("old".to_owned()), ..HistoryOptions::default() };
        let old = scan_history(&scanner(), dir.path(), &branch).unwrap();
        assert_eq!((old.commits, old.findings.len()), (5_000, 0));
    }

    #[test]
    fn a_missing_repository_a_bad_revision_and_a_corrupt_object_are_explained() {
        let scanner = scanner();
        let plain = tempfile::tempdir().unwrap();
        let error = scan_history(&scanner, plain.path(), &HistoryOptions::default()).unwrap_err();
        assert!(error.to_string().contains("is not a git repository"), "{error}");

        let dir = repository(3, |i| vec![("notes.txt", format!("note {i} tok_abcdefghij012345678{i}\n"))]);
        let branch =
            HistoryOptions { branch: Some("no-such-branch".to_owned()), ..HistoryOptions::default() };
        let error = scan_history(&scanner, dir.path(), &branch).unwrap_err();
        assert!(error.to_string().contains("`no-such-branch` names no commit"), "{error}");

        // Unpack to loose objects, then break one blob: a note, and the
        // other two versions are still scanned.
        let pack = git(dir.path(), &["rev-parse", "--git-dir"]);
        let git_dir = dir.path().join(pack.trim());
        let packs: Vec<PathBuf> = std::fs::read_dir(git_dir.join("objects/pack"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        for file in &packs {
            if file.extension().is_some_and(|extension| extension == "pack") {
                let bytes = std::fs::read(file).unwrap();
                let mut child = Command::new("git")
                    .arg("-C")
                    .arg(dir.path())
                    .arg("unpack-objects")
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(&bytes).unwrap();
                assert!(child.wait().unwrap().success());
            }
        }
        for file in &packs {
            std::fs::remove_file(file).unwrap();
        }
        let blob = git(dir.path(), &["rev-parse", "main~1:notes.txt"]);
        let blob = blob.trim();
        let object = git_dir.join("objects").join(&blob[..2]).join(&blob[2..]);
        let mut permissions = std::fs::metadata(&object).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&object, permissions).unwrap();
        std::fs::write(&object, b"not a zlib stream").unwrap();
        let report = scan_history(&scanner, dir.path(), &HistoryOptions::default()).unwrap();
        assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
        assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
        assert!(
            report.skipped[0].path.display().to_string().starts_with("notes.txt@"),
            "{:?}",
            report.skipped
        );
        assert!(report.skipped[0].reason.contains(blob), "{:?}", report.skipped);
    }
}
