//! `opsdeck-metrics`: the series store behind the Metrics page, PromQL and
//! alerting.
//!
//! [`chunk`] packs a series' samples (millisecond timestamps, 64-bit float
//! values) into compressed chunks — delta-of-delta timestamps and XOR'd
//! values, the scheme Facebook's Gorilla paper published and Prometheus'
//! TSDB uses — so a regularly scraped series costs about 1.3 bytes per
//! sample instead of 16. [`exposition`] reads what scrape targets answer
//! (the Prometheus text format and OpenMetrics), strictly, with the line
//! and column of anything malformed. [`store`] keeps series by their labels
//! with an inverted label index and their samples in those chunks, in the
//! deck's store (SQLite or PostgreSQL), and selects them by PromQL's label
//! matchers and a time range. [`otlp`] names OTLP metric points' series the
//! way Prometheus' OTLP receiver does. [`promql`] evaluates PromQL over the
//! store as Prometheus does. [`alerts`] holds alerting rules, the alerts
//! they raise and their state machine, silences, and Prometheus rule files;
//! [`dashboards`] the dashboards of panels, stored with their versions.

pub mod alerts;
pub mod chunk;
pub mod dashboards;
pub mod exposition;
pub mod otlp;
pub mod promql;
pub mod selector;
pub mod sources;
pub mod store;

pub use chunk::{decode, ChunkEncoder, ChunkError, Sample, STALE_NAN_BITS};
pub use selector::parse_selector;
pub use store::{migrator, series_text, Labels, Matcher, MetricsError, SeriesStore};
