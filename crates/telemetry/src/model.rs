//! Spans and log records as OpsDeck keeps and shows them: ids as lower-case
//! hex, times in Unix nanoseconds, attributes as JSON objects (OTLP's typed
//! values become JSON values; repeated keys keep the last).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// JSON kept as its text (attributes, resource, scope, events, links of a
/// span): written to the store and sent to the pages as it is, never
/// rebuilt as a tree of values — a span in the writer's queue holds five
/// strings instead of five maps, and a 10,000-span trace loads without
/// building 50,000 of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonText(Box<serde_json::value::RawValue>);

/// Any JSON value, as it was received.
impl schemars::JsonSchema for JsonText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonText".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "Any JSON value, as it was received." })
    }
}

impl JsonText {
    /// The text of `value`.
    pub fn from_value(value: &serde_json::Value) -> Result<JsonText, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    /// JSON text, checked to be JSON.
    pub fn from_json(text: String) -> Result<JsonText, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(JsonText)
    }

    /// `[]`.
    pub fn empty_list() -> JsonText {
        // A literal that is valid JSON; the fallback is never taken.
        JsonText::from_json("[]".to_owned()).unwrap_or_else(|_| JsonText(Box::default()))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value it holds, parsed.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's span id; empty for a root.
    pub parent_span_id: String,
    /// `service.name` of the resource (`unknown_service` when missing).
    pub service: String,
    /// The operation.
    pub name: String,
    /// OTLP's SpanKind (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Start, Unix nanoseconds.
    #[ts(type = "number")]
    pub start_unix_nano: i64,
    /// End, Unix nanoseconds.
    #[ts(type = "number")]
    pub end_unix_nano: i64,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    /// The same as a word.
    pub status: SpanStatus,
    /// The status description.
    pub status_message: String,
    /// W3C `tracestate`.
    pub trace_state: String,
    /// W3C trace flags (and OTLP's extra bits).
    #[ts(type = "number")]
    pub flags: i64,
    /// The span's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub attributes: JsonText,
    /// The resource's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub resource: JsonText,
    /// The instrumentation scope (`name`, `version`, `attributes`).
    #[ts(type = "Record<string, unknown>")]
    pub scope: JsonText,
    /// Events: `[{"time_unix_nano", "name", "attributes"}]`.
    #[ts(type = "Array<Record<string, unknown>>")]
    pub events: JsonText,
    /// Links: `[{"trace_id", "span_id", "trace_state", "attributes"}]`.
    #[ts(type = "Array<Record<string, unknown>>")]
    pub links: JsonText,
}

opsdeck_core::word_enum! {
    /// A span's status (OTLP's status code as a word).
    "span status" pub enum SpanStatus {
        /// The instrumentation said nothing (code 0).
        Unset = "unset",
        /// Marked as succeeded (code 1).
        Ok = "ok",
        /// Marked as failed (code 2).
        Error = "error",
    }
}

impl SpanStatus {
    /// The status of an OTLP status code (unknown codes count as unset).
    pub fn from_code(code: i32) -> SpanStatus {
        match code {
            1 => SpanStatus::Ok,
            2 => SpanStatus::Error,
            _ => SpanStatus::Unset,
        }
    }
}

impl Span {
    /// How long it took, in nanoseconds (never negative).
    pub fn duration_nano(&self) -> i64 {
        (self.end_unix_nano - self.start_unix_nano).max(0)
    }
}

/// One log record.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct LogRecord {
    /// When it happened (or was observed, when the source gave no time), Unix nanoseconds.
    #[ts(type = "number")]
    pub time_unix_nano: i64,
    /// When the SDK saw it, Unix nanoseconds.
    #[ts(type = "number")]
    pub observed_unix_nano: i64,
    /// OTLP severity number (1–24; 0 unset).
    pub severity_number: i32,
    /// The source's own severity word.
    pub severity_text: String,
    /// The body as text (structured bodies as JSON).
    pub body: String,
    /// `service.name` of the resource.
    pub service: String,
    /// The trace it belongs to (hex; empty when none).
    pub trace_id: String,
    /// The span it belongs to (hex; empty when none).
    pub span_id: String,
    /// The record's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub attributes: serde_json::Value,
    /// The resource's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub resource: serde_json::Value,
    /// The instrumentation scope.
    #[ts(type = "Record<string, unknown>")]
    pub scope: serde_json::Value,
}

/// One metric data point, kept as received for the metrics pages: gauges
/// and sums carry `value`; histograms, exponential histograms and summaries
/// carry their counts in `data`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct MetricPoint {
    /// `service.name` of the resource.
    pub service: String,
    /// The instrument's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its unit (UCUM, e.g. `ms`, `By`, `1`).
    pub unit: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: String,
    /// When it was measured, Unix nanoseconds.
    #[ts(type = "number")]
    pub time_unix_nano: i64,
    /// Start of the interval a cumulative or delta value covers (0 for gauges).
    #[ts(type = "number")]
    pub start_unix_nano: i64,
    /// The value of a gauge or sum point.
    pub value: Option<f64>,
    /// The rest: temporality and monotonicity, counts, sum, min, max,
    /// bucket bounds and counts, quantiles.
    #[ts(type = "Record<string, unknown>")]
    pub data: serde_json::Value,
    /// The point's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub attributes: serde_json::Value,
    /// The resource's attributes.
    #[ts(type = "Record<string, unknown>")]
    pub resource: serde_json::Value,
    /// The instrumentation scope.
    #[ts(type = "Record<string, unknown>")]
    pub scope: serde_json::Value,
}
