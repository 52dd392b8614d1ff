//! `opsdeck notify …`: signed webhook targets and deliveries.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{Deck, DeckError};
use zeroize::Zeroizing;

use opsdeck::catalogue::notify::{DeliveriesInput, NotifyDeliveries, NotifyTargets, NotifyTest, OneTarget};
use opsdeck::catalogue::Nothing;

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Add (or replace) a webhook target. Without --secret-stdin a signing
    /// secret is generated and printed once.
    Add {
        /// A name for the target.
        name: String,
        /// Where to POST notifications (http:// or https://).
        #[arg(long)]
        url: String,
        /// Read the signing secret (at least 16 bytes) from stdin.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// List webhook targets.
    List,
    /// Send a signed `test` event to a target now; exit 1 if it was not delivered.
    Test {
        /// The target's name.
        name: String,
    },
    /// Show the latest deliveries, newest first.
    Deliveries {
        /// Only this target's deliveries.
        #[arg(long)]
        target: Option<String>,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

pub(crate) async fn run(deck: &Deck, command: NotifyCommand, output: Output) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        NotifyCommand::Add { name, url, secret_stdin } => {
            let secret = if secret_stdin {
                let mut text = Zeroizing::new(String::new());
                if std::io::stdin().read_to_string(&mut text).is_err() || text.trim().is_empty() {
                    eprintln!("error: --secret-stdin was given but stdin had no secret");
                    return Ok(ExitCode::from(2));
                }
                Some(Zeroizing::new(text.trim().as_bytes().to_vec()))
            } else {
                None
            };
            let generated = deck.notify().add(&caller, &name, &url, secret).await?;
            let shown = serde_json::json!({ "name": name, "url": url, "secret": generated.as_deref().map(String::as_str) });
            output.print(&shown, |_| match &generated {
                Some(secret) => format!(
                    "Added `{name}`. Its signing secret, shown only now — give it to the receiver:\n{}\n",
                    secret.as_str()
                ),
                None => format!("Added `{name}`.\n"),
            });
        }
        NotifyCommand::List => {
            let targets = operation::<NotifyTargets>(deck, Nothing {}).await?;
            output.print(&targets, |targets| {
                if targets.is_empty() {
                    return "No notification targets yet. Add one with `opsdeck notify add NAME --url URL`.\n".to_owned();
                }
                crate::table::table(
                    ["NAME", "URL"],
                    targets.iter().map(|target| [target.name.clone(), target.url.clone()]),
                )
            });
        }
        NotifyCommand::Test { name } => {
            let delivery = operation::<NotifyTest>(deck, OneTarget { name: name.clone() }).await?;
            output.print(&delivery, |delivery| match delivery.status.as_str() {
                "delivered" => {
                    format!("delivered {} to `{name}` ({} attempt(s))\n", delivery.id, delivery.attempts)
                }
                _ => format!(
                    "NOT delivered to `{name}`: {} ({} attempt(s))\n",
                    delivery.last_error, delivery.attempts
                ),
            });
            if delivery.status != opsdeck::DeliveryStatus::Delivered {
                return Ok(ExitCode::from(1));
            }
        }
        NotifyCommand::Deliveries { target, limit } => {
            let deliveries =
                operation::<NotifyDeliveries>(deck, DeliveriesInput { target, limit: Some(limit) }).await?;
            output.print(&deliveries, |deliveries| {
                if deliveries.is_empty() {
                    return "No deliveries yet. Send a test with `opsdeck notify test NAME`.\n".to_owned();
                }
                crate::table::table(
                    ["ID", "TARGET", "EVENT", "STATUS", "ATTEMPTS", "LAST ERROR"],
                    deliveries.iter().map(|delivery| {
                        [
                            delivery.id.clone(),
                            delivery.target.clone(),
                            delivery.event.clone(),
                            delivery.status.to_string(),
                            delivery.attempts.to_string(),
                            delivery.last_error.clone(),
                        ]
                    }),
                )
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
