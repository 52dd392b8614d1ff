//! Commands of the Certificates page. Issuance and renewal report their steps
//! as `CertProgress` deck events, which the page shows while it waits.

use std::path::PathBuf;

use opsdeck::{Caller, CertImportReport, CertRecord, IssueOptions};
use tauri::State;

use crate::{AppState, CommandError};

fn caller() -> Caller {
    Caller::local_user("app")
}

fn optional_path(path: Option<String>) -> Option<PathBuf> {
    path.filter(|path| !path.trim().is_empty()).map(|path| PathBuf::from(path.trim()))
}

/// Imports files and directories named by path.
#[tauri::command]
pub async fn cert_import_paths(
    state: State<'_, AppState>,
    paths: Vec<String>,
    ca_bundle: Option<String>,
) -> Result<CertImportReport, CommandError> {
    let paths: Vec<PathBuf> =
        paths.iter().filter(|path| !path.trim().is_empty()).map(|path| PathBuf::from(path.trim())).collect();
    let bundle = optional_path(ca_bundle);
    Ok(state.deck()?.cert_import(&caller(), &paths, bundle.as_deref()).await?)
}

/// Imports one picked file's contents.
#[tauri::command]
pub async fn cert_import_file(
    state: State<'_, AppState>,
    name: String,
    bytes: Vec<u8>,
) -> Result<CertImportReport, CommandError> {
    Ok(state.deck()?.cert_import_bytes(&caller(), &name, &bytes, None).await?)
}

/// Probes a TLS endpoint and records its chain.
#[tauri::command]
pub async fn cert_probe(
    state: State<'_, AppState>,
    endpoint: String,
    servername: Option<String>,
    ca_bundle: Option<String>,
) -> Result<CertRecord, CommandError> {
    let servername = servername.filter(|name| !name.trim().is_empty());
    let bundle = optional_path(ca_bundle);
    Ok(state.deck()?.cert_probe(&caller(), endpoint.trim(), servername.as_deref(), bundle.as_deref()).await?)
}

/// Issues a certificate through ACME (steps arrive as `CertProgress` events).
#[tauri::command]
pub async fn cert_issue(
    state: State<'_, AppState>,
    options: IssueOptions,
) -> Result<CertRecord, CommandError> {
    Ok(state.deck()?.cert_issue(&caller(), &options, &|_| {}).await?)
}

/// Renews a managed certificate now (or retries a failed issuance).
#[tauri::command]
pub async fn cert_renew(state: State<'_, AppState>, id: String) -> Result<CertRecord, CommandError> {
    Ok(state.deck()?.cert_renew(&caller(), &id, &|_| {}).await?)
}

/// Revokes a certificate issued here.
#[tauri::command]
pub async fn cert_revoke(
    state: State<'_, AppState>,
    id: String,
    reason: Option<String>,
) -> Result<CertRecord, CommandError> {
    Ok(state.deck()?.cert_revoke(&caller(), &id, reason.as_deref()).await?)
}

/// Forgets a certificate.
#[tauri::command]
pub async fn cert_remove(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(state.deck()?.cert_remove(&caller(), &id).await?)
}

/// Changes a managed certificate's deploy hook and/or renewal threshold.
#[tauri::command]
pub async fn cert_configure(
    state: State<'_, AppState>,
    id: String,
    deploy: Option<opsdeck::DeployHook>,
    renew_remaining: Option<f64>,
) -> Result<CertRecord, CommandError> {
    Ok(state.deck()?.cert_configure(&caller(), &id, deploy, renew_remaining).await?)
}
