//! Commands of the Metrics page that only mean something on this desktop:
//! saving a drawn dashboard or panel as an image file for the person.

use opsdeck::catalogue::metrics::{ImageFormat, RenderInput};
use tauri::State;

use crate::{AppState, CommandError};

/// Draws a dashboard or query (as `opsdeck metrics render` does) and saves
/// it as a new file in the person's downloads folder (or `OPSDECK_EXPORT_DIR`),
/// readable by them only. Returns the file's path.
#[tauri::command]
pub async fn export_image<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    input: RenderInput,
) -> Result<String, CommandError> {
    use base64::Engine as _;
    use tauri::Manager;
    let deck = state.deck()?;
    let image = deck.metrics().render(&input).await?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&image.data_base64).map_err(|error| {
        CommandError { code: "export".into(), message: format!("the image came back unreadable: {error}") }
    })?;
    let folder = match std::env::var_os("OPSDECK_EXPORT_DIR") {
        Some(folder) => std::path::PathBuf::from(folder),
        None => app.path().download_dir().map_err(|error| CommandError {
            code: "export".into(),
            message: format!(
                "there is no downloads folder to save the image in ({error}); set OPSDECK_EXPORT_DIR"
            ),
        })?,
    };
    std::fs::create_dir_all(&folder).map_err(|error| CommandError {
        code: "export".into(),
        message: format!("{} cannot be made: {error}", folder.display()),
    })?;
    let what = input.dashboard.clone().unwrap_or_else(|| "query".to_owned());
    let stamp = opsdeck_core::clock::now_unix_ms();
    let extension = if image.format == ImageFormat::Svg { "svg" } else { "png" };
    let path = folder.join(format!("opsdeck-{what}-{stamp}.{extension}"));
    deck.write_private_output(&path, &bytes, false).await?;
    Ok(path.display().to_string())
}
