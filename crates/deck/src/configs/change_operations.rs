//! Changing configs: projects, comparing and rolling back versions,
//! promotion with its approvals, and how a service is signalled after a
//! change.

use opsdeck_config::{
    Change, ConfigVersion, LayerChange, Promotion, PromotionPreview, PromotionRequest, ReloadHook,
};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::configs::ProjectEnv;
use crate::catalogue::{Effect, Method, Operation};
use crate::configs::ConfigLayer;
use crate::{Caller, Deck, DeckError};

/// A config project.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneProject {
    /// The project's name.
    pub project: String,
}

/// What a new project is.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ProjectCreated {
    /// Its name.
    pub project: String,
}

/// `config.create_project`.
pub struct ConfigCreateProject;

impl Operation for ConfigCreateProject {
    type Input = OneProject;
    type Output = ProjectCreated;
    const NAME: &'static str = "config.create_project";
    const SUMMARY: &'static str =
        "Makes a config project (dev, staging and prod environments); its maker becomes its first admin.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs";

    async fn run(deck: &Deck, caller: &Caller, input: OneProject) -> Result<ProjectCreated, DeckError> {
        let project = input.project.trim().to_owned();
        deck.configs().create_project(caller, &project).await?;
        Ok(ProjectCreated { project })
    }
}

/// One environment's layers, at a version or now.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct LayersInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// A version of the environment; the current one when absent.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub version: Option<i64>,
}

/// `config.layers`.
pub struct ConfigLayers;

impl Operation for ConfigLayers {
    type Input = LayersInput;
    type Output = Vec<ConfigLayer>;
    const NAME: &'static str = "config.layers";
    const SUMMARY: &'static str =
        "The layers of one environment (defaults, committed, local, …) with their text, format and version.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/layers";

    async fn run(deck: &Deck, _caller: &Caller, input: LayersInput) -> Result<Vec<ConfigLayer>, DeckError> {
        deck.configs().layers(&input.project, &input.env, input.version).await
    }
}

/// Two versions of an environment.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct CompareInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The older version.
    #[ts(type = "number")]
    pub from: i64,
    /// The newer version.
    #[ts(type = "number")]
    pub to: i64,
}

/// Two versions compared: key by key, and each changed layer's text.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ConfigComparison {
    /// The keys that differ.
    pub changes: Vec<Change>,
    /// The layers whose text differs (both texts, for a side-by-side view).
    pub text: Vec<LayerChange>,
}

/// `config.compare`.
pub struct ConfigCompare;

impl Operation for ConfigCompare {
    type Input = CompareInput;
    type Output = ConfigComparison;
    const NAME: &'static str = "config.compare";
    const SUMMARY: &'static str = "Compares two versions of an environment: the keys added, removed and changed, and each changed layer's text.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/compare";

    async fn run(deck: &Deck, _caller: &Caller, input: CompareInput) -> Result<ConfigComparison, DeckError> {
        let changes = deck.configs().diff(&input.project, &input.env, input.from, input.to).await?;
        let text = deck.configs().text_diff(&input.project, &input.env, input.from, input.to).await?;
        Ok(ConfigComparison { changes, text })
    }
}

/// A version to return to.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ConfigRollbackInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The version whose layers become current again (as new versions).
    #[ts(type = "number")]
    pub to: i64,
}

/// `config.rollback`.
pub struct ConfigRollback;

impl Operation for ConfigRollback {
    type Input = ConfigRollbackInput;
    type Output = Vec<ConfigVersion>;
    const NAME: &'static str = "config.rollback";
    const SUMMARY: &'static str = "Makes an older version of an environment current again, as new versions (history is kept), and signals the service.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/{project}/{env}/rollback";

    async fn run(
        deck: &Deck,
        caller: &Caller,
        input: ConfigRollbackInput,
    ) -> Result<Vec<ConfigVersion>, DeckError> {
        deck.configs().rollback(caller, &input.project, &input.env, input.to).await
    }
}

/// A promotion from one environment to the next.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct PromotionInput {
    /// The project's name.
    pub project: String,
    /// The environment promoted from.
    pub from: String,
    /// The environment promoted to.
    pub to: String,
}

/// `config.preview_promotion`.
pub struct ConfigPreviewPromotion;

impl Operation for ConfigPreviewPromotion {
    type Input = PromotionInput;
    type Output = PromotionPreview;
    const NAME: &'static str = "config.preview_promotion";
    const SUMMARY: &'static str = "What promoting one environment's committed layer to another would change, and whether the result meets the schema.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/promotions/preview";

    async fn run(
        deck: &Deck,
        _caller: &Caller,
        input: PromotionInput,
    ) -> Result<PromotionPreview, DeckError> {
        deck.configs().preview_promotion(&input.project, &input.from, &input.to).await
    }
}

/// A promotion to make, with its reason.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct PromoteInput {
    /// The project's name.
    pub project: String,
    /// The environment promoted from.
    pub from: String,
    /// The environment promoted to.
    pub to: String,
    /// Why (kept in the history and the audit trail).
    #[serde(default)]
    pub message: String,
}

/// `config.promote`.
pub struct ConfigPromote;

impl Operation for ConfigPromote {
    type Input = PromoteInput;
    type Output = Promotion;
    const NAME: &'static str = "config.promote";
    const SUMMARY: &'static str = "Promotes one environment's committed layer to another; where the target needs approval this makes a request for another person instead.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/{project}/promotions";

    async fn run(deck: &Deck, caller: &Caller, input: PromoteInput) -> Result<Promotion, DeckError> {
        deck.configs().promote(caller, &input.project, &input.from, &input.to, &input.message).await
    }
}

/// `config.requests`.
pub struct ConfigRequests;

impl Operation for ConfigRequests {
    type Input = OneProject;
    type Output = Vec<PromotionRequest>;
    const NAME: &'static str = "config.requests";
    const SUMMARY: &'static str =
        "A project's promotion requests, newest first: pending ones wait for a second person.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/requests";

    async fn run(
        deck: &Deck,
        _caller: &Caller,
        input: OneProject,
    ) -> Result<Vec<PromotionRequest>, DeckError> {
        deck.configs().promotion_requests(&input.project).await
    }
}

/// A promotion request.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneRequest {
    /// The request's id.
    pub id: String,
}

/// `config.approve`.
pub struct ConfigApprove;

impl Operation for ConfigApprove {
    type Input = OneRequest;
    type Output = ConfigVersion;
    const NAME: &'static str = "config.approve";
    const SUMMARY: &'static str =
        "Approves a pending promotion request (not one's own) and applies it, if the source has not changed since.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/requests/{id}/approve";

    async fn run(deck: &Deck, caller: &Caller, input: OneRequest) -> Result<ConfigVersion, DeckError> {
        deck.configs().approve(caller, &input.id).await
    }
}

/// A request to turn down, and why.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// The request's id.
    pub id: String,
    /// Why (shown to the requester).
    #[serde(default)]
    pub reason: String,
}

/// `config.reject`.
pub struct ConfigReject;

impl Operation for ConfigReject {
    type Input = RejectInput;
    type Output = PromotionRequest;
    const NAME: &'static str = "config.reject";
    const SUMMARY: &'static str = "Turns down a pending promotion request, with a reason.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/configs/requests/{id}/reject";

    async fn run(deck: &Deck, caller: &Caller, input: RejectInput) -> Result<PromotionRequest, DeckError> {
        deck.configs().reject(caller, &input.id, &input.reason).await
    }
}

/// `config.reload_hook`.
pub struct ConfigReloadHook;

impl Operation for ConfigReloadHook {
    type Input = ProjectEnv;
    type Output = ReloadHook;
    const NAME: &'static str = "config.reload_hook";
    const SUMMARY: &'static str =
        "How an environment's service is signalled after each change: a command on this machine and/or a webhook.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/configs/{project}/{env}/reload-hook";

    async fn run(deck: &Deck, _caller: &Caller, input: ProjectEnv) -> Result<ReloadHook, DeckError> {
        deck.configs().reload_hook(&input.project, &input.env).await
    }
}

/// A reload hook to set.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SetReloadHookInput {
    /// The project's name.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The command and/or webhook target (both empty: signal nothing).
    pub hook: ReloadHook,
}

/// What an environment now signals.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct ReloadHookSet {
    /// The project.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The hook now in force.
    pub hook: ReloadHook,
}

/// `config.set_reload_hook`.
pub struct ConfigSetReloadHook;

impl Operation for ConfigSetReloadHook {
    type Input = SetReloadHookInput;
    type Output = ReloadHookSet;
    const NAME: &'static str = "config.set_reload_hook";
    const SUMMARY: &'static str = "Sets how an environment's service is signalled after each change (project admins only; the command is sealed and runs on the machine that set it).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/configs/{project}/{env}/reload-hook";
    const MACHINE_INPUTS: &'static [&'static str] = &["hook.command"];

    async fn run(
        deck: &Deck,
        caller: &Caller,
        input: SetReloadHookInput,
    ) -> Result<ReloadHookSet, DeckError> {
        deck.configs().set_reload_hook(caller, &input.project, &input.env, &input.hook).await?;
        Ok(ReloadHookSet { project: input.project, env: input.env, hook: input.hook })
    }
}

/// Which environments need a second person's approval.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ApprovalEnvsInput {
    /// The project's name.
    pub project: String,
    /// The environments a promotion into needs approval (empty: none).
    pub envs: Vec<String>,
}

/// `config.set_approval_envs`.
pub struct ConfigSetApprovalEnvs;

impl Operation for ConfigSetApprovalEnvs {
    type Input = ApprovalEnvsInput;
    type Output = ApprovalEnvsInput;
    const NAME: &'static str = "config.set_approval_envs";
    const SUMMARY: &'static str =
        "Sets which environments a promotion into needs a second person's approval (project admins only).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/configs/{project}/approval-envs";

    async fn run(
        deck: &Deck,
        caller: &Caller,
        input: ApprovalEnvsInput,
    ) -> Result<ApprovalEnvsInput, DeckError> {
        deck.configs().set_approval_envs(caller, &input.project, &input.envs).await?;
        Ok(input)
    }
}
