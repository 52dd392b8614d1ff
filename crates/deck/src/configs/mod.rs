//! Configs in the deck: projects and their environments' layers with
//! history, the effective config with provenance (the process's own
//! environment variables on top), schema checks and rollback — each change
//! attributed to the caller and audited.
//!
//! `files.rs`: rendering, `run`'s variables, directory import and export;
//! `promotion.rs`: comparing, rolling back, promoting and approvals;
//! `reload.rs`: the reload hook run after each change.

mod admins;
pub mod change_operations;
pub mod editor_operations;
mod files;
mod links;
mod promotion;
mod reload;

pub use links::{LinkConflict, LinkResolution, LinkResolved, LinkSync, SyncOutcome};
pub mod operations;

use std::path::Path;

use serde::Serialize;

use opsdeck_config::{ConfigError, ConfigVersion, DraftCheck, Format, ProjectInfo, Violation};
use ts_rs::TS;

use crate::{Caller, DeckError, Outcome};

/// A deck's config projects: `deck.configs()`.
#[derive(Clone, Copy)]
pub struct Configs<'d> {
    pub(crate) deck: &'d crate::Deck,
}

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

fn read_file(file: &Path) -> Result<String, DeckError> {
    Ok(opsdeck_config::layout::read_text(file)?)
}

/// This process's environment variables (collected: the iterator is not
/// `Send`, and the futures that read them run on the app's thread pool).
fn process_env() -> Vec<(String, String)> {
    std::env::vars().collect()
}

impl Configs<'_> {
    /// Configs at a glance: invalid environments, waiting approvals, link problems.
    pub async fn summary(self) -> Result<ConfigSummary, DeckError> {
        let mut summary = ConfigSummary::default();
        for project in self.deck.configs.projects().await? {
            summary.projects += 1;
            for env in self.deck.configs.project_envs(&project.name).await? {
                summary.environments += 1;
                match self.validate(&project.name, &env).await {
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
                .deck
                .configs
                .promotion_requests(&project.name)
                .await?
                .iter()
                .filter(|request| request.status == opsdeck_config::PromotionStatus::Pending)
                .count() as i64;
        }
        for link in self.deck.configs.links().await? {
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
    pub async fn projects(self) -> Result<Vec<ProjectInfo>, DeckError> {
        Ok(self.deck.configs.projects().await?)
    }

    /// Makes a project (nothing happens when it exists).
    pub async fn create_project(self, caller: &Caller, project: &str) -> Result<(), DeckError> {
        let existed = self.deck.configs.projects().await?.iter().any(|info| info.name == project);
        self.deck.configs.ensure_project(project).await?;
        if !existed {
            self.deck.audit(caller, "config.project", project, Outcome::Ok, serde_json::json!({})).await?;
            // Its creator is its first admin.
            if let Some(user) = caller.user() {
                self.deck.configs.add_admin(project, user, &caller.actor).await?;
            }
        }
        Ok(())
    }

    /// Sets a project's JSON Schema from a file.
    pub async fn set_schema(self, caller: &Caller, project: &str, file: &Path) -> Result<(), DeckError> {
        let text = read_file(file)?;
        self.deck.configs.set_schema(project, &text).await?;
        self.deck
            .audit(
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
    pub async fn set_schema_text(self, caller: &Caller, project: &str, text: &str) -> Result<(), DeckError> {
        self.deck.configs.set_schema(project, text).await?;
        self.deck.audit(caller, "config.schema", project, Outcome::Ok, serde_json::json!({})).await?;
        Ok(())
    }

    /// The project's JSON Schema as written (none when it has none).
    pub async fn schema_text(self, project: &str) -> Result<Option<String>, DeckError> {
        Ok(self.deck.configs.schema_text(project).await?)
    }

    /// Each stored layer of `project/env` at `version` (the latest when `None`).
    pub async fn layers(
        self,
        project: &str,
        env: &str,
        version: Option<i64>,
    ) -> Result<Vec<ConfigLayer>, DeckError> {
        Ok(self
            .deck
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
    pub async fn check_draft(
        self,
        project: &str,
        env: &str,
        layer: &str,
        format: Format,
        content: &str,
    ) -> Result<DraftCheck, DeckError> {
        Ok(self.deck.configs.check_draft(project, env, layer, format, content).await?)
    }

    /// Stores `content` as the new text of `layer` in `project/env` (refused,
    /// nothing stored, when it does not parse or breaks the schema).
    #[allow(clippy::too_many_arguments)]
    pub async fn save(
        self,
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
        let mut version = self
            .deck
            .configs
            .save(project, env, layer, format, content, &source, &caller.actor, &message)
            .await?;
        let details =
            serde_json::json!({ "version": version.version, "layer": layer, "hash": version.content_hash });
        self.deck.audit(caller, "config.save", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok(version)
    }

    /// Sets `key` to `value` (typed like YAML, or JSON for lists and maps) in
    /// the committed layer of `project/env`; returns the version and whether
    /// the rest of the file's text (comments, layout) was kept.
    pub async fn set(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        key: &str,
        value: &str,
        message: &str,
    ) -> Result<(ConfigVersion, bool), DeckError> {
        let value = opsdeck_config::edit::parse_value(value)?;
        let (mut version, kept) =
            self.deck.configs.set(project, env, key, &value, &caller.actor, message).await?;
        let details = serde_json::json!({ "key": key, "version": version.version });
        self.deck.audit(caller, "config.set", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        self.signal_change(caller, project, env, &mut version).await?;
        Ok((version, kept))
    }

    /// The effective config's keys with their provenance (one key, or all).
    pub async fn explain(
        self,
        project: &str,
        env: &str,
        key: Option<&str>,
    ) -> Result<Vec<ConfigExplained>, DeckError> {
        let merged = self.deck.configs.effective(project, env, None, process_env()).await?;
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
    pub async fn validate(self, project: &str, env: &str) -> Result<ConfigValidation, DeckError> {
        let merged = self.deck.configs.effective(project, env, None, process_env()).await?;
        match self.deck.configs.schema(project).await? {
            None => Ok(ConfigValidation { ok: true, has_schema: false, violations: Vec::new() }),
            Some(schema) => {
                let violations = schema.check(&merged);
                Ok(ConfigValidation { ok: violations.is_empty(), has_schema: true, violations })
            }
        }
    }

    /// The versions of `project/env`, newest first.
    pub async fn history(self, project: &str, env: &str) -> Result<Vec<ConfigVersion>, DeckError> {
        Ok(self.deck.configs.history(project, env).await?)
    }
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::ConfigProjects>(),
        entry::<operations::ConfigHistory>(),
        entry::<operations::ConfigExplain>(),
        entry::<operations::ConfigValidate>(),
        entry::<operations::ConfigSummaryOperation>(),
        entry::<change_operations::ConfigCreateProject>(),
        entry::<change_operations::ConfigLayers>(),
        entry::<change_operations::ConfigCompare>(),
        entry::<change_operations::ConfigRollback>(),
        entry::<change_operations::ConfigPreviewPromotion>(),
        entry::<change_operations::ConfigPromote>(),
        entry::<change_operations::ConfigRequests>(),
        entry::<change_operations::ConfigApprove>(),
        entry::<change_operations::ConfigReject>(),
        entry::<change_operations::ConfigReloadHook>(),
        entry::<change_operations::ConfigSetReloadHook>(),
        entry::<change_operations::ConfigSetApprovalEnvs>(),
        entry::<editor_operations::ConfigSchema>(),
        entry::<editor_operations::ConfigSetSchema>(),
        entry::<editor_operations::ConfigCheckDraft>(),
        entry::<editor_operations::ConfigSave>(),
        entry::<editor_operations::ConfigLinks>(),
        entry::<editor_operations::ConfigLinkFile>(),
        entry::<editor_operations::ConfigUnlink>(),
        entry::<editor_operations::ConfigLinkConflict>(),
        entry::<editor_operations::ConfigResolveLink>(),
    ]
}
