//! Config layers linked to files on disk, through the deck: linking (the
//! file's text stored first, checked like any save), the watcher that turns
//! outside edits into versions (runs in the app and `opsdeck serve`), and
//! writing stored changes back to the file — only while the file holds the
//! text OpsDeck last stored or wrote; otherwise a conflict is recorded and
//! the file is left alone until someone resolves it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opsdeck_config::{ConfigError, ConfigLink, ConfigVersion, Format};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use super::Configs;
use crate::definitions::CONFIG_LINK;
use crate::{Caller, Deck, DeckError, Outcome};

/// How often linked files are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

opsdeck_core::word_enum! {
    /// What one look at a linked file did.
    "link sync outcome" pub enum SyncOutcome {
        /// The file holds what the store holds.
        Unchanged = "unchanged",
        /// The file's edit was stored as a new version.
        Stored = "stored",
        /// The file's edit was refused by the checks (see `error`).
        Refused = "refused",
        /// The file holds an edit OpsDeck has not stored while a stored
        /// change waits to be written: someone must choose.
        Conflict = "conflict",
    }
}

/// What one look at a linked file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkSync {
    /// The link.
    pub link: ConfigLink,
    /// What it did.
    pub outcome: SyncOutcome,
    /// The version stored.
    pub version: Option<i64>,
    /// Why an edit was not stored.
    pub error: Option<String>,
}

/// The two texts of a link in conflict, for choosing between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct LinkConflict {
    /// The link (with when the conflict began and which version waits).
    pub link: ConfigLink,
    /// What the file holds now (none when it cannot be read).
    pub file_text: Option<String>,
    /// Why the file cannot be read, when it cannot.
    pub file_error: Option<String>,
    /// The newest stored text of the layer.
    pub stored_text: String,
    /// Its version.
    #[ts(type = "number")]
    pub stored_version: i64,
}

/// How to end a conflict between a linked file and the stored layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkResolution {
    /// Store the file's text as a new version (after the usual checks).
    TakeFile,
    /// Write the stored text over the file, after keeping a copy of the file
    /// beside it (`FILE.opsdeck-conflict-<time>`).
    KeepStored,
}

/// How a conflict ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct LinkResolved {
    /// The link, in step with its file again.
    pub link: ConfigLink,
    /// The version stored from the file (when the file's text was taken).
    pub version: Option<ConfigVersion>,
    /// Where the file's text was kept (when the stored text was written over it).
    pub copy: Option<String>,
}

/// The problem shown while a conflict is open (product words, no flags).
fn conflict_message(link: &ConfigLink) -> String {
    format!(
        "{} holds an edit OpsDeck has not stored, and stored version {} was not written over it; \
         choose which text wins: take the file's text as a new version, or write the stored version \
         (the file is kept beside it as a copy)",
        link.path,
        link.conflict_version.map_or_else(|| "?".to_owned(), |version| version.to_string())
    )
}

/// What a link's seal is about: `project/env/layer`.
fn link_subject(project: &str, env: &str, layer: &str) -> String {
    format!("{project}/{env}/{layer}")
}

/// What a link's seal covers: the file it reads and writes.
fn link_content(path: &str) -> serde_json::Value {
    serde_json::json!({ "path": path })
}

/// How long a linked file must have been left alone before it is read: an
/// editor or script that truncates and then writes must not have half its
/// text taken as an edit (or mistaken for one that conflicts).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(100);

/// Reads a linked file once it has not changed for [`SETTLE`] and did not
/// change while it was read (up to 20 tries, then as it is).
async fn read_settled(path: &Path) -> std::io::Result<String> {
    let stamp = |meta: &std::fs::Metadata| (meta.len(), meta.modified().ok());
    for _ in 0..20 {
        let before = std::fs::metadata(path)?;
        let age = before
            .modified()
            .ok()
            .and_then(|modified| std::time::SystemTime::now().duration_since(modified).ok())
            .unwrap_or(SETTLE);
        if age < SETTLE {
            tokio::time::sleep(SETTLE - age).await;
            continue;
        }
        let text = std::fs::read_to_string(path)?;
        if stamp(&std::fs::metadata(path)?) == stamp(&before) {
            return Ok(text);
        }
    }
    std::fs::read_to_string(path)
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes `text` over a linked file, keeping the file's permissions (see
/// [`opsdeck_core::filesystem::write_atomically`]).
fn write_atomically(path: &Path, text: &str) -> Result<(), ConfigError> {
    use opsdeck_core::filesystem::{write_atomically, FileMode};
    write_atomically(path, text.as_bytes(), FileMode::KeepOr(0o644))
        .map_err(|error| ConfigError::Invalid(format!("cannot write {}: {error}", path.display())))
}

impl Deck {
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
                if let Err(error) = deck.configs().sync_links(&caller).await {
                    tracing::warn!(error = %error, "checking linked config files failed");
                }
            }
        });
    }
}

impl Configs<'_> {
    /// Links `layer` of `project/env` to `file`: its text is stored now as a
    /// version (checked like any save; refused, nothing linked, when it does
    /// not parse or breaks the schema) unless already stored, then edits to
    /// the file are picked up while the app or `opsdeck serve` runs.
    pub async fn link(
        self,
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
        self.deck.configs.ensure_project(project).await?;
        self.require_project_admin(caller, project, "config.link", "linking a file").await?;
        let stored = self.deck.configs.layers_at(project, env, None).await?;
        let same = stored.iter().any(|current| current.layer == layer && current.content == text);
        let version = if same {
            None
        } else {
            let message = format!("link {shown}");
            let mut version = self
                .deck
                .configs
                .save(project, env, layer, format, &text, &shown, &caller.actor, &message)
                .await?;
            self.signal_change(caller, project, env, &mut version).await?;
            Some(version)
        };
        self.deck.configs.link(project, env, layer, &shown, &sha256(&text)).await?;
        let subject = link_subject(project, env, layer);
        self.deck.seal_definition(caller, CONFIG_LINK, &subject, &link_content(&shown), true).await?;
        let details = serde_json::json!({ "path": shown, "layer": layer });
        self.deck.audit(caller, "config.link", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        let link = self.deck.configs.link_of(project, env, layer).await?.ok_or_else(|| {
            ConfigError::Invalid(format!("the link of {project}/{env} {layer} was not kept"))
        })?;
        Ok((link, version))
    }

    /// A link that could not be looked at: the problem is kept on it (once
    /// per distinct problem) and reported as refused.
    async fn refuse_link(self, link: ConfigLink, error: String) -> Result<LinkSync, DeckError> {
        if link.last_error.as_deref() != Some(error.as_str()) {
            self.deck.configs.record_link(&link, None, Some(&error)).await?;
        }
        Ok(LinkSync { link, outcome: SyncOutcome::Refused, version: None, error: Some(error) })
    }

    /// Checks a stored link against its seal (and that this host set it)
    /// before its file is read or written.
    async fn check_link(self, caller: &Caller, link: &ConfigLink) -> Result<(), DeckError> {
        let subject = link_subject(&link.project, &link.env, &link.layer);
        self.deck.check_definition(caller, CONFIG_LINK, &subject, &link_content(&link.path), true).await?;
        Ok(())
    }

    /// Unlinks a layer (its versions stay); false when it was not linked.
    pub async fn unlink(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        layer: &str,
    ) -> Result<bool, DeckError> {
        let removed = self.deck.configs.unlink(project, env, layer).await?;
        if removed {
            self.deck.unseal_definition(caller, CONFIG_LINK, &link_subject(project, env, layer)).await?;
            let details = serde_json::json!({ "layer": layer });
            self.deck
                .audit(caller, "config.unlink", &format!("{project}/{env}"), Outcome::Ok, details)
                .await?;
        }
        Ok(removed)
    }

    /// Every linked layer.
    pub async fn links(self) -> Result<Vec<ConfigLink>, DeckError> {
        Ok(self.deck.configs.links().await?)
    }

    /// Looks at every linked file once: an outside edit becomes a version
    /// when it parses and meets the schema; otherwise the problem is kept
    /// on the link (and audited once per edit) and nothing is stored.
    pub async fn sync_links(self, caller: &Caller) -> Result<Vec<LinkSync>, DeckError> {
        let mut results = Vec::new();
        for link in self.deck.configs.links().await? {
            // A link planted in the store would read any file into it.
            if let Err(error) = self.check_link(caller, &link).await {
                results.push(self.refuse_link(link, error.to_string()).await?);
                continue;
            }
            let text = match read_settled(Path::new(&link.path)).await {
                Ok(text) => text,
                Err(error) => {
                    let error = format!("cannot read {}: {error}", link.path);
                    results.push(self.refuse_link(link, error).await?);
                    continue;
                }
            };
            let hash = sha256(&text);
            let target = format!("{}/{}", link.project, link.env);
            let stored = self.deck.configs.layers_at(&link.project, &link.env, None).await?;
            let stored_matches =
                stored.iter().any(|current| current.layer == link.layer && current.content == text);
            if link.conflict_since.is_some() {
                if stored_matches {
                    // Someone made the file match the stored text: nothing left to choose.
                    self.deck.configs.record_link_synced(&link, &hash).await?;
                    results.push(LinkSync {
                        link,
                        outcome: SyncOutcome::Unchanged,
                        version: None,
                        error: None,
                    });
                } else {
                    // Never store the file's text over a change that waits: a person chooses.
                    let error = conflict_message(&link);
                    results.push(LinkSync {
                        link,
                        outcome: SyncOutcome::Conflict,
                        version: None,
                        error: Some(error),
                    });
                }
                continue;
            }
            if link.last_hash.as_deref() == Some(hash.as_str()) {
                results.push(LinkSync { link, outcome: SyncOutcome::Unchanged, version: None, error: None });
                continue;
            }
            if stored_matches {
                self.deck.configs.record_link_synced(&link, &hash).await?;
                results.push(LinkSync { link, outcome: SyncOutcome::Unchanged, version: None, error: None });
                continue;
            }
            let format = Format::from_path(&link.path)?;
            let message = format!("edited on disk ({})", link.path);
            let saved = self
                .deck
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
                    self.deck.configs.record_link_synced(&link, &hash).await?;
                    let details = serde_json::json!({ "path": link.path, "layer": link.layer, "version": version.version });
                    self.deck.audit(caller, "config.file_edit", &target, Outcome::Ok, details).await?;
                    self.signal_reload(caller, &link.project, &link.env, &mut version).await?;
                    results.push(LinkSync {
                        link,
                        outcome: SyncOutcome::Stored,
                        version: Some(version.version),
                        error: None,
                    });
                }
                Err(error) => {
                    let error = error.to_string();
                    self.deck.configs.record_link(&link, Some(&hash), Some(&error)).await?;
                    let details =
                        serde_json::json!({ "path": link.path, "layer": link.layer, "error": error });
                    self.deck.audit(caller, "config.file_edit", &target, Outcome::Failed, details).await?;
                    results.push(LinkSync {
                        link,
                        outcome: SyncOutcome::Refused,
                        version: None,
                        error: Some(error),
                    });
                }
            }
        }
        Ok(results)
    }

    /// After a stored change: a linked layer's file gets the new text (so an
    /// edit on disk never starts from an old one) — but only while the file
    /// holds the text OpsDeck last stored or wrote. A file edited since (an
    /// edit the checks refused, or one made while no OpsDeck process ran) is
    /// left untouched and the link records a conflict (audited once).
    pub(crate) async fn write_back_link(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        version: &ConfigVersion,
    ) -> Result<(), DeckError> {
        let Some(link) = self.deck.configs.link_of(project, env, &version.layer).await? else {
            return Ok(());
        };
        // A link planted in the store would write any file.
        if let Err(error) = self.check_link(caller, &link).await {
            self.deck.configs.record_link(&link, None, Some(&error.to_string())).await?;
            return Ok(());
        }
        let on_disk = match read_settled(Path::new(&link.path)).await {
            Ok(text) => Some(text),
            // A file that is gone holds nobody's words: it is written anew.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                let error = format!("cannot read {}: {error}", link.path);
                self.deck.configs.record_link(&link, None, Some(&error)).await?;
                return Ok(());
            }
        };
        let on_disk_hash = on_disk.as_deref().map(sha256);
        if on_disk_hash.as_deref() == Some(version.content_hash.as_str()) {
            self.deck.configs.record_link_synced(&link, &version.content_hash).await?;
            return Ok(());
        }
        if on_disk_hash.is_some() && (link.conflict_since.is_some() || on_disk_hash != link.synced_hash) {
            if self.deck.configs.record_link_conflict(&link, version.version).await? {
                let details = serde_json::json!({
                    "path": link.path, "layer": link.layer, "version": version.version,
                    "file_hash": on_disk_hash, "synced_hash": link.synced_hash,
                });
                self.deck
                    .audit(
                        caller,
                        "config.link_conflict",
                        &format!("{project}/{env}"),
                        Outcome::Failed,
                        details,
                    )
                    .await?;
            }
            return Ok(());
        }
        let (text, _) = self.stored_layer_text(project, env, &version.layer, Some(version.version)).await?;
        match write_atomically(Path::new(&link.path), &text) {
            Ok(()) => self.deck.configs.record_link_synced(&link, &version.content_hash).await?,
            Err(error) => self.deck.configs.record_link(&link, None, Some(&error.to_string())).await?,
        }
        Ok(())
    }

    /// The text of `layer` in `project/env` at `version` (the newest when `None`).
    async fn stored_layer_text(
        self,
        project: &str,
        env: &str,
        layer: &str,
        version: Option<i64>,
    ) -> Result<(String, i64), DeckError> {
        let stored = self.deck.configs.layers_at(project, env, version).await?;
        let found = stored
            .into_iter()
            .find(|stored| stored.layer == layer)
            .ok_or_else(|| ConfigError::Invalid(format!("{project}/{env} has no stored {layer} layer")))?;
        Ok((found.content, found.version))
    }

    /// The file's and the stored text of a linked layer in conflict.
    pub async fn link_conflict(
        self,
        project: &str,
        env: &str,
        layer: &str,
    ) -> Result<LinkConflict, DeckError> {
        let link = self.conflicted_link(project, env, layer).await?;
        let (file_text, file_error) = match std::fs::read_to_string(&link.path) {
            Ok(text) => (Some(text), None),
            Err(error) => (None, Some(format!("cannot read {}: {error}", link.path))),
        };
        let (stored_text, stored_version) = self.stored_layer_text(project, env, layer, None).await?;
        Ok(LinkConflict { link, file_text, file_error, stored_text, stored_version })
    }

    async fn conflicted_link(self, project: &str, env: &str, layer: &str) -> Result<ConfigLink, DeckError> {
        let link = self.deck.configs.link_of(project, env, layer).await?.ok_or_else(|| {
            ConfigError::Invalid(format!("{project}/{env} {layer} is not linked to a file"))
        })?;
        if link.conflict_since.is_none() {
            return Err(ConfigError::Invalid(format!(
                "{project}/{env} {layer} and {} are in step: there is no conflict to resolve",
                link.path
            ))
            .into());
        }
        Ok(link)
    }

    /// Ends a conflict: either the file's text becomes a new version (checked
    /// like any save; when refused, the conflict stays), or the stored text
    /// is written over the file after the file is copied beside it. Audited.
    pub async fn resolve_link(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        layer: &str,
        resolution: LinkResolution,
    ) -> Result<LinkResolved, DeckError> {
        let link = self.conflicted_link(project, env, layer).await?;
        self.check_link(caller, &link).await?;
        let target = format!("{project}/{env}");
        match resolution {
            LinkResolution::TakeFile => {
                let text = std::fs::read_to_string(&link.path)
                    .map_err(|error| ConfigError::Invalid(format!("cannot read {}: {error}", link.path)))?;
                let format = Format::from_path(&link.path)?;
                let message = format!("taken from {} to end a conflict", link.path);
                let saved = self
                    .deck
                    .configs
                    .save(project, env, layer, format, &text, &link.path, &caller.actor, &message)
                    .await;
                let mut version = match saved {
                    Ok(version) => version,
                    Err(error) => {
                        let details = serde_json::json!({
                            "path": link.path, "layer": layer, "choice": "take_file", "error": error.to_string(),
                        });
                        self.deck
                            .audit(caller, "config.link_resolve", &target, Outcome::Failed, details)
                            .await?;
                        return Err(error.into());
                    }
                };
                self.deck.configs.record_link_synced(&link, &version.content_hash).await?;
                let details = serde_json::json!({
                    "path": link.path, "layer": layer, "choice": "take_file", "version": version.version,
                });
                self.deck.audit(caller, "config.link_resolve", &target, Outcome::Ok, details).await?;
                self.signal_reload(caller, project, env, &mut version).await?;
                let link = self.deck.configs.link_of(project, env, layer).await?.unwrap_or(link);
                Ok(LinkResolved { link, version: Some(version), copy: None })
            }
            LinkResolution::KeepStored => {
                let (text, stored_version) = self.stored_layer_text(project, env, layer, None).await?;
                let path = Path::new(&link.path);
                let copy = if path.exists() {
                    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
                    let copy = format!("{}.opsdeck-conflict-{stamp}", link.path);
                    std::fs::copy(path, &copy).map_err(|error| {
                        ConfigError::Invalid(format!(
                            "cannot keep a copy of {} as {copy}: {error}",
                            link.path
                        ))
                    })?;
                    Some(copy)
                } else {
                    None
                };
                write_atomically(path, &text)?;
                self.deck.configs.record_link_synced(&link, &sha256(&text)).await?;
                let details = serde_json::json!({
                    "path": link.path, "layer": layer, "choice": "keep_stored", "version": stored_version, "copy": copy,
                });
                self.deck.audit(caller, "config.link_resolve", &target, Outcome::Ok, details).await?;
                let link = self.deck.configs.link_of(project, env, layer).await?.unwrap_or(link);
                Ok(LinkResolved { link, version: None, copy })
            }
        }
    }
}
