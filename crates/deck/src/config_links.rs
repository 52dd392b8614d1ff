//! Config layers linked to files on disk, through the deck: linking (the
//! file's text stored first, checked like any save), the watcher that turns
//! outside edits into versions (runs in the app and `opsdeck serve`), and
//! writing stored changes back to the file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opsdeck_config::{ConfigError, ConfigLink, ConfigVersion, Format};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Caller, Deck, DeckError, Outcome};

/// How often linked files are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// What one look at a linked file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkSync {
    /// The link.
    pub link: ConfigLink,
    /// `unchanged`, `stored` (a new version) or `refused` (see `error`).
    pub outcome: String,
    /// The version stored.
    pub version: Option<i64>,
    /// Why an edit was not stored.
    pub error: Option<String>,
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes `text` to `path` through a temporary file and a rename, keeping
/// the file's permissions.
fn write_atomically(path: &Path, text: &str) -> Result<(), ConfigError> {
    let failed =
        |error: std::io::Error| ConfigError::Invalid(format!("cannot write {}: {error}", path.display()));
    let permissions = std::fs::metadata(path).map(|metadata| metadata.permissions()).ok();
    let temporary = path.with_extension(format!(
        "{}.opsdeck-tmp",
        path.extension().map(|extension| extension.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    std::fs::write(&temporary, text).map_err(failed)?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(&temporary, permissions).map_err(failed)?;
    }
    std::fs::rename(&temporary, path).map_err(failed)
}

impl Deck {
    /// Links `layer` of `project/env` to `file`: its text is stored now as a
    /// version (checked like any save; refused, nothing linked, when it does
    /// not parse or breaks the schema) unless already stored, then edits to
    /// the file are picked up while the app or `opsdeck serve` runs.
    pub async fn config_link(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        layer: &str,
        file: &Path,
    ) -> Result<(ConfigLink, Option<ConfigVersion>), DeckError> {
        let path = file
            .canonicalize()
            .map_err(|error| ConfigError::Invalid(format!("cannot link {}: {error}", file.display())))?;
        let shown = path.display().to_string();
        let format = Format::from_path(&shown)?;
        let text = std::fs::read_to_string(&path).map_err(|error| {
            ConfigError::Invalid(format!("cannot read {shown}: {error} (a config file must be UTF-8 text)"))
        })?;
        self.configs.ensure_project(project).await?;
        let stored = self.configs.layers_at(project, env, None).await?;
        let same = stored.iter().any(|current| current.layer == layer && current.content == text);
        let version = if same {
            None
        } else {
            let message = format!("link {shown}");
            let mut version = self
                .configs
                .save(project, env, layer, format, &text, &shown, &caller.actor, &message)
                .await?;
            self.signal_change(caller, project, env, &mut version).await?;
            Some(version)
        };
        self.configs.link(project, env, layer, &shown, &sha256(&text)).await?;
        let details = serde_json::json!({ "path": shown, "layer": layer });
        self.audit(caller, "config.link", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        let link = self.configs.link_of(project, env, layer).await?.ok_or_else(|| {
            ConfigError::Invalid(format!("the link of {project}/{env} {layer} was not kept"))
        })?;
        Ok((link, version))
    }

    /// Unlinks a layer (its versions stay); false when it was not linked.
    pub async fn config_unlink(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        layer: &str,
    ) -> Result<bool, DeckError> {
        let removed = self.configs.unlink(project, env, layer).await?;
        if removed {
            let details = serde_json::json!({ "layer": layer });
            self.audit(caller, "config.unlink", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        }
        Ok(removed)
    }

    /// Every linked layer.
    pub async fn config_links(&self) -> Result<Vec<ConfigLink>, DeckError> {
        Ok(self.configs.links().await?)
    }

    /// Looks at every linked file once: an outside edit becomes a version
    /// when it parses and meets the schema; otherwise the problem is kept
    /// on the link (and audited once per edit) and nothing is stored.
    pub async fn config_sync_links(&self, caller: &Caller) -> Result<Vec<LinkSync>, DeckError> {
        let mut results = Vec::new();
        for link in self.configs.links().await? {
            let text = match std::fs::read_to_string(&link.path) {
                Ok(text) => text,
                Err(error) => {
                    let error = format!("cannot read {}: {error}", link.path);
                    if link.last_error.as_deref() != Some(error.as_str()) {
                        self.configs.record_link(&link, None, Some(&error)).await?;
                    }
                    results.push(LinkSync {
                        link,
                        outcome: "refused".to_owned(),
                        version: None,
                        error: Some(error),
                    });
                    continue;
                }
            };
            let hash = sha256(&text);
            if link.last_hash.as_deref() == Some(hash.as_str()) {
                results.push(LinkSync { link, outcome: "unchanged".to_owned(), version: None, error: None });
                continue;
            }
            let target = format!("{}/{}", link.project, link.env);
            let stored = self.configs.layers_at(&link.project, &link.env, None).await?;
            if stored.iter().any(|current| current.layer == link.layer && current.content == text) {
                self.configs.record_link(&link, Some(&hash), None).await?;
                results.push(LinkSync { link, outcome: "unchanged".to_owned(), version: None, error: None });
                continue;
            }
            let format = Format::from_path(&link.path)?;
            let message = format!("edited on disk ({})", link.path);
            let saved = self
                .configs
                .save(
                    &link.project,
                    &link.env,
                    &link.layer,
                    format,
                    &text,
                    &link.path,
                    &caller.actor,
                    &message,
                )
                .await;
            match saved {
                Ok(mut version) => {
                    self.configs.record_link(&link, Some(&hash), None).await?;
                    let details = serde_json::json!({ "path": link.path, "layer": link.layer, "version": version.version });
                    self.audit(caller, "config.file_edit", &target, Outcome::Ok, details).await?;
                    self.signal_change(caller, &link.project, &link.env, &mut version).await?;
                    results.push(LinkSync {
                        link,
                        outcome: "stored".to_owned(),
                        version: Some(version.version),
                        error: None,
                    });
                }
                Err(error) => {
                    let error = error.to_string();
                    self.configs.record_link(&link, Some(&hash), Some(&error)).await?;
                    let details =
                        serde_json::json!({ "path": link.path, "layer": link.layer, "error": error });
                    self.audit(caller, "config.file_edit", &target, Outcome::Failed, details).await?;
                    results.push(LinkSync {
                        link,
                        outcome: "refused".to_owned(),
                        version: None,
                        error: Some(error),
                    });
                }
            }
        }
        Ok(results)
    }

    /// After a stored change: a linked layer's file gets the new text (so an
    /// edit on disk never starts from an old one).
    pub(crate) async fn write_back_link(
        &self,
        project: &str,
        env: &str,
        version: &ConfigVersion,
    ) -> Result<(), DeckError> {
        let Some(link) = self.configs.link_of(project, env, &version.layer).await? else {
            return Ok(());
        };
        let on_disk = std::fs::read_to_string(&link.path).ok();
        if on_disk.as_deref().map(sha256).as_deref() == Some(version.content_hash.as_str()) {
            self.configs.record_link(&link, Some(&version.content_hash), None).await?;
            return Ok(());
        }
        let text = self
            .configs
            .layers_at(project, env, Some(version.version))
            .await?
            .into_iter()
            .find(|layer| layer.layer == version.layer)
            .map(|layer| layer.content)
            .unwrap_or_default();
        match write_atomically(Path::new(&link.path), &text) {
            Ok(()) => self.configs.record_link(&link, Some(&version.content_hash), None).await?,
            Err(error) => self.configs.record_link(&link, None, Some(&error.to_string())).await?,
        }
        Ok(())
    }

    /// Starts the watcher of linked files (part of the background work).
    pub(crate) fn start_link_watcher(self: &Arc<Self>) {
        let deck = Arc::downgrade(self);
        self.tasks.spawn("config-link-watcher", move |stop| async move {
            let caller = Caller::local_user("disk");
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(WATCH_INTERVAL) => {}
                }
                let Some(deck) = deck.upgrade() else { break };
                if let Err(error) = deck.config_sync_links(&caller).await {
                    tracing::warn!(error = %error, "checking linked config files failed");
                }
            }
        });
    }
}
