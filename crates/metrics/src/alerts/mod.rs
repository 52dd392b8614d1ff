//! Alerting rules over the series store, as Prometheus evaluates them, with
//! severities P1–P4 instead of free-form labels.
//!
//! A rule is a PromQL expression, a `for` duration, a severity, labels and
//! annotations; rules sit in groups, each evaluated on its own interval.
//! Every series the expression returns is one alert, which goes inactive →
//! pending → firing (once it has been returned for the whole `for`) →
//! resolved (when it is no longer returned), as in Prometheus.
//!
//! - [`state`]: one evaluation's effect on a rule's alerts, a pure function
//!   (the state machine, tested without a store).
//! - [`template`]: the `{{ $labels.x }}` / `{{ $value }}` templates of
//!   annotations.
//! - [`import`]: Prometheus rule files (YAML) read as groups of rules.
//! - [`store`]: groups, rules, alerts, their transitions and silences, in
//!   the deck's store.
//!
//! Sending notifications, silences' and inhibition's effect on them, and
//! the scheduler job that evaluates a group live in the deck (`alerts/`).

pub mod import;
pub mod state;
pub mod store;
pub mod template;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::promql::{parse_duration, Query};
use crate::store::Labels;

opsdeck_core::word_enum! {
    /// How urgent an alert is: P1 wakes someone up, P4 is for the morning.
    "alert severity" pub enum Severity {
        /// Critical: users are hurt now; page someone.
        P1 = "P1",
        /// High: will hurt users soon; act within the hour.
        P2 = "P2",
        /// Medium: needs attention today.
        P3 = "P3",
        /// Low: informational, for the next working day.
        P4 = "P4",
    }
}

opsdeck_core::word_enum! {
    /// Where an alert stands.
    "alert state" pub enum AlertState {
        /// Not returned by its expression (only seen in transitions).
        Inactive = "inactive",
        /// Returned, but not yet for the rule's whole `for` duration.
        Pending = "pending",
        /// Returned for at least the rule's `for` duration.
        Firing = "firing",
        /// Was firing and is no longer returned.
        Resolved = "resolved",
    }
}

impl Severity {
    /// The severity a Prometheus rule's `severity` label means: `P1`…`P4`
    /// as themselves; `critical`/`page` P1, `error`/`high` P2,
    /// `warning`/`medium` P3, `info`/`low`/`none` P4.
    pub fn from_label(value: &str) -> Option<Severity> {
        Some(match value.to_ascii_lowercase().as_str() {
            "p1" | "critical" | "page" | "emergency" => Severity::P1,
            "p2" | "error" | "high" | "major" => Severity::P2,
            "p3" | "warning" | "warn" | "medium" => Severity::P3,
            "p4" | "info" | "low" | "minor" | "none" => Severity::P4,
            _ => return None,
        })
    }
}

/// A group of rules evaluated together, on one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct AlertGroup {
    /// The group's name (a rule file's group).
    pub name: String,
    /// Seconds between evaluations (default 15).
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    /// Seconds before a still-firing, unacknowledged alert is notified
    /// again (default 4 hours).
    #[serde(default = "default_repeat")]
    pub repeat_interval_seconds: f64,
}

fn default_interval() -> f64 {
    15.0
}

fn default_repeat() -> f64 {
    4.0 * 3600.0
}

impl AlertGroup {
    /// A group of `name` with the default intervals.
    pub fn named(name: &str) -> AlertGroup {
        AlertGroup {
            name: name.to_owned(),
            interval_seconds: default_interval(),
            repeat_interval_seconds: default_repeat(),
        }
    }

    /// What is wrong with the group, if anything.
    pub fn check(&self) -> Result<(), String> {
        check_name("group", &self.name)?;
        if !(1.0..=86_400.0).contains(&self.interval_seconds) {
            return Err(format!(
                "group `{}`: an evaluation interval of {} s is not between 1 s and a day",
                self.name, self.interval_seconds
            ));
        }
        if !(60.0..=7.0 * 86_400.0).contains(&self.repeat_interval_seconds) {
            return Err(format!(
                "group `{}`: a repeat interval of {} s is not between a minute and a week",
                self.name, self.repeat_interval_seconds
            ));
        }
        Ok(())
    }

    /// Milliseconds between evaluations.
    pub fn interval_ms(&self) -> i64 {
        (self.interval_seconds * 1000.0).round() as i64
    }

    /// Milliseconds before a firing alert is notified again.
    pub fn repeat_interval_ms(&self) -> i64 {
        (self.repeat_interval_seconds * 1000.0).round() as i64
    }
}

/// An alerting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// The group it belongs to (made with default intervals if new).
    pub group: String,
    /// The alert's name (its `alertname` label): `HighErrorRate`.
    pub name: String,
    /// The PromQL expression; every series it returns is an alert:
    /// `sum by (service) (rate(http_errors_total[5m])) > 1`.
    pub expr: String,
    /// Seconds the expression must keep returning a series before its alert
    /// fires (0: at once).
    #[serde(default)]
    pub for_seconds: f64,
    /// How urgent it is.
    pub severity: Severity,
    /// Labels added to each alert (they win over the series' own).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations, templated: `summary`, `description`, `runbook_url`…
    /// (`{{ $labels.service }}`, `{{ $value | humanize }}`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl AlertRule {
    /// What is wrong with the rule, if anything: its names, its expression
    /// (parsed), its duration, its labels and its templates.
    pub fn check(&self) -> Result<(), String> {
        check_name("group", &self.group)?;
        check_name("rule", &self.name)?;
        Query::parse(&self.expr).map_err(|error| format!("rule `{}`: {error}", self.name))?;
        if !(self.for_seconds >= 0.0 && self.for_seconds <= 30.0 * 86_400.0) {
            return Err(format!(
                "rule `{}`: a `for` of {} s is not between 0 and 30 days",
                self.name, self.for_seconds
            ));
        }
        for label in self.labels.keys() {
            let valid = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !label.starts_with("__");
            if !valid || label == "alertname" || label == "severity" {
                return Err(format!(
                    "rule `{}`: `{label}` is not a label a rule may set (names are letters, digits and _; \
                     alertname and severity come from the rule itself)",
                    self.name
                ));
            }
        }
        let sample = Labels::new();
        for (name, text) in self.annotations.iter().chain(self.labels.iter()) {
            template::render(text, &sample, 0.0)
                .map_err(|error| format!("rule `{}`, `{name}`: {error}", self.name))?;
        }
        Ok(())
    }

    /// Milliseconds of `for`.
    pub fn for_ms(&self) -> i64 {
        (self.for_seconds * 1000.0).round() as i64
    }
}

/// Parses a Prometheus duration (`5m`, `1h30m`) into seconds.
pub fn duration_seconds(text: &str) -> Result<f64, String> {
    parse_duration(text.trim())
        .map(|ms| ms as f64 / 1000.0)
        .map_err(|error| format!("`{text}` is not a duration like 30s, 5m or 1h: {error}"))
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    crate::check_name(what, name, "_-.:")
}

/// One alert: a series a rule's expression returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Alert {
    /// Identifies the alert: its group, rule and labels.
    pub fingerprint: String,
    /// The rule's group.
    pub group: String,
    /// The rule.
    pub rule: String,
    /// How urgent.
    pub severity: Severity,
    /// Its labels: the series' (without `__name__`), the rule's,
    /// `alertname` and `severity`.
    pub labels: Labels,
    /// The rule's annotations filled in for this series.
    pub annotations: BTreeMap<String, String>,
    /// Where it stands.
    pub state: AlertState,
    /// The expression's value at the last evaluation that returned it.
    pub value: f64,
    /// When its expression first returned it (this time), Unix ms.
    #[ts(type = "number")]
    pub active_since_unix_ms: i64,
    /// When it started firing, Unix ms.
    #[ts(type = "number | null")]
    pub fired_at_unix_ms: Option<i64>,
    /// When it resolved, Unix ms.
    #[ts(type = "number | null")]
    pub resolved_at_unix_ms: Option<i64>,
    /// When its rule last evaluated, Unix ms.
    #[ts(type = "number")]
    pub evaluated_at_unix_ms: i64,
    /// When a notification last went out for it, Unix ms.
    #[ts(type = "number | null")]
    pub notified_at_unix_ms: Option<i64>,
    /// The state the last notification announced (`firing` or `resolved`).
    pub notified_state: Option<AlertState>,
    /// Who acknowledged it (no repeat notifications while firing).
    pub acknowledged_by: Option<String>,
    /// When, Unix ms.
    #[ts(type = "number | null")]
    pub acknowledged_at_unix_ms: Option<i64>,
    /// The silence that holds back its notifications, if any (filled when
    /// read).
    #[serde(default)]
    pub silenced_by: Option<String>,
    /// The firing P1 alert that holds back its notifications, if any
    /// (filled when read).
    #[serde(default)]
    pub inhibited_by: Option<String>,
}

impl Alert {
    /// The label that says which service an alert is about: `service`, else
    /// `job`.
    pub fn service(&self) -> Option<&str> {
        self.labels.get("service").or_else(|| self.labels.get("job")).map(String::as_str)
    }
}

/// A change of an alert's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Transition {
    /// The alert.
    pub fingerprint: String,
    /// Its group.
    pub group: String,
    /// Its rule.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// Its labels.
    pub labels: Labels,
    /// The state it left.
    pub from: AlertState,
    /// The state it entered.
    pub to: AlertState,
    /// The expression's value then.
    pub value: f64,
    /// When, Unix ms.
    #[ts(type = "number")]
    pub at_unix_ms: i64,
}

/// A silence: no notifications for alerts matching its selector until it
/// ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Silence {
    /// Its id (`sil_…`).
    pub id: String,
    /// The alerts it covers, as a series selector over alert labels:
    /// `{alertname="HighErrorRate", service="shop"}`.
    pub selector: String,
    /// Why (required: it is the first thing the next person asks).
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When, Unix ms.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
    /// When it ends by itself, Unix ms.
    #[ts(type = "number")]
    pub ends_at_unix_ms: i64,
    /// When someone ended it early, Unix ms.
    #[ts(type = "number | null")]
    pub expired_at_unix_ms: Option<i64>,
}

impl Silence {
    /// Whether it holds back notifications at `now`.
    pub fn active_at(&self, now: i64) -> bool {
        self.expired_at_unix_ms.is_none() && now < self.ends_at_unix_ms
    }

    /// Whether it covers an alert with `labels` (a selector that no longer
    /// parses covers nothing).
    pub fn covers(&self, labels: &Labels) -> bool {
        crate::parse_selector(&self.selector)
            .map(|matchers| matchers.iter().all(|matcher| matcher.accepts(labels)))
            .unwrap_or(false)
    }
}

/// A stable identity for an alert: FNV-1a of its group, rule and labels.
pub fn fingerprint(group: &str, rule: &str, labels: &Labels) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(group);
    feed(rule);
    for (name, value) in labels {
        feed(name);
        feed(value);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(expr: &str) -> AlertRule {
        AlertRule {
            group: "shop".into(),
            name: "HighErrorRate".into(),
            expr: expr.into(),
            for_seconds: 60.0,
            severity: Severity::P2,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn a_rule_is_checked_before_it_is_kept() {
        assert!(rule("rate(errors_total[5m]) > 1").check().is_ok());
        let error = rule("rate(errors_total[5m] > 1").check().unwrap_err();
        assert!(error.contains("HighErrorRate") && error.contains("not valid PromQL"), "{error}");
        let mut reserved = rule("up == 0");
        reserved.labels.insert("severity".into(), "critical".into());
        assert!(reserved.check().unwrap_err().contains("severity come from the rule"));
        let mut template = rule("up == 0");
        template.annotations.insert("summary".into(), "{{ range $x }}".into());
        assert!(template.check().unwrap_err().contains("summary"));
        let mut negative = rule("up == 0");
        negative.for_seconds = -1.0;
        assert!(negative.check().is_err());
    }

    #[test]
    fn severities_from_prometheus_labels() {
        assert_eq!(Severity::from_label("critical"), Some(Severity::P1));
        assert_eq!(Severity::from_label("warning"), Some(Severity::P3));
        assert_eq!(Severity::from_label("P2"), Some(Severity::P2));
        assert_eq!(Severity::from_label("sometimes"), None);
    }

    #[test]
    fn fingerprints_tell_labels_apart() {
        let mut a = Labels::new();
        a.insert("service".into(), "shop".into());
        let mut b = Labels::new();
        b.insert("service".into(), "shopx".into());
        assert_ne!(fingerprint("g", "r", &a), fingerprint("g", "r", &b));
        assert_eq!(fingerprint("g", "r", &a), fingerprint("g", "r", &a.clone()));
        assert_ne!(fingerprint("g", "r", &a), fingerprint("g", "r2", &a));
    }
}
