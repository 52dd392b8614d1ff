//! Files the deck writes for a person (a rendered config, an injected
//! template, an export bundle): private (mode 0600), replaced atomically,
//! and never written over words OpsDeck did not write (see
//! `opsdeck_core::written_files`) unless the person says so.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use opsdeck_core::written_files;

use crate::{Deck, DeckError};

impl Deck {
    /// Writes `bytes` to `path` (mode 0600, through a temporary file in the
    /// same directory renamed over it). Refused when `path` exists and was
    /// not written by OpsDeck, or changed since it was, unless `force`.
    pub async fn write_private_output(
        &self,
        path: &Path,
        bytes: &[u8],
        force: bool,
    ) -> Result<(), DeckError> {
        let path = std::path::absolute(path)
            .map_err(|error| changed(path, format!("its path cannot be used ({error})")))?;
        if !force {
            written_files::check_replaceable(&self.store, &path).await?;
        }
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let write_error = |error: std::io::Error| changed(&path, format!("it cannot be written ({error})"));
        let mut file = tempfile::NamedTempFile::new_in(&directory).map_err(write_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(write_error)?;
        }
        file.write_all(bytes).map_err(write_error)?;
        file.as_file().sync_all().map_err(write_error)?;
        file.persist(&path).map_err(|error| write_error(error.error))?;
        written_files::record_written(&self.store, &path).await?;
        Ok(())
    }
}

fn changed(path: &Path, why: String) -> DeckError {
    opsdeck_core::CoreError::OutputFileChanged { path: path.to_path_buf(), why }.into()
}
