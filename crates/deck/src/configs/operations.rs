//! Configs: projects, the effective config with provenance, its schema
//! check, history, and what needs attention.

use opsdeck_config::{ConfigVersion, ProjectInfo};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::Deserialize;
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::configs::{ConfigExplained, ConfigSummary, ConfigValidation};
use crate::{Caller, Deck, DeckError};

/// `config.projects`.
pub struct ConfigProjects;

impl Operation for ConfigProjects {
    type Input = Nothing;
    type Output = Vec<ProjectInfo>;
    const NAME: &'static str = "config.projects";
    const SUMMARY: &'static str =
        "Every config project with its environments, whether it has a schema, and which promotions need approval.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<ProjectInfo>, DeckError> {
        deck.configs().projects().await
    }
}

/// One environment of a config project.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ProjectEnv {
    /// The project.
    pub project: String,
    /// The environment (`dev`, `staging`, `prod`, …).
    pub env: String,
}

/// `config.history`.
pub struct ConfigHistory;

impl Operation for ConfigHistory {
    type Input = ProjectEnv;
    type Output = Vec<ConfigVersion>;
    const NAME: &'static str = "config.history";
    const SUMMARY: &'static str =
        "The versions of one environment's layers, newest first: who changed what, why, and how the service was signalled.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/versions";

    async fn run(deck: &Deck, _caller: &Caller, input: ProjectEnv) -> Result<Vec<ConfigVersion>, DeckError> {
        deck.configs().history(&input.project, &input.env).await
    }
}

/// `config.explain`.
pub struct ConfigExplain;

impl Operation for ConfigExplain {
    type Input = ProjectEnv;
    type Output = Vec<ConfigExplained>;
    const NAME: &'static str = "config.explain";
    const SUMMARY: &'static str = "The effective config of one environment, every key with its value and provenance (which layer set it, and which it overrode); secret references are not resolved.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/effective";

    async fn run(
        deck: &Deck,
        _caller: &Caller,
        input: ProjectEnv,
    ) -> Result<Vec<ConfigExplained>, DeckError> {
        deck.configs().explain(&input.project, &input.env, None).await
    }
}

/// `config.validate`.
pub struct ConfigValidate;

impl Operation for ConfigValidate {
    type Input = ProjectEnv;
    type Output = ConfigValidation;
    const NAME: &'static str = "config.validate";
    const SUMMARY: &'static str = "Checks one environment's effective config against the project's JSON Schema and lists every violation with its key.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/validation";

    async fn run(deck: &Deck, _caller: &Caller, input: ProjectEnv) -> Result<ConfigValidation, DeckError> {
        deck.configs().validate(&input.project, &input.env).await
    }
}

/// `config.summary`.
pub struct ConfigSummaryOperation;

impl Operation for ConfigSummaryOperation {
    type Input = Nothing;
    type Output = ConfigSummary;
    const NAME: &'static str = "config.summary";
    const SUMMARY: &'static str = "Readiness of the configs: projects, environments, schema violations, pending promotion requests and link conflicts.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/summary";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<ConfigSummary, DeckError> {
        deck.configs().summary().await
    }
}
