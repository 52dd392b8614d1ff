//! Telemetry received over OTLP: trace search, one trace with its critical
//! path, the services and who calls whom, logs, and what needs attention.

use opsdeck_telemetry::{
    LogQuery, LogRecord, ServiceEdge, ServiceOperations, SlowTrace, SpanComparison, TraceQuery, TraceSummary,
};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::telemetry::{DemoReport, TelemetrySummary, TraceDetail};
use crate::{Caller, Deck, DeckError};

/// Which traces to find (every condition must hold).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TraceSearch {
    /// A service with a span in the trace.
    #[serde(default)]
    pub service: Option<String>,
    /// An operation that is a span in the trace.
    #[serde(default)]
    pub operation: Option<String>,
    /// Only traces with a span in error.
    #[serde(default)]
    pub errors_only: Option<bool>,
    /// Only traces at least this long, in milliseconds.
    #[serde(default)]
    pub min_duration_ms: Option<f64>,
    /// Only traces at most this long, in milliseconds.
    #[serde(default)]
    pub max_duration_ms: Option<f64>,
    /// Only traces that started in the last this many minutes.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_minutes: Option<i64>,
    /// Only traces that started at or after this time (Unix milliseconds).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_unix_ms: Option<i64>,
    /// Only traces that started before this time (Unix nanoseconds): the
    /// next page starts at the last trace's start.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub until_unix_nano: Option<i64>,
    /// With `attribute_value`: a span attribute that must have that value.
    #[serde(default)]
    pub attribute_key: Option<String>,
    /// The value `attribute_key` must have (as text, number or boolean).
    #[serde(default)]
    pub attribute_value: Option<String>,
    /// The most traces (default 50, at most 1000).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// A text field left blank is no condition.
fn given(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// `trace.search`.
pub struct TraceSearchOperation;

impl Operation for TraceSearchOperation {
    type Input = TraceSearch;
    type Output = Vec<TraceSummary>;
    const NAME: &'static str = "trace.search";
    const SUMMARY: &'static str = "Finds received traces by service, operation, errors, duration, time and a span attribute; newest first.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/traces";

    async fn run(deck: &Deck, _caller: &Caller, input: TraceSearch) -> Result<Vec<TraceSummary>, DeckError> {
        let attribute = match (given(input.attribute_key), input.attribute_value) {
            (Some(key), Some(value)) => Some((key, value.trim().to_owned())),
            (None, None) => None,
            (None, Some(value)) if value.trim().is_empty() => None,
            (Some(key), None) => {
                return Err(opsdeck_core::CoreError::InvalidInput(format!(
                    "the attribute filter names `{key}` but no value: give the value it must have"
                ))
                .into())
            }
            (None, Some(_)) => {
                return Err(opsdeck_core::CoreError::InvalidInput(
                    "the attribute filter has a value but no attribute name: give both (like http.route and /cart)"
                        .to_owned(),
                )
                .into())
            }
        };
        let nanos = |ms: f64| (ms * 1e6) as i64;
        let query = TraceQuery {
            service: given(input.service),
            operation: given(input.operation),
            since_unix_nano: since_nanos(input.since_minutes, input.since_unix_ms, None),
            until_unix_nano: input.until_unix_nano,
            errors_only: input.errors_only.unwrap_or(false),
            min_duration_nano: input.min_duration_ms.map(nanos),
            max_duration_nano: input.max_duration_ms.map(nanos),
            attribute,
            limit: input.limit.unwrap_or(50).clamp(1, 1000),
        };
        deck.telemetry().traces(&query).await
    }
}

/// Unix nanoseconds of the later of `minutes` ago and `unix_ms`, or of
/// `default_minutes` ago when neither is given.
fn since_nanos(minutes: Option<i64>, unix_ms: Option<i64>, default_minutes: Option<i64>) -> Option<i64> {
    let ago =
        |minutes: i64| opsdeck_core::clock::now_unix_ms().saturating_sub(minutes.saturating_mul(60_000));
    let since_ms = match (minutes.map(ago), unix_ms) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (None, None) => default_minutes.map(ago),
        (a, b) => a.or(b),
    };
    since_ms.map(|ms| ms.saturating_mul(1_000_000))
}

/// One trace.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneTrace {
    /// Its id (32 hex digits; a unique prefix is enough).
    pub trace_id: String,
}

/// `trace.show`.
pub struct TraceShow;

impl Operation for TraceShow {
    type Input = OneTrace;
    type Output = TraceDetail;
    const NAME: &'static str = "trace.show";
    const SUMMARY: &'static str = "One trace: every span with its attributes and self time, its logs, and the critical path that decided its duration.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/traces/{trace_id}";

    async fn run(deck: &Deck, _caller: &Caller, input: OneTrace) -> Result<TraceDetail, DeckError> {
        deck.telemetry().trace(&input.trace_id).await
    }
}

/// A time window ending now.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The last this many minutes (default 60).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_minutes: Option<i64>,
    /// Since this time (Unix milliseconds).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_unix_ms: Option<i64>,
}

impl Window {
    fn since_nanos(&self) -> i64 {
        since_nanos(self.since_minutes, self.since_unix_ms, Some(60)).unwrap_or_default()
    }
}

/// `telemetry.services`.
pub struct TelemetryServices;

impl Operation for TelemetryServices {
    type Input = Window;
    type Output = Vec<ServiceOperations>;
    const NAME: &'static str = "telemetry.services";
    const SUMMARY: &'static str = "The services that sent spans in a time window, each with its operations.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/telemetry/services";

    async fn run(deck: &Deck, _caller: &Caller, input: Window) -> Result<Vec<ServiceOperations>, DeckError> {
        deck.telemetry().services(input.since_nanos()).await
    }
}

/// `telemetry.service_map`.
pub struct ServiceMap;

impl Operation for ServiceMap {
    type Input = Window;
    type Output = Vec<ServiceEdge>;
    const NAME: &'static str = "telemetry.service_map";
    const SUMMARY: &'static str =
        "Which service calls which in a time window, with call counts, errors and latency per edge.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/telemetry/service-map";

    async fn run(deck: &Deck, _caller: &Caller, input: Window) -> Result<Vec<ServiceEdge>, DeckError> {
        deck.telemetry().service_map(input.since_nanos()).await
    }
}

/// `telemetry.summary`.
pub struct TelemetrySummaryOperation;

impl Operation for TelemetrySummaryOperation {
    type Input = Nothing;
    type Output = TelemetrySummary;
    const NAME: &'static str = "telemetry.summary";
    const SUMMARY: &'static str =
        "Readiness of telemetry: where OTLP is received and the last hour's traces and error traces.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/telemetry/summary";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<TelemetrySummary, DeckError> {
        deck.telemetry().summary().await
    }
}

/// Which log records to find (every condition must hold).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct LogSearch {
    /// One service's records.
    #[serde(default)]
    pub service: Option<String>,
    /// At least this severe (OTLP numbers: 5 debug, 9 info, 13 warn, 17 error).
    #[serde(default)]
    pub min_severity: Option<i32>,
    /// Text in the body (case-insensitive).
    #[serde(default)]
    pub text: Option<String>,
    /// One trace's records.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// At or after this time (Unix nanoseconds): a live tail asks for what
    /// came after its newest line.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_unix_nano: Option<i64>,
    /// Before this time (Unix nanoseconds): the next page starts at the last
    /// record's time.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub until_unix_nano: Option<i64>,
    /// The most records (default 100, at most 1000).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// `log.search`.
pub struct LogSearchOperation;

impl Operation for LogSearchOperation {
    type Input = LogSearch;
    type Output = Vec<LogRecord>;
    const NAME: &'static str = "log.search";
    const SUMMARY: &'static str =
        "Finds received log records by service, severity, text in the body, trace and time; newest first.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/logs";

    async fn run(deck: &Deck, _caller: &Caller, input: LogSearch) -> Result<Vec<LogRecord>, DeckError> {
        let query = LogQuery {
            service: given(input.service),
            min_severity: input.min_severity,
            text: given(input.text),
            trace_id: given(input.trace_id),
            since_unix_nano: input.since_unix_nano,
            until_unix_nano: input.until_unix_nano,
            limit: input.limit.unwrap_or(100).clamp(1, 1000),
        };
        deck.telemetry().logs(&query).await
    }
}

/// Two traces to compare.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct CompareTraces {
    /// The baseline trace's id.
    pub before: String,
    /// The trace compared with it.
    pub after: String,
}

/// `trace.compare`.
pub struct TraceCompare;

impl Operation for TraceCompare {
    type Input = CompareTraces;
    type Output = Vec<SpanComparison>;
    const NAME: &'static str = "trace.compare";
    const SUMMARY: &'static str = "Compares two traces span by span (matched by service and operation): which got slower or faster, which appear in only one.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/traces/compare";

    async fn run(
        deck: &Deck,
        _caller: &Caller,
        input: CompareTraces,
    ) -> Result<Vec<SpanComparison>, DeckError> {
        deck.telemetry().compare_traces(input.before.trim(), input.after.trim()).await
    }
}

/// Which slow traces to find.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SlowInput {
    /// The last this many minutes (default 60).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_minutes: Option<i64>,
    /// Since this time (Unix milliseconds).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since_unix_ms: Option<i64>,
    /// Slower than this percentile of their operation (default 95).
    #[serde(default)]
    pub percentile: Option<f64>,
    /// The most traces (default 50, at most 500).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// `trace.slow`.
pub struct TraceSlow;

impl Operation for TraceSlow {
    type Input = SlowInput;
    type Output = Vec<SlowTrace>;
    const NAME: &'static str = "trace.slow";
    const SUMMARY: &'static str =
        "Traces slower than a percentile (default p95) of their own operation in a time window, slowest first.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/traces/slow";

    async fn run(deck: &Deck, _caller: &Caller, input: SlowInput) -> Result<Vec<SlowTrace>, DeckError> {
        let window = Window { since_minutes: input.since_minutes, since_unix_ms: input.since_unix_ms };
        deck.telemetry()
            .slow_traces(
                window.since_nanos(),
                input.percentile.unwrap_or(95.0).clamp(1.0, 99.9),
                input.limit.unwrap_or(50).clamp(1, 500),
            )
            .await
    }
}

/// Where this process receives OTLP.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct Receivers {
    /// The gRPC address, when on.
    pub grpc: Option<String>,
    /// The HTTP address, when on.
    pub http: Option<String>,
}

/// `telemetry.receivers`.
pub struct TelemetryReceivers;

impl Operation for TelemetryReceivers {
    type Input = Nothing;
    type Output = Receivers;
    const NAME: &'static str = "telemetry.receivers";
    const SUMMARY: &'static str =
        "Where this process receives OTLP (gRPC and HTTP addresses), for pointing an SDK at it.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/telemetry/receivers";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Receivers, DeckError> {
        let crate::OtlpAddresses { grpc, http } = deck.telemetry().otlp_addresses();
        Ok(Receivers { grpc, http })
    }
}

/// How much demo traffic to send.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct DemoInput {
    /// Traces of the simulated shop (1–2000; 200 when absent).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub traces: Option<u32>,
}

impl DemoInput {
    /// The most traces one call sends: a first look, not a load test.
    pub const MOST: u32 = 2000;

    /// The number of traces asked for, checked.
    pub fn traces(&self) -> Result<usize, DeckError> {
        match self.traces.unwrap_or(200) {
            traces @ 1..=DemoInput::MOST => Ok(traces as usize),
            other => Err(opsdeck_core::CoreError::InvalidInput(format!(
                "{other} demo traces: send between 1 and {} at a time",
                DemoInput::MOST
            ))
            .into()),
        }
    }
}

/// `telemetry.demo`.
pub struct TelemetryDemo;

impl Operation for TelemetryDemo {
    type Input = DemoInput;
    type Output = DemoReport;
    const NAME: &'static str = "telemetry.demo";
    const SUMMARY: &'static str =
        "Sends traces and logs of a simulated shop (five services, some slow, some \
         failing) to this process's own OTLP/HTTP receiver, for a first look at the trace pages.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/telemetry/demo";

    async fn run(deck: &Deck, _caller: &Caller, input: DemoInput) -> Result<DemoReport, DeckError> {
        let traces = input.traces()?;
        let Some(http) = deck.telemetry().otlp_addresses().http else {
            return Err(opsdeck_core::CoreError::InvalidInput(
                "the OTLP/HTTP receiver is off (OPSDECK_OTLP_HTTP=off); turn it on to send demo traffic"
                    .to_owned(),
            )
            .into());
        };
        deck.telemetry().demo(&format!("http://{http}"), traces).await
    }
}
