//! Editing configs: a layer's text (checked as a draft, saved as a version),
//! a project's JSON Schema, and layers linked to files on this machine
//! (followed both ways; a conflict waits for someone to choose).

use std::path::PathBuf;

use opsdeck_config::{ConfigLink, ConfigVersion, DraftCheck, Format};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::config_changes::OneProject;
use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::configs::{LinkConflict, LinkResolution, LinkResolved};
use crate::{Caller, Deck, DeckError};

/// A project's JSON Schema.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ProjectSchema {
    /// The project.
    pub project: String,
    /// The schema's text (JSON); none when the project has no schema.
    pub schema: Option<String>,
}

/// `config.schema`.
pub struct ConfigSchema;

impl Operation for ConfigSchema {
    type Input = OneProject;
    type Output = ProjectSchema;
    const NAME: &'static str = "config.schema";
    const SUMMARY: &'static str =
        "The JSON Schema every environment of a config project is checked against (none when it has none).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/schema";

    async fn run(deck: &Deck, _caller: &Caller, input: OneProject) -> Result<ProjectSchema, DeckError> {
        let schema = deck.configs().schema_text(&input.project).await?;
        Ok(ProjectSchema { project: input.project, schema })
    }
}

/// A project's new JSON Schema.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SetSchemaInput {
    /// The project's name.
    pub project: String,
    /// The schema's text (JSON Schema, draft 2020-12).
    pub schema: String,
}

/// `config.set_schema`.
pub struct ConfigSetSchema;

impl Operation for ConfigSetSchema {
    type Input = SetSchemaInput;
    type Output = ProjectSchema;
    const NAME: &'static str = "config.set_schema";
    const SUMMARY: &'static str =
        "Sets a config project's JSON Schema; refused when the schema is broken or a \
         stored environment would break it (each violation named).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/configs/{project}/schema";

    async fn run(deck: &Deck, caller: &Caller, input: SetSchemaInput) -> Result<ProjectSchema, DeckError> {
        deck.configs().set_schema_text(caller, &input.project, &input.schema).await?;
        Ok(ProjectSchema { project: input.project, schema: Some(input.schema) })
    }
}

/// A layer's text, not yet saved.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The layer (`committed`, `local`, …).
    pub layer: String,
    /// How the text is written.
    pub format: Format,
    /// The text.
    pub content: String,
}

/// `config.check_draft`.
pub struct ConfigCheckDraft;

impl Operation for ConfigCheckDraft {
    type Input = DraftInput;
    type Output = DraftCheck;
    const NAME: &'static str = "config.check_draft";
    const SUMMARY: &'static str =
        "Checks a layer's unsaved text as a save would (syntax with line numbers, the \
         schema on the merged result, references) without storing anything.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}/check";

    async fn run(deck: &Deck, _caller: &Caller, input: DraftInput) -> Result<DraftCheck, DeckError> {
        deck.configs()
            .check_draft(&input.project, &input.env, &input.layer, input.format, &input.content)
            .await
    }
}

/// A layer's new text, with why it changed.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SaveInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The layer (`committed`, `local`, …).
    pub layer: String,
    /// How the text is written.
    pub format: Format,
    /// The text.
    pub content: String,
    /// Why (kept in the history; a default is written when empty).
    #[serde(default)]
    pub message: String,
}

/// `config.save`.
pub struct ConfigSave;

impl Operation for ConfigSave {
    type Input = SaveInput;
    type Output = ConfigVersion;
    const NAME: &'static str = "config.save";
    const SUMMARY: &'static str =
        "Stores a layer's new text as the next version of its environment (refused, \
         with every problem, when it breaks the syntax, the schema or a reference); runs the reload hook.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}";

    async fn run(deck: &Deck, caller: &Caller, input: SaveInput) -> Result<ConfigVersion, DeckError> {
        deck.configs()
            .save(
                caller,
                &input.project,
                &input.env,
                &input.layer,
                input.format,
                &input.content,
                &input.message,
            )
            .await
    }
}

/// `config.links`.
pub struct ConfigLinks;

impl Operation for ConfigLinks {
    type Input = Nothing;
    type Output = Vec<ConfigLink>;
    const NAME: &'static str = "config.links";
    const SUMMARY: &'static str =
        "Every config layer linked to a file on the OpsDeck machine, with when it last \
         agreed and any conflict waiting for a choice.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/links";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<ConfigLink>, DeckError> {
        deck.configs().links().await
    }
}

/// One layer of one environment.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneLayer {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The layer (`committed`, `local`, …).
    pub layer: String,
}

/// A layer to link to a file.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The layer (`committed`, `local`, …).
    pub layer: String,
    /// The file on the OpsDeck machine (its extension gives the format).
    pub path: String,
}

/// A new link, and the version its file's text became.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct Linked {
    /// The link.
    pub link: ConfigLink,
    /// The version stored from the file's text (none when it was already stored).
    pub version: Option<ConfigVersion>,
}

/// `config.link`.
pub struct ConfigLinkFile;

impl Operation for ConfigLinkFile {
    type Input = LinkInput;
    type Output = Linked;
    const NAME: &'static str = "config.link";
    const SUMMARY: &'static str =
        "Links a layer to a file on the OpsDeck machine: the file's text is stored now \
         (checked like any save), edits to the file are stored, stored changes are written back to it.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}/link";
    const MACHINE_INPUTS: &'static [&'static str] = &["path"];

    async fn run(deck: &Deck, caller: &Caller, input: LinkInput) -> Result<Linked, DeckError> {
        let path = PathBuf::from(input.path.trim());
        let (link, version) =
            deck.configs().link(caller, &input.project, &input.env, &input.layer, &path).await?;
        Ok(Linked { link, version })
    }
}

/// Whether a link was there to remove.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct Unlinked {
    /// True when the layer was linked (the file is left as it is).
    pub unlinked: bool,
}

/// `config.unlink`.
pub struct ConfigUnlink;

impl Operation for ConfigUnlink {
    type Input = OneLayer;
    type Output = Unlinked;
    const NAME: &'static str = "config.unlink";
    const SUMMARY: &'static str = "Stops following a layer's file (the file and the stored versions stay).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}/link";

    async fn run(deck: &Deck, caller: &Caller, input: OneLayer) -> Result<Unlinked, DeckError> {
        let unlinked = deck.configs().unlink(caller, &input.project, &input.env, &input.layer).await?;
        Ok(Unlinked { unlinked })
    }
}

/// `config.link_conflict`.
pub struct ConfigLinkConflict;

impl Operation for ConfigLinkConflict {
    type Input = OneLayer;
    type Output = LinkConflict;
    const NAME: &'static str = "config.link_conflict";
    const SUMMARY: &'static str = "Both texts of a linked layer in conflict (the file's edit and the stored \
         change waiting to be written), and whether the file's text passes the checks.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}/conflict";

    async fn run(deck: &Deck, _caller: &Caller, input: OneLayer) -> Result<LinkConflict, DeckError> {
        deck.configs().link_conflict(&input.project, &input.env, &input.layer).await
    }
}

/// How to end a conflict.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The layer (`committed`, `local`, …).
    pub layer: String,
    /// Which text wins.
    pub resolution: LinkResolution,
}

/// `config.resolve_link`.
pub struct ConfigResolveLink;

impl Operation for ConfigResolveLink {
    type Input = ResolveInput;
    type Output = LinkResolved;
    const NAME: &'static str = "config.resolve_link";
    const SUMMARY: &'static str =
        "Ends a linked layer's conflict: store the file's text as a new version, or \
         write the stored text over the file (after copying the file aside).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers/{layer}/conflict/resolve";

    async fn run(deck: &Deck, caller: &Caller, input: ResolveInput) -> Result<LinkResolved, DeckError> {
        deck.configs().resolve_link(caller, &input.project, &input.env, &input.layer, input.resolution).await
    }
}
