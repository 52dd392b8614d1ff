//! The metrics area's operations: series from the series store.

use std::collections::BTreeMap;

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
