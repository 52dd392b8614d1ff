//! One evaluation of a rule, applied to its alerts: Prometheus' state
//! machine, kept pure so it is tested on its own.
//!
//! - A series the expression returns and no alert had: a new alert,
//!   pending (firing at once when the rule's `for` is 0).
//! - Pending for at least `for` (since the evaluation that first returned
//!   it): firing.
//! - A pending alert no longer returned: gone (inactive).
//! - A firing alert no longer returned: resolved, kept [`RESOLVED_KEPT_MS`]
//!   so people see what just ended; returned again later, it starts over as
//!   a new pending alert.

use std::collections::HashMap;

use super::{fingerprint, template, Alert, AlertRule, AlertState, Transition};
use crate::store::{Labels, NAME_LABEL};

/// How long a resolved alert stays listed (Prometheus keeps 15 minutes).
pub const RESOLVED_KEPT_MS: i64 = 15 * 60_000;

/// A rule's alerts after one evaluation, and the transitions it made.
#[derive(Debug, Default)]
pub struct Step {
    /// The rule's alerts now (pending, firing, recently resolved).
    pub alerts: Vec<Alert>,
    /// Every state change, in order.
    pub transitions: Vec<Transition>,
}

/// Applies an evaluation at `now` that returned `results` (each series'
/// labels and value) to the rule's `previous` alerts.
pub fn step(
    rule: &AlertRule,
    previous: Vec<Alert>,
    results: Vec<(Labels, f64)>,
    now: i64,
) -> Result<Step, String> {
    let mut by_fingerprint: HashMap<String, Alert> =
        previous.into_iter().map(|alert| (alert.fingerprint.clone(), alert)).collect();
    let mut step = Step::default();
    let mut seen = std::collections::HashSet::new();
    for (series, value) in results {
        let mut template_labels = series.clone();
        template_labels.remove(NAME_LABEL);
        let mut labels = template_labels.clone();
        for (name, text) in &rule.labels {
            labels.insert(name.clone(), template::render(text, &template_labels, value)?);
        }
        labels.insert("alertname".to_owned(), rule.name.clone());
        labels.insert("severity".to_owned(), rule.severity.as_str().to_owned());
        let id = fingerprint(&rule.group, &rule.name, &labels);
        if !seen.insert(id.clone()) {
            return Err(format!(
                "the expression returned two series that are the same alert ({}) once `__name__` is dropped; \
                 aggregate them (sum by …) or keep a label that tells them apart",
                crate::series_text(&labels)
            ));
        }
        let mut annotations = std::collections::BTreeMap::new();
        for (name, text) in &rule.annotations {
            annotations.insert(name.clone(), template::render(text, &template_labels, value)?);
        }
        let earlier = by_fingerprint.remove(&id).filter(|alert| alert.state != AlertState::Resolved);
        let mut alert = match earlier {
            Some(alert) => alert,
            None => {
                let state = if rule.for_ms() == 0 { AlertState::Firing } else { AlertState::Pending };
                step.transitions.push(transition(
                    rule,
                    &id,
                    &labels,
                    AlertState::Inactive,
                    state,
                    value,
                    now,
                ));
                Alert {
                    fingerprint: id.clone(),
                    group: rule.group.clone(),
                    rule: rule.name.clone(),
                    severity: rule.severity,
                    labels: labels.clone(),
                    annotations: annotations.clone(),
                    state,
                    value,
                    active_since_unix_ms: now,
                    fired_at_unix_ms: (state == AlertState::Firing).then_some(now),
                    resolved_at_unix_ms: None,
                    evaluated_at_unix_ms: now,
                    notified_at_unix_ms: None,
                    notified_state: None,
                    acknowledged_by: None,
                    acknowledged_at_unix_ms: None,
                    silenced_by: None,
                    inhibited_by: None,
                }
            }
        };
        if alert.state == AlertState::Pending && now - alert.active_since_unix_ms >= rule.for_ms() {
            step.transitions.push(transition(
                rule,
                &id,
                &labels,
                AlertState::Pending,
                AlertState::Firing,
                value,
                now,
            ));
            alert.state = AlertState::Firing;
            alert.fired_at_unix_ms = Some(now);
        }
        alert.value = value;
        alert.labels = labels;
        alert.annotations = annotations;
        alert.severity = rule.severity;
        alert.evaluated_at_unix_ms = now;
        step.alerts.push(alert);
    }
    // What was not returned this time.
    let mut rest: Vec<Alert> = by_fingerprint.into_values().collect();
    rest.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    for mut alert in rest {
        match alert.state {
            AlertState::Pending | AlertState::Inactive => {
                step.transitions.push(transition(
                    rule,
                    &alert.fingerprint,
                    &alert.labels,
                    AlertState::Pending,
                    AlertState::Inactive,
                    alert.value,
                    now,
                ));
            }
            AlertState::Firing => {
                step.transitions.push(transition(
                    rule,
                    &alert.fingerprint,
                    &alert.labels,
                    AlertState::Firing,
                    AlertState::Resolved,
                    alert.value,
                    now,
                ));
                alert.state = AlertState::Resolved;
                alert.resolved_at_unix_ms = Some(now);
                alert.evaluated_at_unix_ms = now;
                step.alerts.push(alert);
            }
            AlertState::Resolved => {
                if now - alert.resolved_at_unix_ms.unwrap_or(now) < RESOLVED_KEPT_MS {
                    alert.evaluated_at_unix_ms = now;
                    step.alerts.push(alert);
                }
            }
        }
    }
    Ok(step)
}

fn transition(
    rule: &AlertRule,
    fingerprint: &str,
    labels: &Labels,
    from: AlertState,
    to: AlertState,
    value: f64,
    now: i64,
) -> Transition {
    Transition {
        fingerprint: fingerprint.to_owned(),
        group: rule.group.clone(),
        rule: rule.name.clone(),
        severity: rule.severity,
        labels: labels.clone(),
        from,
        to,
        value,
        at_unix_ms: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Severity;

    fn rule(for_seconds: f64) -> AlertRule {
        AlertRule {
            group: "shop".into(),
            name: "HighErrorRate".into(),
            expr: "errors > 1".into(),
            for_seconds,
            severity: Severity::P2,
            labels: [("team".to_owned(), "web".to_owned())].into_iter().collect(),
            annotations: [("summary".to_owned(), "{{ $labels.service }} at {{ $value }}".to_owned())]
                .into_iter()
                .collect(),
        }
    }

    fn series(service: &str) -> Labels {
        [("__name__".to_owned(), "errors".to_owned()), ("service".to_owned(), service.to_owned())]
            .into_iter()
            .collect()
    }

    fn states(step: &Step) -> Vec<(String, AlertState)> {
        step.alerts.iter().map(|alert| (alert.labels["service"].clone(), alert.state)).collect()
    }

    #[test]
    fn pending_then_firing_after_for_then_resolved() {
        let rule = rule(60.0);
        let first = step(&rule, vec![], vec![(series("shop"), 3.0)], 0).unwrap();
        assert_eq!(states(&first), vec![("shop".to_owned(), AlertState::Pending)]);
        let alert = &first.alerts[0];
        assert_eq!(alert.labels["alertname"], "HighErrorRate");
        assert_eq!(alert.labels["severity"], "P2");
        assert_eq!(alert.labels["team"], "web");
        assert!(!alert.labels.contains_key("__name__"));
        assert_eq!(alert.annotations["summary"], "shop at 3");

        let early = step(&rule, first.alerts, vec![(series("shop"), 4.0)], 59_999).unwrap();
        assert_eq!(states(&early), vec![("shop".to_owned(), AlertState::Pending)]);
        assert!(early.transitions.is_empty());

        let fired = step(&rule, early.alerts, vec![(series("shop"), 5.0)], 60_000).unwrap();
        assert_eq!(states(&fired), vec![("shop".to_owned(), AlertState::Firing)]);
        assert_eq!(fired.transitions.len(), 1);
        assert_eq!(
            (fired.transitions[0].from, fired.transitions[0].to),
            (AlertState::Pending, AlertState::Firing)
        );
        assert_eq!(fired.alerts[0].fired_at_unix_ms, Some(60_000));
        assert_eq!(fired.alerts[0].annotations["summary"], "shop at 5");

        let resolved = step(&rule, fired.alerts, vec![], 75_000).unwrap();
        assert_eq!(states(&resolved), vec![("shop".to_owned(), AlertState::Resolved)]);
        assert_eq!(resolved.transitions[0].to, AlertState::Resolved);

        // Back again: a new pending alert, not the resolved one revived.
        let again = step(&rule, resolved.alerts, vec![(series("shop"), 2.0)], 90_000).unwrap();
        assert_eq!(states(&again), vec![("shop".to_owned(), AlertState::Pending)]);
        assert_eq!(again.alerts[0].active_since_unix_ms, 90_000);

        // Resolved alerts are dropped after a while.
        let fired_again = step(&rule, vec![], vec![(series("x"), 2.0)], 0).unwrap();
        let fired_again = step(&rule, fired_again.alerts, vec![(series("x"), 2.0)], 60_000).unwrap();
        let gone = step(&rule, fired_again.alerts, vec![], 61_000).unwrap();
        let later = step(&rule, gone.alerts, vec![], 61_000 + RESOLVED_KEPT_MS).unwrap();
        assert!(later.alerts.is_empty());
    }

    #[test]
    fn a_pending_alert_that_goes_away_never_fires() {
        let rule = rule(60.0);
        let first = step(&rule, vec![], vec![(series("shop"), 3.0), (series("cart"), 2.0)], 0).unwrap();
        let second = step(&rule, first.alerts, vec![(series("cart"), 2.0)], 30_000).unwrap();
        assert_eq!(states(&second), vec![("cart".to_owned(), AlertState::Pending)]);
        assert_eq!(second.transitions.len(), 1);
        assert_eq!(second.transitions[0].to, AlertState::Inactive);
        assert_eq!(second.transitions[0].labels["service"], "shop");
    }

    #[test]
    fn no_for_fires_at_once_and_duplicates_are_refused() {
        let rule = rule(0.0);
        let now = step(&rule, vec![], vec![(series("shop"), 3.0)], 5).unwrap();
        assert_eq!(states(&now), vec![("shop".to_owned(), AlertState::Firing)]);
        assert_eq!(now.transitions[0].from, AlertState::Inactive);
        let mut other_name = series("shop");
        other_name.insert("__name__".into(), "other".into());
        let error = step(&rule, vec![], vec![(series("shop"), 1.0), (other_name, 2.0)], 5).unwrap_err();
        assert!(error.contains("same alert"), "{error}");
    }
}
