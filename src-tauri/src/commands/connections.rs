//! Commands of the Connections page: outbound endpoints and webhook targets.

use opsdeck::Caller;
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::{AppState, CommandError};

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
