//! Commands of the Connections page: outbound endpoints and webhook targets.

use opsdeck::{Caller, Delivery, EndpointHealth};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::{AppState, CommandError};

/// Outbound endpoints this app has called, with breaker state and recent outcomes.
#[tauri::command]
pub async fn connections_list(state: State<'_, AppState>) -> Result<Vec<EndpointHealth>, CommandError> {
    Ok(state.deck()?.connections())
}

/// Sends a signed test event to a target now.
#[tauri::command]
pub async fn notify_test(state: State<'_, AppState>, name: String) -> Result<Delivery, CommandError> {
    Ok(state.deck()?.notify_test(&Caller::local_user("app"), &name).await?)
}

/// A new target's generated signing secret, shown once.
#[derive(Debug, Serialize, TS)]
pub struct NewTarget {
    /// The target's name.
    pub name: String,
    /// The signing secret to give to the receiver; never shown again.
    pub secret: String,
}

/// Adds a webhook target with a generated signing secret, returned once.
#[tauri::command]
pub async fn notify_add(
    state: State<'_, AppState>,
    name: String,
    url: String,
) -> Result<NewTarget, CommandError> {
    let secret = state.deck()?.notify_add(&Caller::local_user("app"), &name, &url, None).await?;
    Ok(NewTarget { name, secret: secret.map(|secret| secret.to_string()).unwrap_or_default() })
}
