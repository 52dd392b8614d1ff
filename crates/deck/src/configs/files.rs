//! Configs as files: rendering an environment (secret references
//! resolved), its variables for `opsdeck run`, and a project exported to or
//! imported from a directory.

use std::path::Path;

use opsdeck_config::{layout, ConfigVersion, Format};

use super::Configs;
use super::{process_env, read_file};
use crate::{Caller, DeckError, Outcome};

/// Overwrites every string of a rendered value (it may hold secrets) before it is dropped.
fn zeroize_json(value: &mut serde_json::Value) {
    use zeroize::Zeroize;
    match value {
        serde_json::Value::String(text) => text.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(map) => map.iter_mut().for_each(|(_, item)| zeroize_json(item)),
        _ => {}
    }
}

impl Configs<'_> {
    /// The effective config of `project/env` written as `format`, with every
    /// secret reference (`opsdeck://VAULT/NAME`) resolved now (each reveal
    /// audited; the caller must be allowed to reveal them).
    pub async fn render(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        format: &str,
    ) -> Result<zeroize::Zeroizing<String>, DeckError> {
        let format = opsdeck_config::RenderFormat::parse(format)?;
        let merged = self.deck.configs.effective(project, env, None, process_env()).await?;
        let mut value = merged.root.to_json();
        self.resolve_secret_references(caller, &mut value).await?;
        let prefix = self.deck.configs.env_prefix(project).await?;
        let text = opsdeck_config::render(&value, format, &prefix);
        zeroize_json(&mut value);
        let text = zeroize::Zeroizing::new(text?);
        self.deck
            .audit(caller, "config.render", &format!("{project}/{env}"), Outcome::Ok, serde_json::json!({}))
            .await?;
        Ok(text)
    }

    /// The effective config of `project/env` as `PREFIX_A__B` variables with
    /// every secret reference resolved now (reveals audited) — for
    /// `opsdeck run --config`. The values are wiped when dropped.
    pub async fn environment(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
    ) -> Result<Vec<(String, zeroize::Zeroizing<String>)>, DeckError> {
        let merged = self.deck.configs.effective(project, env, None, process_env()).await?;
        let prefix = self.deck.configs.env_prefix(project).await?;
        let pairs = opsdeck_config::env_pairs(&merged.root.to_json(), &prefix);
        // References are whole values here, so the injection path resolves them (and checks access first).
        let resolved = self.deck.vaults().resolve_environment(caller, &pairs).await?;
        self.deck
            .audit(
                caller,
                "config.render",
                &format!("{project}/{env}"),
                Outcome::Ok,
                serde_json::json!({ "to": "process" }),
            )
            .await?;
        Ok(resolved)
    }

    /// Replaces each string that is a secret reference with the secret's value.
    fn resolve_secret_references<'a>(
        &'a self,
        caller: &'a Caller,
        value: &'a mut serde_json::Value,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DeckError>> + Send + 'a>> {
        Box::pin(async move {
            match value {
                serde_json::Value::String(text) if text.trim().starts_with("opsdeck://") => {
                    let reference = opsdeck_vault::SecretReference::parse(text)?;
                    let secret = self.deck.vaults().resolve_reference(caller, &reference).await?;
                    *text = secret.as_str().to_owned();
                }
                serde_json::Value::Array(items) => {
                    for item in items {
                        self.resolve_secret_references(caller, item).await?;
                    }
                }
                serde_json::Value::Object(map) => {
                    for (_, item) in map.iter_mut() {
                        self.resolve_secret_references(caller, item).await?;
                    }
                }
                _ => {}
            }
            Ok(())
        })
    }

    /// Writes the whole project into `dir`: `schema.json`, and per environment
    /// `ENV/committed.EXT` and `ENV/local.EXT` as stored (byte for byte).
    /// Returns the files written. `config import` reads each file back.
    pub async fn export(self, project: &str, dir: &Path) -> Result<Vec<String>, DeckError> {
        let mut written = Vec::new();
        if let Some(schema) = self.deck.configs.schema_text(project).await? {
            written.push(layout::write_project_file(&dir.join(layout::SCHEMA_FILE), &schema)?);
        }
        for env in self.deck.configs.project_envs(project).await? {
            for layer in self.deck.configs.layers_at(project, &env, None).await? {
                let path = layout::layer_path(dir, &env, &layer.layer, layer.format);
                written.push(layout::write_project_file(&path, &layer.content)?);
            }
        }
        Ok(written)
    }

    /// Reads back a directory written by [`Deck::config_export`] (see
    /// [`opsdeck_config::layout`]): everything is read, parsed and checked
    /// against the directory's schema before anything is stored; layers
    /// whose text is already stored are passed over. Returns the versions
    /// written as (environment, version).
    pub async fn import_dir(
        self,
        caller: &Caller,
        project: &str,
        dir: &Path,
        message: &str,
    ) -> Result<Vec<(String, ConfigVersion)>, DeckError> {
        let read = layout::read_project_dir(dir, project)?;
        let schema_text = read.schema;
        self.deck.configs.ensure_project(project).await?;
        if let Some(text) = &schema_text {
            if self.deck.configs.schema_text(project).await?.as_deref() != Some(text.as_str()) {
                self.set_schema_text(caller, project, text).await?;
            }
        }
        let message =
            if message.is_empty() { format!("import {}", dir.display()) } else { message.to_owned() };
        let mut written = Vec::new();
        for layout::LayerFile { env, layer, format, text, shown } in read.layers {
            let stored = self.deck.configs.layers_at(project, &env, None).await?;
            if stored
                .iter()
                .any(|current| current.layer == layer && current.content == text && current.format == format)
            {
                continue;
            }
            let version = self
                .deck
                .configs
                .save(project, &env, &layer, format, &text, &shown, &caller.actor, &message)
                .await?;
            let details = serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
            self.deck
                .audit(caller, "config.import", &format!("{project}/{env}"), Outcome::Ok, details)
                .await?;
            written.push((env, version));
        }
        // One signal per environment, on its last version.
        for index in 0..written.len() {
            let last_of_env = written[index + 1..].iter().all(|(env, _)| *env != written[index].0);
            if last_of_env {
                let (env, version) = &mut written[index];
                let env = env.clone();
                self.signal_change(caller, project, &env, version).await?;
            }
        }
        Ok(written)
    }

    /// Stores a file as the new `layer` of `project/env` (the format from its extension).
    pub async fn import(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        file: &Path,
        layer: &str,
        message: &str,
    ) -> Result<ConfigVersion, DeckError> {
        let shown = file.display().to_string();
        let format = Format::from_path(&shown)?;
        let text = read_file(file)?;
        let message = if message.is_empty() { format!("import {shown}") } else { message.to_owned() };
        let mut version = self
            .deck
            .configs
            .save(project, env, layer, format, &text, &shown, &caller.actor, &message)
            .await?;
        let details =
            serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
        self.deck.audit(caller, "config.import", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok(version)
    }
}
