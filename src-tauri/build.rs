//! Builds the Tauri context. The app's commands are listed here so that each
//! one needs an explicit `allow-…` in a capability file (without this list
//! every command would be allowed).

/// The app's own `#[tauri::command]`s; keep in step with `commands::own_handler`.
const COMMANDS: &[&str] = &["unlock", "secret_copy", "export_image", "open_finding"];

/// The commands generated from the catalogue of operations
/// (`src/commands/operations.rs`).
const OPERATIONS: &[&str] = &include!("src/commands/operation_names.in");

fn main() {
    println!("cargo::rerun-if-changed=src/commands/operation_names.in");
    let commands: &'static [&'static str] =
        COMMANDS.iter().chain(OPERATIONS).copied().collect::<Vec<_>>().leak();
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("failed to build the Tauri context");
}
