//! Alert groups, rules, alerts, transitions and silences in the deck's
//! store. Each change a person makes writes its audit entry in the same
//! transaction ([`AuditScope`]).

use opsdeck_core::audit::AuditScope;
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{Store, WriteTransaction};
use schemars::JsonSchema;
use serde::Serialize;
use sqlx::Row;
use ts_rs::TS;

use super::import::{RuleFile, RuleImportReport};
use super::state::Step;
use super::{Alert, AlertGroup, AlertRule, AlertState, Silence, Transition};
use crate::store::MetricsError;

/// A rule as stored, with how its last evaluation went.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct RuleStatus {
    /// The rule.
    pub rule: AlertRule,
    /// `ok`, `error` (see `last_error`), or `unknown` before its first
    /// evaluation.
    pub health: String,
    /// Why its last evaluation failed.
    pub last_error: String,
    /// When it was last evaluated, Unix ms.
    #[ts(type = "number | null")]
    pub evaluated_at_unix_ms: Option<i64>,
    /// Who last set it.
    pub updated_by: String,
    /// When, Unix ms.
    #[ts(type = "number")]
    pub updated_at_unix_ms: i64,
}

/// A group and its rules, in order.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct GroupRules {
    /// The group.
    pub group: AlertGroup,
    /// Its rules.
    pub rules: Vec<RuleStatus>,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, MetricsError> {
    serde_json::to_string(value).map_err(|error| MetricsError::Invalid(error.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, MetricsError> {
    serde_json::from_str(text).map_err(|error| {
        MetricsError::Invalid(format!("a stored {what} is unreadable ({error}); set it again"))
    })
}

async fn write_group(
    transaction: &mut WriteTransaction,
    group: &AlertGroup,
    now: i64,
) -> Result<(), MetricsError> {
    sqlx::query("DELETE FROM alert_groups WHERE name = $1")
        .bind(&group.name)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("INSERT INTO alert_groups (name, definition, updated_at_unix_ms) VALUES ($1, $2, $3)")
        .bind(&group.name)
        .bind(to_json(group)?)
        .bind(now)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

async fn read_group(
    transaction: &mut WriteTransaction,
    name: &str,
) -> Result<Option<AlertGroup>, MetricsError> {
    let found: Option<String> = sqlx::query_scalar("SELECT definition FROM alert_groups WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
    found.map(|text| from_json("alert group", &text)).transpose()
}

async fn write_rule(
    transaction: &mut WriteTransaction,
    rule: &AlertRule,
    by: &str,
    now: i64,
) -> Result<(), MetricsError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM alert_rules WHERE group_name = $1 AND name = $2")
            .bind(&rule.group)
            .bind(&rule.name)
            .fetch_optional(&mut **transaction)
            .await?;
    let position = match position {
        Some(position) => position,
        None => {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(position) FROM alert_rules WHERE group_name = $1")
                    .bind(&rule.group)
                    .fetch_one(&mut **transaction)
                    .await?;
            last.map_or(0, |last| last + 1)
        }
    };
    sqlx::query("DELETE FROM alert_rules WHERE group_name = $1 AND name = $2")
        .bind(&rule.group)
        .bind(&rule.name)
        .execute(&mut **transaction)
        .await?;
    sqlx::query(
        "INSERT INTO alert_rules (group_name, name, position, definition, updated_at_unix_ms, updated_by, health, \
         last_error) VALUES ($1, $2, $3, $4, $5, $6, 'unknown', '')",
    )
    .bind(&rule.group)
    .bind(&rule.name)
    .bind(position)
    .bind(to_json(rule)?)
    .bind(now)
    .bind(by)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn delete_rule_alerts(
    transaction: &mut WriteTransaction,
    group: &str,
    rule: &str,
) -> Result<(), MetricsError> {
    sqlx::query("DELETE FROM alert_instances WHERE group_name = $1 AND rule_name = $2")
        .bind(group)
        .bind(rule)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Adds or changes a rule (its group is made, with default intervals, if
/// new; `group` given changes the group's intervals too).
pub async fn set_rule(
    store: &Store,
    group: Option<&AlertGroup>,
    rule: &AlertRule,
    audit: &AuditScope<'_>,
) -> Result<AlertGroup, MetricsError> {
    rule.check().map_err(MetricsError::Invalid)?;
    if let Some(group) = group {
        group.check().map_err(MetricsError::Invalid)?;
        if group.name != rule.group {
            return Err(MetricsError::Invalid(format!(
                "the rule is in group `{}` and the intervals given are for `{}`",
                rule.group, group.name
            )));
        }
    }
    let now = now_unix_ms();
    let mut transaction = store.begin_write().await?;
    let stored = read_group(&mut transaction, &rule.group).await?;
    let kept = match (group, stored) {
        (Some(group), _) => group.clone(),
        (None, Some(stored)) => stored,
        (None, None) => AlertGroup::named(&rule.group),
    };
    write_group(&mut transaction, &kept, now).await?;
    write_rule(&mut transaction, rule, audit.actor(), now).await?;
    audit
        .append(&mut transaction, serde_json::json!({ "expr": rule.expr, "severity": rule.severity }))
        .await?;
    transaction.commit().await?;
    Ok(kept)
}

/// Removes a rule and its alerts; a group left with no rules goes too.
/// Returns whether the group went.
pub async fn remove_rule(
    store: &Store,
    group: &str,
    name: &str,
    audit: &AuditScope<'_>,
) -> Result<bool, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM alert_rules WHERE group_name = $1 AND name = $2")
        .bind(group)
        .bind(name)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(MetricsError::Invalid(format!(
            "there is no rule `{name}` in group `{group}`; `opsdeck alerts rules list` shows them"
        )));
    }
    delete_rule_alerts(&mut transaction, group, name).await?;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_rules WHERE group_name = $1")
        .bind(group)
        .fetch_one(&mut *transaction)
        .await?;
    if left == 0 {
        sqlx::query("DELETE FROM alert_groups WHERE name = $1")
            .bind(group)
            .execute(&mut *transaction)
            .await?;
    }
    audit.append(&mut transaction, serde_json::json!({})).await?;
    transaction.commit().await?;
    Ok(left == 0)
}

/// Writes a rule file's groups, each replacing the group of its name
/// whole (rules no longer in it go, with their alerts), in one transaction.
pub async fn import(
    store: &Store,
    file: &RuleFile,
    audit: &AuditScope<'_>,
) -> Result<RuleImportReport, MetricsError> {
    let now = now_unix_ms();
    let mut report = RuleImportReport { notes: file.notes.clone(), ..RuleImportReport::default() };
    let mut transaction = store.begin_write().await?;
    for (group, rules) in &file.groups {
        let before: Vec<String> = sqlx::query_scalar("SELECT name FROM alert_rules WHERE group_name = $1")
            .bind(&group.name)
            .fetch_all(&mut *transaction)
            .await?;
        for gone in before.iter().filter(|name| !rules.iter().any(|rule| &&rule.name == name)) {
            sqlx::query("DELETE FROM alert_rules WHERE group_name = $1 AND name = $2")
                .bind(&group.name)
                .bind(gone)
                .execute(&mut *transaction)
                .await?;
            delete_rule_alerts(&mut transaction, &group.name, gone).await?;
            report
                .notes
                .push(format!("group `{}`: rule `{gone}` was not in the file and was removed", group.name));
        }
        write_group(&mut transaction, group, now).await?;
        for (position, rule) in rules.iter().enumerate() {
            write_rule(&mut transaction, rule, audit.actor(), now).await?;
            sqlx::query("UPDATE alert_rules SET position = $1 WHERE group_name = $2 AND name = $3")
                .bind(position as i64)
                .bind(&group.name)
                .bind(&rule.name)
                .execute(&mut *transaction)
                .await?;
            report.rules.push(format!("{}/{} ({})", group.name, rule.name, rule.severity));
        }
        report.groups.push(group.name.clone());
    }
    audit
        .append(&mut transaction, serde_json::json!({ "groups": report.groups, "rules": report.rules.len() }))
        .await?;
    transaction.commit().await?;
    Ok(report)
}

/// Every group with its rules, in order.
pub async fn groups(store: &Store) -> Result<Vec<GroupRules>, MetricsError> {
    groups_named(store, None).await
}

/// One group and its rules (read alone: each evaluation asks for its own).
pub async fn group(store: &Store, name: &str) -> Result<Option<GroupRules>, MetricsError> {
    Ok(groups_named(store, Some(name)).await?.into_iter().next())
}

/// The groups (all, or the one named) with their rules, in order.
async fn groups_named(store: &Store, only: Option<&str>) -> Result<Vec<GroupRules>, MetricsError> {
    let only = only.unwrap_or("");
    let group_rows =
        sqlx::query("SELECT definition FROM alert_groups WHERE ($1 = '' OR name = $1) ORDER BY name")
            .bind(only)
            .fetch_all(store.pool())
            .await?;
    let rule_rows = sqlx::query(
        "SELECT group_name, definition, health, last_error, evaluated_at_unix_ms, updated_by, updated_at_unix_ms \
         FROM alert_rules WHERE ($1 = '' OR group_name = $1) ORDER BY group_name, position",
    )
    .bind(only)
    .fetch_all(store.pool())
    .await?;
    let mut groups = Vec::new();
    for row in group_rows {
        let group: AlertGroup = from_json("alert group", &row.try_get::<String, _>(0)?)?;
        groups.push(GroupRules { group, rules: Vec::new() });
    }
    for row in rule_rows {
        let group_name: String = row.try_get(0)?;
        let status = RuleStatus {
            rule: from_json("alert rule", &row.try_get::<String, _>(1)?)?,
            health: row.try_get(2)?,
            last_error: row.try_get(3)?,
            evaluated_at_unix_ms: row.try_get(4)?,
            updated_by: row.try_get(5)?,
            updated_at_unix_ms: row.try_get(6)?,
        };
        if let Some(group) = groups.iter_mut().find(|group| group.group.name == group_name) {
            group.rules.push(status);
        }
    }
    Ok(groups)
}

/// Every alert (pending, firing, recently resolved), optionally of one group.
pub async fn alerts(store: &Store, group: Option<&str>) -> Result<Vec<Alert>, MetricsError> {
    let rows: Vec<String> = match group {
        Some(group) => {
            sqlx::query_scalar("SELECT alert FROM alert_instances WHERE group_name = $1")
                .bind(group)
                .fetch_all(store.pool())
                .await?
        }
        None => sqlx::query_scalar("SELECT alert FROM alert_instances").fetch_all(store.pool()).await?,
    };
    rows.iter().map(|text| from_json("alert", text)).collect()
}

/// Records one evaluation of a rule inside `transaction`: its health, and
/// (when it evaluated) its alerts and transitions.
pub async fn save_evaluation(
    transaction: &mut WriteTransaction,
    rule: &AlertRule,
    outcome: Result<&Step, &str>,
    now: i64,
) -> Result<(), MetricsError> {
    let (health, error) = match outcome {
        Ok(_) => ("ok", ""),
        Err(error) => ("error", error),
    };
    sqlx::query(
        "UPDATE alert_rules SET health = $1, last_error = $2, evaluated_at_unix_ms = $3 \
         WHERE group_name = $4 AND name = $5",
    )
    .bind(health)
    .bind(error)
    .bind(now)
    .bind(&rule.group)
    .bind(&rule.name)
    .execute(&mut **transaction)
    .await?;
    let Ok(step) = outcome else { return Ok(()) };
    delete_rule_alerts(transaction, &rule.group, &rule.name).await?;
    for alert in &step.alerts {
        write_alert(transaction, alert).await?;
    }
    for transition in &step.transitions {
        sqlx::query(
            "INSERT INTO alert_transitions (fingerprint, group_name, rule_name, transition, at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&transition.fingerprint)
        .bind(&transition.group)
        .bind(&transition.rule)
        .bind(to_json(transition)?)
        .bind(transition.at_unix_ms)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// Writes (or rewrites) one alert inside `transaction`.
pub async fn write_alert(transaction: &mut WriteTransaction, alert: &Alert) -> Result<(), MetricsError> {
    let mut kept = alert.clone();
    // Worked out when read, never stored.
    kept.silenced_by = None;
    kept.inhibited_by = None;
    sqlx::query("DELETE FROM alert_instances WHERE fingerprint = $1")
        .bind(&alert.fingerprint)
        .execute(&mut **transaction)
        .await?;
    sqlx::query(
        "INSERT INTO alert_instances (fingerprint, group_name, rule_name, state, alert) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&alert.fingerprint)
    .bind(&alert.group)
    .bind(&alert.rule)
    .bind(alert.state.as_str())
    .bind(to_json(&kept)?)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// State changes, newest first: of one alert, or all.
pub async fn transitions(
    store: &Store,
    fingerprint: Option<&str>,
    limit: i64,
) -> Result<Vec<Transition>, MetricsError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT transition FROM alert_transitions WHERE ($1 = '' OR fingerprint = $1) \
         ORDER BY at_unix_ms DESC, id DESC LIMIT $2",
    )
    .bind(fingerprint.unwrap_or(""))
    .bind(limit.clamp(1, 10_000))
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|text| from_json("alert transition", text)).collect()
}

/// Drops transitions older than `before` (retention); returns how many.
pub async fn prune_transitions(store: &Store, before: i64) -> Result<u64, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM alert_transitions WHERE at_unix_ms < $1")
        .bind(before)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM alert_silences WHERE ends_at_unix_ms < $1")
        .bind(before)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(removed)
}

/// Stores a new silence.
pub async fn add_silence(
    store: &Store,
    silence: &Silence,
    audit: &AuditScope<'_>,
) -> Result<(), MetricsError> {
    let mut transaction = store.begin_write().await?;
    sqlx::query("INSERT INTO alert_silences (id, silence, ends_at_unix_ms) VALUES ($1, $2, $3)")
        .bind(&silence.id)
        .bind(to_json(silence)?)
        .bind(silence.ends_at_unix_ms)
        .execute(&mut *transaction)
        .await?;
    audit
        .append(
            &mut transaction,
            serde_json::json!({ "selector": silence.selector, "reason": silence.reason, "ends_at_unix_ms": silence.ends_at_unix_ms }),
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// Every silence, newest first (ended ones too, until retention drops them).
pub async fn silences(store: &Store) -> Result<Vec<Silence>, MetricsError> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT silence FROM alert_silences").fetch_all(store.pool()).await?;
    let mut silences: Vec<Silence> =
        rows.iter().map(|text| from_json("silence", text)).collect::<Result<_, _>>()?;
    silences.sort_by_key(|silence| std::cmp::Reverse(silence.created_at_unix_ms));
    Ok(silences)
}

/// Ends a silence now.
pub async fn expire_silence(
    store: &Store,
    id: &str,
    audit: &AuditScope<'_>,
) -> Result<Silence, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let found: Option<String> = sqlx::query_scalar("SELECT silence FROM alert_silences WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *transaction)
        .await?;
    let mut silence: Silence = match found {
        Some(text) => from_json("silence", &text)?,
        None => {
            return Err(MetricsError::Invalid(format!(
                "there is no silence `{id}`; `opsdeck alerts silences` lists them"
            )))
        }
    };
    let now = now_unix_ms();
    if !silence.active_at(now) {
        return Err(MetricsError::Invalid(format!("silence `{id}` has already ended")));
    }
    silence.expired_at_unix_ms = Some(now);
    sqlx::query("UPDATE alert_silences SET silence = $1 WHERE id = $2")
        .bind(to_json(&silence)?)
        .bind(id)
        .execute(&mut *transaction)
        .await?;
    audit.append(&mut transaction, serde_json::json!({ "selector": silence.selector })).await?;
    transaction.commit().await?;
    Ok(silence)
}

/// Marks a firing alert acknowledged by the audit scope's actor: no repeat
/// notifications while it keeps firing.
pub async fn acknowledge(
    store: &Store,
    fingerprint: &str,
    audit: &AuditScope<'_>,
) -> Result<Alert, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let found: Option<String> =
        sqlx::query_scalar("SELECT alert FROM alert_instances WHERE fingerprint = $1")
            .bind(fingerprint)
            .fetch_optional(&mut *transaction)
            .await?;
    let mut alert: Alert = match found {
        Some(text) => from_json("alert", &text)?,
        None => {
            return Err(MetricsError::Invalid(format!(
                "there is no alert `{fingerprint}` (it may have resolved); `opsdeck alerts list` shows them"
            )))
        }
    };
    if alert.state != AlertState::Firing {
        return Err(MetricsError::Invalid(format!(
            "alert `{fingerprint}` is {}, not firing; only a firing alert is acknowledged",
            alert.state
        )));
    }
    alert.acknowledged_by = Some(audit.actor().to_owned());
    alert.acknowledged_at_unix_ms = Some(now_unix_ms());
    write_alert(&mut transaction, &alert).await?;
    audit.append(&mut transaction, serde_json::json!({ "rule": alert.rule })).await?;
    transaction.commit().await?;
    Ok(alert)
}

/// A rule's alerts, read inside the evaluation's own transaction (so an
/// acknowledgement made meanwhile is not written over).
pub async fn rule_alerts(
    transaction: &mut WriteTransaction,
    group: &str,
    rule: &str,
) -> Result<Vec<Alert>, MetricsError> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT alert FROM alert_instances WHERE group_name = $1 AND rule_name = $2")
            .bind(group)
            .bind(rule)
            .fetch_all(&mut **transaction)
            .await?;
    rows.iter().map(|text| from_json("alert", text)).collect()
}
