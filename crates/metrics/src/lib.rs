//! `opsdeck-metrics`: the series store behind the Metrics page, PromQL and
//! alerts (issue 17, being built in steps).
//!
//! This first part is the sample encoding the store keeps on disk:
//! [`chunk`] packs a series' samples (millisecond timestamps, 64-bit float
//! values) into compressed chunks — delta-of-delta timestamps and XOR'd
//! values, the scheme Facebook's Gorilla paper published and Prometheus'
//! TSDB uses — so a regularly scraped series costs about 1.3 bytes per
//! sample instead of 16.

pub mod chunk;

pub use chunk::{decode, ChunkEncoder, ChunkError, Sample, STALE_NAN_BITS};
