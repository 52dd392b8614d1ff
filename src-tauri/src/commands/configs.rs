//! Commands of the Configs page: projects and environments, the editor
//! (layers, draft checks for inline lint, save), the effective view with
//! provenance, history with key and text diffs, rollback and promotion.

use opsdeck::{
    Caller, ConfigChange, ConfigLayer, ConfigLink, ConfigPromotion, ConfigVersion, DraftCheck, LayerChange,
    PromotionPreview, PromotionRequest, ReloadHook,
};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::{AppState, CommandError};

fn caller() -> Caller {
    Caller::local_user("app")
}

/// Two versions compared: key by key, and each changed layer's text.
#[derive(Debug, Serialize, TS)]
pub struct ConfigComparison {
    /// The keys that differ.
    pub changes: Vec<ConfigChange>,
    /// The layers whose text differs (both texts, for a side-by-side view).
    pub text: Vec<LayerChange>,
}

/// Makes a project.
#[tauri::command]
pub async fn config_create_project(state: State<'_, AppState>, project: String) -> Result<(), CommandError> {
    Ok(state.deck()?.config_create_project(&caller(), project.trim()).await?)
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

/// The stored layers of an environment (at a version, or the latest).
#[tauri::command]
pub async fn config_layers(
    state: State<'_, AppState>,
    project: String,
    env: String,
    version: Option<i64>,
) -> Result<Vec<ConfigLayer>, CommandError> {
    Ok(state.deck()?.config_layers(&project, &env, version).await?)
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

/// Two versions of an environment compared.
#[tauri::command]
pub async fn config_compare(
    state: State<'_, AppState>,
    project: String,
    env: String,
    from: i64,
    to: i64,
) -> Result<ConfigComparison, CommandError> {
    let deck = state.deck()?;
    let changes = deck.config_diff(&project, &env, from, to).await?;
    let text = deck.config_text_diff(&project, &env, from, to).await?;
    Ok(ConfigComparison { changes, text })
}

/// Restores an environment to a version (as new versions).
#[tauri::command]
pub async fn config_rollback(
    state: State<'_, AppState>,
    project: String,
    env: String,
    to: i64,
) -> Result<Vec<ConfigVersion>, CommandError> {
    Ok(state.deck()?.config_rollback(&caller(), &project, &env, to).await?)
}

/// What promoting one environment to another would do.
#[tauri::command]
pub async fn config_preview_promotion(
    state: State<'_, AppState>,
    project: String,
    from: String,
    to: String,
) -> Result<PromotionPreview, CommandError> {
    Ok(state.deck()?.config_preview_promotion(&project, &from, &to).await?)
}

/// Promotes one environment's committed layer to another.
#[tauri::command]
pub async fn config_promote(
    state: State<'_, AppState>,
    project: String,
    from: String,
    to: String,
    message: String,
) -> Result<ConfigPromotion, CommandError> {
    Ok(state.deck()?.config_promote(&caller(), &project, &from, &to, &message).await?)
}

/// What an environment signals after each change.
#[tauri::command]
pub async fn config_reload_hook(
    state: State<'_, AppState>,
    project: String,
    env: String,
) -> Result<ReloadHook, CommandError> {
    Ok(state.deck()?.config_reload_hook(&project, &env).await?)
}

/// Sets (or, empty, clears) what an environment signals after each change.
#[tauri::command]
pub async fn config_set_reload_hook(
    state: State<'_, AppState>,
    project: String,
    env: String,
    hook: ReloadHook,
) -> Result<(), CommandError> {
    Ok(state.deck()?.config_set_reload_hook(&caller(), &project, &env, &hook).await?)
}

/// Sets the environments whose promotions need a second person.
#[tauri::command]
pub async fn config_set_approval_envs(
    state: State<'_, AppState>,
    project: String,
    envs: Vec<String>,
) -> Result<(), CommandError> {
    Ok(state.deck()?.config_set_approval_envs(&caller(), &project, &envs).await?)
}

/// A project's promotion requests, newest first.
#[tauri::command]
pub async fn config_requests(
    state: State<'_, AppState>,
    project: String,
) -> Result<Vec<PromotionRequest>, CommandError> {
    Ok(state.deck()?.config_promotion_requests(&project).await?)
}

/// Approves someone else's promotion request.
#[tauri::command]
pub async fn config_approve(state: State<'_, AppState>, id: String) -> Result<ConfigVersion, CommandError> {
    Ok(state.deck()?.config_approve(&caller(), &id).await?)
}

/// Rejects someone else's promotion request.
#[tauri::command]
pub async fn config_reject(
    state: State<'_, AppState>,
    id: String,
    reason: String,
) -> Result<PromotionRequest, CommandError> {
    Ok(state.deck()?.config_reject(&caller(), &id, &reason).await?)
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
