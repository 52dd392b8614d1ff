//! The metrics area in the deck: the series store fed by the telemetry
//! receivers (each stored OTLP metric point becomes the series Prometheus
//! would have), and reading series back.
//!
//! `ingest.rs`: the task between the telemetry writer and the series
//! store; `operations.rs`: the area's catalogue entries;
//! `prometheus_api.rs`: Prometheus' HTTP query API for Grafana and friends;
//! `scrape.rs`: Prometheus scrape targets, read on a schedule;
//! `span_metrics.rs`: request rate, errors and duration derived from spans;
//! `dashboards.rs`: dashboards (stored with versions, or generated);
//! `render.rs`: dashboards and queries drawn as PNG or SVG;
//! `sources.rs`: remote Prometheus servers as data sources.

pub mod dashboards;
mod ingest;
pub mod operations;
pub mod prometheus_api;
pub mod render;
pub mod scrape;
pub mod sources;
pub mod span_metrics;

pub(crate) use ingest::start_ingest;
pub(crate) use span_metrics::start_span_metrics;

use opsdeck_metrics::promql::{Query, QueryResult};
use opsdeck_metrics::store::SeriesSamples;
use opsdeck_metrics::Matcher;

use crate::DeckError;

/// A deck's metrics: `deck.metrics()`.
#[derive(Clone, Copy)]
pub struct Metrics<'d> {
    pub(crate) deck: &'d crate::Deck,
}

impl Metrics<'_> {
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
