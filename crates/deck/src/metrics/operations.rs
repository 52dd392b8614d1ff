//! The metrics area's operations: series from the series store, and PromQL
//! queries over them.

use std::collections::BTreeMap;

use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use opsdeck_metrics::promql::{format_value, QueryResult, ScalarValue};

pub use super::dashboards::{
    DashboardDetail, DashboardGet, DashboardHistory, DashboardImport, DashboardJson, DashboardList,
    DashboardName, DashboardOnly, DashboardRemove, DashboardSave, LabelValues, LabelValuesInput,
};
pub use super::render::{ImageFormat, Render, RenderInput, RenderedImage};
pub use super::scrape::{ScrapeTarget, TargetInfo};
pub use super::sources::{DataSource, SourceList, SourceName, SourceRemove, SourceSet};
use crate::catalogue::{Effect, Method, Operation};
use crate::{Caller, Deck, DeckError};
pub use opsdeck_metrics::dashboards::{
    Dashboard, DashboardSummary, DashboardVersion, Panel, PanelKind, Variable,
};

/// Which series to list.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// A PromQL series selector: `http_server_duration_seconds_count{job="shop"}`,
    /// `{__name__=~"http_.*", code!="200"}`.
    pub selector: String,
    /// Only series with a sample in the last this many minutes (default 60).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_minutes: Option<i64>,
}

/// One series and its latest sample.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct SeriesLatest {
    /// Its labels, the name under `__name__`.
    pub labels: BTreeMap<String, String>,
    /// Samples in the window.
    #[ts(type = "number")]
    pub samples: i64,
    /// Its latest sample's time, Unix milliseconds.
    #[ts(type = "number")]
    pub last_unix_ms: i64,
    /// Its latest value.
    pub last_value: f64,
}

/// `metric.series`.
pub struct SeriesList;

impl Operation for SeriesList {
    type Input = SeriesQuery;
    type Output = Vec<SeriesLatest>;
    const NAME: &'static str = "metric.series";
    const SUMMARY: &'static str =
        "Series matching a PromQL selector (OTLP metrics are stored under the names Prometheus' OTLP \
        receiver gives them), each with its labels and latest value.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/series";

    async fn run(deck: &Deck, _caller: &Caller, input: SeriesQuery) -> Result<Vec<SeriesLatest>, DeckError> {
        let matchers = opsdeck_metrics::parse_selector(&input.selector)?;
        let now = opsdeck_core::clock::now_unix_ms();
        let since =
            now.saturating_sub(input.since_minutes.unwrap_or(60).clamp(1, 525_600).saturating_mul(60_000));
        let found = deck.metrics().select(&matchers, since, i64::MAX).await?;
        Ok(found
            .into_iter()
            .filter_map(|series| {
                let last = *series.samples.last()?;
                Some(SeriesLatest {
                    labels: series.labels,
                    samples: series.samples.len() as i64,
                    last_unix_ms: last.t,
                    last_value: last.v,
                })
            })
            .collect())
    }
}

/// A PromQL query at one instant.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct InstantQuery {
    /// The PromQL expression: `sum by (job) (rate(http_requests_total[5m]))`.
    pub query: String,
    /// When to evaluate it, Unix milliseconds (default now).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub time_unix_ms: Option<i64>,
    /// A remote Prometheus data source to ask instead of this deck's store.
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<String>,
}

/// A PromQL query at every step of a time range.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// The PromQL expression.
    pub query: String,
    /// The range's start, Unix milliseconds (default an hour before its end).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub start_unix_ms: Option<i64>,
    /// The range's end, Unix milliseconds (default now).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub end_unix_ms: Option<i64>,
    /// Seconds between evaluations (default: the range in about 250 steps,
    /// at least 1 s).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub step_seconds: Option<f64>,
    /// A remote Prometheus data source to ask instead of this deck's store.
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<String>,
}

/// What a query's answer holds, as Prometheus' `resultType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum ResultType {
    /// A number (one point, no labels).
    Scalar,
    /// A string (one point, no labels).
    String,
    /// One point per series.
    Vector,
    /// Points over time per series.
    Matrix,
}

/// One point: a time and a value written as Prometheus writes it (`NaN`,
/// `+Inf` and numbers beyond JSON's range stay exact).
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct AnswerPoint {
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub t_unix_ms: i64,
    /// The value.
    pub value: String,
}

/// One series of an answer.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct AnswerSeries {
    /// Its labels (the metric name under `__name__`, when it kept one).
    pub labels: BTreeMap<String, String>,
    /// Its points, oldest first.
    pub points: Vec<AnswerPoint>,
}

/// A query's answer.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct QueryAnswer {
    /// What kind of value the query gave.
    pub result_type: ResultType,
    /// The series (one unlabelled series for a scalar or a string).
    pub series: Vec<AnswerSeries>,
}

impl From<QueryResult> for QueryAnswer {
    fn from(result: QueryResult) -> QueryAnswer {
        let point = |value: ScalarValue| AnswerPoint { t_unix_ms: value.t, value: format_value(value.v) };
        let (result_type, series) = match result {
            QueryResult::Scalar(value) => (
                ResultType::Scalar,
                vec![AnswerSeries { labels: BTreeMap::new(), points: vec![point(value)] }],
            ),
            QueryResult::String(value) => (
                ResultType::String,
                vec![AnswerSeries {
                    labels: BTreeMap::new(),
                    points: vec![AnswerPoint { t_unix_ms: value.t, value: value.value }],
                }],
            ),
            QueryResult::Vector(items) => (
                ResultType::Vector,
                items
                    .into_iter()
                    .map(|item| AnswerSeries { labels: item.metric, points: vec![point(item.value)] })
                    .collect(),
            ),
            QueryResult::Matrix(items) => (
                ResultType::Matrix,
                items
                    .into_iter()
                    .map(|item| AnswerSeries {
                        labels: item.metric,
                        points: item.values.into_iter().map(point).collect(),
                    })
                    .collect(),
            ),
        };
        QueryAnswer { result_type, series }
    }
}

/// `metric.query`.
pub struct Query;

impl Operation for Query {
    type Input = InstantQuery;
    type Output = QueryAnswer;
    const NAME: &'static str = "metric.query";
    const SUMMARY: &'static str =
        "Evaluates a PromQL expression at one instant (now unless given), with Prometheus' semantics: \
        5-minute lookback, staleness, rate extrapolation, vector matching.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/query";

    async fn run(deck: &Deck, _caller: &Caller, input: InstantQuery) -> Result<QueryAnswer, DeckError> {
        let at = input.time_unix_ms.unwrap_or_else(opsdeck_core::clock::now_unix_ms);
        if let Some(source) = input.source.as_deref().filter(|source| !source.is_empty()) {
            return deck.metrics().remote_query(source, &input.query, None, at).await;
        }
        let query = opsdeck_metrics::promql::Query::parse(&input.query)?;
        Ok(deck.metrics().instant(&query, at).await?.into())
    }
}

/// `metric.query_range`.
pub struct QueryRange;

impl Operation for QueryRange {
    type Input = RangeQuery;
    type Output = QueryAnswer;
    const NAME: &'static str = "metric.query_range";
    const SUMMARY: &'static str =
        "Evaluates a PromQL expression at every step of a time range (the last hour unless given): what \
        a chart draws.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/query_range";

    async fn run(deck: &Deck, _caller: &Caller, input: RangeQuery) -> Result<QueryAnswer, DeckError> {
        let end = input.end_unix_ms.unwrap_or_else(opsdeck_core::clock::now_unix_ms);
        let start = input.start_unix_ms.unwrap_or(end - 3_600_000);
        let step = match input.step_seconds {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => (seconds * 1000.0).round() as i64,
            Some(seconds) => {
                return Err(opsdeck_metrics::MetricsError::Invalid(format!(
                    "a step of {seconds} s is not positive; give seconds between points, like 60"
                ))
                .into())
            }
            None => ((end - start) / 250).max(1000),
        };
        if let Some(source) = input.source.as_deref().filter(|source| !source.is_empty()) {
            return deck
                .metrics()
                .remote_query(source, &input.query, Some((start, end, step.max(1))), end)
                .await;
        }
        let query = opsdeck_metrics::promql::Query::parse(&input.query)?;
        Ok(deck.metrics().range(&query, start, end, step.max(1)).await?.into())
    }
}

/// `metric.target_list`.
pub struct TargetList;

/// No input.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

impl Operation for TargetList {
    type Input = NoInput;
    type Output = Vec<TargetInfo>;
    const NAME: &'static str = "metric.target_list";
    const SUMMARY: &'static str =
        "Prometheus scrape targets: where, how often, and how their last scrape went (up or down, why).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/targets";

    async fn run(deck: &Deck, _caller: &Caller, _input: NoInput) -> Result<Vec<TargetInfo>, DeckError> {
        deck.metrics().targets().await
    }
}

/// `metric.target_set`.
pub struct TargetSet;

impl Operation for TargetSet {
    type Input = ScrapeTarget;
    type Output = TargetInfo;
    const NAME: &'static str = "metric.target_set";
    const SUMMARY: &'static str =
        "Adds or changes a Prometheus scrape target (text format or OpenMetrics): scraped on a fixed grid \
        every interval, with up, scrape_duration_seconds and scrape_samples_scraped, and staleness markers \
        for series that go away.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/metrics/targets/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: ScrapeTarget) -> Result<TargetInfo, DeckError> {
        deck.metrics().set_target(caller, input).await
    }
}

/// Which target.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TargetName {
    /// The target's name.
    pub name: String,
}

/// `metric.target_remove`.
pub struct TargetRemove;

impl Operation for TargetRemove {
    type Input = TargetName;
    type Output = ();
    const NAME: &'static str = "metric.target_remove";
    const SUMMARY: &'static str = "Stops scraping a target (its series stay until retention drops them).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/metrics/targets/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: TargetName) -> Result<(), DeckError> {
        deck.metrics().remove_target(caller, &input.name).await
    }
}
