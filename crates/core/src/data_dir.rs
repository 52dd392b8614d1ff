//! The data dir: the one directory where a deck keeps its files (the SQLite store,
//! later logs and backups).
//!
//! It is checked before anything is written so that a wrong path fails with a
//! message naming the path, rather than somewhere deep inside the database driver.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::CoreError;

/// A directory that exists and that this process has proved it can write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// The platform's default data dir (`~/.local/share/opsdeck` on Linux,
    /// `~/Library/Application Support/dev.opsdeck.OpsDeck` on macOS,
    /// `%APPDATA%\OpsDeck\OpsDeck\data` on Windows).
    pub fn platform_default() -> Result<PathBuf, CoreError> {
        directories::ProjectDirs::from("dev", "OpsDeck", "OpsDeck")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or(CoreError::NoDefaultDataDir)
    }

    /// Uses `path` as the data dir: creates it (and its parents) when missing, and
    /// checks that it is a directory this process can write to.
    pub fn prepare(path: &Path) -> Result<DataDir, CoreError> {
        if path.exists() && !path.is_dir() {
            return Err(CoreError::DataDirNotADirectory { path: path.to_path_buf() });
        }
        let not_writable = |error: std::io::Error| CoreError::DataDirNotWritable {
            path: path.to_path_buf(),
            reason: error.to_string(),
        };
        let created = !path.exists();
        fs::create_dir_all(path).map_err(not_writable)?;
        let path = fs::canonicalize(path).map_err(not_writable)?;
        // A data dir OpsDeck makes is the user's alone (the store, logs and
        // keys' salts live there); one the user made keeps its permissions.
        #[cfg(unix)]
        if created {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(not_writable)?;
        }

        // Permission bits do not tell the whole story (read-only mounts, ACLs, root),
        // so prove writability by writing.
        let probe = path.join(format!(".write-check-{}", std::process::id()));
        let written = fs::File::create(&probe).and_then(|mut file| file.write_all(b"ok"));
        let _ = fs::remove_file(&probe);
        written.map_err(|error| CoreError::DataDirNotWritable {
            path: path.clone(),
            reason: error.to_string(),
        })?;

        Ok(DataDir { path })
    }

    /// The directory itself (absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the embedded SQLite store lives inside the data dir.
    pub fn sqlite_store_path(&self) -> PathBuf {
        self.path.join("opsdeck.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_created() {
        let temp = tempfile::tempdir().unwrap();
        let wanted = temp.path().join("a/b/c");
        let dir = DataDir::prepare(&wanted).unwrap();
        assert!(dir.path().is_dir());
        assert_eq!(dir.sqlite_store_path(), dir.path().join("opsdeck.db"));
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_opsdeck_makes_is_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let temp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(&temp.path().join("deck")).unwrap();
        assert_eq!(fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777, 0o700);
        // One the user made keeps what the user chose.
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o750)).unwrap();
        DataDir::prepare(temp.path()).unwrap();
        assert_eq!(fs::metadata(temp.path()).unwrap().permissions().mode() & 0o777, 0o750);
    }

    #[test]
    fn a_file_is_refused_and_left_untouched() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("not-a-dir");
        fs::write(&file, "keep me").unwrap();
        let error = DataDir::prepare(&file).unwrap_err();
        assert_eq!(error.code(), "data_dir_not_a_directory");
        assert!(error.to_string().contains("not-a-dir"));
        assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
    }

    #[test]
    fn a_path_below_a_file_is_not_writable() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("file");
        fs::write(&file, "").unwrap();
        let error = DataDir::prepare(&file.join("sub")).unwrap_err();
        assert_eq!(error.code(), "data_dir_not_writable");
    }
}
