//! A small scripted HTTP server on 127.0.0.1 for testing outbound calls: it
//! answers requests with a list of prepared responses (repeating the last one)
//! and records every request it got.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A response to give.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl Scripted {
    /// A response with `status` and no extra headers.
    pub fn status(status: u16) -> Scripted {
        Scripted { status, headers: Vec::new() }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// The running server; it stops with the test process.
pub struct ScriptedServer {
    port: u16,
    script: Arc<Mutex<Vec<Scripted>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ScriptedServer {
    /// Starts answering with `script` (the last response repeats).
    pub fn start(script: Vec<Scripted>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let script = Arc::new(Mutex::new(script));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (script_in, received_in) = (script.clone(), received.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(clone) => clone,
                    Err(_) => continue,
                });
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let mut headers = HashMap::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                    }
                }
                let length = headers.get("content-length").and_then(|value| value.parse().ok()).unwrap_or(0);
                let mut body = vec![0_u8; length];
                let _ = reader.read_exact(&mut body);
                received_in.lock().unwrap().push(Received { method, path, headers, body });
                let response = {
                    let mut script = script_in.lock().unwrap();
                    if script.len() > 1 {
                        script.remove(0)
                    } else {
                        script[0].clone()
                    }
                };
                let mut text = format!(
                    "HTTP/1.1 {} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n",
                    response.status
                );
                for (name, value) in &response.headers {
                    text.push_str(&format!("{name}: {value}\r\n"));
                }
                text.push_str("\r\nok");
                let mut stream = stream;
                let _ = stream.write_all(text.as_bytes());
            }
        });
        ScriptedServer { port, script, received }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replaces the responses still to give.
    pub fn set_script(&self, script: Vec<Scripted>) {
        *self.script.lock().unwrap() = script;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
