//! Commands of the Traces and Logs pages: search, one trace with its
//! analysis, the service map, comparison, slow traces, logs, and demo
//! traffic for a first look.

use opsdeck::{
    DemoReport, LogQuery, LogRecord, OtlpAddresses, ServiceEdge, ServiceOperations, SlowTrace,
    SpanComparison, TraceDetail,
};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::{AppState, CommandError};

/// The log search form.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct LogSearch {
    /// One service's records.
    pub service: Option<String>,
    /// At least this severe (OTLP numbers: 5 debug, 9 info, 13 warn, 17 error).
    pub min_severity: Option<i32>,
    /// Text in the body (case-insensitive).
    pub text: Option<String>,
    /// One trace's records.
    pub trace_id: Option<String>,
    /// At or after (Unix ns) — the live tail asks for what came after its newest line.
    #[ts(type = "number | null")]
    pub since_unix_nano: Option<i64>,
    /// Before (Unix ns) — the next page starts at the last record's time.
    #[ts(type = "number | null")]
    pub until_unix_nano: Option<i64>,
    /// The most records (at most 1000).
    #[ts(type = "number")]
    pub limit: i64,
}

/// Where this app receives OTLP.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Receivers {
    /// The gRPC address, when on.
    pub grpc: Option<String>,
    /// The HTTP address, when on.
    pub http: Option<String>,
}

fn blank_is_none(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

fn bad_input(message: String) -> CommandError {
    CommandError { code: "invalid_input".to_owned(), message }
}

/// One trace: spans, logs, critical path, self times.
#[tauri::command]
pub async fn trace_detail(state: State<'_, AppState>, trace_id: String) -> Result<TraceDetail, CommandError> {
    Ok(state.deck()?.trace(&trace_id).await?)
}

/// Services and their operations since `since_unix_ms`.
#[tauri::command]
pub async fn telemetry_services(
    state: State<'_, AppState>,
    since_unix_ms: i64,
) -> Result<Vec<ServiceOperations>, CommandError> {
    Ok(state.deck()?.telemetry_services(since_unix_ms.saturating_mul(1_000_000)).await?)
}

/// Which service calls which since `since_unix_ms`.
#[tauri::command]
pub async fn service_map(
    state: State<'_, AppState>,
    since_unix_ms: i64,
) -> Result<Vec<ServiceEdge>, CommandError> {
    Ok(state.deck()?.service_map(since_unix_ms.saturating_mul(1_000_000)).await?)
}

/// Two traces compared span by span.
#[tauri::command]
pub async fn traces_compare(
    state: State<'_, AppState>,
    before: String,
    after: String,
) -> Result<Vec<SpanComparison>, CommandError> {
    Ok(state.deck()?.compare_traces(&before, &after).await?)
}

/// Traces slower than the `percentile` of their operation since `since_unix_ms`.
#[tauri::command]
pub async fn traces_slow(
    state: State<'_, AppState>,
    since_unix_ms: i64,
    percentile: f64,
) -> Result<Vec<SlowTrace>, CommandError> {
    Ok(state.deck()?.slow_traces(since_unix_ms.saturating_mul(1_000_000), percentile, 50).await?)
}

/// Log records matching the form, newest first.
#[tauri::command]
pub async fn logs_search(
    state: State<'_, AppState>,
    search: LogSearch,
) -> Result<Vec<LogRecord>, CommandError> {
    let query = LogQuery {
        service: blank_is_none(search.service),
        min_severity: search.min_severity,
        text: blank_is_none(search.text),
        trace_id: blank_is_none(search.trace_id),
        since_unix_nano: search.since_unix_nano,
        until_unix_nano: search.until_unix_nano,
        limit: search.limit,
    };
    Ok(state.deck()?.logs(&query).await?)
}

/// Where this app receives OTLP (for the empty pages' instructions).
#[tauri::command]
pub async fn telemetry_receivers(state: State<'_, AppState>) -> Result<Receivers, CommandError> {
    let OtlpAddresses { grpc, http } = state.deck()?.otlp_addresses();
    Ok(Receivers { grpc, http })
}

/// Sends `traces` traces of the simulated shop to this app's own OTLP/HTTP receiver.
#[tauri::command]
pub async fn telemetry_demo(state: State<'_, AppState>, traces: usize) -> Result<DemoReport, CommandError> {
    let deck = state.deck()?;
    let Some(http) = deck.otlp_addresses().http else {
        return Err(bad_input(
            "the OTLP/HTTP receiver is off (OPSDECK_OTLP_HTTP=off); turn it on to send demo traffic"
                .to_owned(),
        ));
    };
    Ok(deck.demo(&format!("http://{http}"), traces.clamp(1, 2000)).await?)
}

/// Receivers and the last hour's traces (the Overview's card).
#[tauri::command]
pub async fn telemetry_summary(
    state: State<'_, AppState>,
) -> Result<opsdeck::TelemetrySummary, CommandError> {
    Ok(state.deck()?.telemetry_summary().await?)
}
