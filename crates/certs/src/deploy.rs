//! Deploy hooks: after each issuance or renewal, write the certificate, chain
//! and key where a server reads them, and/or run a command (reload nginx).
//! Files are replaced atomically (write a sibling, then rename), so a server
//! never reads half a file; the key file is created 0600 unless told otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::challenges::tail;
use crate::CertError;

/// What to do after a certificate is issued or renewed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
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
            u32::from_str_radix(mode, 8).ok().filter(|mode| *mode <= 0o777).ok_or_else(|| {
                CertError::Invalid(format!("key mode {mode:?} is not an octal mode like 600"))
            })?;
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
                self.key_mode.as_deref().and_then(|mode| u32::from_str_radix(mode, 8).ok()).unwrap_or(0o600),
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

fn write_atomically(path: &Path, content: &[u8], mode: u32) -> Result<(), CertError> {
    let failed =
        |error: std::io::Error| CertError::Deploy(format!("cannot write {}: {error}", path.display()));
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory).map_err(failed)?;
    let mut temporary: PathBuf = path.to_path_buf();
    temporary.set_file_name(format!(
        ".{}.opsdeck-new",
        path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(&temporary).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(failed)?;
    }
    file.write_all(content).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}
