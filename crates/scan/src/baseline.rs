//! Baselines: findings already known, kept in a file (committed beside the
//! code, used in CI), are not reported again. A finding is known by its
//! fingerprint — the rule, the file's path below the scanned folder and the
//! secret's hash — so it stays known when lines move above it, and a new
//! secret in the same place is new.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ScanError;

/// The baseline file's format version.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`BASELINE_VERSION`].
    pub version: u32,
    /// The known findings.
    pub findings: Vec<BaselineEntry>,
}

/// One known finding (the path and line say where it was, for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// See [`fingerprint`].
    pub fingerprint: String,
    /// The rule.
    pub rule: String,
    /// The path below the scanned folder.
    pub path: String,
    /// The line it was on when the baseline was written.
    pub line: usize,
}

/// A finding's fingerprint: SHA-256 of the rule, the path below the
/// scanned folder and the secret's hash, 32 hex characters.
pub fn fingerprint(rule: &str, relative_path: &str, secret_hash: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule, relative_path, secret_hash] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// `path` below whichever of `roots` holds it (a root that is a file gives
/// its file name), with `/` separators; `path` itself when none does.
pub fn relative_path(path: &Path, roots: &[PathBuf]) -> String {
    for root in roots {
        if root.is_file() && path == root {
            return root
                .file_name()
                .map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
        }
        if let Ok(below) = path.strip_prefix(root) {
            let parts: Vec<String> =
                below.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
            return parts.join("/");
        }
    }
    path.display().to_string()
}

impl Baseline {
    /// Reads a baseline file; a missing, unreadable or malformed one is an
    /// error saying which and how to make one.
    pub fn load(file: &Path) -> Result<Baseline, ScanError> {
        let text = std::fs::read_to_string(file).map_err(|error| {
            ScanError::Input(format!(
                "the baseline {} cannot be read: {error}; write one with --update-baseline",
                file.display()
            ))
        })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|error| {
            ScanError::Input(format!("the baseline {} is not a baseline file: {error}", file.display()))
        })?;
        if baseline.version != BASELINE_VERSION {
            return Err(ScanError::Input(format!(
                "the baseline {} is version {}; this OpsDeck reads version {BASELINE_VERSION}",
                file.display(),
                baseline.version
            )));
        }
        Ok(baseline)
    }

    /// Whether a finding with this fingerprint is known.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.findings.iter().any(|entry| entry.fingerprint == fingerprint)
    }

    /// Writes the file whole (a new file renamed over the old, so a reader
    /// never sees half of it).
    pub fn save(&self, file: &Path) -> Result<(), ScanError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|error| ScanError::Input(format!("the baseline could not be encoded: {error}")))?;
        let temporary = file.with_extension("opsdeck-new");
        std::fs::write(&temporary, text + "\n").and_then(|()| std::fs::rename(&temporary, file)).map_err(
            |error| ScanError::Input(format!("the baseline {} cannot be written: {error}", file.display())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_round_trips_and_a_bad_one_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baseline.json");
        let entry = BaselineEntry {
            fingerprint: fingerprint("github-pat", "src/app.py", "abc"),
            rule: "github-pat".to_owned(),
            path: "src/app.py".to_owned(),
            line: 3,
        };
        let baseline = Baseline { version: BASELINE_VERSION, findings: vec![entry.clone()] };
        baseline.save(&file).unwrap();
        let loaded = Baseline::load(&file).unwrap();
        assert_eq!(loaded, baseline);
        assert!(loaded.contains(&entry.fingerprint));
        assert!(!loaded.contains(&fingerprint("github-pat", "src/app.py", "abd")));
        assert_ne!(fingerprint("a", "bc", "d"), fingerprint("ab", "c", "d"), "parts are separated");

        let missing = Baseline::load(&dir.path().join("none.json")).unwrap_err();
        assert!(
            missing.to_string().contains("cannot be read")
                && missing.to_string().contains("--update-baseline")
        );
        std::fs::write(&file, "{\"version\": 1, \"findings\": [").unwrap();
        let cut = Baseline::load(&file).unwrap_err();
        assert!(cut.to_string().contains("is not a baseline file"), "{cut}");
        std::fs::write(&file, "{\"version\": 9, \"findings\": []}").unwrap();
        assert!(Baseline::load(&file).unwrap_err().to_string().contains("is version 9"));
    }

    #[test]
    fn paths_are_taken_below_the_scanned_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("one.env"), "").unwrap();
        assert_eq!(relative_path(&root.join("src/app.py"), std::slice::from_ref(&root)), "src/app.py");
        assert_eq!(relative_path(&root.join("one.env"), &[root.join("one.env")]), "one.env");
        assert_eq!(relative_path(Path::new("/elsewhere/x"), &[root]), "/elsewhere/x");
    }
}
