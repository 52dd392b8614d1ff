//! Configs in the deck: projects and their environments' layers with
//! history, the effective config with provenance (the process's own
//! environment variables on top), schema checks and rollback — each change
//! attributed to the caller and audited.

use std::path::Path;

use serde::Serialize;

use opsdeck_config::reload::ChangeInfo;
use opsdeck_config::{
    Change, ConfigError, ConfigVersion, DraftCheck, Format, LayerChange, ProjectInfo, Promotion,
    PromotionPreview, PromotionRequest, ReloadHook, ReloadOutcome, Violation,
};
use ts_rs::TS;

use crate::definitions::RELOAD_HOOK;
use crate::{Caller, Deck, DeckError, Outcome};

/// One key of the effective config and who set it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigExplained {
    /// The dotted key.
    pub key: String,
    /// Its value.
    #[ts(type = "unknown")]
    pub value: serde_json::Value,
    /// The layer that set it (`defaults`, `committed`, `local`, `env`).
    pub layer: String,
    /// Its source (`committed v3`, `SHOP_* variables`).
    pub source: String,
    /// The line in that source, when known.
    #[ts(type = "number | null")]
    pub line: Option<usize>,
    /// Values earlier layers gave this key: (layer, value).
    #[ts(type = "Array<[string, unknown]>")]
    pub overridden: Vec<(String, serde_json::Value)>,
}

/// Configs at a glance, for the Overview: what needs attention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigSummary {
    /// How many projects.
    #[ts(type = "number")]
    pub projects: i64,
    /// How many environments have a stored config.
    #[ts(type = "number")]
    pub environments: i64,
    /// Environments whose effective config breaks the schema (or cannot be
    /// read), as `project/env: what`.
    pub invalid: Vec<String>,
    /// Promotion requests waiting for approval.
    #[ts(type = "number")]
    pub pending_approvals: i64,
    /// Linked files whose last edit was not stored, or that are in conflict
    /// with a stored change, as `project/env layer: why`.
    pub link_problems: Vec<String>,
}

/// One layer's text as stored, for the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigLayer {
    /// `committed` or `local`.
    pub layer: String,
    /// How its text is written.
    pub format: Format,
    /// The text.
    pub content: String,
    /// The version that wrote it.
    #[ts(type = "number")]
    pub version: i64,
}

/// The schema check of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigValidation {
    /// True when the effective config meets the schema (or there is none).
    pub ok: bool,
    /// Whether the project has a schema.
    pub has_schema: bool,
    /// Each violation.
    pub violations: Vec<Violation>,
}

impl Deck {
    /// Configs at a glance: invalid environments, waiting approvals, link problems.
    pub async fn config_summary(&self) -> Result<ConfigSummary, DeckError> {
        let mut summary = ConfigSummary::default();
        for project in self.configs.projects().await? {
            summary.projects += 1;
            for env in self.configs.project_envs(&project.name).await? {
                summary.environments += 1;
                match self.config_validate(&project.name, &env).await {
                    Ok(report) if report.ok => {}
                    Ok(report) => {
                        let count = report.violations.len();
                        summary.invalid.push(format!(
                            "{}/{env}: {count} schema problem{}",
                            project.name,
                            if count == 1 { "" } else { "s" }
                        ));
                    }
                    Err(error) => summary.invalid.push(format!("{}/{env}: {error}", project.name)),
                }
            }
            summary.pending_approvals += self
                .configs
                .promotion_requests(&project.name)
                .await?
                .iter()
                .filter(|request| request.status == opsdeck_config::PromotionStatus::Pending)
                .count() as i64;
        }
        for link in self.configs.links().await? {
            let what = format!("{}/{} {}", link.project, link.env, link.layer);
            if link.conflict_since.is_some() {
                summary.link_problems.push(format!(
                    "{what}: the file has an edit OpsDeck has not stored; choose which text wins"
                ));
            } else if let Some(error) = &link.last_error {
                summary.link_problems.push(format!("{what}: {error}"));
            }
        }
        Ok(summary)
    }

    /// Every config project with its environments.
    pub async fn config_projects(&self) -> Result<Vec<ProjectInfo>, DeckError> {
        Ok(self.configs.projects().await?)
    }

    /// Makes a project (nothing happens when it exists).
    pub async fn config_create_project(&self, caller: &Caller, project: &str) -> Result<(), DeckError> {
        let existed = self.configs.projects().await?.iter().any(|info| info.name == project);
        self.configs.ensure_project(project).await?;
        if !existed {
            self.audit(caller, "config.project", project, Outcome::Ok, serde_json::json!({})).await?;
            // Its creator is its first admin.
            if let Some(user) = caller.user() {
                self.configs.add_admin(project, user, &caller.actor).await?;
            }
        }
        Ok(())
    }

    /// Sets a project's JSON Schema from a file.
    pub async fn config_set_schema(
        &self,
        caller: &Caller,
        project: &str,
        file: &Path,
    ) -> Result<(), DeckError> {
        let text = read_file(file)?;
        self.configs.set_schema(project, &text).await?;
        self.audit(
            caller,
            "config.schema",
            project,
            Outcome::Ok,
            serde_json::json!({ "file": file.display().to_string() }),
        )
        .await?;
        Ok(())
    }

    /// Sets a project's JSON Schema from its text (refused when broken, or
    /// when an environment's config breaks it).
    pub async fn config_set_schema_text(
        &self,
        caller: &Caller,
        project: &str,
        text: &str,
    ) -> Result<(), DeckError> {
        self.configs.set_schema(project, text).await?;
        self.audit(caller, "config.schema", project, Outcome::Ok, serde_json::json!({})).await?;
        Ok(())
    }

    /// The project's JSON Schema as written (none when it has none).
    pub async fn config_schema_text(&self, project: &str) -> Result<Option<String>, DeckError> {
        Ok(self.configs.schema_text(project).await?)
    }

    /// Each stored layer of `project/env` at `version` (the latest when `None`).
    pub async fn config_layers(
        &self,
        project: &str,
        env: &str,
        version: Option<i64>,
    ) -> Result<Vec<ConfigLayer>, DeckError> {
        Ok(self
            .configs
            .layers_at(project, env, version)
            .await?
            .into_iter()
            .map(|layer| ConfigLayer {
                format: layer.format,
                layer: layer.layer,
                content: layer.content,
                version: layer.version,
            })
            .collect())
    }

    /// Checks a draft of one layer as a save would, storing nothing.
    pub async fn config_check_draft(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
    ) -> Result<DraftCheck, DeckError> {
        Ok(self.configs.check_draft(project, env, layer, format, content).await?)
    }

    /// Stores `content` as the new text of `layer` in `project/env` (refused,
    /// nothing stored, when it does not parse or breaks the schema).
    #[allow(clippy::too_many_arguments)]
    pub async fn config_save(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
        message: &str,
    ) -> Result<ConfigVersion, DeckError> {
        let source = format!("{project}/{env} {layer}");
        let message =
            if message.trim().is_empty() { format!("edit {layer}") } else { message.trim().to_owned() };
        let mut version =
            self.configs.save(project, env, layer, format, content, &source, &caller.actor, &message).await?;
        let details =
            serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
        self.audit(caller, "config.save", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok(version)
    }

    /// Stores a file as the new `layer` of `project/env` (the format from its extension).
    pub async fn config_import(
        &self,
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
        let mut version =
            self.configs.save(project, env, layer, format, &text, &shown, &caller.actor, &message).await?;
        let details =
            serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
        self.audit(caller, "config.import", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok(version)
    }

    /// Sets `key` to `value` (typed like YAML, or JSON for lists and maps) in
    /// the committed layer of `project/env`; returns the version and whether
    /// the rest of the file's text (comments, layout) was kept.
    pub async fn config_set(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        key: &str,
        value: &str,
        message: &str,
    ) -> Result<(ConfigVersion, bool), DeckError> {
        let value = opsdeck_config::edit::parse_value(value)?;
        let (mut version, kept) = self.configs.set(project, env, key, &value, &caller.actor, message).await?;
        let details = serde_json::json!({ "key": key, "version": version.version });
        self.audit(caller, "config.set", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok((version, kept))
    }

    /// The effective config's keys with their provenance (one key, or all).
    pub async fn config_explain(
        &self,
        project: &str,
        env: &str,
        key: Option<&str>,
    ) -> Result<Vec<ConfigExplained>, DeckError> {
        let merged = self.configs.effective(project, env, None, process_env()).await?;
        // One pass over the tree for the values (looking each key up would be quadratic).
        let values: std::collections::HashMap<String, serde_json::Value> =
            merged.root.leaves().into_iter().map(|(path, node)| (path, node.to_json())).collect();
        let mut explained = Vec::new();
        for (path, origin) in &merged.provenance {
            let wanted = key.is_none_or(|key| path == key || path.starts_with(&format!("{key}.")));
            if !wanted {
                continue;
            }
            explained.push(ConfigExplained {
                key: path.clone(),
                value: values.get(path).cloned().unwrap_or_default(),
                layer: origin.layer.clone(),
                source: origin.source.clone(),
                line: origin.line,
                overridden: origin.overridden.clone(),
            });
        }
        if let (Some(key), true) = (key, explained.is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "{project}/{env} has no key {key}; `opsdeck config explain {project} {env}` lists them"
            ))
            .into());
        }
        Ok(explained)
    }

    /// Checks the effective config of `project/env` against its schema.
    pub async fn config_validate(&self, project: &str, env: &str) -> Result<ConfigValidation, DeckError> {
        let merged = self.configs.effective(project, env, None, process_env()).await?;
        match self.configs.schema(project).await? {
            None => Ok(ConfigValidation { ok: true, has_schema: false, violations: Vec::new() }),
            Some(schema) => {
                let violations = schema.check(&merged);
                Ok(ConfigValidation { ok: violations.is_empty(), has_schema: true, violations })
            }
        }
    }

    /// The versions of `project/env`, newest first.
    pub async fn config_history(&self, project: &str, env: &str) -> Result<Vec<ConfigVersion>, DeckError> {
        Ok(self.configs.history(project, env).await?)
    }

    /// The effective config of `project/env` written as `format`, with every
    /// secret reference (`opsdeck://VAULT/NAME`) resolved now (each reveal
    /// audited; the caller must be allowed to reveal them).
    pub async fn config_render(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        format: &str,
    ) -> Result<zeroize::Zeroizing<String>, DeckError> {
        let format = opsdeck_config::RenderFormat::parse(format)?;
        let merged = self.configs.effective(project, env, None, process_env()).await?;
        let mut value = merged.root.to_json();
        self.resolve_secret_references(caller, &mut value).await?;
        let prefix = self.configs.env_prefix(project).await?;
        let text = opsdeck_config::render(&value, format, &prefix);
        zeroize_json(&mut value);
        let text = zeroize::Zeroizing::new(text?);
        self.audit(caller, "config.render", &format!("{project}/{env}"), Outcome::Ok, serde_json::json!({}))
            .await?;
        Ok(text)
    }

    /// The effective config of `project/env` as `PREFIX_A__B` variables with
    /// every secret reference resolved now (reveals audited) — for
    /// `opsdeck run --config`. The values are wiped when dropped.
    pub async fn config_environment(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
    ) -> Result<Vec<(String, zeroize::Zeroizing<String>)>, DeckError> {
        let merged = self.configs.effective(project, env, None, process_env()).await?;
        let prefix = self.configs.env_prefix(project).await?;
        let pairs = opsdeck_config::env_pairs(&merged.root.to_json(), &prefix);
        // References are whole values here, so the injection path resolves them (and checks access first).
        let resolved = self.resolve_environment(caller, &pairs).await?;
        self.audit(
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
                    let secret = self.resolve_reference(caller, &reference).await?;
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
    pub async fn config_export(&self, project: &str, dir: &Path) -> Result<Vec<String>, DeckError> {
        let write = |path: std::path::PathBuf, text: &str| -> Result<String, DeckError> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|error| {
                    ConfigError::Invalid(format!("cannot create {}: {error}", parent.display()))
                })?;
            }
            std::fs::write(&path, text)
                .map_err(|error| ConfigError::Invalid(format!("cannot write {}: {error}", path.display())))?;
            Ok(path.display().to_string())
        };
        let mut written = Vec::new();
        if let Some(schema) = self.configs.schema_text(project).await? {
            written.push(write(dir.join("schema.json"), &schema)?);
        }
        for env in self.configs.project_envs(project).await? {
            for layer in self.configs.layers_at(project, &env, None).await? {
                let name = format!("{}.{}", layer.layer, layer.format);
                written.push(write(dir.join(&env).join(name), &layer.content)?);
            }
        }
        Ok(written)
    }

    /// Reads back a directory written by [`Deck::config_export`]: `schema.json`
    /// and `ENV/committed.EXT`, `ENV/local.EXT`. Every file is read and
    /// parsed, and each environment checked against the directory's schema,
    /// before anything is stored; layers whose text is already stored are
    /// passed over. Returns the versions written as (environment, version).
    pub async fn config_import_dir(
        &self,
        caller: &Caller,
        project: &str,
        dir: &Path,
        message: &str,
    ) -> Result<Vec<(String, ConfigVersion)>, DeckError> {
        let entries = std::fs::read_dir(dir).map_err(|error| {
            ConfigError::Invalid(format!("cannot read the directory {}: {error}", dir.display()))
        })?;
        let schema_path = dir.join("schema.json");
        let schema_text = schema_path.is_file().then(|| read_file(&schema_path)).transpose()?;
        let schema = schema_text.as_deref().map(opsdeck_config::Schema::parse).transpose()?;
        // (env, layer, format, text, file shown)
        let mut files: Vec<(String, String, Format, String, String)> = Vec::new();
        let mut env_dirs: Vec<std::path::PathBuf> =
            entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_dir()).collect();
        env_dirs.sort();
        for env_dir in env_dirs {
            let env = env_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            opsdeck_config::store::check_name("environment", &env)?;
            let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&env_dir)
                .map_err(|error| ConfigError::Invalid(format!("cannot read {}: {error}", env_dir.display())))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.is_file())
                .collect();
            names.sort();
            for path in names {
                let stem =
                    path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
                if !opsdeck_config::store::LAYERS.contains(&stem.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "{}: a project directory holds ENV/committed.EXT and ENV/local.EXT only                          (as `opsdeck config export` writes them)",
                        path.display()
                    ))
                    .into());
                }
                let shown = path.display().to_string();
                let format = Format::from_path(&shown)?;
                let text = read_file(&path)?;
                opsdeck_config::parse(&text, format, &shown)?;
                if files.iter().any(|(other_env, layer, ..)| *other_env == env && *layer == stem) {
                    return Err(ConfigError::Invalid(format!(
                        "{}: two files give the {stem} layer of {env}; keep one",
                        path.display()
                    ))
                    .into());
                }
                files.push((env.clone(), stem, format, text, shown));
            }
        }
        if files.is_empty() && schema_text.is_none() {
            return Err(ConfigError::Invalid(format!(
                "{} holds no schema.json and no ENV/committed.* or ENV/local.* files",
                dir.display()
            ))
            .into());
        }
        // Each environment as the directory describes it, against the directory's schema.
        if let Some(schema) = &schema {
            let mut envs: Vec<&str> = files.iter().map(|(env, ..)| env.as_str()).collect();
            envs.dedup();
            for env in envs {
                let mut layers = vec![opsdeck_config::Layer {
                    name: "defaults".to_owned(),
                    source: "schema defaults".to_owned(),
                    root: schema.defaults(),
                }];
                for (_, layer, format, text, shown) in files.iter().filter(|file| file.0 == env) {
                    let root = opsdeck_config::parse(text, *format, shown)?;
                    layers.push(opsdeck_config::Layer { name: layer.clone(), source: shown.clone(), root });
                }
                let violations = schema.check(&opsdeck_config::effective(&layers));
                if !violations.is_empty() {
                    return Err(ConfigError::SchemaViolations {
                        what: format!("{project}/{env} in {}", dir.display()),
                        violations,
                    }
                    .into());
                }
            }
        }
        self.configs.ensure_project(project).await?;
        if let Some(text) = &schema_text {
            if self.configs.schema_text(project).await?.as_deref() != Some(text.as_str()) {
                self.config_set_schema_text(caller, project, text).await?;
            }
        }
        let message =
            if message.is_empty() { format!("import {}", dir.display()) } else { message.to_owned() };
        let mut written = Vec::new();
        for (env, layer, format, text, shown) in files {
            let stored = self.configs.layers_at(project, &env, None).await?;
            if stored
                .iter()
                .any(|current| current.layer == layer && current.content == text && current.format == format)
            {
                continue;
            }
            let version = self
                .configs
                .save(project, &env, &layer, format, &text, &shown, &caller.actor, &message)
                .await?;
            let details = serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
            self.audit(caller, "config.import", &format!("{project}/{env}"), Outcome::Ok, details).await?;
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

    /// The keys that differ between two versions of `project/env`.
    pub async fn config_diff(
        &self,
        project: &str,
        env: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Change>, DeckError> {
        Ok(self.configs.diff(project, env, from, to).await?)
    }

    /// The layers whose text differs between two versions of `project/env`.
    pub async fn config_text_diff(
        &self,
        project: &str,
        env: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<LayerChange>, DeckError> {
        Ok(self.configs.text_diff(project, env, from, to).await?)
    }

    /// What promoting `from` to `to` would change, and whether the schema allows it.
    pub async fn config_preview_promotion(
        &self,
        project: &str,
        from: &str,
        to: &str,
    ) -> Result<PromotionPreview, DeckError> {
        Ok(self.configs.preview_promotion(project, from, to).await?)
    }

    /// Promotes `from`'s committed layer to `to` (refused, nothing stored,
    /// when `to` would break the schema); audited either way.
    pub async fn config_promote(
        &self,
        caller: &Caller,
        project: &str,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<Promotion, DeckError> {
        let target = format!("{project}/{from}->{to}");
        if self.configs.approval_envs(project).await?.iter().any(|env| env == to) {
            return self.config_request_promotion(caller, project, from, to, message).await;
        }
        match self.configs.promote(project, from, to, &caller.actor, message).await {
            Ok(mut promotion) => {
                let details = serde_json::json!({
                    "from": promotion.from, "version": promotion.version.as_ref().map(|version| version.version),
                    "changes": promotion.changes.len(),
                });
                self.audit(caller, "config.promote", &target, Outcome::Ok, details).await?;
                if let Some(version) = promotion.version.as_mut() {
                    self.signal_change(caller, project, to, version).await?;
                }
                Ok(promotion)
            }
            Err(error) => {
                let details = serde_json::json!({ "error": error.to_string() });
                self.audit(caller, "config.promote", &target, Outcome::Failed, details).await?;
                Err(error.into())
            }
        }
    }

    /// Restores every layer of `project/env` to version `to`, as new versions.
    pub async fn config_rollback(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        to: i64,
    ) -> Result<Vec<ConfigVersion>, DeckError> {
        let mut written = self.configs.rollback(project, env, to, &caller.actor).await?;
        let details = serde_json::json!({ "to": to, "versions": written.iter().map(|v| v.version).collect::<Vec<_>>() });
        self.audit(caller, "config.rollback", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        // One signal for the whole rollback, on its last version.
        if let Some(last) = written.last_mut() {
            self.signal_change(caller, project, env, last).await?;
        }
        Ok(written)
    }
}

impl Deck {
    /// The environments of `project` whose promotions need a second person.
    pub async fn config_approval_envs(&self, project: &str) -> Result<Vec<String>, DeckError> {
        Ok(self.configs.approval_envs(project).await?)
    }

    /// Sets the environments of `project` whose promotions need a second person.
    pub async fn config_set_approval_envs(
        &self,
        caller: &Caller,
        project: &str,
        envs: &[String],
    ) -> Result<(), DeckError> {
        self.require_project_admin(
            caller,
            project,
            "config.approvals",
            "changing which environments need approval",
        )
        .await?;
        self.configs.set_approval_envs(project, envs).await?;
        self.audit(caller, "config.approvals", project, Outcome::Ok, serde_json::json!({ "envs": envs }))
            .await?;
        Ok(())
    }

    /// A promotion into an environment that needs approval: checked now,
    /// kept as a request until another person decides (audited either way).
    async fn config_request_promotion(
        &self,
        caller: &Caller,
        project: &str,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<Promotion, DeckError> {
        let target = format!("{project}/{from}->{to}");
        match self.configs.request_promotion(project, from, to, &caller.actor, message).await {
            Ok((request, preview)) => {
                let details = serde_json::json!({ "request": request.id, "from": request.from, "changes": preview.changes.len() });
                self.audit(caller, "config.promote_requested", &target, Outcome::Ok, details).await?;
                Ok(Promotion {
                    from: preview.from,
                    to: to.to_owned(),
                    version: None,
                    changes: preview.changes,
                    request: Some(request),
                })
            }
            Err(error) => {
                let details = serde_json::json!({ "error": error.to_string() });
                self.audit(caller, "config.promote_requested", &target, Outcome::Failed, details).await?;
                Err(error.into())
            }
        }
    }

    /// The promotion requests of `project`, newest first.
    pub async fn config_promotion_requests(&self, project: &str) -> Result<Vec<PromotionRequest>, DeckError> {
        Ok(self.configs.promotion_requests(project).await?)
    }

    /// Approves a pending promotion request (not the requester's own): its
    /// text is checked against the target now and stored; audited either way.
    pub async fn config_approve(&self, caller: &Caller, id: &str) -> Result<ConfigVersion, DeckError> {
        match self.configs.approve_promotion(id, &caller.actor).await {
            Ok((request, mut version)) => {
                let target = format!("{}/{}->{}", request.project, request.from, request.to);
                let details = serde_json::json!({ "request": id, "version": version.version, "requested_by": request.requested_by });
                self.audit(caller, "config.promote_approved", &target, Outcome::Ok, details).await?;
                self.signal_change(caller, &request.project, &request.to, &mut version).await?;
                Ok(version)
            }
            Err(error) => {
                let details = serde_json::json!({ "request": id, "error": error.to_string() });
                self.audit(caller, "config.promote_approved", id, Outcome::Failed, details).await?;
                Err(error.into())
            }
        }
    }

    /// Rejects a pending promotion request (not the requester's own).
    pub async fn config_reject(
        &self,
        caller: &Caller,
        id: &str,
        reason: &str,
    ) -> Result<PromotionRequest, DeckError> {
        let request = self.configs.reject_promotion(id, &caller.actor, reason).await?;
        let target = format!("{}/{}->{}", request.project, request.from, request.to);
        let details = serde_json::json!({ "request": id, "reason": reason });
        self.audit(caller, "config.promote_rejected", &target, Outcome::Ok, details).await?;
        Ok(request)
    }
}

impl Deck {
    /// What `project/env` signals after a change (an empty hook when nothing).
    pub async fn config_reload_hook(&self, project: &str, env: &str) -> Result<ReloadHook, DeckError> {
        Ok(self.configs.reload_hook(project, env).await?.unwrap_or_default())
    }

    /// Sets what `project/env` signals after each change (an empty hook
    /// clears it). A webhook must name an existing target.
    pub async fn config_set_reload_hook(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        hook: &ReloadHook,
    ) -> Result<(), DeckError> {
        if let Some(name) = hook.webhook.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
            let targets = self.notify_targets().await?;
            if !targets.iter().any(|target| target.name == name) {
                return Err(ConfigError::Invalid(format!(
                    "there is no webhook target {name}; add it with `opsdeck notify add {name} URL` first"
                ))
                .into());
            }
        }
        let subject = format!("{project}/{env}");
        self.require_project_admin(caller, project, "config.reload_hook", "setting a reload hook").await?;
        let details = serde_json::json!({ "command": hook.command, "webhook": hook.webhook });
        self.audit(caller, "config.reload_hook", &subject, Outcome::Ok, details).await?;
        self.configs.set_reload_hook(project, env, hook).await?;
        // What is stored is sealed (an empty hook stores nothing).
        match self.configs.reload_hook(project, env).await? {
            Some(stored) => {
                self.seal_definition(caller, RELOAD_HOOK, &subject, &reload_hook_content(&stored), true)
                    .await?;
            }
            None => self.unseal_definition(RELOAD_HOOK, &subject).await?,
        }
        Ok(())
    }

    /// After `version` was stored: writes a linked layer's file, then runs
    /// `project/env`'s reload hook and records the outcome on the version. A failing signal never undoes the change:
    /// it is reported (and audited) so the user can act.
    pub(crate) async fn signal_change(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        version: &mut ConfigVersion,
    ) -> Result<(), DeckError> {
        self.write_back_link(caller, project, env, version).await?;
        self.signal_reload(caller, project, env, version).await
    }

    /// Runs `project/env`'s reload hook after `version` was stored, and
    /// records the outcome on it. (A version taken from its linked file
    /// goes straight here: there is nothing to write back, and reading the
    /// file again could meet the person's next edit.)
    pub(crate) async fn signal_reload(
        &self,
        caller: &Caller,
        project: &str,
        env: &str,
        version: &mut ConfigVersion,
    ) -> Result<(), DeckError> {
        let Some(hook) = self.configs.reload_hook(project, env).await? else {
            return Ok(());
        };
        let subject = format!("{project}/{env}");
        if let Err(error) =
            self.check_definition(caller, RELOAD_HOOK, &subject, &reload_hook_content(&hook), false).await
        {
            // The change is stored; the planted (or altered) hook is not run.
            version.reload =
                Some(ReloadOutcome { ok: false, done: Vec::new(), error: Some(error.to_string()) });
            return Ok(());
        }
        let change = ChangeInfo { project, env, version: version.version, hash: &version.content_hash };
        let mut done = Vec::new();
        let mut errors = Vec::new();
        if let Some(command) = &hook.command {
            match opsdeck_config::reload::run_command(command, &change).await {
                Ok(what) => done.push(what),
                Err(error) => errors.push(error),
            }
        }
        if let Some(target) = &hook.webhook {
            let payload = serde_json::json!({
                "project": project, "env": env, "version": version.version,
                "hash": version.content_hash, "layer": version.layer, "author": version.author,
            });
            match self.notify_target(target, "config.changed", &payload).await {
                Ok(crate::DeliveryStatus::Delivered) => done.push(format!("webhook {target}: delivered")),
                Ok(status) => errors.push(format!("webhook {target}: {status} (retried later)")),
                Err(error) => errors.push(format!("webhook {target}: {error}")),
            }
        }
        let outcome = ReloadOutcome {
            ok: errors.is_empty(),
            done,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        };
        let details =
            serde_json::json!({ "version": version.version, "done": outcome.done, "error": outcome.error });
        let result = if outcome.ok { Outcome::Ok } else { Outcome::Failed };
        self.audit(caller, "config.reload", &format!("{project}/{env}"), result, details).await?;
        version.reload = Some(outcome);
        Ok(())
    }
}

/// What a reload hook's seal covers: its command and its webhook target.
fn reload_hook_content(hook: &ReloadHook) -> serde_json::Value {
    serde_json::json!({ "command": hook.command, "webhook": hook.webhook })
}

fn read_file(file: &Path) -> Result<String, DeckError> {
    std::fs::read_to_string(file).map_err(|error| {
        ConfigError::Invalid(format!(
            "cannot read {}: {error} (a config file must be UTF-8 text)",
            file.display()
        ))
        .into()
    })
}

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

/// This process's environment variables (collected: the iterator is not
/// `Send`, and the futures that read them run on the app's thread pool).
fn process_env() -> Vec<(String, String)> {
    std::env::vars().collect()
}
