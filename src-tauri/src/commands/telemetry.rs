//! Commands of the Traces and Logs pages: search, one trace with its
//! analysis, the service map, comparison, slow traces, logs, and demo
//! traffic for a first look.

use opsdeck::DemoReport;
use tauri::State;

use crate::{AppState, CommandError};

fn bad_input(message: String) -> CommandError {
    CommandError { code: "invalid_input".to_owned(), message }
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
