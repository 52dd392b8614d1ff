//! Commands of the Traces and Logs pages: search, one trace with its
//! analysis, the service map, comparison, slow traces, logs, and demo
//! traffic for a first look.

use opsdeck::{DemoReport, OtlpAddresses, SlowTrace, SpanComparison};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::{AppState, CommandError};

/// Where this app receives OTLP.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Receivers {
    /// The gRPC address, when on.
    pub grpc: Option<String>,
    /// The HTTP address, when on.
    pub http: Option<String>,
}

fn bad_input(message: String) -> CommandError {
    CommandError { code: "invalid_input".to_owned(), message }
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
