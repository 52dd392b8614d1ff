//! Remote Prometheus servers as data sources: a query (a dashboard panel's,
//! `opsdeck metrics query --source NAME`) can be answered by a Prometheus
//! a team already runs, through its HTTP API, instead of by this deck's
//! series store.
//!
//! A source names where OpsDeck sends requests and with which token, so
//! its definition is sealed like a scrape target's and checked before each
//! query; the token is a vault reference, revealed as the person who set
//! the source (audited) and kept in memory ten minutes or until the server
//! answers 401/403. Queries go through the resilient HTTP client (one
//! attempt, 30 s), and the server's own error (`bad_data`, `execution`)
//! comes back as ours with its words.

use std::time::Duration;

use opsdeck_core::http::OutboundRequest;
use opsdeck_metrics::promql::QueryError;
use opsdeck_metrics::MetricsError;
use opsdeck_vault::{Role, SecretReference};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use super::operations::{AnswerPoint, AnswerSeries, QueryAnswer, ResultType};
use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::definitions::METRIC_SOURCE;
use crate::{Caller, Deck, DeckError};

/// How long a remote query may take.
const REMOTE_QUERY_TIME: Duration = Duration::from_secs(30);

/// How long a revealed token is kept in memory.
const TOKEN_KEPT_FOR: Duration = Duration::from_secs(600);

/// A remote Prometheus (or anything serving its query API: Thanos,
/// Mimir, VictoriaMetrics, another OpsDeck's `--prometheus-api`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// Its name, used by panels and `--source`.
    pub name: String,
    /// Its base URL: `http://prometheus.internal:9090` (the API is under `/api/v1/`).
    pub url: String,
    /// A bearer token for it, as a vault reference (`opsdeck://VAULT/NAME`).
    #[serde(default)]
    pub bearer_token: Option<String>,
}

impl DataSource {
    fn check(&self) -> Result<(), String> {
        super::check_endpoint_name("source", &self.name)?;
        super::check_http_url(
            &self.url,
            "the http(s) URL of a Prometheus, like http://prometheus.internal:9090",
        )?;
        super::check_credential_reference(
            "bearer token",
            self.bearer_token.as_deref(),
            "opsdeck://ops/prometheus-token",
        )
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/api/v1/{path}", self.url.trim_end_matches('/'))
    }
}

fn invalid(message: String) -> DeckError {
    MetricsError::Invalid(message).into()
}

impl super::Metrics<'_> {
    /// Adds or changes a data source, sealed as set by `caller` (who must be
    /// allowed to reveal its token). Audited.
    pub async fn set_source(self, caller: &Caller, source: DataSource) -> Result<DataSource, DeckError> {
        source.check().map_err(MetricsError::Invalid)?;
        let deck = self.deck;
        let references: Vec<SecretReference> = source
            .bearer_token
            .iter()
            .filter_map(|reference| SecretReference::parse(reference).ok())
            .collect();
        deck.vaults().check_references(caller, &references).await?;
        let payload =
            serde_json::to_value(&source).map_err(|error| MetricsError::Invalid(error.to_string()))?;
        deck.seal_definition(caller, METRIC_SOURCE, &source.name, &payload, true).await?;
        opsdeck_metrics::sources::put(&deck.store, &source.name, &payload.to_string()).await?;
        self.forget_header(&cache_key(&source.name));
        Ok(source)
    }

    /// Every data source.
    pub async fn sources(self) -> Result<Vec<DataSource>, DeckError> {
        let rows = opsdeck_metrics::sources::list(&self.deck.store).await?;
        rows.iter()
            .map(|text| {
                serde_json::from_str(text).map_err(|error| {
                    invalid(format!("a stored data source is unreadable ({error}); set it again"))
                })
            })
            .collect()
    }

    /// Removes a data source. Audited.
    pub async fn remove_source(self, caller: &Caller, name: &str) -> Result<(), DeckError> {
        let removed = opsdeck_metrics::sources::remove(&self.deck.store, name).await?;
        if !removed {
            return Err(invalid(format!(
                "there is no data source `{name}`; `opsdeck metrics source list` shows them"
            )));
        }
        self.deck.unseal_definition(caller, METRIC_SOURCE, name).await?;
        self.forget_header(&cache_key(name));
        Ok(())
    }

    /// The stored source `name`, checked against its seal.
    async fn checked_source(self, name: &str) -> Result<(DataSource, String), DeckError> {
        let row = opsdeck_metrics::sources::get(&self.deck.store, name).await?;
        let Some(text) = row else {
            return Err(invalid(format!(
                "there is no data source `{name}`; `opsdeck metrics source list` shows them"
            )));
        };
        let payload: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| invalid(format!("data source `{name}` is unreadable: {error}")))?;
        let seal =
            self.deck.check_definition(&Caller::new("metrics"), METRIC_SOURCE, name, &payload, false).await?;
        let source: DataSource = serde_json::from_value(payload)
            .map_err(|error| invalid(format!("data source `{name}` is unreadable: {error}")))?;
        Ok((source, seal.defined_by))
    }

    /// The `Authorization` header of a source, revealed as its definer and
    /// kept for a while.
    async fn source_authorization(
        self,
        source: &DataSource,
        definer: &str,
    ) -> Result<Option<Zeroizing<String>>, DeckError> {
        let Some(reference) = &source.bearer_token else { return Ok(None) };
        let key = cache_key(&source.name);
        if let Some(header) = self.kept_header(&key, TOKEN_KEPT_FOR) {
            return Ok(Some(header));
        }
        let reference = SecretReference::parse(reference)?;
        let token = self.deck.vaults().resolve_reference(&Caller::new(definer), &reference).await?;
        let header = Zeroizing::new(format!("Bearer {}", token.as_str()));
        self.keep_header(&key, &header);
        Ok(Some(header))
    }

    /// A query answered by the source `name`: at `at` (instant) or over
    /// `start..=end` every `step` ms (range).
    pub async fn remote_query(
        self,
        name: &str,
        query: &str,
        range: Option<(i64, i64, i64)>,
        at: i64,
    ) -> Result<QueryAnswer, DeckError> {
        let (source, definer) = self.checked_source(name).await?;
        let seconds = |ms: i64| format!("{}", ms as f64 / 1000.0);
        let mut url =
            url::Url::parse(&source.endpoint(if range.is_some() { "query_range" } else { "query" }))
                .map_err(|error| invalid(format!("data source `{name}`: {error}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("query", query);
            match range {
                Some((start, end, step)) => {
                    pairs.append_pair("start", &seconds(start));
                    pairs.append_pair("end", &seconds(end));
                    pairs.append_pair("step", &seconds(step));
                }
                None => {
                    pairs.append_pair("time", &seconds(at));
                }
            }
        }
        let mut request = OutboundRequest::get(url.to_string()).header("Accept", "application/json");
        let authorization = self.source_authorization(&source, &definer).await?;
        if let Some(header) = &authorization {
            request = request.header("Authorization", header.as_str());
        }
        let answer = self.deck.http.send(request.once_within(REMOTE_QUERY_TIME)).await.map_err(|error| {
            invalid(format!("data source `{name}` ({}) could not be asked: {error}", source.url))
        })?;
        if matches!(answer.status, 401 | 403) {
            self.forget_header(&cache_key(name));
        }
        let document: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| {
            invalid(format!(
                "data source `{name}` ({}) answered HTTP {} with something that is not Prometheus' JSON",
                source.url, answer.status
            ))
        })?;
        if document["status"] != "success" {
            let said = document["error"].as_str().unwrap_or("no reason given");
            let error = match document["errorType"].as_str() {
                Some("bad_data") => QueryError::BadData(format!("data source `{name}` says: {said}")),
                _ => QueryError::Execution(format!(
                    "data source `{name}` answered HTTP {}: {said}",
                    answer.status
                )),
            };
            return Err(error.into());
        }
        answer_of(&document["data"]).map_err(|why| invalid(format!("data source `{name}`: {why}")))
    }
}

fn cache_key(name: &str) -> String {
    format!("source:{name}")
}

/// Prometheus' `data` (`resultType`, `result`) as our answer.
fn answer_of(data: &serde_json::Value) -> Result<QueryAnswer, String> {
    let point = |pair: &serde_json::Value| -> Result<AnswerPoint, String> {
        let t = pair[0].as_f64().ok_or("a point without a time")?;
        let value = pair[1].as_str().ok_or("a point without a value")?;
        Ok(AnswerPoint { t_unix_ms: (t * 1000.0).round() as i64, value: value.to_owned() })
    };
    let labels = |metric: &serde_json::Value| -> std::collections::BTreeMap<String, String> {
        metric
            .as_object()
            .map(|fields| {
                fields.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
            })
            .unwrap_or_default()
    };
    let result = &data["result"];
    let (result_type, series) = match data["resultType"].as_str() {
        Some("scalar") => (
            ResultType::Scalar,
            vec![AnswerSeries { labels: Default::default(), points: vec![point(result)?] }],
        ),
        Some("string") => (
            ResultType::String,
            vec![AnswerSeries { labels: Default::default(), points: vec![point(result)?] }],
        ),
        Some("vector") => (
            ResultType::Vector,
            result
                .as_array()
                .ok_or("a vector without results")?
                .iter()
                .map(|item| {
                    Ok(AnswerSeries { labels: labels(&item["metric"]), points: vec![point(&item["value"])?] })
                })
                .collect::<Result<_, String>>()?,
        ),
        Some("matrix") => (
            ResultType::Matrix,
            result
                .as_array()
                .ok_or("a matrix without results")?
                .iter()
                .map(|item| {
                    let points = item["values"]
                        .as_array()
                        .ok_or("a series without values")?
                        .iter()
                        .map(point)
                        .collect::<Result<_, String>>()?;
                    Ok(AnswerSeries { labels: labels(&item["metric"]), points })
                })
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("an answer of unknown type {other:?}")),
    };
    Ok(QueryAnswer { result_type, series })
}

/// `metric.source_list`.
pub struct SourceList;

impl Operation for SourceList {
    type Input = Nothing;
    type Output = Vec<DataSource>;
    const NAME: &'static str = "metric.source_list";
    const SUMMARY: &'static str =
        "Remote Prometheus servers that panels and queries can read from (`source`).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/metrics/sources";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<DataSource>, DeckError> {
        deck.metrics().sources().await
    }
}

/// `metric.source_set`.
pub struct SourceSet;

impl Operation for SourceSet {
    type Input = DataSource;
    type Output = DataSource;
    const NAME: &'static str = "metric.source_set";
    const SUMMARY: &'static str =
        "Adds or changes a remote Prometheus (its query API's URL, a bearer token as a vault reference) that \
        panels and queries can read from instead of this deck's store.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/metrics/sources/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: DataSource) -> Result<DataSource, DeckError> {
        deck.metrics().set_source(caller, input).await
    }
}

/// Which source.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SourceName {
    /// Its name.
    pub name: String,
}

/// `metric.source_remove`.
pub struct SourceRemove;

impl Operation for SourceRemove {
    type Input = SourceName;
    type Output = ();
    const NAME: &'static str = "metric.source_remove";
    const SUMMARY: &'static str = "Removes a remote Prometheus data source.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/metrics/sources/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: SourceName) -> Result<(), DeckError> {
        deck.metrics().remove_source(caller, &input.name).await
    }
}
