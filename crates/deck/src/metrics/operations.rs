//! The metrics area's operations: series from the series store.

use std::collections::BTreeMap;

use opsdeck_metrics::Matcher;
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Operation};
use crate::{Caller, Deck, DeckError};

/// Which series to list.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// The metric's name as stored (`http_server_duration_seconds_count`).
    pub name: String,
    /// Labels the series must have, with these values (`{"job": "shop"}`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
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
        "Series of one metric (Prometheus names: OTLP metrics are stored as Prometheus' OTLP \
        receiver names them) with their labels and latest value, optionally narrowed by label values.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/series";

    async fn run(deck: &Deck, _caller: &Caller, input: SeriesQuery) -> Result<Vec<SeriesLatest>, DeckError> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(opsdeck_core::CoreError::InvalidInput(
                "name the metric (like http_server_duration_seconds_count)".to_owned(),
            )
            .into());
        }
        let mut matchers = vec![Matcher::equal(opsdeck_metrics::store::NAME_LABEL, name)];
        matchers.extend(input.labels.iter().map(|(label, value)| Matcher::equal(label, value)));
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
