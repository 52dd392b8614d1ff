//! `opsdeck api token create|list|revoke`: bearer tokens of the local HTTP
//! API (`opsdeck serve --api ADDR`).

use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{Deck, DeckError, Role};

use super::Output;

#[derive(Debug, Subcommand)]
pub(crate) enum ApiCommand {
    /// Tokens of the HTTP API.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a token (shown once; only its hash is kept). You cannot give it
    /// more rights than you hold.
    Create {
        /// Its name: requests made with it are audited as `api:NAME`.
        #[arg(long)]
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// Limit it to one vault (by default it reaches every vault).
        #[arg(long)]
        vault: Option<String>,
        /// How long it works: a number with s, m, h or d (e.g. 90d); for ever by default.
        #[arg(long, value_parser = super::jobs::parse_interval)]
        expires: Option<std::time::Duration>,
        /// Let it reveal secret values (operator role or above).
        #[arg(long)]
        reveal: bool,
    },
    /// List the tokens (never their values).
    List,
    /// Revoke a token at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

pub(crate) async fn run(deck: &Deck, command: ApiCommand, output: Output) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        ApiCommand::Token(TokenCommand::Create { name, role, vault, expires, reveal }) => {
            let role = Role::parse(&role).map_err(DeckError::from)?;
            let made =
                deck.api_tokens().create(&caller, &name, role, vault.as_deref(), expires, reveal).await?;
            output.print(&made, |made| {
                format!(
                    "{}\n(token `{}`: {} of {}{}; shown only now, keep it in a secret store)\n",
                    made.token,
                    made.info.name,
                    made.info.role,
                    made.info
                        .vault
                        .as_deref()
                        .map_or("every vault".to_owned(), |vault| format!("vault `{vault}`")),
                    if made.info.reveal { ", may reveal values" } else { "" }
                )
            });
        }
        ApiCommand::Token(TokenCommand::List) => {
            let tokens = deck.api_tokens().list().await?;
            output.print(&tokens, |tokens| {
                if tokens.is_empty() {
                    return "No API tokens yet. Make one with `opsdeck api token create --name NAME --role viewer`.\n"
                        .to_owned();
                }
                crate::table::table(
                    ["NAME", "ROLE", "VAULT", "STATE", "REVEAL"],
                    tokens.iter().map(|token| {
                        [
                            token.name.clone(),
                            token.role.clone(),
                            token.vault.clone().unwrap_or_else(|| "every vault".to_owned()),
                            if token.revoked_at_unix_ms.is_some() { "revoked" } else { "active" }.to_owned(),
                            if token.reveal { "yes" } else { "no" }.to_owned(),
                        ]
                    }),
                )
            });
        }
        ApiCommand::Token(TokenCommand::Revoke { name }) => {
            let token = deck.api_tokens().revoke(&caller, &name).await?;
            output.print(&token, |token| format!("token `{}` revoked\n", token.name));
        }
    }
    Ok(ExitCode::SUCCESS)
}
