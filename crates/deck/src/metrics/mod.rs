//! The metrics area in the deck: the series store fed by the telemetry
//! receivers (each stored OTLP metric point becomes the series Prometheus
//! would have), and reading series back.
//!
//! `ingest.rs`: the task between the telemetry writer and the series
//! store; `operations.rs`: the area's catalogue entries;
//! `prometheus_api.rs`: Prometheus' HTTP query API for Grafana and friends;
//! `scrape.rs`: Prometheus scrape targets, read on a schedule;
//! `span_metrics.rs`: request rate, errors and duration derived from spans;
//! `self_metrics.rs`: OpsDeck's own ingest, store size and queues as series;
//! `dashboards.rs`: dashboards (stored with versions, or generated);
//! `render.rs`: dashboards and queries drawn as PNG or SVG;
//! `sources.rs`: remote Prometheus servers as data sources;
//! `retention.rs`: downsampling and pruning of the series store.

pub mod dashboards;
mod ingest;
pub mod operations;
pub mod prometheus_api;
pub mod render;
pub mod retention;
pub mod scrape;
pub mod self_metrics;
pub mod sources;
pub mod span_metrics;

pub(crate) use ingest::start_ingest;
pub(crate) use self_metrics::start_self_metrics;
pub(crate) use span_metrics::start_span_metrics;

use opsdeck_metrics::promql::{Query, QueryResult};
use opsdeck_metrics::store::SeriesSamples;
use opsdeck_metrics::Matcher;

use crate::DeckError;

/// What is wrong with the name of something OpsDeck sends requests to (a
/// scrape target, a data source), if anything: letters, digits, `_`, `-`, `.`.
fn check_endpoint_name(what: &str, name: &str) -> Result<(), String> {
    opsdeck_metrics::check_name(what, name, "_-.")
}

/// What is wrong with the URL of something OpsDeck sends requests to:
/// `expected` says what it should be (`an http(s) URL of …, like …`).
fn check_http_url(url: &str, expected: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() => Ok(()),
        _ => Err(format!("`{url}` is not {expected}")),
    }
}

/// What is wrong with a credential given as a vault reference: a value
/// written there instead would be stored in the clear.
fn check_credential_reference(what: &str, reference: Option<&str>, example: &str) -> Result<(), String> {
    match reference {
        Some(reference) if opsdeck_vault::SecretReference::parse(reference).is_err() => Err(format!(
            "the {what} must be a vault reference like {example}, not the value itself (a value here would be \
             stored in the clear)"
        )),
        _ => Ok(()),
    }
}

/// A deck's metrics: `deck.metrics()`.
#[derive(Clone, Copy)]
pub struct Metrics<'d> {
    pub(crate) deck: &'d crate::Deck,
}

impl Metrics<'_> {
    /// An `Authorization` header revealed (and audited) less than `kept_for`
    /// ago for `key` (a scrape target, `source:NAME`): a scrape every few
    /// seconds is not a reveal every few seconds.
    fn kept_header(self, key: &str, kept_for: std::time::Duration) -> Option<zeroize::Zeroizing<String>> {
        let kept = self.deck.revealed_headers.lock().ok()?;
        kept.get(key).filter(|(read_at, _)| read_at.elapsed() < kept_for).map(|(_, header)| header.clone())
    }

    /// Keeps a header just revealed for `key`.
    fn keep_header(self, key: &str, header: &zeroize::Zeroizing<String>) {
        if let Ok(mut kept) = self.deck.revealed_headers.lock() {
            kept.insert(key.to_owned(), (std::time::Instant::now(), header.clone()));
        }
    }

    /// Forgets the header of `key` (its definition changed, or the endpoint
    /// refused it: perhaps a rotated credential).
    fn forget_header(self, key: &str) {
        if let Ok(mut kept) = self.deck.revealed_headers.lock() {
            kept.remove(key);
        }
    }

    /// The series matching every matcher, with their samples in
    /// `start_ms..=end_ms`.
    pub async fn select(
        self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesSamples>, DeckError> {
        Ok(self.deck.metrics.select(matchers, start_ms, end_ms).await?)
    }

    /// The labels of the series matching every matcher with a sample in
    /// `start_ms..=end_ms`.
    pub async fn series(
        self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<opsdeck_metrics::Labels>, DeckError> {
        Ok(self.deck.metrics.series_between(matchers, start_ms, end_ms).await?)
    }

    /// `query` evaluated at `at_ms`.
    pub async fn instant(self, query: &Query, at_ms: i64) -> Result<QueryResult, DeckError> {
        Ok(query.instant(&self.deck.metrics, at_ms).await?)
    }

    /// `query` evaluated at every `step_ms` from `start_ms` to `end_ms`.
    pub async fn range(
        self,
        query: &Query,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, DeckError> {
        Ok(query.range(&self.deck.metrics, start_ms, end_ms, step_ms).await?)
    }
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::SeriesList>(),
        entry::<operations::Query>(),
        entry::<operations::QueryRange>(),
        entry::<operations::TargetList>(),
        entry::<operations::TargetSet>(),
        entry::<operations::TargetRemove>(),
        entry::<retention::RetentionGet>(),
        entry::<retention::RetentionSet>(),
        entry::<dashboards::LabelValues>(),
        entry::<dashboards::DashboardList>(),
        entry::<dashboards::DashboardGet>(),
        entry::<dashboards::DashboardSave>(),
        entry::<dashboards::DashboardImport>(),
        entry::<dashboards::DashboardHistory>(),
        entry::<dashboards::DashboardRemove>(),
        entry::<render::Render>(),
        entry::<sources::SourceList>(),
        entry::<sources::SourceSet>(),
        entry::<sources::SourceRemove>(),
    ]
}
