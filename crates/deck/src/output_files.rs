//! Files the deck writes for a person (a rendered config, an injected
//! template, an export bundle): private (mode 0600), replaced atomically,
//! and never written over words OpsDeck did not write (see
//! `opsdeck_core::written_files`) unless the person says so.

use std::path::Path;

use opsdeck_core::filesystem::FileMode;
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
        let write_error = |error: std::io::Error| changed(&path, format!("it cannot be written ({error})"));
        opsdeck_core::filesystem::write_atomically(&path, bytes, FileMode::Exactly(0o600))
            .map_err(write_error)?;
        written_files::record_written(&self.store, &path).await?;
        Ok(())
    }
}

fn changed(path: &Path, why: String) -> DeckError {
    opsdeck_core::CoreError::OutputFileChanged { path: path.to_path_buf(), why }.into()
}
