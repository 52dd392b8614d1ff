//! Config projects in the store: each environment's layers as versions —
//! the whole text of a layer as written, so history shows what changed and a
//! rollback restores it byte for byte — and the effective config of an
//! environment at any version.
//!
//! Layers, weakest first: `defaults` (the schema's `default` values),
//! `committed` (the file a team reviews), `local` (this machine's
//! overrides), `env` (`PREFIX_A__B` variables, typed by the schema).
//! Nothing that breaks the schema is stored.

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{Store, StoreKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;
use ts_rs::TS;

use crate::env::{default_prefix, env_layer};
use crate::layers::{effective, Effective, Layer};
use crate::parse::{parse, Format};
use crate::schema::Schema;
use crate::ConfigError;

/// This crate's migrations for the store's backend (versions 3000–3999).
pub fn migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// The layers a user writes.
pub const LAYERS: [&str; 2] = ["committed", "local"];

/// The environments every project has, in promotion order; others may be added.
pub const DEFAULT_ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// A project as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ProjectInfo {
    /// Its name.
    pub name: String,
    /// The prefix of its environment variables (`SHOP` reads `SHOP_DB__HOST`).
    pub env_prefix: String,
    /// Whether it has a JSON Schema.
    pub has_schema: bool,
    /// Its environments: dev, staging and prod, then any other with versions.
    pub envs: Vec<String>,
    /// The environments whose promotions need a second person's approval.
    pub approval_envs: Vec<String>,
}

/// One version of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigVersion {
    /// The version number (per environment).
    #[ts(type = "number")]
    pub version: i64,
    /// The layer it changed.
    pub layer: String,
    /// How its text is written.
    pub format: Format,
    /// SHA-256 of the layer's text.
    pub content_hash: String,
    /// Who changed it.
    pub author: String,
    /// Why.
    pub message: String,
    /// When (Unix ms).
    #[ts(type = "number")]
    pub created_at: i64,
    /// What the environment's reload hook did after this change (only on
    /// the answer to a change, when the environment has a hook).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reload: Option<crate::ReloadOutcome>,
}

/// What checking a draft found (see [`Configs::check_draft`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct DraftCheck {
    /// True when a save would be accepted.
    pub ok: bool,
    /// The text does not parse: what and where.
    pub syntax: Option<SyntaxProblem>,
    /// The schema violations the environment would have (the draft's own
    /// have `layer` equal to the draft's layer and a line in it).
    pub violations: Vec<crate::Violation>,
}

/// Text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct SyntaxProblem {
    /// What is wrong.
    pub message: String,
    /// The 1-based line, when known.
    #[ts(type = "number | null")]
    pub line: Option<usize>,
}

/// A layer's text as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayer {
    /// The layer.
    pub layer: String,
    /// Its format.
    pub format: Format,
    /// Its text.
    pub content: String,
    /// The version that wrote it (0: not stored yet).
    pub version: i64,
    /// Where it came from, for messages (`committed v3`, or the file being saved).
    pub source: String,
}

/// Checks a project or environment name.
pub fn check_name(what: &str, name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "`{name}` is not a valid {what} name: use 1–64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// The config projects of one store.
#[derive(Clone)]
pub struct Configs {
    pub(crate) store: Store,
}

impl Configs {
    /// The configs kept in `store`.
    pub fn new(store: Store) -> Configs {
        Configs { store }
    }

    pub(crate) async fn project_row(
        &self,
        name: &str,
    ) -> Result<(String, String, Option<String>), ConfigError> {
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, env_prefix, schema FROM config_projects WHERE name = $1")
                .bind(name)
                .fetch_optional(self.store.pool())
                .await?;
        row.ok_or_else(|| ConfigError::UnknownProject { name: name.to_owned() })
    }

    /// Makes `name` if it does not exist yet (with the default prefix).
    pub async fn ensure_project(&self, name: &str) -> Result<(), ConfigError> {
        check_name("project", name)?;
        if self.project_row(name).await.is_ok() {
            return Ok(());
        }
        let mut id = [0u8; 8];
        getrandom::fill(&mut id)
            .map_err(|error| ConfigError::Core(opsdeck_core::CoreError::Random(error.to_string())))?;
        sqlx::query(
            "INSERT INTO config_projects (id, name, env_prefix, schema, created_at_unix_ms) VALUES ($1, $2, $3, NULL, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(format!("cfg_{}", hex::encode(id)))
        .bind(name)
        .bind(default_prefix(name))
        .bind(now_unix_ms())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Every project with its environments.
    pub async fn projects(&self) -> Result<Vec<ProjectInfo>, ConfigError> {
        let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, name, env_prefix, schema, approval_envs FROM config_projects ORDER BY name",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut projects = Vec::new();
        for (id, name, env_prefix, schema, approval_envs) in rows {
            let envs: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT env FROM config_versions WHERE project_id = $1 ORDER BY env",
            )
            .bind(&id)
            .fetch_all(self.store.pool())
            .await?;
            let mut seen = std::collections::HashSet::new();
            let envs: Vec<String> = DEFAULT_ENVS
                .iter()
                .map(|env| (*env).to_owned())
                .chain(envs)
                .filter(|env| seen.insert(env.clone()))
                .collect();
            let approval_envs = crate::approval::env_list(&approval_envs);
            projects.push(ProjectInfo {
                name,
                env_prefix,
                has_schema: schema.is_some(),
                envs,
                approval_envs,
            });
        }
        Ok(projects)
    }

    /// The project's schema, when it has one.
    pub async fn schema(&self, project: &str) -> Result<Option<Schema>, ConfigError> {
        let (_, _, schema) = self.project_row(project).await?;
        schema.map(|text| Schema::parse(&text)).transpose()
    }

    /// Sets the project's JSON Schema (made if missing). Refused when the
    /// schema is broken or an environment's current config breaks it.
    pub async fn set_schema(&self, project: &str, text: &str) -> Result<(), ConfigError> {
        let schema = Schema::parse(text)?;
        self.ensure_project(project).await?;
        let (id, _, _) = self.project_row(project).await?;
        for env in self.envs(&id).await? {
            let layers = self.layers_at(project, &env, None).await?;
            let merged = merge(&schema_defaults(Some(&schema)), &layers, None)?;
            let violations = schema.check(&merged);
            if !violations.is_empty() {
                return Err(ConfigError::SchemaViolations {
                    what: format!("{project}/{env} under the new schema"),
                    violations,
                });
            }
        }
        sqlx::query("UPDATE config_projects SET schema = $1 WHERE id = $2")
            .bind(text)
            .bind(&id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    async fn envs(&self, project_id: &str) -> Result<Vec<String>, ConfigError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT env FROM config_versions WHERE project_id = $1 ORDER BY env")
            .bind(project_id)
            .fetch_all(self.store.pool())
            .await?)
    }

    /// Stores `content` as the new text of `layer` in `project/env`, after
    /// checking its syntax and, with the other layers, the schema.
    #[allow(clippy::too_many_arguments)]
    pub async fn save(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
        source_name: &str,
        author: &str,
        message: &str,
    ) -> Result<ConfigVersion, ConfigError> {
        let saved = self
            .save_if_unchanged(project, env, layer, format, content, source_name, author, message, None)
            .await?;
        saved.ok_or_else(|| ConfigError::Invalid("the configuration changed while it was being saved".into()))
    }

    /// [`ConfigStore::save`], only while `project/env`'s newest version is
    /// still `based_on` (when given): `None` when another change came first.
    #[allow(clippy::too_many_arguments)]
    async fn save_if_unchanged(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
        source_name: &str,
        author: &str,
        message: &str,
        based_on: Option<i64>,
    ) -> Result<Option<ConfigVersion>, ConfigError> {
        check_name("environment", env)?;
        if !LAYERS.contains(&layer) {
            return Err(ConfigError::Invalid(format!("unknown layer {layer:?}; use committed or local")));
        }
        parse(content, format, source_name)?;
        self.ensure_project(project).await?;
        let violations = self.violations_with(project, env, layer, format, content, source_name).await?;
        if !violations.is_empty() {
            return Err(ConfigError::SchemaViolations {
                what: format!("{project}/{env} {layer}"),
                violations,
            });
        }
        let (id, _, _) = self.project_row(project).await?;
        let hash = hex::encode(Sha256::digest(content.as_bytes()));
        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        // Lock the project's row first (a no-op write): on PostgreSQL two
        // saves then take their version numbers one after the other instead
        // of both taking the same one (SQLite's write lock does this already).
        sqlx::query("UPDATE config_projects SET id = id WHERE id = $1")
            .bind(&id)
            .execute(&mut *transaction)
            .await?;
        let newest: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE project_id = $1 AND env = $2",
        )
        .bind(&id)
        .bind(env)
        .fetch_one(&mut *transaction)
        .await?;
        if based_on.is_some_and(|based_on| based_on != newest) {
            return Ok(None);
        }
        let version = newest + 1;
        sqlx::query(
            "INSERT INTO config_versions (project_id, env, version, layer, format, content, content_hash, author, \
             message, created_at_unix_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(env)
        .bind(version)
        .bind(layer)
        .bind(format.as_str())
        .bind(content)
        .bind(&hash)
        .bind(author)
        .bind(message)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Some(ConfigVersion {
            version,
            layer: layer.to_owned(),
            format,
            content_hash: hash,
            author: author.to_owned(),
            message: message.to_owned(),
            created_at: now,
            reload: None,
        }))
    }

    /// The schema violations `project/env` would have with `content` as its
    /// `layer` (none without a schema). The project must exist.
    pub(crate) async fn violations_with(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
        source_name: &str,
    ) -> Result<Vec<crate::Violation>, ConfigError> {
        let Some(schema) = self.schema(project).await? else {
            return Ok(Vec::new());
        };
        let mut layers: Vec<StoredLayer> = self
            .layers_at(project, env, None)
            .await?
            .into_iter()
            .filter(|stored| stored.layer != layer)
            .collect();
        layers.push(StoredLayer {
            layer: layer.to_owned(),
            format,
            content: content.to_owned(),
            version: 0,
            source: source_name.to_owned(),
        });
        let merged = merge(&schema_defaults(Some(&schema)), &layers, None)?;
        Ok(schema.check(&merged))
    }

    /// Checks a draft of one layer as a save would, storing nothing: its
    /// syntax, then the schema with the environment's other layers. The
    /// editor lints with this, so it shows what a save would refuse.
    pub async fn check_draft(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
    ) -> Result<DraftCheck, ConfigError> {
        let source = format!("{layer} (draft)");
        if let Err(error) = parse(content, format, &source) {
            return match error {
                ConfigError::Syntax { line, message, .. } => Ok(DraftCheck {
                    ok: false,
                    syntax: Some(SyntaxProblem { message, line }),
                    violations: Vec::new(),
                }),
                other => Err(other),
            };
        }
        // A project not made yet has no schema to break.
        if self.project_row(project).await.is_err() {
            return Ok(DraftCheck { ok: true, syntax: None, violations: Vec::new() });
        }
        let violations = self.violations_with(project, env, layer, format, content, &source).await?;
        Ok(DraftCheck { ok: violations.is_empty(), syntax: None, violations })
    }

    /// The text of each layer as of `version` (the latest when `None`).
    pub async fn layers_at(
        &self,
        project: &str,
        env: &str,
        version: Option<i64>,
    ) -> Result<Vec<StoredLayer>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        if let Some(version) = version {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM config_versions WHERE project_id = $1 AND env = $2 AND version = $3",
            )
            .bind(&id)
            .bind(env)
            .bind(version)
            .fetch_optional(self.store.pool())
            .await?;
            if exists.is_none() {
                return Err(ConfigError::UnknownVersion {
                    project: project.to_owned(),
                    env: env.to_owned(),
                    version,
                });
            }
        }
        let mut layers = Vec::new();
        for layer in LAYERS {
            let row: Option<(String, String, i64)> = sqlx::query_as(
                "SELECT format, content, version FROM config_versions WHERE project_id = $1 AND env = $2 AND layer = $3 \
                 AND version <= $4 ORDER BY version DESC LIMIT 1",
            )
            .bind(&id)
            .bind(env)
            .bind(layer)
            .bind(version.unwrap_or(i64::MAX))
            .fetch_optional(self.store.pool())
            .await?;
            if let Some((format, content, version)) = row {
                layers.push(StoredLayer {
                    layer: layer.to_owned(),
                    format: format.parse()?,
                    content,
                    source: format!("{layer} v{version}"),
                    version,
                });
            }
        }
        Ok(layers)
    }

    /// The effective config of `project/env` at `version` (latest when
    /// `None`), with the environment's variables on top (typed by the schema).
    pub async fn effective(
        &self,
        project: &str,
        env: &str,
        version: Option<i64>,
        variables: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Effective, ConfigError> {
        let (_, prefix, _) = self.project_row(project).await?;
        let schema = self.schema(project).await?;
        let layers = self.layers_at(project, env, version).await?;
        let (mut env_root, used) = env_layer(&prefix, variables);
        if let Some(schema) = &schema {
            let variable_of =
                |path: &str| format!("{prefix}_{}", path.to_ascii_uppercase().replace('.', "__"));
            schema.coerce_env(&mut env_root, &variable_of)?;
        }
        let env_layer = (!used.is_empty()).then(|| Layer {
            name: "env".to_owned(),
            source: format!("{prefix}_* variables"),
            root: env_root,
        });
        merge(&schema_defaults(schema.as_ref()), &layers, env_layer)
    }

    /// What `project/env` signals after a change (none when nothing).
    pub async fn reload_hook(
        &self,
        project: &str,
        env: &str,
    ) -> Result<Option<crate::ReloadHook>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT command, webhook FROM config_reload_hooks WHERE project_id = $1 AND env = $2",
        )
        .bind(&id)
        .bind(env)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(row.map(|(command, webhook)| crate::ReloadHook { command, webhook }))
    }

    /// Sets (or, when empty, clears) what `project/env` signals after a change.
    pub async fn set_reload_hook(
        &self,
        project: &str,
        env: &str,
        hook: &crate::ReloadHook,
    ) -> Result<(), ConfigError> {
        check_name("environment", env)?;
        let (id, _, _) = self.project_row(project).await?;
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("DELETE FROM config_reload_hooks WHERE project_id = $1 AND env = $2")
            .bind(&id)
            .bind(env)
            .execute(&mut *transaction)
            .await?;
        if !hook.is_empty() {
            let trimmed = |value: &Option<String>| {
                value.as_deref().map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
            };
            sqlx::query(
                "INSERT INTO config_reload_hooks (project_id, env, command, webhook) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(env)
            .bind(trimmed(&hook.command))
            .bind(trimmed(&hook.webhook))
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The project's schema text, as stored.
    pub async fn schema_text(&self, project: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.project_row(project).await?.2)
    }

    /// The environments of `project` that have versions.
    pub async fn project_envs(&self, project: &str) -> Result<Vec<String>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        self.envs(&id).await
    }

    /// The project's environment-variable prefix.
    pub async fn env_prefix(&self, project: &str) -> Result<String, ConfigError> {
        Ok(self.project_row(project).await?.1)
    }

    /// The versions of `project/env`, newest first.
    pub async fn history(&self, project: &str, env: &str) -> Result<Vec<ConfigVersion>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        let rows: Vec<(i64, String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT version, layer, format, content_hash, author, message, created_at_unix_ms FROM config_versions \
             WHERE project_id = $1 AND env = $2 ORDER BY version DESC",
        )
        .bind(&id)
        .bind(env)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(version, layer, format, content_hash, author, message, created_at)| {
                Ok(ConfigVersion {
                    version,
                    layer,
                    format: format.parse()?,
                    content_hash,
                    author,
                    message,
                    created_at,
                    reload: None,
                })
            })
            .collect()
    }

    /// Makes every layer's text what it was at version `to`, as new versions
    /// (history is never rewritten): byte for byte, and a layer that did not
    /// exist then is emptied. Returns the versions written.
    pub async fn rollback(
        &self,
        project: &str,
        env: &str,
        to: i64,
        author: &str,
    ) -> Result<Vec<ConfigVersion>, ConfigError> {
        let then = self.layers_at(project, env, Some(to)).await?;
        let now = self.layers_at(project, env, None).await?;
        let mut written = Vec::new();
        for newer in now.iter().filter(|layer| !then.iter().any(|old| old.layer == layer.layer)) {
            let empty = if newer.format == Format::Json { "{}" } else { "" };
            if newer.content == empty {
                continue;
            }
            let message = format!("rollback to version {to} (the {} layer was empty then)", newer.layer);
            written.push(
                self.save(project, env, &newer.layer, newer.format, empty, &newer.source, author, &message)
                    .await?,
            );
        }
        for old in then {
            let current = now.iter().find(|layer| layer.layer == old.layer);
            if current.is_some_and(|current| current.content == old.content && current.format == old.format) {
                continue;
            }
            let message = format!("rollback to version {to}");
            let source = format!("{project}/{env} {} (version {})", old.layer, old.version);
            written.push(
                self.save(project, env, &old.layer, old.format, &old.content, &source, author, &message)
                    .await?,
            );
        }
        Ok(written)
    }
}

impl Configs {
    /// Sets one key in the committed layer of `project/env` (a new version;
    /// a new YAML layer when there is none), checked like any save. Returns
    /// the version and whether the rest of the text was kept as written.
    #[allow(clippy::too_many_arguments)]
    pub async fn set(
        &self,
        project: &str,
        env: &str,
        key: &str,
        value: &serde_json::Value,
        author: &str,
        message: &str,
    ) -> Result<(ConfigVersion, bool), ConfigError> {
        self.ensure_project(project).await?;
        let (id, _, _) = self.project_row(project).await?;
        // Read, change one key, store only if nobody stored a change in
        // between; otherwise read again: two `set`s of different keys at the
        // same time both land, neither overwrites the other.
        loop {
            let based_on: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE project_id = $1 AND env = $2",
            )
            .bind(&id)
            .bind(env)
            .fetch_one(self.store.pool())
            .await?;
            let current = self
                .layers_at(project, env, Some(based_on).filter(|version| *version > 0))
                .await?
                .into_iter()
                .find(|layer| layer.layer == "committed");
            let (format, content, source) = match current {
                Some(layer) => (layer.format, layer.content, layer.source),
                None => (Format::Yaml, String::new(), format!("{project}/{env} committed")),
            };
            let (text, kept) = crate::edit::set_value(&content, format, &source, key, value)?;
            let message = if message.is_empty() { format!("set {key}") } else { message.to_owned() };
            let saved = self
                .save_if_unchanged(
                    project,
                    env,
                    "committed",
                    format,
                    &text,
                    &source,
                    author,
                    &message,
                    Some(based_on),
                )
                .await?;
            if let Some(version) = saved {
                return Ok((version, kept));
            }
        }
    }
}

fn schema_defaults(schema: Option<&Schema>) -> Option<Layer> {
    let root = schema?.defaults();
    Some(Layer { name: "defaults".to_owned(), source: "schema defaults".to_owned(), root })
}

pub(crate) fn merge(
    defaults: &Option<Layer>,
    stored: &[StoredLayer],
    env: Option<Layer>,
) -> Result<Effective, ConfigError> {
    let mut layers: Vec<Layer> = defaults.iter().cloned().collect();
    for layer in stored {
        let root = parse(&layer.content, layer.format, &layer.source)?;
        layers.push(Layer { name: layer.layer.clone(), source: layer.source.clone(), root });
    }
    layers.extend(env);
    Ok(effective(&layers))
}
