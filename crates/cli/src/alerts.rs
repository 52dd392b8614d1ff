//! `opsdeck alerts`: rules (add, import, list, rm), the alerts themselves
//! (list, history, ack) and silences.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::catalogue::alerts::{
    AlertAcknowledge, AlertHistory, AlertId, AlertList, AlertState, HistoryInput, RuleFileInput, RuleInput,
    RuleList, RuleName, RuleRemove, RuleSet, RulesImport, Severity, SilenceAdd, SilenceExpire, SilenceId,
    SilenceInput, SilenceList,
};
use opsdeck::catalogue::Nothing;
use opsdeck::{Deck, DeckError};
use opsdeck_metrics::series_text;

use crate::{input_error, operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum AlertsCommand {
    /// Alerts now: firing first, then pending, then recently resolved.
    List,
    /// State changes, newest first.
    History {
        /// Only this alert's (its fingerprint, from `alerts list`).
        #[arg(long)]
        alert: Option<String>,
        /// The most.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Acknowledges a firing alert: no repeat notifications while it fires.
    Ack {
        /// The alert's fingerprint (from `alerts list`).
        fingerprint: String,
    },
    /// Alerting rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Silences alerts matching a label selector for a while
    /// (`opsdeck alerts silence '{service="shop"}' --for 2h --reason "deploying"`).
    Silence {
        /// Alert labels, PromQL style: `{alertname="HighErrorRate", service="shop"}`.
        selector: String,
        /// How long: 30m, 2h, 1d.
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
        /// Why (required; shown to everyone who sees the silenced alerts).
        #[arg(long)]
        reason: String,
    },
    /// The silences, newest first.
    Silences,
    /// Ends a silence now.
    Unsilence {
        /// The silence's id (`sil_…`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Adds or changes a rule
    /// (`opsdeck alerts rules add shop HighErrorRate 'rate(errors_total[5m]) > 1' --for 5m --severity P2`).
    #[command(alias = "set")]
    Add {
        /// Its group (made if new; each group is evaluated on its interval).
        group: String,
        /// The alert's name.
        name: String,
        /// The PromQL expression; each series it returns is an alert.
        expr: String,
        /// How long it must keep returning a series before it fires: 30s, 5m.
        #[arg(long = "for", value_name = "DURATION")]
        for_duration: Option<String>,
        /// P1 (page now) … P4 (informational).
        #[arg(long, value_parser = crate::words::one_of::<Severity>(Severity::WORDS))]
        severity: Severity,
        /// A label for its alerts (repeat: --label team=web).
        #[arg(long = "label", value_name = "NAME=VALUE")]
        labels: Vec<String>,
        /// The summary, templated: "{{ $labels.service }} fails {{ $value | humanizePercentage }}".
        #[arg(long)]
        summary: Option<String>,
        /// Another annotation (repeat: --annotation runbook_url=https://…).
        #[arg(long = "annotation", value_name = "NAME=VALUE")]
        annotations: Vec<String>,
        /// How often the group is evaluated: 15s, 1m (changes the group).
        #[arg(long, value_name = "DURATION")]
        every: Option<String>,
        /// How long before a still-firing alert is notified again: 4h (changes the group).
        #[arg(long, value_name = "DURATION")]
        repeat: Option<String>,
    },
    /// Imports a Prometheus rule file (each group replaces the group of its name).
    Import {
        /// The YAML file (`-` reads standard input).
        file: std::path::PathBuf,
    },
    /// The rule groups and their rules, with their health.
    List,
    /// Removes a rule and its alerts.
    Rm {
        /// Its group.
        group: String,
        /// Its name.
        name: String,
    },
}

fn pairs(flag: &str, values: Vec<String>) -> Result<BTreeMap<String, String>, DeckError> {
    let mut map = BTreeMap::new();
    for value in values {
        let Some((name, text)) = value.split_once('=') else {
            return Err(input_error(format!("`--{flag} {value}` is not NAME=VALUE")));
        };
        map.insert(name.trim().to_owned(), text.to_owned());
    }
    Ok(map)
}

fn seconds(flag: &str, text: &str) -> Result<f64, DeckError> {
    opsdeck_metrics::alerts::duration_seconds(text).map_err(|error| input_error(format!("--{flag}: {error}")))
}

pub(crate) async fn run(deck: &Deck, command: AlertsCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        AlertsCommand::List => {
            let alerts = operation::<AlertList>(deck, Nothing {}).await?;
            output.print(&alerts, |alerts| {
                if alerts.is_empty() {
                    return "No alerts. Rules are evaluated by the app and `opsdeck serve`; \
                            `opsdeck alerts rules list` shows them.\n"
                        .to_owned();
                }
                crate::table::table(
                    ["SEVERITY", "STATE", "ALERT", "VALUE", "SINCE", "SUMMARY", "FINGERPRINT"],
                    alerts.iter().map(|alert| {
                        let mut labels = alert.labels.clone();
                        labels.remove("severity");
                        let mut state = alert.state.to_string();
                        if let Some(silence) = &alert.silenced_by {
                            let _ = write!(state, " (silenced by {silence})");
                        } else if let Some(by) = &alert.inhibited_by {
                            let _ = write!(state, " (inhibited by {by})");
                        } else if let Some(by) = &alert.acknowledged_by {
                            let _ = write!(state, " (acknowledged by {by})");
                        }
                        let since = match alert.state {
                            AlertState::Firing => {
                                alert.fired_at_unix_ms.unwrap_or(alert.active_since_unix_ms)
                            }
                            AlertState::Resolved => {
                                alert.resolved_at_unix_ms.unwrap_or(alert.evaluated_at_unix_ms)
                            }
                            _ => alert.active_since_unix_ms,
                        };
                        [
                            alert.severity.to_string(),
                            state,
                            series_text(&labels),
                            opsdeck_metrics::promql::format_value(alert.value),
                            crate::time::second(since),
                            alert.annotations.get("summary").cloned().unwrap_or_default(),
                            alert.fingerprint.clone(),
                        ]
                    }),
                )
            });
            // Exit 1 while anything fires, so scripts can gate on it.
            if alerts.iter().any(|alert| alert.state == AlertState::Firing) {
                return Ok(ExitCode::from(1));
            }
        }
        AlertsCommand::History { alert, limit } => {
            let input = HistoryInput { fingerprint: alert, limit: Some(limit) };
            let transitions = operation::<AlertHistory>(deck, input).await?;
            output.print(&transitions, |transitions| {
                if transitions.is_empty() {
                    return "No alert has changed state yet.\n".to_owned();
                }
                crate::table::table(
                    ["AT", "SEVERITY", "ALERT", "CHANGE", "VALUE"],
                    transitions.iter().map(|transition| {
                        let mut labels = transition.labels.clone();
                        labels.remove("severity");
                        [
                            crate::time::second(transition.at_unix_ms),
                            transition.severity.to_string(),
                            series_text(&labels),
                            format!("{} → {}", transition.from, transition.to),
                            opsdeck_metrics::promql::format_value(transition.value),
                        ]
                    }),
                )
            });
        }
        AlertsCommand::Ack { fingerprint } => {
            let alert = operation::<AlertAcknowledge>(deck, AlertId { fingerprint }).await?;
            output.print(&alert, |alert| {
                format!(
                    "acknowledged {}: no repeat notifications while it fires\n",
                    series_text(&alert.labels)
                )
            });
        }
        AlertsCommand::Rules { command } => return rules(deck, command, output).await,
        AlertsCommand::Silence { selector, duration, reason } => {
            let minutes = seconds("for", &duration)? / 60.0;
            let silence = operation::<SilenceAdd>(deck, SilenceInput { selector, minutes, reason }).await?;
            output.print(&silence, |silence| {
                format!(
                    "{} silences {} until {}\n",
                    silence.id,
                    silence.selector,
                    crate::time::second(silence.ends_at_unix_ms)
                )
            });
        }
        AlertsCommand::Silences => {
            let silences = operation::<SilenceList>(deck, Nothing {}).await?;
            let now = opsdeck_core::clock::now_unix_ms();
            output.print(&silences, |silences| {
                if silences.is_empty() {
                    return "No silences.\n".to_owned();
                }
                crate::table::table(
                    ["ID", "SELECTOR", "UNTIL", "BY", "REASON", "ACTIVE"],
                    silences.iter().map(|silence| {
                        [
                            silence.id.clone(),
                            silence.selector.clone(),
                            crate::time::second(
                                silence.expired_at_unix_ms.unwrap_or(silence.ends_at_unix_ms),
                            ),
                            silence.created_by.clone(),
                            silence.reason.clone(),
                            if silence.active_at(now) { "yes" } else { "ended" }.to_owned(),
                        ]
                    }),
                )
            });
        }
        AlertsCommand::Unsilence { id } => {
            let silence = operation::<SilenceExpire>(deck, SilenceId { id }).await?;
            output.print(&silence, |silence| format!("ended {}\n", silence.id));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rules(deck: &Deck, command: RulesCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        RulesCommand::Add {
            group,
            name,
            expr,
            for_duration,
            severity,
            labels,
            summary,
            annotations,
            every,
            repeat,
        } => {
            let mut annotations = pairs("annotation", annotations)?;
            if let Some(summary) = summary {
                annotations.insert("summary".to_owned(), summary);
            }
            let input = RuleInput {
                group,
                name,
                expr,
                for_seconds: for_duration.as_deref().map(|text| seconds("for", text)).transpose()?,
                severity,
                labels: pairs("label", labels)?,
                annotations,
                group_interval_seconds: every.as_deref().map(|text| seconds("every", text)).transpose()?,
                repeat_interval_seconds: repeat.as_deref().map(|text| seconds("repeat", text)).transpose()?,
            };
            let group = operation::<RuleSet>(deck, input).await?;
            output.print(&group, |group| {
                format!(
                    "group {} has {} rule(s), evaluated every {} s by the app and `opsdeck serve`\n",
                    group.group.name,
                    group.rules.len(),
                    group.group.interval_seconds
                )
            });
        }
        RulesCommand::Import { file } => {
            let text = crate::read_file_or_stdin(&file)?;
            let report = operation::<RulesImport>(deck, RuleFileInput { text }).await?;
            output.print(&report, |report| {
                let mut text = format!(
                    "imported {} rule(s) in {} group(s): {}\n",
                    report.rules.len(),
                    report.groups.len(),
                    report.rules.join(", ")
                );
                for note in &report.notes {
                    let _ = writeln!(text, "note: {note}");
                }
                text
            });
        }
        RulesCommand::List => {
            let groups = operation::<RuleList>(deck, Nothing {}).await?;
            output.print(&groups, |groups| {
                if groups.is_empty() {
                    return "No alerting rules. Add one: opsdeck alerts rules add GROUP NAME 'EXPR' --severity P2, \
                            or import a Prometheus rule file: opsdeck alerts rules import rules.yml\n"
                        .to_owned();
                }
                crate::table::table(
                    ["GROUP", "RULE", "SEVERITY", "FOR", "EXPR", "HEALTH"],
                    groups.iter().flat_map(|group| {
                        group.rules.iter().map(|status| {
                            let health = if status.health == "error" {
                                format!("error: {}", status.last_error)
                            } else {
                                status.health.clone()
                            };
                            [
                                format!("{} (every {} s)", group.group.name, group.group.interval_seconds),
                                status.rule.name.clone(),
                                status.rule.severity.to_string(),
                                format!("{} s", status.rule.for_seconds),
                                status.rule.expr.clone(),
                                health,
                            ]
                        })
                    }),
                )
            });
        }
        RulesCommand::Rm { group, name } => {
            operation::<RuleRemove>(deck, RuleName { group: group.clone(), name: name.clone() }).await?;
            output.print(&serde_json::json!({ "removed": format!("{group}/{name}") }), |_| {
                format!("removed rule {group}/{name}\n")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
