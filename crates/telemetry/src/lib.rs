//! OpsDeck telemetry: the embedded OTLP receivers and the store behind the
//! Traces and Logs pages.
//!
//! [`grpc`] answers OTLP/gRPC on 127.0.0.1:4317 and [`receiver`] OTLP/HTTP
//! (`/v1/traces`, `/v1/logs`, `/v1/metrics`; protobuf or JSON, gzip) on
//! 127.0.0.1:4318 by default; both read a request through [`export`] and
//! [`otlp`] into [`model`] spans, log records and metric points (rejecting,
//! and counting, what cannot be kept). [`writer`] is the one batching writer
//! with a bounded queue (a request waits for room, then is answered "retry
//! later"). [`store`] keeps spans, logs, metric points and a summary row per
//! trace (migrations 4000–4999), answers trace searches, whole traces, log
//! and metric queries, the service map and slow traces, and prunes by age,
//! count and size (oldest first). [`analysis`] finds a trace's critical path
//! and each span's self time, and compares two traces span by span;
//! [`demo`] makes a simulated shop's traffic.

mod error;

pub mod analysis;
pub mod demo;
pub mod export;
pub mod gate;
pub mod grpc;
pub mod model;
pub mod otlp;
pub mod receiver;
pub mod store;
pub mod writer;

pub use analysis::{compare, critical_path, self_times, PathSegment, SpanComparison};
pub use error::TelemetryError;
pub use model::{JsonText, LogRecord, MetricPoint, Span, SpanStatus};
pub use store::{
    migrator, LogQuery, MetricSeries, Pruned, Retention, ServiceEdge, ServiceOperations, SlowTrace,
    Telemetry, TraceQuery, TraceSummary,
};
pub use writer::Writer;
