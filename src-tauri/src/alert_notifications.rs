//! Desktop notifications for alerts that start firing.
//!
//! Any process on the store may have evaluated the rule (this app, or an
//! `opsdeck serve` holding the group's lease), so the app does not wait for
//! an event of its own: every few seconds it reads the alert transitions
//! stored since it last looked, and shows one notification per alert that
//! entered `firing` — unless a silence or a firing P1 holds it back, as
//! the webhooks do.

use std::time::Duration;

use opsdeck::catalogue::alerts::AlertState;
use tauri::{Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;

/// How often the app looks for alerts that started firing.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Starts the watcher (it ends with the app).
pub(crate) fn start<R: Runtime>(app: &tauri::AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // What happened before the app opened was someone else's to see.
        let mut seen_until = opsdeck_core::clock::now_unix_ms();
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let state = app.state::<AppState>();
            let Ok(deck) = state.deck() else { return };
            match firing_since(deck, seen_until).await {
                Ok((notices, newest)) => {
                    seen_until = newest.max(seen_until);
                    for (title, body) in notices {
                        if let Err(error) = app.notification().builder().title(&title).body(&body).show() {
                            tracing::warn!(%error, "a desktop notification could not be shown");
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "alerts could not be read for desktop notifications"),
            }
        }
    });
}

/// Notifications for alerts that started firing after `since`, and the
/// newest transition time read.
async fn firing_since(
    deck: &opsdeck::Deck,
    since: i64,
) -> Result<(Vec<(String, String)>, i64), opsdeck::DeckError> {
    let transitions = deck.alerts().history(None, 200).await?;
    let newest = transitions.iter().map(|step| step.at_unix_ms).max().unwrap_or(since);
    let started: Vec<_> = transitions
        .into_iter()
        .filter(|step| step.at_unix_ms > since && step.to == AlertState::Firing)
        .collect();
    if started.is_empty() {
        return Ok((Vec::new(), newest));
    }
    let current = deck.alerts().list().await?;
    let notices = started
        .iter()
        .filter_map(|step| {
            let alert = current.iter().find(|alert| alert.fingerprint == step.fingerprint)?;
            if alert.state != AlertState::Firing
                || alert.silenced_by.is_some()
                || alert.inhibited_by.is_some()
            {
                return None;
            }
            let title = format!("{} {} is firing", alert.severity, alert.rule);
            let body = alert.annotations.get("summary").cloned().unwrap_or_else(|| label_text(&alert.labels));
            Some((title, body))
        })
        .collect();
    Ok((notices, newest))
}

/// An alert's labels as `name="value", …`, without the ones every alert has.
fn label_text(labels: &std::collections::BTreeMap<String, String>) -> String {
    labels
        .iter()
        .filter(|(name, _)| name.as_str() != "alertname" && name.as_str() != "severity")
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
