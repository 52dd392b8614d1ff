//! The OpsDeck desktop shell: a Tauri window over one [`opsdeck::Deck`].
//!
//! This crate is the only one that knows about Tauri and IPC. It opens the deck
//! at start, registers thin commands (`commands/<area>.rs`) that call one
//! function of the deck each and map its error, and shuts the deck down in
//! order when the app exits. No rule of the product lives here or in the UI.

mod alert_notifications;
pub mod bindings;
mod clipboard;
pub(crate) mod commands;
mod error;
mod state;

pub use error::CommandError;
pub use state::AppState;

use tauri::{Emitter, Manager, RunEvent, Runtime};

/// Builds the app on any Tauri runtime (the real one, or the mock runtime in
/// tests), with the deck opened from `options`.
pub fn build_app<R: Runtime>(
    builder: tauri::Builder<R>,
    options: opsdeck::DeckOptions,
) -> tauri::Result<tauri::App<R>> {
    let state = tauri::async_runtime::block_on(AppState::open(options));
    builder
        .manage(state)
        .manage(clipboard::SecretClipboard::default())
        .manage(ApiServer::default())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            forward_events_to_the_ui(app.handle());
            start_background_work(app.handle());
            alert_notifications::start(app.handle());
            start_the_api(app.handle());
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
}

/// The name of the Tauri event that carries every [`opsdeck::DeckEvent`] to the UI.
pub const DECK_EVENT: &str = "deck-event";

/// Re-emits the deck's events to the windows, so pages update live.
fn forward_events_to_the_ui<R: Runtime>(app: &tauri::AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(deck) = state.deck() else { return };
    let mut events = deck.events().subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Err(error) = app.emit(DECK_EVENT, &event) {
                        tracing::warn!(%error, "could not send an event to the UI");
                    }
                }
                // The UI reloads what it shows on its next query; skip what was missed.
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "the UI missed some deck events"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Starts the deck's scheduler, as `opsdeck serve` does. A failure is logged and
/// shows on the Jobs page (its jobs do not run); the rest of the app works.
fn start_background_work<R: Runtime>(app: &tauri::AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(deck) = state.deck() else { return };
    let started = tauri::async_runtime::block_on(deck.start_background(opsdeck::SchedulerConfig::default()));
    if let Err(error) = started {
        tracing::error!(%error, "the scheduler could not start");
    }
}

/// The local HTTP API the app serves when `OPSDECK_API` asks for it, as
/// `opsdeck serve --api` does; stopped before the deck shuts down.
#[derive(Default)]
struct ApiServer {
    stop: tokio_util::sync::CancellationToken,
    /// The HTTP API's task and the Prometheus query API's, when served.
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl ApiServer {
    async fn stop(&self) {
        self.stop.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for task in tasks {
            if let Err(error) = task.await {
                tracing::warn!(%error, "an HTTP listener did not stop cleanly");
            }
        }
    }
}

/// Serves the HTTP API on the address `OPSDECK_API` gives (off unless
/// set). A bad address or a port in use is logged and shown on the
/// Settings page as off; the rest of the app works.
fn start_the_api<R: Runtime>(app: &tauri::AppHandle<R>) {
    start_the_prometheus_api(app);
    let setting = std::env::var(opsdeck::http_api::API_ENV).ok();
    let address = match opsdeck::http_api::api_setting(setting.as_deref()) {
        Ok(Some(address)) => address,
        Ok(None) => return,
        Err(error) => return tracing::error!(%error, "the HTTP API is not served"),
    };
    serve_the_api(app, address);
}

/// Serves Prometheus' query API on the address `OPSDECK_PROMETHEUS_API`
/// gives (off unless set), for Grafana and other Prometheus clients.
fn start_the_prometheus_api<R: Runtime>(app: &tauri::AppHandle<R>) {
    use opsdeck::metrics::prometheus_api::{prometheus_api_setting, serve, PROMETHEUS_API_ENV};
    let setting = std::env::var(PROMETHEUS_API_ENV).ok();
    let address = match prometheus_api_setting(setting.as_deref()) {
        Ok(Some(address)) => address,
        Ok(None) => return,
        Err(error) => return tracing::error!(%error, "the Prometheus query API is not served"),
    };
    let state = app.state::<AppState>();
    let Ok(deck) = state.deck() else { return };
    let server = app.state::<ApiServer>();
    match tauri::async_runtime::block_on(serve(deck.clone(), address, server.stop.clone())) {
        Ok((bound, task)) => {
            tracing::info!(%bound, "serving the Prometheus query API");
            server.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(task);
        }
        Err(error) => tracing::error!(%error, "the Prometheus query API is not served"),
    }
}

fn serve_the_api<R: Runtime>(app: &tauri::AppHandle<R>, address: std::net::SocketAddr) {
    let state = app.state::<AppState>();
    let Ok(deck) = state.deck() else { return };
    let server = app.state::<ApiServer>();
    let served =
        tauri::async_runtime::block_on(opsdeck::http_api::serve(deck.clone(), address, server.stop.clone()));
    match served {
        Ok((bound, task)) => {
            tracing::info!(%bound, "serving the HTTP API");
            server.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(task);
        }
        Err(error) => tracing::error!(%error, "the HTTP API is not served"),
    }
}

/// Starts the desktop app and blocks until it exits.
pub fn run() {
    opsdeck_core::child_process::refuse_inspection();
    let app = match build_app(tauri::Builder::default(), opsdeck::DeckOptions::from_env()) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: OpsDeck could not start its window: {error}");
            std::process::exit(1);
        }
    };
    let data_dir = app.state::<AppState>().deck().ok().map(|deck| deck.data_dir().path().to_path_buf());
    let logs = opsdeck::init_logging(data_dir.as_deref());
    let mut logs = Some(logs);
    app.run(move |handle, event| {
        if let RunEvent::Exit = event {
            // Background work finishes and the store closes before the process ends.
            tauri::async_runtime::block_on(handle.state::<ApiServer>().stop());
            let state = handle.state::<AppState>();
            tauri::async_runtime::block_on(state.shutdown());
            // Flush the log file last, so shutdown's own lines are kept.
            drop(logs.take());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    fn invoke(
        app: &tauri::App<tauri::test::MockRuntime>,
        command: &str,
    ) -> Result<serde_json::Value, serde_json::Value> {
        invoke_from(app, command, "tauri://localhost")
    }

    fn invoke_from(
        app: &tauri::App<tauri::test::MockRuntime>,
        command: &str,
        origin: &str,
    ) -> Result<serde_json::Value, serde_json::Value> {
        // The mock runtime does not open the windows of tauri.conf.json; open "main" as the app would.
        let window = match app.get_webview_window("main") {
            Some(window) => window,
            None => tauri::WebviewWindowBuilder::new(app, "main", Default::default())
                .build()
                .expect("the main window opens"),
        };
        get_ipc_response(
            &window,
            InvokeRequest {
                cmd: command.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: origin.parse().expect("a valid URL"),
                // Catalogue operations take one `input` argument; `status` has no fields.
                body: tauri::ipc::InvokeBody::Json(serde_json::json!({ "input": {} })),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<serde_json::Value>().expect("JSON"))
    }

    /// The app on a fresh SQLite deck in `dir`.
    fn app_on(dir: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
        let options = opsdeck::DeckOptions {
            data_dir: Some(dir.to_path_buf()),
            database_url: None,
            ..Default::default()
        };
        build_app(mock_builder(), options).expect("the app builds")
    }

    #[test]
    fn the_status_command_answers_through_ipc_with_the_deck_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_on(dir.path());
        let status = invoke(&app, "status").expect("status succeeds");
        assert_eq!(status["store"], "sqlite");
        assert_eq!(status["data_dir"], dir.path().canonicalize().unwrap().display().to_string());
    }

    #[test]
    fn when_the_deck_cannot_open_commands_answer_with_its_code() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let options = opsdeck::DeckOptions { data_dir: Some(file), database_url: None, ..Default::default() };
        let app = build_app(mock_builder(), options).expect("the app still builds");
        let error = invoke(&app, "status").expect_err("status fails");
        assert_eq!(error["code"], "data_dir_not_a_directory");
    }

    #[test]
    fn a_page_from_a_remote_origin_cannot_call_commands() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_on(dir.path());
        assert!(invoke(&app, "status").is_ok());
        let refused = invoke_from(&app, "status", "https://attacker.example/").expect_err("refused");
        assert!(refused.to_string().contains("not allowed"), "{refused}");
    }

    fn http_get(address: &str, path: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).expect("the API accepts connections");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn the_app_serves_the_http_api_when_asked_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_on(dir.path());
        assert_eq!(invoke(&app, "status").unwrap()["api"], serde_json::Value::Null);
        serve_the_api(app.handle(), "127.0.0.1:0".parse().unwrap());
        let url = invoke(&app, "status").unwrap()["api"].as_str().expect("the API's address").to_owned();
        let address = url.strip_prefix("http://").expect("an http URL");
        assert!(address.starts_with("127.0.0.1:"), "{address}");
        assert!(http_get(address, "/openapi.json").starts_with("HTTP/1.1 200"));
        assert!(http_get(address, "/v1/vaults").starts_with("HTTP/1.1 401"), "a route without a token");
        tauri::async_runtime::block_on(app.state::<ApiServer>().stop());
        assert_eq!(invoke(&app, "status").unwrap()["api"], serde_json::Value::Null);
        assert!(std::net::TcpStream::connect(address).is_err(), "the API stopped listening");
    }

    #[test]
    fn the_api_setting_is_off_unless_asked_and_refuses_what_is_not_an_address() {
        use opsdeck::http_api::api_setting;
        assert_eq!(api_setting(None).unwrap(), None);
        assert_eq!(api_setting(Some(" off ")).unwrap(), None);
        assert_eq!(api_setting(Some("on")).unwrap(), Some("127.0.0.1:7878".parse().unwrap()));
        assert_eq!(api_setting(Some("127.0.0.1:9000")).unwrap(), Some("127.0.0.1:9000".parse().unwrap()));
        let refused = api_setting(Some("localhost")).unwrap_err().to_string();
        assert!(refused.contains("OPSDECK_API=localhost") && refused.contains("HOST:PORT"), "{refused}");
    }
}
