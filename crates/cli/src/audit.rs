//! `opsdeck audit log`, `verify`, `checkpoint` and `reanchor`.

use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{AuditFilter, Deck, DeckError};

use opsdeck::catalogue::audit::{AuditLog, AuditVerify};
use opsdeck::catalogue::Nothing;

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Show recorded actions, newest first.
    Log {
        /// How many entries to show (at most 1000).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only entries whose actor contains this text.
        #[arg(long)]
        actor: Option<String>,
        /// Only entries whose action starts with this text (e.g. `secret.`).
        #[arg(long)]
        action: Option<String>,
        /// Only entries whose target contains this text.
        #[arg(long)]
        target: Option<String>,
    },
    /// Check that no entry was edited, deleted, inserted or reordered (exit 1 if one was).
    Verify {
        /// Also check the trail still holds the entry a checkpoint kept
        /// elsewhere vouches for: a file with the JSON of `audit checkpoint`,
        /// or the body of an `audit.checkpoint` webhook delivery.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Print a checkpoint of the trail (JSON) to keep away from this machine,
    /// or send it to a webhook target, now or on a schedule.
    Checkpoint {
        /// Send it to this notification target (event `audit.checkpoint`).
        #[arg(long, value_name = "TARGET")]
        send: Option<String>,
        /// With --send: send one every interval from `opsdeck serve` or the app
        /// (a number with s, m, h or d, at least 1m; e.g. 1d).
        #[arg(long, requires = "send", value_parser = super::jobs::parse_interval)]
        every: Option<std::time::Duration>,
    },
    /// After restoring an older copy of the store in place on purpose: accept
    /// its trail as it is now on this machine (recorded in the trail).
    Reanchor,
}

pub(crate) async fn run(deck: &Deck, command: AuditCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        AuditCommand::Log { limit, actor, action, target } => {
            let filter = AuditFilter { actor, action, target, limit: Some(limit), ..AuditFilter::default() };
            let entries = operation::<AuditLog>(deck, filter).await?;
            output.print(&entries, |entries| {
                if entries.is_empty() {
                    return "No audit entries yet.\n".to_owned();
                }
                crate::table::table(
                    ["SEQ", "AT", "ACTOR", "ACTION", "OUTCOME", "TARGET"],
                    entries.iter().map(|entry| {
                        [
                            entry.seq.to_string(),
                            crate::time::second(entry.at_unix_ms),
                            entry.actor.clone(),
                            entry.action.clone(),
                            entry.outcome.to_string(),
                            entry.target.clone(),
                        ]
                    }),
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { checkpoint } => {
            let caller = super::cli_caller()?;
            let report = match checkpoint {
                None => operation::<AuditVerify>(deck, Nothing {}).await?,
                Some(path) => deck.audit_trail().verify_against(&caller, &read_checkpoint(&path)?).await?,
            };
            output.print(&report, |report| match (&report.first_bad, &report.problem) {
                (None, _) => format!("ok: {} entries, chain intact\n", report.entries),
                (Some(seq), problem) => format!(
                    "FAILED at entry {seq}: {}\n({} entries before it check out)\n",
                    problem.as_deref().unwrap_or("the chain does not verify"),
                    report.entries
                ),
            });
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        AuditCommand::Checkpoint { send: None, .. } => {
            let checkpoint = deck.audit_trail().checkpoint().await?;
            // Always JSON: it is meant to be kept as it is and read back by `audit verify --checkpoint`.
            println!("{}", serde_json::json!(checkpoint));
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { send: Some(target), every: Some(every) } => {
            let job = deck.audit_trail().checkpoint_schedule(&super::cli_caller()?, &target, every).await?;
            output.print(&serde_json::json!({ "job": job, "target": target, "every_secs": every.as_secs() }), |_| {
                format!(
                    "ok: job `{job}` sends a checkpoint to `{target}` every {} s while `opsdeck serve` or the app runs\n",
                    every.as_secs()
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { send: Some(target), every: None } => {
            let (checkpoint, status) =
                deck.audit_trail().checkpoint_send(&super::cli_caller()?, &target).await?;
            let delivered = status == opsdeck::DeliveryStatus::Delivered;
            output.print(&serde_json::json!({ "checkpoint": checkpoint, "delivery": status }), |_| {
                if delivered {
                    format!("ok: checkpoint at entry {} delivered to `{target}`\n", checkpoint.seq)
                } else {
                    format!(
                        "not delivered: checkpoint at entry {} to `{target}` is {status}; `opsdeck notify deliveries` says why\n",
                        checkpoint.seq
                    )
                }
            });
            Ok(if delivered { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        AuditCommand::Reanchor => {
            let entry = deck.audit_trail().reanchor(&super::cli_caller()?).await?;
            output.print(&entry, |entry| {
                format!("ok: this machine now checks the trail from entry {} on\n", entry.seq)
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A checkpoint from a file: the JSON `audit checkpoint` printed, or a
/// webhook delivery's body (the checkpoint is its `data`).
fn read_checkpoint(path: &std::path::Path) -> Result<opsdeck::Checkpoint, DeckError> {
    let refuse = |why: String| super::input_error(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|error| refuse(format!("cannot be read ({error})")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        refuse(format!("is not JSON ({error}); give the output of `opsdeck audit checkpoint`"))
    })?;
    let value = if value.get("event").and_then(|event| event.as_str()) == Some("audit.checkpoint") {
        value["data"].clone()
    } else {
        value
    };
    serde_json::from_value(value).map_err(|error| {
        refuse(format!(
            "is not a checkpoint ({error}); give the output of `opsdeck audit checkpoint` or an `audit.checkpoint` delivery's body"
        ))
    })
}
