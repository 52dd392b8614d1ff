//! A small W3C WebDriver client and the harness that runs the real app under
//! Xvfb through tauri-driver (which drives Debian's WebKitWebDriver).
//!
//! Only the handful of commands the journeys need are here: new session, find,
//! click, text, execute script, screenshot. Every wait is bounded so a broken
//! app fails the test with a message instead of hanging it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::binaries::{build_binary, workspace_root};
use crate::process::{free_port, spawn_tied_to_this_process, wait_until};

/// The passphrase the app under test keeps its keys under.
pub const E2E_PASSPHRASE: &str = "e2e passphrase";

/// How long a find or wait may take before the test fails.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// A WebDriver session on the running app.
pub struct Session {
    agent: ureq::Agent,
    base: String,
    id: String,
}

/// A found element (its WebDriver reference).
#[derive(Debug, Clone)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}/session/{}{}", self.base, self.id, path);
        call(&self.agent, method, &url, body)
    }

    /// Finds the first element matching a CSS selector, waiting up to [`DEFAULT_WAIT`].
    pub fn find(&self, css: &str) -> Element {
        let start = Instant::now();
        loop {
            match self.call("POST", "/element", Some(json!({"using": "css selector", "value": css}))) {
                Ok(value) => {
                    if let Some(reference) = value.get(ELEMENT_KEY).and_then(Value::as_str) {
                        return Element(reference.to_owned());
                    }
                }
                Err(error) if start.elapsed() > DEFAULT_WAIT => {
                    panic!("no element matches `{css}` after {DEFAULT_WAIT:?}: {error}")
                }
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks an element.
    pub fn click(&self, element: &Element) {
        self.call("POST", &format!("/element/{}/click", element.0), Some(json!({})))
            .unwrap_or_else(|error| panic!("click failed: {error}"));
    }

    /// Finds and clicks the element matching `css`, once it is enabled (a
    /// button disabled while earlier work finishes would ignore the click).
    pub fn click_css(&self, css: &str) {
        let enabled = json!({
            "script": "const element = document.querySelector(arguments[0]); return !!element && !element.disabled;",
            "args": [css],
        });
        let start = Instant::now();
        while self.call("POST", "/execute/sync", Some(enabled.clone())).ok() != Some(Value::Bool(true)) {
            assert!(start.elapsed() < DEFAULT_WAIT, "`{css}` did not become enabled within {DEFAULT_WAIT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let element = self.find(css);
        self.click(&element);
    }

    /// Drags with the mouse: presses at `at` (pixels from the element's
    /// centre), moves by `by` in a few steps, and releases.
    pub fn drag(&self, element: &Element, at: (i64, i64), by: (i64, i64)) {
        let origin = json!({ ELEMENT_KEY: element.0 });
        let mut actions = vec![
            json!({"type": "pointerMove", "origin": origin, "x": at.0, "y": at.1, "duration": 0}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        for _ in 0..4 {
            actions.push(json!({"type": "pointerMove", "origin": "pointer", "x": by.0 / 4, "y": by.1 / 4, "duration": 50}));
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]})),
        )
        .unwrap_or_else(|error| panic!("pointer actions failed: {error}"));
        let _ = self.call("DELETE", "/actions", None);
    }

    /// Types text into an element (an input).
    pub fn type_text(&self, element: &Element, text: &str) {
        self.call("POST", &format!("/element/{}/value", element.0), Some(json!({"text": text})))
            .unwrap_or_else(|error| panic!("typing failed: {error}"));
    }

    /// The rendered text of an element.
    pub fn text(&self, element: &Element) -> String {
        self.call("GET", &format!("/element/{}/text", element.0), None)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until the element matching `css` shows text containing `expected`;
    /// returns the full text.
    pub fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let start = Instant::now();
        let mut last = String::new();
        // textContent rather than WebDriver's rendered text: WebKitWebDriver
        // returns nothing for cells styled to truncate with an ellipsis.
        let script = json!({
            "script": "const element = document.querySelector(arguments[0]); return element ? element.textContent : null;",
            "args": [css],
        });
        while start.elapsed() < DEFAULT_WAIT {
            if let Ok(Value::String(text)) = self.call("POST", "/execute/sync", Some(script.clone())) {
                last = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if last.contains(expected) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "`{css}` never showed `{expected}` within {DEFAULT_WAIT:?}; last text: {last:?}; the page showed: {}",
            self.page_text()
        )
    }

    /// The page's visible text on one line (for failure messages: an error
    /// panel elsewhere on the page usually says why).
    fn page_text(&self) -> String {
        let script = json!({ "script": "return document.body ? document.body.innerText : '';", "args": [] });
        match self.call("POST", "/execute/sync", Some(script)) {
            Ok(Value::String(text)) => {
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                text.chars().take(1500).collect()
            }
            other => format!("(could not read it: {other:?})"),
        }
    }

    /// Waits until an element matches `css`.
    pub fn wait_for_css(&self, css: &str) {
        let script = json!({ "script": "return !!document.querySelector(arguments[0]);", "args": [css] });
        let start = Instant::now();
        while self.call("POST", "/execute/sync", Some(script.clone())).ok() != Some(Value::Bool(true)) {
            assert!(start.elapsed() < DEFAULT_WAIT, "nothing matched `{css}` within {DEFAULT_WAIT:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn execute(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
            .unwrap_or_else(|error| panic!("script failed: {error}"))
    }

    /// Presses a key combination on the focused element (e.g. `["\u{E009}", "k"]` for Ctrl+K).
    pub fn press_keys(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for key in keys {
            actions.push(json!({"type": "keyDown", "value": key}));
        }
        for key in keys.iter().rev() {
            actions.push(json!({"type": "keyUp", "value": key}));
        }
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .unwrap_or_else(|error| panic!("key actions failed: {error}"));
    }

    /// Saves a PNG screenshot of the window to `path`, once the page has
    /// painted what its DOM holds (WebKit can otherwise hand back the frame
    /// from before the last navigation).
    pub fn screenshot(&self, path: &Path) {
        let script = "const done = arguments[arguments.length - 1]; \
                      requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        self.call("POST", "/execute/async", Some(json!({"script": script, "args": []})))
            .unwrap_or_else(|error| panic!("waiting for the page to paint failed: {error}"));
        let value =
            self.call("GET", "/screenshot", None).unwrap_or_else(|error| panic!("screenshot: {error}"));
        let encoded = value.as_str().expect("a screenshot is a base64 string");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("the screenshot is valid base64");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the screenshot directory");
        }
        std::fs::write(path, bytes).expect("write the screenshot");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.id);
        let _ = call(&self.agent, "DELETE", &url, None);
    }
}

fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, Some(body)) => agent.post(url).send_json(body),
        (_, None) => agent.post(url).send_json(json!({})),
    };
    let mut response = response.map_err(|error| format!("{method} {url}: {error}"))?;
    let status = response.status();
    let mut text = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .map_err(|error| format!("{method} {url}: reading the answer: {error}"))?;
    let document: Value =
        serde_json::from_str(&text).map_err(|error| format!("{method} {url}: not JSON ({error}): {text}"))?;
    let value = document.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() || value.get("error").is_some() {
        return Err(format!("{method} {url}: {status}: {value}"));
    }
    Ok(value)
}

/// The real app, running under its own Xvfb display, driven through tauri-driver.
pub struct RunningApp {
    /// The X display the app runs on (`:N`).
    pub display: String,
    /// The WebDriver session on the app's window.
    pub session: Session,
    _turn: std::sync::MutexGuard<'static, ()>,
    /// The data dir the app was opened on.
    pub data_dir: tempfile::TempDir,
    /// Where the app's OTLP/HTTP receiver listens (a free port, not 4318).
    pub otlp_http: String,
    xvfb: Child,
    driver: Child,
    /// The app's D-Bus session and notification daemon, when asked for.
    notifications: Option<NotificationDaemon>,
}

/// A private D-Bus session bus (no service activation: no keychain appears
/// on it, so the deck keeps its passphrase keys) with a real notification
/// daemon, dunst, on the app's display.
struct NotificationDaemon {
    address: String,
    bus: Child,
    dunst: Child,
}

impl NotificationDaemon {
    fn start(dir: &std::path::Path, display: &str) -> NotificationDaemon {
        let socket = dir.join("session-bus");
        let config = dir.join("session-bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                socket.display()
            ),
        )
        .expect("write the bus configuration");
        let config_arg = format!("--config-file={}", config.display());
        let bus = crate::process::spawn_logged(
            "dbus-daemon",
            &["--nofork", &config_arg],
            &[],
            &dir.join("session-bus.log"),
        );
        wait_until(Duration::from_secs(10), "the session bus", || socket.exists());
        let address = format!("unix:path={}", socket.display());
        let dunst = crate::process::spawn_logged(
            "dunst",
            &[],
            &[("DISPLAY", display), ("DBUS_SESSION_BUS_ADDRESS", &address)],
            &dir.join("dunst.log"),
        );
        let daemon = NotificationDaemon { address, bus, dunst };
        wait_until(Duration::from_secs(10), "dunst on the session bus", || {
            daemon.dunstctl(&["is-paused"]).is_some()
        });
        daemon
    }

    /// `dunstctl ARGS`' output, or `None` when it failed (dunst not up yet).
    fn dunstctl(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("dunstctl")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("dunstctl is not installed: run `make setup`");
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for NotificationDaemon {
    fn drop(&mut self) {
        for child in [&mut self.dunst, &mut self.bus] {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

/// Where screenshots of the end-to-end journeys are kept (a CI artifact).
pub fn screenshot_dir() -> PathBuf {
    workspace_root().join("target/e2e-screenshots")
}

fn tauri_driver_path() -> PathBuf {
    let in_home = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin/tauri-driver"));
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|dir| dir.join("tauri-driver")).find(|path| path.is_file())
    });
    on_path
        .or(in_home.filter(|path| path.is_file()))
        .expect("tauri-driver is not installed: run `make setup` (cargo install tauri-driver)")
}

/// Starts a display of its own with `Xvfb -displayfd` and returns its number.
fn start_xvfb() -> (Child, String) {
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is not installed: run `make setup`");
    let stdout = xvfb.stdout.take().expect("Xvfb stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("Xvfb prints its display number");
    let display = format!(":{}", line.trim());
    assert!(line.trim().parse::<u32>().is_ok(), "Xvfb did not report a display: {line:?}");
    (xvfb, display)
}

/// The editor the app opens findings in (`OPSDECK_EDITOR`): a script in
/// the data dir that writes down the arguments it was given and the
/// environment it was started with, to `editor-args` and `editor-env`
/// beside it, and exits, as a terminal editor's wrapper would.
fn install_editor(data_dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let script = data_dir.join("editor.sh");
    let args = data_dir.join("editor-args");
    let env = data_dir.join("editor-env");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > '{env}'\nprintf '%s\\n' \"$@\" > '{args}.part'\nmv '{args}.part' '{args}'\n",
            env = env.display(),
            args = args.display()
        ),
    )
    .expect("write the editor script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .expect("make the editor runnable");
    script.display().to_string()
}

/// One app at a time: each journey gets its own display and data dir, but two
/// WebKit processes at once on 2 cores only make both slow.
static ONE_APP_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl RunningApp {
    /// Builds the app (the UI must already be built into `ui/dist`), starts it on
    /// a fresh data dir and opens a WebDriver session on its window.
    pub fn launch() -> RunningApp {
        Self::launch_with(false)
    }

    /// [`Self::launch`], with a D-Bus session and a real notification
    /// daemon (dunst) on the app's display: see [`Self::desktop_notifications`].
    pub fn launch_with_desktop_notifications() -> RunningApp {
        Self::launch_with(true)
    }

    fn launch_with(notifications: bool) -> RunningApp {
        assert!(
            workspace_root().join("ui/dist/index.html").is_file(),
            "ui/dist is missing: build the UI first (`make ui`)"
        );
        let turn = ONE_APP_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let app = build_binary("opsdeck-app", "opsdeck-app");
        let data_dir = tempfile::Builder::new().prefix("opsdeck-e2e-").tempdir().expect("temp dir");
        let (xvfb, display) = start_xvfb();
        let notifications = notifications.then(|| NotificationDaemon::start(data_dir.path(), &display));
        let bus_address = notifications
            .as_ref()
            .map_or_else(|| "unix:path=/nonexistent".to_owned(), |daemon| daemon.address.clone());

        let port = free_port();
        let native_port = free_port();
        let driver_path = tauri_driver_path();
        let port_text = port.to_string();
        let native_text = native_port.to_string();
        // The app inherits tauri-driver's environment through WebKitWebDriver.
        // (WEBKIT_DISABLE_COMPOSITING_MODE must stay unset: screenshots hang with it.)
        let data_dir_text = data_dir.path().display().to_string();
        // Free ports: another OpsDeck (a test's `opsdeck serve`) may hold the defaults.
        let otlp_http = format!("127.0.0.1:{}", free_port());
        let otlp_grpc = format!("127.0.0.1:{}", free_port());
        let export_dir = data_dir.path().join("exports").display().to_string();
        // WebKit keeps local storage (a remembered query, the theme) under
        // XDG_DATA_HOME: each journey starts from none, as a new user would.
        let xdg_data = data_dir.path().join("xdg-data").display().to_string();
        let xdg_cache = data_dir.path().join("xdg-cache").display().to_string();
        let editor = install_editor(data_dir.path());
        let driver = spawn_tied_to_this_process(
            &driver_path.display().to_string(),
            &["--port", &port_text, "--native-port", &native_text],
            &[
                ("DISPLAY", &display),
                ("OPSDECK_DATA_DIR", &data_dir_text),
                ("OPSDECK_DATABASE_URL", ""),
                // No keychain on this display's session (no bus, or one without
                // a Secret Service): the deck's keys come from the passphrase.
                ("DBUS_SESSION_BUS_ADDRESS", &bus_address),
                ("OPSDECK_PASSPHRASE", E2E_PASSPHRASE),
                ("OPSDECK_OTLP_HTTP", &otlp_http),
                ("OPSDECK_OTLP_GRPC", &otlp_grpc),
                // Images the app saves for the person land in the test's data dir.
                ("OPSDECK_EXPORT_DIR", &export_dir),
                ("XDG_DATA_HOME", &xdg_data),
                ("XDG_CACHE_HOME", &xdg_cache),
                // The person's editor: see `install_editor`.
                ("OPSDECK_EDITOR", &editor),
            ],
            "TERM",
            None,
        );
        wait_until(Duration::from_secs(20), "tauri-driver", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });

        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({
            "capabilities": {"alwaysMatch": {"tauri:options": {"application": app.display().to_string()}}}
        });
        // tauri-driver listens before its WebKitWebDriver does; a session request in
        // that moment is dropped, so try a few times before calling it a failure.
        let mut attempts = 0;
        let created = loop {
            attempts += 1;
            match call(&agent, "POST", &format!("{base}/session"), Some(capabilities.clone())) {
                Ok(created) => break created,
                Err(error) if attempts < 5 && error.contains("io:") => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(error) => panic!("could not start the app through WebDriver: {error}"),
            }
        };
        let id =
            created.get("sessionId").and_then(Value::as_str).expect("a new session has an id").to_owned();
        RunningApp {
            session: Session { agent, base, id },
            _turn: turn,
            data_dir,
            otlp_http,
            xvfb,
            driver,
            display,
            notifications,
        }
    }

    /// The desktop notifications the app has shown, as (summary, body), oldest
    /// first: the daemon's displayed ones are closed into its history and
    /// the history read. Panics unless launched with
    /// [`Self::launch_with_desktop_notifications`].
    pub fn desktop_notifications(&self) -> Vec<(String, String)> {
        let daemon = self.notifications.as_ref().expect("launched with desktop notifications");
        daemon.dunstctl(&["close-all"]).expect("dunstctl close-all");
        let history = daemon.dunstctl(&["history"]).expect("dunstctl history");
        let history: Value = serde_json::from_str(&history).expect("dunstctl history prints JSON");
        let text = |entry: &Value, field: &str| entry[field]["data"].as_str().unwrap_or_default().to_owned();
        let mut shown: Vec<(String, String)> = history["data"][0]
            .as_array()
            .map(|entries| {
                entries.iter().map(|entry| (text(entry, "summary"), text(entry, "body"))).collect()
            })
            .unwrap_or_default();
        // dunst lists the newest first.
        shown.reverse();
        shown
    }

    /// The text on the app display's clipboard (`xclip`), or `None` when it is empty.
    pub fn clipboard_text(&self) -> Option<String> {
        let output = Command::new("xclip")
            .args(["-o", "-selection", "clipboard"])
            .env("DISPLAY", &self.display)
            .output()
            .expect("xclip is not installed: run `make setup`");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    }

    /// The formats the clipboard's owner offers (`xclip -t TARGETS`): a
    /// concealed entry offers `x-kde-passwordManagerHint` beside its text.
    pub fn clipboard_targets(&self) -> Vec<String> {
        let output = Command::new("xclip")
            .args(["-o", "-selection", "clipboard", "-t", "TARGETS"])
            .env("DISPLAY", &self.display)
            .output()
            .expect("xclip is not installed: run `make setup`");
        String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
    }

    /// The `opsdeck` command line on the app's data dir and passphrase.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        crate::opsdeck_command()
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(args)
            .env("OPSDECK_PASSPHRASE", E2E_PASSPHRASE)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .expect("run opsdeck")
    }

    /// Saves a screenshot named `name.png` under [`screenshot_dir`].
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = screenshot_dir().join(format!("{name}.png"));
        self.session.screenshot(&path);
        path
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
        let _ = Command::new("kill").arg(self.driver.id().to_string()).status();
        let _ = self.driver.wait();
    }
}
