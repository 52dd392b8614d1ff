//! The alerts area's operations: rules (set, import, list, remove), alerts
//! (list, history, acknowledge) and silences.

use std::collections::BTreeMap;

use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::Deserialize;
use ts_rs::TS;

pub use opsdeck_metrics::alerts::import::RuleImportReport;
pub use opsdeck_metrics::alerts::store::{GroupRules, RuleStatus};
pub use opsdeck_metrics::alerts::{Alert, AlertGroup, AlertRule, AlertState, Severity, Silence, Transition};

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// A rule to add or change.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Its group (made if new).
    pub group: String,
    /// The alert's name: `HighErrorRate`.
    pub name: String,
    /// The PromQL expression; each series it returns is an alert.
    pub expr: String,
    /// Seconds it must keep returning a series before that alert fires (default 0).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub for_seconds: Option<f64>,
    /// P1 (page now) to P4 (informational).
    pub severity: Severity,
    /// Labels added to each alert.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Templated annotations (`summary`: `{{ $labels.service }} fails {{ $value | humanizePercentage }}`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Seconds between the group's evaluations (default 15; changes the group).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub group_interval_seconds: Option<f64>,
    /// Seconds before a still-firing alert is notified again (default 4 h; changes the group).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub repeat_interval_seconds: Option<f64>,
}

/// `alert.rule_set`.
pub struct RuleSet;

impl Operation for RuleSet {
    type Input = RuleInput;
    type Output = GroupRules;
    const NAME: &'static str = "alert.rule_set";
    const SUMMARY: &'static str =
        "Adds or changes an alerting rule: a PromQL expression, a `for` duration, a severity P1–P4, labels and \
        templated annotations. Its group is evaluated every interval by the app and `opsdeck serve`; alerts go \
        pending → firing → resolved and are announced through the notification webhooks.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/alerts/rules/{group}/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: RuleInput) -> Result<GroupRules, DeckError> {
        let group = if input.group_interval_seconds.is_some() || input.repeat_interval_seconds.is_some() {
            let current = deck
                .alerts()
                .group(&input.group)
                .await?
                .map_or_else(|| AlertGroup::named(&input.group), |group| group.group);
            Some(AlertGroup {
                name: input.group.clone(),
                interval_seconds: input.group_interval_seconds.unwrap_or(current.interval_seconds),
                repeat_interval_seconds: input
                    .repeat_interval_seconds
                    .unwrap_or(current.repeat_interval_seconds),
            })
        } else {
            None
        };
        let rule = AlertRule {
            group: input.group,
            name: input.name,
            expr: input.expr,
            for_seconds: input.for_seconds.unwrap_or(0.0),
            severity: input.severity,
            labels: input.labels,
            annotations: input.annotations,
        };
        deck.alerts().set_rule(caller, rule, group).await
    }
}

/// `alert.rule_list`.
pub struct RuleList;

impl Operation for RuleList {
    type Input = Nothing;
    type Output = Vec<GroupRules>;
    const NAME: &'static str = "alert.rule_list";
    const SUMMARY: &'static str =
        "Alerting rule groups with their rules, each with its health (ok, or why its last evaluation failed).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/alerts/rules";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<GroupRules>, DeckError> {
        deck.alerts().rules().await
    }
}

/// Which rule.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RuleName {
    /// Its group.
    pub group: String,
    /// Its name.
    pub name: String,
}

/// `alert.rule_remove`.
pub struct RuleRemove;

impl Operation for RuleRemove {
    type Input = RuleName;
    type Output = ();
    const NAME: &'static str = "alert.rule_remove";
    const SUMMARY: &'static str =
        "Removes an alerting rule and its alerts (its group too, when it was the last).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/alerts/rules/{group}/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: RuleName) -> Result<(), DeckError> {
        deck.alerts().remove_rule(caller, &input.group, &input.name).await
    }
}

/// A Prometheus rule file.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RuleFileInput {
    /// The file's text (YAML: `groups: [{name, interval, rules: [...]}]`).
    pub text: String,
}

/// `alert.rules_import`.
pub struct RulesImport;

impl Operation for RulesImport {
    type Input = RuleFileInput;
    type Output = RuleImportReport;
    const NAME: &'static str = "alert.rules_import";
    const SUMMARY: &'static str =
        "Imports a Prometheus rule file: each group replaces the group of its name; `severity` labels become \
        P1–P4 (critical → P1, warning → P3); recording rules are listed as not imported. A file with any \
        error imports nothing.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/alerts/rules/import";

    async fn run(deck: &Deck, caller: &Caller, input: RuleFileInput) -> Result<RuleImportReport, DeckError> {
        deck.alerts().import(caller, &input.text).await
    }
}

/// `alert.list`.
pub struct AlertList;

impl Operation for AlertList {
    type Input = Nothing;
    type Output = Vec<Alert>;
    const NAME: &'static str = "alert.list";
    const SUMMARY: &'static str =
        "Alerts: firing first, then pending, then recently resolved, by severity; each with its labels, \
        value, filled-in annotations, and what holds its notifications back (a silence, a firing P1).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/alerts";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<Alert>, DeckError> {
        deck.alerts().list().await
    }
}

/// Which transitions.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct HistoryInput {
    /// Only this alert's.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The most (default 200).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// `alert.history`.
pub struct AlertHistory;

impl Operation for AlertHistory {
    type Input = HistoryInput;
    type Output = Vec<Transition>;
    const NAME: &'static str = "alert.history";
    const SUMMARY: &'static str = "Alert state changes (pending, firing, resolved), newest first.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/alerts/history";

    async fn run(deck: &Deck, _caller: &Caller, input: HistoryInput) -> Result<Vec<Transition>, DeckError> {
        deck.alerts().history(input.fingerprint.as_deref(), input.limit.unwrap_or(200)).await
    }
}

/// Which alert.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct AlertId {
    /// Its fingerprint (from `alert.list`).
    pub fingerprint: String,
}

/// `alert.acknowledge`.
pub struct AlertAcknowledge;

impl Operation for AlertAcknowledge {
    type Input = AlertId;
    type Output = Alert;
    const NAME: &'static str = "alert.acknowledge";
    const SUMMARY: &'static str =
        "Acknowledges a firing alert: someone is on it, so it is not notified again while it keeps firing.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/alerts/{fingerprint}/acknowledge";

    async fn run(deck: &Deck, caller: &Caller, input: AlertId) -> Result<Alert, DeckError> {
        deck.alerts().acknowledge(caller, &input.fingerprint).await
    }
}

/// A silence to make.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SilenceInput {
    /// The alerts it covers, by their labels: `{alertname="HighErrorRate", service="shop"}`.
    pub selector: String,
    /// How long, in minutes.
    pub minutes: f64,
    /// Why (required).
    pub reason: String,
}

/// `alert.silence`.
pub struct SilenceAdd;

impl Operation for SilenceAdd {
    type Input = SilenceInput;
    type Output = Silence;
    const NAME: &'static str = "alert.silence";
    const SUMMARY: &'static str =
        "Silences alerts matching a label selector for a while, with a reason: they still show, but are not \
        notified until it ends.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/alerts/silences";

    async fn run(deck: &Deck, caller: &Caller, input: SilenceInput) -> Result<Silence, DeckError> {
        deck.alerts().silence(caller, &input.selector, input.minutes, &input.reason).await
    }
}

/// `alert.silence_list`.
pub struct SilenceList;

impl Operation for SilenceList {
    type Input = Nothing;
    type Output = Vec<Silence>;
    const NAME: &'static str = "alert.silence_list";
    const SUMMARY: &'static str = "Silences, newest first, with who made them, why and when they end.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/alerts/silences";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<Silence>, DeckError> {
        deck.alerts().silences().await
    }
}

/// Which silence.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SilenceId {
    /// Its id (`sil_…`).
    pub id: String,
}

/// `alert.silence_expire`.
pub struct SilenceExpire;

impl Operation for SilenceExpire {
    type Input = SilenceId;
    type Output = Silence;
    const NAME: &'static str = "alert.silence_expire";
    const SUMMARY: &'static str = "Ends a silence now: what it held back is notified at the next evaluation.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/alerts/silences/{id}";

    async fn run(deck: &Deck, caller: &Caller, input: SilenceId) -> Result<Silence, DeckError> {
        deck.alerts().expire_silence(caller, &input.id).await
    }
}
