//! The alerts area: rules over the series store evaluated by the scheduler,
//! P1–P4 alerts, their notifications (signed webhooks, the app's desktop
//! notifications), silences, acknowledgement and inhibition.
//!
//! The rules, alerts and their state machine are the metrics crate's
//! (`opsdeck_metrics::alerts`); this folder runs them: `evaluate.rs` is
//! the scheduler job that evaluates a group and sends what changed,
//! `operations.rs` the area's catalogue entries.
//!
//! What holds a notification back, worked out whenever alerts are read:
//! - a **silence** whose selector matches the alert's labels, until it ends;
//! - **inhibition**: a P3 or P4 alert about a service (its `service` label,
//!   else `job`) while a P1 alert about the same service fires — the P1
//!   says it all, and the lesser ones would only bury it.

mod evaluate;
pub mod operations;

use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_metrics::alerts::import::{read_rule_file, RuleImportReport};
use opsdeck_metrics::alerts::store::{self as alert_store, GroupRules};
use opsdeck_metrics::alerts::{Alert, AlertGroup, AlertRule, AlertState, Severity, Silence, Transition};
use opsdeck_metrics::MetricsError;

use crate::{Caller, DeckError};

pub(crate) use evaluate::register_jobs;

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::AlertList>(),
        entry::<operations::AlertHistory>(),
        entry::<operations::AlertAcknowledge>(),
        entry::<operations::RuleList>(),
        entry::<operations::RuleSet>(),
        entry::<operations::RulesImport>(),
        entry::<operations::RuleRemove>(),
        entry::<operations::SilenceList>(),
        entry::<operations::SilenceAdd>(),
        entry::<operations::SilenceExpire>(),
    ]
}

/// The job kind that evaluates a group of rules.
pub const EVALUATE_JOB_KIND: &str = "alerts.evaluate";

/// The scheduler job of a group.
pub fn job_name(group: &str) -> String {
    format!("alerts:{group}")
}

/// A deck's alerts: `deck.alerts()`.
#[derive(Clone, Copy)]
pub struct Alerts<'d> {
    pub(crate) deck: &'d crate::Deck,
}

impl crate::Deck {
    /// The alerts area: rules, alerts, silences.
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts { deck: self }
    }
}

impl Alerts<'_> {
    /// Adds or changes a rule (and, given, its group's intervals); its group
    /// is evaluated from now on by the app and `opsdeck serve`. Audited.
    pub async fn set_rule(
        self,
        caller: &Caller,
        rule: AlertRule,
        group: Option<AlertGroup>,
    ) -> Result<GroupRules, DeckError> {
        let target = format!("{}/{}", rule.group, rule.name);
        let audit = self.deck.audit.scope(caller, "alert.rule_set", &target, serde_json::json!({})).await?;
        let kept = alert_store::set_rule(&self.deck.store, group.as_ref(), &rule, &audit).await?;
        self.deck.audit.announce(&audit).await;
        self.schedule(&kept).await?;
        alert_store::group(&self.deck.store, &kept.name)
            .await?
            .ok_or_else(|| MetricsError::Invalid(format!("group `{}` was not stored", kept.name)).into())
    }

    /// Removes a rule and its alerts (its group too, when it was the last).
    /// Audited.
    pub async fn remove_rule(self, caller: &Caller, group: &str, name: &str) -> Result<(), DeckError> {
        let target = format!("{group}/{name}");
        let audit =
            self.deck.audit.scope(caller, "alert.rule_remove", &target, serde_json::json!({})).await?;
        let group_gone = alert_store::remove_rule(&self.deck.store, group, name, &audit).await?;
        self.deck.audit.announce(&audit).await;
        if group_gone {
            Scheduler::remove(&self.deck.store, &job_name(group)).await?;
        }
        Ok(())
    }

    /// Imports a Prometheus rule file: each of its groups replaces the group
    /// of that name. Nothing is written when any rule is wrong. Audited.
    pub async fn import(self, caller: &Caller, text: &str) -> Result<RuleImportReport, DeckError> {
        let file = read_rule_file(text).map_err(MetricsError::Invalid)?;
        if file.groups.is_empty() {
            return Err(MetricsError::Invalid("the file has no groups".into()).into());
        }
        let audit =
            self.deck.audit.scope(caller, "alert.rules_import", "rule file", serde_json::json!({})).await?;
        let report = alert_store::import(&self.deck.store, &file, &audit).await?;
        self.deck.audit.announce(&audit).await;
        for (group, _) in &file.groups {
            self.schedule(group).await?;
        }
        Ok(report)
    }

    /// Every group with its rules and their health.
    pub async fn rules(self) -> Result<Vec<GroupRules>, DeckError> {
        Ok(alert_store::groups(&self.deck.store).await?)
    }

    /// One group with its rules, if it exists.
    pub async fn group(self, name: &str) -> Result<Option<GroupRules>, DeckError> {
        Ok(alert_store::group(&self.deck.store, name).await?)
    }

    /// Every alert — firing first, then pending, then recently resolved;
    /// by severity within each — with what holds its notifications back.
    pub async fn list(self) -> Result<Vec<Alert>, DeckError> {
        let mut alerts = alert_store::alerts(&self.deck.store, None).await?;
        let silences = alert_store::silences(&self.deck.store).await?;
        held_back(&mut alerts, &silences, opsdeck_core::clock::now_unix_ms());
        alerts.sort_by(|a, b| {
            state_rank(a.state)
                .cmp(&state_rank(b.state))
                .then(a.severity.as_str().cmp(b.severity.as_str()))
                .then(a.active_since_unix_ms.cmp(&b.active_since_unix_ms))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        Ok(alerts)
    }

    /// State changes, newest first (of one alert, or all).
    pub async fn history(self, fingerprint: Option<&str>, limit: i64) -> Result<Vec<Transition>, DeckError> {
        Ok(alert_store::transitions(&self.deck.store, fingerprint, limit).await?)
    }

    /// Silences alerts matching `selector` (alert labels, PromQL syntax)
    /// for `minutes`, for `reason`. Audited.
    pub async fn silence(
        self,
        caller: &Caller,
        selector: &str,
        minutes: f64,
        reason: &str,
    ) -> Result<Silence, DeckError> {
        opsdeck_metrics::parse_selector(selector).map_err(|error| {
            MetricsError::Invalid(format!(
                "{error}; a silence names alert labels, like {{alertname=\"HighErrorRate\", service=\"shop\"}}"
            ))
        })?;
        if !(minutes > 0.0 && minutes <= 90.0 * 24.0 * 60.0) {
            return Err(MetricsError::Invalid(format!(
                "a silence of {minutes} minutes is not between a minute and 90 days"
            ))
            .into());
        }
        if reason.trim().is_empty() {
            return Err(MetricsError::Invalid(
                "say why the alerts are silenced (--reason): it is the first thing the next person asks"
                    .into(),
            )
            .into());
        }
        let mut random = [0_u8; 8];
        getrandom::fill(&mut random).map_err(|error| opsdeck_core::CoreError::Random(error.to_string()))?;
        let now = opsdeck_core::clock::now_unix_ms();
        let silence = Silence {
            id: format!("sil_{}", hex::encode(random)),
            selector: selector.trim().to_owned(),
            reason: reason.trim().to_owned(),
            created_by: caller.actor.clone(),
            created_at_unix_ms: now,
            ends_at_unix_ms: now + (minutes * 60_000.0).round() as i64,
            expired_at_unix_ms: None,
        };
        let audit =
            self.deck.audit.scope(caller, "alert.silence", &silence.id, serde_json::json!({})).await?;
        alert_store::add_silence(&self.deck.store, &silence, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(silence)
    }

    /// Every silence, newest first.
    pub async fn silences(self) -> Result<Vec<Silence>, DeckError> {
        Ok(alert_store::silences(&self.deck.store).await?)
    }

    /// Ends a silence now. Audited.
    pub async fn expire_silence(self, caller: &Caller, id: &str) -> Result<Silence, DeckError> {
        let audit = self.deck.audit.scope(caller, "alert.silence_expire", id, serde_json::json!({})).await?;
        let silence = alert_store::expire_silence(&self.deck.store, id, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(silence)
    }

    /// Acknowledges a firing alert: no repeat notifications while it fires.
    /// Audited.
    pub async fn acknowledge(self, caller: &Caller, fingerprint: &str) -> Result<Alert, DeckError> {
        let audit =
            self.deck.audit.scope(caller, "alert.acknowledge", fingerprint, serde_json::json!({})).await?;
        let alert = alert_store::acknowledge(&self.deck.store, fingerprint, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(alert)
    }

    /// Makes (or updates) the group's evaluation job; a changed group is
    /// evaluated at once.
    async fn schedule(self, group: &AlertGroup) -> Result<(), DeckError> {
        let job = job_name(&group.name);
        Scheduler::upsert_job(
            &self.deck.store,
            &JobSpec {
                name: job.clone(),
                kind: EVALUATE_JOB_KIND.to_owned(),
                schedule: Schedule::Every(std::time::Duration::from_millis(
                    group.interval_ms().max(1000) as u64
                )),
                payload: serde_json::json!({ "group": group.name }),
            },
        )
        .await?;
        Scheduler::schedule_at(&self.deck.store, &job, opsdeck_core::clock::now_unix_ms()).await?;
        Ok(())
    }
}

fn state_rank(state: AlertState) -> u8 {
    match state {
        AlertState::Firing => 0,
        AlertState::Pending => 1,
        AlertState::Resolved => 2,
        AlertState::Inactive => 3,
    }
}

/// Fills each alert's `silenced_by` (an active silence covering it) and
/// `inhibited_by` (a firing P1 about the same service, for P3/P4 alerts).
pub(crate) fn held_back(alerts: &mut [Alert], silences: &[Silence], now: i64) {
    let firing_p1: Vec<(String, String)> = alerts
        .iter()
        .filter(|alert| alert.state == AlertState::Firing && alert.severity == Severity::P1)
        .filter_map(|alert| Some((alert.service()?.to_owned(), alert.rule.clone())))
        .collect();
    for alert in alerts.iter_mut() {
        alert.silenced_by = silences
            .iter()
            .find(|silence| silence.active_at(now) && silence.covers(&alert.labels))
            .map(|silence| silence.id.clone());
        alert.inhibited_by = match (alert.severity, alert.service()) {
            (Severity::P3 | Severity::P4, Some(service)) => firing_p1
                .iter()
                .find(|(p1_service, _)| p1_service == service)
                .map(|(_, rule)| format!("{rule} (P1) on {service}")),
            _ => None,
        };
    }
}
