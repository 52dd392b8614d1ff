//! Answering ACME challenges: the built-in HTTP-01 responder, a webroot
//! directory served by the user's own web server, and DNS-01 through a
//! [`DnsProvider`] (an external script hook first).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::CertError;

opsdeck_core::word_enum! {
    /// How the CA checks that we control a name.
    #[derive(Default)]
    "challenge" pub enum ChallengeKind {
        /// Serve a token over HTTP on port 80 (the built-in responder or a webroot).
        #[default]
        Http01 = "http-01",
        /// Publish a TXT record (needed for wildcard names).
        Dns01 = "dns-01",
    }
}

/// The path prefix HTTP-01 answers live under.
pub const HTTP01_PREFIX: &str = "/.well-known/acme-challenge/";

/// A boxed future, so providers can live behind `dyn`.
pub type DnsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), CertError>> + Send + 'a>>;

/// Something that can publish and withdraw the TXT record of a DNS-01 challenge.
pub trait DnsProvider: Send + Sync {
    /// Publishes `value` as a TXT record at `name` (`_acme-challenge.example.com.`).
    fn set_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a>;
    /// Withdraws it again (called after validation, whatever the outcome).
    fn remove_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a>;
    /// For messages: `script: ...`.
    fn describe(&self) -> String;
}

/// DNS-01 through a command the user provides: it runs through `sh -c` with
/// `OPSDECK_DNS_ACTION` (`set` or `remove`), `OPSDECK_DNS_DOMAIN`,
/// `OPSDECK_DNS_NAME` and `OPSDECK_DNS_VALUE` in its environment, and must
/// exit 0 once the record is visible to the CA.
#[derive(Debug, Clone)]
pub struct ScriptDns {
    /// The command line.
    pub command: String,
}

impl ScriptDns {
    async fn run(&self, action: &str, domain: &str, name: &str, value: &str) -> Result<(), CertError> {
        // A minimal environment: none of OpsDeck's own secrets reach the hook.
        let output = opsdeck_core::child_process::hook_command(&self.command)
            .env("OPSDECK_DNS_ACTION", action)
            .env("OPSDECK_DNS_DOMAIN", domain)
            .env("OPSDECK_DNS_NAME", name)
            .env("OPSDECK_DNS_VALUE", value)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|error| CertError::Challenge {
                domain: domain.to_owned(),
                reason: format!("the DNS hook could not start: {error}"),
            })?;
        if output.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.trim();
        Err(CertError::Challenge {
            domain: domain.to_owned(),
            reason: format!(
                "the DNS hook ({action}) exited with {}{}",
                output.status.code().map_or("a signal".to_owned(), |code| format!("code {code}")),
                if said.is_empty() { String::new() } else { format!(": {}", tail(said, 300)) }
            ),
        })
    }
}

impl DnsProvider for ScriptDns {
    fn set_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a> {
        Box::pin(self.run("set", domain, name, value))
    }

    fn remove_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a> {
        Box::pin(self.run("remove", domain, name, value))
    }

    fn describe(&self) -> String {
        format!("script: {}", self.command)
    }
}

/// Answers `GET /.well-known/acme-challenge/TOKEN` with the key
/// authorization while an order is being validated; everything else gets 404.
pub struct Http01Responder {
    answers: Arc<Mutex<HashMap<String, String>>>,
    task: JoinHandle<()>,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Http01Responder {
    /// Starts listening on `address`.
    pub async fn start(address: SocketAddr) -> Result<Http01Responder, CertError> {
        let listener =
            tokio::net::TcpListener::bind(address).await.map_err(|error| CertError::Challenge {
                domain: address.to_string(),
                reason: format!(
                    "the HTTP-01 responder cannot listen on {address}: {error}; choose another port with \
                 --http-port (and forward port 80 to it) or use --webroot"
                ),
            })?;
        let address = listener.local_addr().unwrap_or(address);
        let answers: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let shared = answers.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let answers = shared.clone();
                tokio::spawn(answer_one(stream, answers));
            }
        });
        Ok(Http01Responder { answers, task, address })
    }

    /// Serves `key_authorization` for `token` from now on.
    pub fn add(&self, token: &str, key_authorization: &str) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(token.to_owned(), key_authorization.to_owned());
        }
    }
}

impl Drop for Http01Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer_one(mut stream: tokio::net::TcpStream, answers: Arc<Mutex<HashMap<String, String>>>) {
    let mut request = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    // Read the request head only (validation requests carry no body); cap it.
    while !request.windows(4).any(|window| window == b"\r\n\r\n") && request.len() < 8192 {
        match tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(read)) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let answer = path
        .strip_prefix(HTTP01_PREFIX)
        .filter(|_| method == "GET")
        .and_then(|token| answers.lock().ok().and_then(|answers| answers.get(token).cloned()));
    let response = match answer {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// HTTP-01 through files in the document root of the user's own web server.
#[derive(Debug, Clone)]
pub struct Webroot {
    /// The document root (`/var/www/html`).
    pub root: PathBuf,
}

impl Webroot {
    /// Writes the answer file for `token`; returns its path for cleanup.
    pub fn write(&self, domain: &str, token: &str, key_authorization: &str) -> Result<PathBuf, CertError> {
        // The token comes from the CA; it becomes a file name only when it is
        // what RFC 8555 says a token is (base64url), never `../…` or `/…`.
        check_token(domain, token)?;
        let directory = self.root.join(".well-known").join("acme-challenge");
        let failed = |error: std::io::Error| CertError::Challenge {
            domain: domain.to_owned(),
            reason: format!("cannot write the answer under {}: {error}", directory.display()),
        };
        std::fs::create_dir_all(&directory).map_err(failed)?;
        let path = directory.join(token);
        std::fs::write(&path, key_authorization).map_err(failed)?;
        Ok(path)
    }
}

/// Refuses a challenge token that is not base64url (RFC 8555 §8.3: the
/// token's characters are `A–Z a–z 0–9 - _`), or absurdly long: a CA (or
/// whoever plays one) could otherwise name a file outside the webroot.
pub fn check_token(domain: &str, token: &str) -> Result<(), CertError> {
    let fits = !token.is_empty()
        && token.len() <= 256
        && token.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if fits {
        Ok(())
    } else {
        Err(CertError::Challenge {
            domain: domain.to_owned(),
            reason: format!(
                "the CA sent a challenge token that is not base64url ({:?}); refused, nothing was written",
                tail(token, 80)
            ),
        })
    }
}

/// The last `limit` characters of `text`.
pub(crate) fn tail(text: &str, limit: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(limit)).collect()
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn a_webroot_writes_only_tokens_that_are_base64url() {
        let root = tempfile::tempdir().unwrap();
        let webroot = Webroot { root: root.path().join("www") };
        let written = webroot.write("shop.example", "Ab-9_zT", "Ab-9_zT.key").unwrap();
        assert_eq!(written, root.path().join("www/.well-known/acme-challenge/Ab-9_zT"));
        for token in ["../../outside", "/etc/opsdeck-owned", "a/b", "a.b", "", "x\0", "..", &"a".repeat(300)]
        {
            let error = webroot.write("shop.example", token, "payload").unwrap_err();
            assert!(error.to_string().contains("not base64url"), "{token}: {error}");
        }
        assert!(!root.path().join("outside").exists());
        let left: Vec<_> =
            std::fs::read_dir(root.path().join("www/.well-known/acme-challenge")).unwrap().collect();
        assert_eq!(left.len(), 1, "only the good token's file was written");
    }
}
