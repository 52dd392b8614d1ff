//! Commands of the Configs page: projects and environments, the editor
//! (layers, draft checks for inline lint, save), the effective view with
//! provenance, history with key and text diffs, rollback and promotion.

use opsdeck::{Caller, ConfigLink, ConfigVersion, DraftCheck};
use tauri::State;

use crate::{AppState, CommandError};

fn caller() -> Caller {
    Caller::local_user("app")
}

/// The project's JSON Schema text (null without one).
#[tauri::command]
pub async fn config_schema(
    state: State<'_, AppState>,
    project: String,
) -> Result<Option<String>, CommandError> {
    Ok(state.deck()?.config_schema_text(&project).await?)
}

/// Sets the project's JSON Schema.
#[tauri::command]
pub async fn config_set_schema(
    state: State<'_, AppState>,
    project: String,
    schema: String,
) -> Result<(), CommandError> {
    Ok(state.deck()?.config_set_schema_text(&caller(), &project, &schema).await?)
}

/// Checks an unsaved draft as a save would.
#[tauri::command]
pub async fn config_check_draft(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
    format: String,
    content: String,
) -> Result<DraftCheck, CommandError> {
    Ok(state.deck()?.config_check_draft(&project, &env, &layer, &format, &content).await?)
}

/// Saves a layer as a new version.
#[tauri::command]
pub async fn config_save(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
    format: String,
    content: String,
    message: String,
) -> Result<ConfigVersion, CommandError> {
    Ok(state.deck()?.config_save(&caller(), &project, &env, &layer, &format, &content, &message).await?)
}

/// Every layer linked to a file on disk.
#[tauri::command]
pub async fn config_links(state: State<'_, AppState>) -> Result<Vec<ConfigLink>, CommandError> {
    Ok(state.deck()?.config_links().await?)
}

/// Links a layer to a file (its text stored now, checked like any save).
#[tauri::command]
pub async fn config_link(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
    path: String,
) -> Result<ConfigLink, CommandError> {
    let path = std::path::PathBuf::from(path.trim());
    Ok(state.deck()?.config_link(&caller(), &project, &env, &layer, &path).await?.0)
}

/// Stops following a layer's file.
#[tauri::command]
pub async fn config_unlink(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
) -> Result<bool, CommandError> {
    Ok(state.deck()?.config_unlink(&caller(), &project, &env, &layer).await?)
}

/// The file's and the stored text of a linked layer in conflict.
#[tauri::command]
pub async fn config_link_conflict(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
) -> Result<opsdeck::LinkConflict, CommandError> {
    Ok(state.deck()?.config_link_conflict(&project, &env, &layer).await?)
}

/// Ends a conflict: the file's text stored, or the stored text written over the file (copied first).
#[tauri::command]
pub async fn config_resolve_link(
    state: State<'_, AppState>,
    project: String,
    env: String,
    layer: String,
    resolution: opsdeck::LinkResolution,
) -> Result<opsdeck::LinkResolved, CommandError> {
    Ok(state.deck()?.config_resolve_link(&caller(), &project, &env, &layer, resolution).await?)
}
