//! Files OpsDeck writes that a person may also edit (`config render -o`,
//! `inject -o`, export bundles), and whether they changed since.
//!
//! OpsDeck never replaces a file it did not write, or one changed since it
//! wrote it, unless told to: the person's words would be lost without a
//! trace. Right after each write the file's fingerprint is recorded —
//! device, inode, size and modification time, never its content (rendered
//! files hold secrets) — and before the next write the file on disk is
//! compared with it.

use std::path::Path;

use crate::clock::now_unix_ms;
use crate::{CoreError, Store};

/// What a file on disk looks like, without reading it: an editor's save
/// changes the modification time (and usually the inode).
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let metadata = std::fs::metadata(path)?;
    let modified = metadata
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(format!("{}:{}:{}:{modified}", metadata.dev(), metadata.ino(), metadata.len()))
    }
    #[cfg(not(unix))]
    {
        Ok(format!("{}:{modified}", metadata.len()))
    }
}

/// May `path` be replaced? Yes when it does not exist, or when it is exactly
/// as OpsDeck last wrote it; otherwise [`CoreError::OutputFileChanged`]
/// saying why (a caller passing `force` skips this check).
pub async fn check_replaceable(store: &Store, path: &Path) -> Result<(), CoreError> {
    let now = match fingerprint(path) {
        Ok(now) => now,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(CoreError::OutputFileChanged {
                path: path.to_path_buf(),
                why: format!("it cannot be looked at ({error})"),
            })
        }
    };
    let recorded: Option<(String, i64)> =
        sqlx::query_as("SELECT fingerprint, written_at_unix_ms FROM written_files WHERE path = $1")
            .bind(path.display().to_string())
            .fetch_optional(store.pool())
            .await?;
    match recorded {
        Some((fingerprint, _)) if fingerprint == now => Ok(()),
        Some((_, written_at)) => Err(CoreError::OutputFileChanged {
            path: path.to_path_buf(),
            why: format!(
                "it changed since OpsDeck wrote it {}",
                chrono::DateTime::from_timestamp_millis(written_at)
                    .map(|time| format!("at {}", time.format("%Y-%m-%d %H:%M:%S UTC")))
                    .unwrap_or_default()
            ),
        }),
        None => Err(CoreError::OutputFileChanged {
            path: path.to_path_buf(),
            why: "it exists and was not written by OpsDeck".to_owned(),
        }),
    }
}

/// Records what `path` looks like right after OpsDeck wrote it.
pub async fn record_written(store: &Store, path: &Path) -> Result<(), CoreError> {
    let fingerprint = fingerprint(path).map_err(|error| CoreError::OutputFileChanged {
        path: path.to_path_buf(),
        why: format!("it vanished right after it was written ({error})"),
    })?;
    sqlx::query(
        "INSERT INTO written_files (path, fingerprint, written_at_unix_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (path) DO UPDATE SET fingerprint = excluded.fingerprint, written_at_unix_ms = excluded.written_at_unix_ms",
    )
    .bind(path.display().to_string())
    .bind(fingerprint)
    .bind(now_unix_ms())
    .execute(store.pool())
    .await?;
    Ok(())
}
