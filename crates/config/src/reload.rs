//! Telling a service its config changed: after each stored change to an
//! environment, an optional command runs (with the project, environment,
//! version and hash in its environment) and/or a signed `config.changed`
//! webhook goes to one target. The change itself is kept whatever the
//! signal's outcome; the outcome is reported and audited.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How long a reload command may run before it counts as failed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What to signal after `project/env` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReloadHook {
    /// A shell command (`systemctl reload shop`, `kill -HUP $(cat shop.pid)`).
    pub command: Option<String>,
    /// The name of a webhook target (`opsdeck notify add`) that gets `config.changed`.
    pub webhook: Option<String>,
}

impl ReloadHook {
    /// True when it signals nothing.
    pub fn is_empty(&self) -> bool {
        self.command.as_deref().is_none_or(|command| command.trim().is_empty())
            && self.webhook.as_deref().is_none_or(|name| name.trim().is_empty())
    }
}

/// What signalling a change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ReloadOutcome {
    /// True when every part of the hook succeeded.
    pub ok: bool,
    /// What was done (`ran …`, `webhook ops: delivered`).
    pub done: Vec<String>,
    /// What failed, in words, when something did.
    pub error: Option<String>,
}

/// What a reload command is told about the change.
pub struct ChangeInfo<'a> {
    /// The project.
    pub project: &'a str,
    /// The environment.
    pub env: &'a str,
    /// The version now in effect.
    pub version: i64,
    /// Its content hash.
    pub hash: &'a str,
}

/// Runs a reload command through `sh -c`; its output's tail on failure.
pub async fn run_command(command: &str, change: &ChangeInfo<'_>) -> Result<String, String> {
    // A minimal environment: none of OpsDeck's own secrets reach the hook.
    let mut process = opsdeck_core::child_process::hook_command(command);
    process
        .env("OPSDECK_CONFIG_PROJECT", change.project)
        .env("OPSDECK_CONFIG_ENV", change.env)
        .env("OPSDECK_CONFIG_VERSION", change.version.to_string())
        .env("OPSDECK_CONFIG_HASH", change.hash)
        .kill_on_drop(true);
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, process.output()).await {
        Err(_) => return Err(format!("`{command}` did not finish within {} s", COMMAND_TIMEOUT.as_secs())),
        Ok(Err(error)) => return Err(format!("`{command}` could not start: {error}")),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(format!("ran `{command}`"));
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said.trim();
    let tail: String = said.chars().rev().take(300).collect::<Vec<_>>().into_iter().rev().collect();
    Err(format!(
        "`{command}` exited with {}{}",
        output.status.code().map_or("a signal".to_owned(), |code| format!("code {code}")),
        if tail.is_empty() { String::new() } else { format!(": {tail}") }
    ))
}
