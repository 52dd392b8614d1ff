//! Deploy hooks: after each issuance or renewal, write the certificate, chain
//! and key where a server reads them, and/or run a command (reload nginx).
//! Files are replaced atomically (write a sibling, then rename), so a server
//! never reads half a file; the key file is created 0600 unless told otherwise.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use opsdeck_core::filesystem::FileMode;

use crate::challenges::tail;
use crate::CertError;

/// What to do after a certificate is issued or renewed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DeployHook {
    /// Write the leaf certificate here (PEM).
    pub cert_path: Option<String>,
    /// Write the intermediates here (PEM).
    pub chain_path: Option<String>,
    /// Write leaf + intermediates here (PEM), what most servers want.
    pub fullchain_path: Option<String>,
    /// Write the private key here (PEM): the only place a key leaves the vault.
    pub key_path: Option<String>,
    /// The key file's mode (octal, default 600).
    pub key_mode: Option<String>,
    /// Run this through `sh -c` afterwards, with the paths in `OPSDECK_CERT_*`.
    pub command: Option<String>,
}

impl DeployHook {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.cert_path.is_none()
            && self.chain_path.is_none()
            && self.fullchain_path.is_none()
            && self.key_path.is_none()
            && self.command.is_none()
    }

    /// Checks the hook before it is kept (mode readable, paths absolute).
    pub fn check(&self) -> Result<(), CertError> {
        if let Some(mode) = &self.key_mode {
            let parsed =
                u32::from_str_radix(mode, 8).ok().filter(|mode| *mode <= 0o777).ok_or_else(|| {
                    CertError::Invalid(format!("key mode {mode:?} is not an octal mode like 600"))
                })?;
            // A private key is for its owner and, at most, a server's group to read.
            if parsed & !0o640 != 0 {
                return Err(CertError::Invalid(format!(
                    "key mode {mode} would let others read or change the private key; use at most 640 (owner read/write, group read)"
                )));
            }
        }
        for path in
            [&self.cert_path, &self.chain_path, &self.fullchain_path, &self.key_path].into_iter().flatten()
        {
            if !Path::new(path).is_absolute() {
                return Err(CertError::Invalid(format!(
                    "deploy path {path:?} must be absolute (the scheduler runs from another directory)"
                )));
            }
        }
        Ok(())
    }

    /// Writes the files and runs the command; returns what was done.
    pub async fn run(&self, leaf_pem: &str, chain_pem: &str, key_pem: &str) -> Result<String, CertError> {
        let mut done = Vec::new();
        let fullchain = format!("{leaf_pem}{chain_pem}");
        let files: [(&Option<String>, &str, u32); 4] = [
            (&self.cert_path, leaf_pem, 0o644),
            (&self.chain_path, chain_pem, 0o644),
            (&self.fullchain_path, &fullchain, 0o644),
            (
                &self.key_path,
                key_pem,
                // Capped at 640 even for a hook stored before the cap (or changed in the store).
                self.key_mode
                    .as_deref()
                    .and_then(|mode| u32::from_str_radix(mode, 8).ok())
                    .map_or(0o600, |mode| mode & 0o640),
            ),
        ];
        for (path, content, mode) in files {
            if let Some(path) = path {
                write_atomically(Path::new(path), content.as_bytes(), mode)?;
                done.push(format!("wrote {path}"));
            }
        }
        if let Some(command) = &self.command {
            // A minimal environment: none of OpsDeck's own secrets reach the hook.
            let mut process = opsdeck_core::child_process::hook_command(command);
            for (name, path) in [
                ("OPSDECK_CERT_PATH", &self.cert_path),
                ("OPSDECK_CHAIN_PATH", &self.chain_path),
                ("OPSDECK_FULLCHAIN_PATH", &self.fullchain_path),
                ("OPSDECK_KEY_PATH", &self.key_path),
            ] {
                if let Some(path) = path {
                    process.env(name, path);
                }
            }
            let output = process
                .output()
                .await
                .map_err(|error| CertError::Deploy(format!("the command could not start: {error}")))?;
            if !output.status.success() {
                let said = String::from_utf8_lossy(&output.stderr);
                return Err(CertError::Deploy(format!(
                    "{} (after {}); the command exited with {}: {}",
                    command,
                    if done.is_empty() { "nothing written".to_owned() } else { done.join(", ") },
                    output.status.code().map_or("a signal".to_owned(), |code| format!("code {code}")),
                    tail(said.trim(), 300)
                )));
            }
            done.push(format!("ran {command}"));
        }
        Ok(done.join("; "))
    }
}

/// Writes `content` to `path` (its directory made first) so readers never
/// see half a file and a planted symlink is never written through (see
/// [`opsdeck_core::filesystem::write_atomically`]).
fn write_atomically(path: &Path, content: &[u8], mode: u32) -> Result<(), CertError> {
    let failed =
        |error: std::io::Error| CertError::Deploy(format!("cannot write {}: {error}", path.display()));
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory).map_err(failed)?;
    opsdeck_core::filesystem::write_atomically(path, content, FileMode::Exactly(mode)).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlink_planted_where_the_key_is_written_never_redirects_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.conf");
        std::fs::write(&victim, "precious").unwrap();
        let key = dir.path().join("tls").join("key.pem");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        // The names an attacker could guess: the old fixed sibling, and a symlink at the target itself.
        std::os::unix::fs::symlink(&victim, dir.path().join("tls/.key.pem.opsdeck-new")).unwrap();
        let hook = DeployHook { key_path: Some(key.display().to_string()), ..DeployHook::default() };
        hook.run("LEAF\n", "CHAIN\n", "KEY\n").await.unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "KEY\n");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

        std::fs::remove_file(&key).unwrap();
        std::os::unix::fs::symlink(&victim, &key).unwrap();
        hook.run("LEAF\n", "CHAIN\n", "KEY2\n").await.unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the symlink's target was written");
        assert!(!std::fs::symlink_metadata(&key).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "KEY2\n");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("tls"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".key.pem.opsdeck-new-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let hook = |mode: &str| DeployHook { key_mode: Some(mode.to_owned()), ..DeployHook::default() };
        for mode in ["600", "640", "400", "440"] {
            hook(mode).check().unwrap_or_else(|error| panic!("{mode}: {error}"));
        }
        for mode in ["644", "604", "660", "666", "700", "777"] {
            let error = hook(mode).check().unwrap_err();
            assert!(error.to_string().contains("at most 640"), "{mode}: {error}");
        }
    }
}
