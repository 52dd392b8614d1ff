//! OpsDeck telemetry: the embedded OTLP receiver and the store behind the
//! Traces and Logs pages.
//!
//! [`receiver`] answers OTLP/HTTP (`/v1/traces`, `/v1/logs`; protobuf or
//! JSON, gzip) on 127.0.0.1:4318 by default; [`otlp`] reads the requests
//! into [`model`] spans and log records (rejecting, and counting, what
//! cannot be kept); [`writer`] is the one batching writer with a bounded
//! queue (a full queue makes the receiver answer 503 with Retry-After);
//! [`store`] keeps spans and logs (migrations 4000–4999), answers trace
//! lists, whole traces and log queries, and prunes by age and count (oldest
//! first). [`analysis`] finds a trace's critical path and each span's self
//! time, and compares two traces span by span; the store also draws the service map (calls, error rates, p50/p95
//! per edge) and finds traces slower than most of their operation. gRPC
//! and the pages come next (see the traces issue).

mod error;

pub mod analysis;
pub mod demo;
pub mod grpc;
pub mod model;
pub mod otlp;
pub mod receiver;
pub mod store;
pub mod writer;

pub use analysis::{compare, critical_path, self_times, PathSegment, SpanComparison};
pub use error::TelemetryError;
pub use model::{JsonText, LogRecord, MetricPoint, Span};
pub use store::{
    migrator, LogQuery, MetricSeries, Pruned, Retention, ServiceEdge, ServiceOperations, SlowTrace,
    Telemetry, TraceQuery, TraceSummary,
};
pub use writer::Writer;
