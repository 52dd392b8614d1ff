//! Read operations of the other areas: the readiness overview, notification
//! targets, certificates, config projects and their history, trace search.

use opsdeck_certs::CertRecord;
use opsdeck_config::{ConfigVersion, ProjectInfo};
use opsdeck_core::webhooks::WebhookTarget;
use opsdeck_telemetry::{TraceQuery, TraceSummary};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::Deserialize;
use ts_rs::TS;

use super::{Effect, Method, Nothing, Operation};
use crate::status::DeckStatus;
use crate::{Caller, Deck, DeckError};

/// `status`.
pub struct Status;

impl Operation for Status {
    type Input = Nothing;
    type Output = DeckStatus;
    const NAME: &'static str = "status";
    const SUMMARY: &'static str = "Where this deck keeps its data, which store it uses and its version.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/status";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<DeckStatus, DeckError> {
        deck.status().await
    }
}

/// `notify.targets`.
pub struct NotifyTargets;

impl Operation for NotifyTargets {
    type Input = Nothing;
    type Output = Vec<WebhookTarget>;
    const NAME: &'static str = "notify.targets";
    const SUMMARY: &'static str =
        "The webhook targets signed events are sent to (names and URLs; never their secrets).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/notify/targets";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<WebhookTarget>, DeckError> {
        deck.notify_targets().await
    }
}

/// `cert.list`.
pub struct CertList;

impl Operation for CertList {
    type Input = Nothing;
    type Output = Vec<CertRecord>;
    const NAME: &'static str = "cert.list";
    const SUMMARY: &'static str =
        "The certificate inventory: subjects, names, issuers, days left, chain status, where each lives, renewal.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/certs";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<CertRecord>, DeckError> {
        deck.cert_list().await
    }
}

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
        deck.config_projects().await
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
        deck.config_history(&input.project, &input.env).await
    }
}

/// Which traces to find (every condition must hold).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TraceSearch {
    /// A service with a span in the trace.
    #[serde(default)]
    pub service: Option<String>,
    /// An operation that is a span in the trace.
    #[serde(default)]
    pub operation: Option<String>,
    /// Only traces with a span in error.
    #[serde(default)]
    pub errors_only: Option<bool>,
    /// Only traces at least this long, in milliseconds.
    #[serde(default)]
    pub min_duration_ms: Option<f64>,
    /// Only traces at most this long, in milliseconds.
    #[serde(default)]
    pub max_duration_ms: Option<f64>,
    /// Only traces that started in the last this many minutes.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_minutes: Option<i64>,
    /// Only traces that started at or after this time (Unix milliseconds).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_unix_ms: Option<i64>,
    /// Only traces that started before this time (Unix nanoseconds): the
    /// next page starts at the last trace's start.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub until_unix_nano: Option<i64>,
    /// With `attribute_value`: a span attribute that must have that value.
    #[serde(default)]
    pub attribute_key: Option<String>,
    /// The value `attribute_key` must have (as text, number or boolean).
    #[serde(default)]
    pub attribute_value: Option<String>,
    /// The most traces (default 50, at most 1000).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// A text field left blank is no condition.
fn given(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// `trace.search`.
pub struct TraceSearchOperation;

impl Operation for TraceSearchOperation {
    type Input = TraceSearch;
    type Output = Vec<TraceSummary>;
    const NAME: &'static str = "trace.search";
    const SUMMARY: &'static str = "Finds received traces by service, operation, errors, duration, time and a span attribute; newest first.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/traces";

    async fn run(deck: &Deck, _caller: &Caller, input: TraceSearch) -> Result<Vec<TraceSummary>, DeckError> {
        let attribute = match (given(input.attribute_key), input.attribute_value) {
            (Some(key), Some(value)) => Some((key, value.trim().to_owned())),
            (None, None) => None,
            (None, Some(value)) if value.trim().is_empty() => None,
            (Some(key), None) => {
                return Err(opsdeck_core::CoreError::InvalidInput(format!(
                    "the attribute filter names `{key}` but no value: give the value it must have"
                ))
                .into())
            }
            (None, Some(_)) => {
                return Err(opsdeck_core::CoreError::InvalidInput(
                    "the attribute filter has a value but no attribute name: give both (like http.route and /cart)"
                        .to_owned(),
                )
                .into())
            }
        };
        let since_minutes = input
            .since_minutes
            .map(|minutes| opsdeck_core::clock::now_unix_ms().saturating_sub(minutes.saturating_mul(60_000)));
        // Both bounds given: the later one holds.
        let since_ms = match (since_minutes, input.since_unix_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let nanos = |ms: f64| (ms * 1e6) as i64;
        let query = TraceQuery {
            service: given(input.service),
            operation: given(input.operation),
            since_unix_nano: since_ms.map(|ms| ms.saturating_mul(1_000_000)),
            until_unix_nano: input.until_unix_nano,
            errors_only: input.errors_only.unwrap_or(false),
            min_duration_nano: input.min_duration_ms.map(nanos),
            max_duration_nano: input.max_duration_ms.map(nanos),
            attribute,
            limit: input.limit.unwrap_or(50).clamp(1, 1000),
        };
        deck.traces(&query).await
    }
}
