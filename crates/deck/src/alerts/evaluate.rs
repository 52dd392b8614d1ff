//! The job that evaluates a group of rules (`alerts:GROUP`, kind
//! `alerts.evaluate`, every group interval) and sends what changed.
//!
//! Only one process evaluates a group at a time (the job's lease), so two
//! `opsdeck serve` on one store notify once. One evaluation is one write
//! transaction: the rules' new alerts, their transitions, and the webhook
//! deliveries announcing them commit together — a notification is queued
//! exactly when the change it announces is stored — and are attempted once
//! it commits (what a receiver does not take, the redelivery job retries).
//!
//! Notifications are grouped by rule: one `alert.firing` event carries every
//! alert of the rule that started firing (or is due a repeat: still firing,
//! unacknowledged, a repeat interval after the last), one `alert.resolved`
//! every one that ended after its firing was announced. Silenced and
//! inhibited alerts are not announced; once nothing holds them back, they
//! are.

use opsdeck_core::scheduler::JobContext;
use opsdeck_core::webhooks;
use opsdeck_metrics::alerts::state::{step, Step};
use opsdeck_metrics::alerts::store as alert_store;
use opsdeck_metrics::alerts::{Alert, AlertRule, AlertState};
use opsdeck_metrics::promql::{Query, QueryResult};
use opsdeck_metrics::Labels;
use serde::Serialize;

use super::{held_back, EVALUATE_JOB_KIND};
use crate::{Deck, DeckError};

/// What the app hears when alerts are announced (it shows a desktop
/// notification).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename = "alert_notified")]
struct AlertNotified {
    status: AlertState,
    group: String,
    rule: String,
    severity: String,
    summary: String,
    alerts: usize,
}

/// Writes Prometheus' `ALERTS{alertname, alertstate, severity, …} 1` series
/// for every pending and firing alert, and ends (staleness marker) the
/// series of a state an alert left, so dashboards and rules can query
/// alerts as Prometheus users do.
async fn record_alerts_series(deck: &Deck, steps: &[(AlertRule, Step)], now: i64) {
    let series_of = |labels: &Labels, state: AlertState| {
        let mut labels = labels.clone();
        labels.insert("__name__".to_owned(), "ALERTS".to_owned());
        labels.insert("alertstate".to_owned(), state.as_str().to_owned());
        labels
    };
    let mut samples = Vec::new();
    for (_, done) in steps {
        for alert in &done.alerts {
            if matches!(alert.state, AlertState::Pending | AlertState::Firing) {
                samples.push((series_of(&alert.labels, alert.state), now, 1.0));
            }
        }
        for transition in &done.transitions {
            if matches!(transition.from, AlertState::Pending | AlertState::Firing) {
                samples.push((
                    series_of(&transition.labels, transition.from),
                    now,
                    f64::from_bits(opsdeck_metrics::STALE_NAN_BITS),
                ));
            }
        }
    }
    if samples.is_empty() {
        return;
    }
    // Recorded for reading; an alert's notification never depends on it.
    if let Err(error) = deck.metrics.append(&samples).await {
        tracing::warn!(%error, "the ALERTS series could not be recorded");
    } else if let Err(error) = deck.metrics.flush().await {
        tracing::warn!(%error, "the ALERTS series could not be written");
    }
}

/// Registers the evaluation job kind.
pub(crate) fn register_jobs(kinds: &mut crate::jobs::JobKinds<'_>) {
    kinds.register(EVALUATE_JOB_KIND, |deck, job| async move {
        evaluate_group(&deck, &job).await.map_err(|error| error.to_string())
    });
}

/// The series a rule's expression returns now, or why it cannot be
/// evaluated.
async fn results_of(deck: &Deck, rule: &AlertRule, now: i64) -> Result<Vec<(Labels, f64)>, String> {
    let query = Query::parse(&rule.expr).map_err(|error| error.to_string())?;
    match deck.metrics().instant(&query, now).await.map_err(|error| error.to_string())? {
        QueryResult::Vector(items) => Ok(items.into_iter().map(|item| (item.metric, item.value.v)).collect()),
        QueryResult::Scalar(_) | QueryResult::String(_) => Err(
            "the expression gives a single number, not series; an alert rule compares series, like up == 0"
                .into(),
        ),
        QueryResult::Matrix(_) => {
            Err("the expression gives ranges of samples; drop the [range] or wrap it in a \
                                       function like rate()"
                .into())
        }
    }
}

async fn evaluate_group(deck: &Deck, job: &JobContext) -> Result<String, DeckError> {
    let Some(group_name) = job.payload.get("group").and_then(serde_json::Value::as_str) else {
        return Ok("the job names no group".into());
    };
    let Some(group) = alert_store::group(&deck.store, group_name).await? else {
        return Ok(format!("group `{group_name}` has no rules any more"));
    };
    let now = opsdeck_core::clock::now_unix_ms();
    // Queries first, outside the write transaction (they read the store).
    let mut evaluated = Vec::with_capacity(group.rules.len());
    for status in &group.rules {
        evaluated.push((status.rule.clone(), results_of(deck, &status.rule, now).await));
    }
    let silences = alert_store::silences(&deck.store).await?;
    let others: Vec<Alert> = alert_store::alerts(&deck.store, None)
        .await?
        .into_iter()
        .filter(|alert| alert.group != group.group.name)
        .collect();

    let mut transaction = deck.store.begin_write().await?;
    let mut steps: Vec<(AlertRule, Step)> = Vec::new();
    let mut errors = 0;
    for (rule, results) in evaluated {
        let previous = alert_store::rule_alerts(&mut transaction, &rule.group, &rule.name).await?;
        match results.and_then(|results| step(&rule, previous, results, now)) {
            Ok(done) => {
                alert_store::save_evaluation(&mut transaction, &rule, Ok(&done), now).await?;
                steps.push((rule, done));
            }
            Err(why) => {
                errors += 1;
                alert_store::save_evaluation(&mut transaction, &rule, Err(&why), now).await?;
            }
        }
    }
    // What holds notifications back is worked out over every alert (a P1 in
    // another group inhibits this group's P3s).
    let mut every: Vec<Alert> = others;
    every.extend(steps.iter().flat_map(|(_, done)| done.alerts.iter().cloned()));
    held_back(&mut every, &silences, now);
    let repeat_ms = group.group.repeat_interval_ms();
    let mut queued = Vec::new();
    let mut announced = Vec::new();
    let (mut firing, mut pending) = (0, 0);
    for (rule, done) in &steps {
        let mut to_fire = Vec::new();
        let mut to_resolve = Vec::new();
        for alert in &done.alerts {
            let Some(current) = every.iter().find(|other| other.fingerprint == alert.fingerprint) else {
                continue;
            };
            match alert.state {
                AlertState::Firing => {
                    firing += 1;
                    if current.silenced_by.is_some() || current.inhibited_by.is_some() {
                        continue;
                    }
                    let first = alert.notified_state != Some(AlertState::Firing);
                    let repeat = !first
                        && alert.acknowledged_by.is_none()
                        && alert.notified_at_unix_ms.is_none_or(|at| now - at >= repeat_ms);
                    if first || repeat {
                        to_fire.push(current.clone());
                    }
                }
                AlertState::Resolved if alert.notified_state == Some(AlertState::Firing) => {
                    to_resolve.push(current.clone());
                }
                AlertState::Pending => pending += 1,
                _ => {}
            }
        }
        for (status, alerts) in [(AlertState::Firing, to_fire), (AlertState::Resolved, to_resolve)] {
            if alerts.is_empty() {
                continue;
            }
            let event = if status == AlertState::Firing { "alert.firing" } else { "alert.resolved" };
            let summary = alerts
                .first()
                .and_then(|alert| alert.annotations.get("summary").cloned())
                .unwrap_or_else(|| format!("{} {}", rule.name, status));
            let payload = serde_json::json!({
                "status": status,
                "group": rule.group,
                "rule": rule.name,
                "severity": rule.severity,
                "summary": summary,
                "alerts": alerts.iter().map(|alert| serde_json::json!({
                    "fingerprint": alert.fingerprint,
                    "labels": alert.labels,
                    "annotations": alert.annotations,
                    "value": alert.value,
                    "active_since_unix_ms": alert.active_since_unix_ms,
                    "fired_at_unix_ms": alert.fired_at_unix_ms,
                    "resolved_at_unix_ms": alert.resolved_at_unix_ms,
                })).collect::<Vec<_>>(),
            });
            queued.extend(webhooks::enqueue_in(&mut transaction, None, event, &payload).await?);
            for alert in &alerts {
                let mut marked = alert.clone();
                marked.notified_at_unix_ms = Some(now);
                marked.notified_state = Some(status);
                alert_store::write_alert(&mut transaction, &marked).await?;
            }
            announced.push(AlertNotified {
                status,
                group: rule.group.clone(),
                rule: rule.name.clone(),
                severity: rule.severity.as_str().to_owned(),
                summary,
                alerts: alerts.len(),
            });
        }
    }
    transaction.commit().await.map_err(opsdeck_metrics::MetricsError::from)?;
    record_alerts_series(deck, &steps, now).await;
    for notice in &announced {
        deck.events.publish_area(notice);
    }
    let delivered = deck.notify().deliver_queued(&queued).await?;
    let mut message = format!(
        "{} rule{}: {firing} firing, {pending} pending",
        group.rules.len(),
        if group.rules.len() == 1 { "" } else { "s" }
    );
    if errors > 0 {
        message.push_str(&format!(", {errors} failed to evaluate"));
    }
    if !announced.is_empty() {
        message.push_str(&format!(
            "; {} notification(s), {delivered}/{} deliveries made",
            announced.len(),
            queued.len()
        ));
    }
    Ok(message)
}
