//! `opsdeck vault …` and `opsdeck secret …`.

use std::fmt::Write as _;
use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{generate_value, Caller, Deck, DeckError, SecretType};
use zeroize::Zeroizing;

use super::Output;

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Make a vault. Its data key is kept in the OS keychain and, when a
    /// passphrase is given (OPSDECK_PASSPHRASE or --passphrase-stdin), under
    /// that passphrase too, so losing the keychain never loses the vault.
    Init {
        /// The vault's name.
        name: String,
        /// Do not use the OS keychain: a passphrase-only vault.
        #[arg(long)]
        no_keychain: bool,
    },
    /// List vaults with their key slots and number of secrets.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Store a new version of a secret.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["value_stdin", "generate"])))]
    Set {
        /// VAULT/NAME
        reference: String,
        /// api_key, database_password, ssh_key, tls_certificate, encryption_key,
        /// oauth_token, service_account, webhook_secret or generic.
        #[arg(long = "type", value_name = "TYPE")]
        secret_type: String,
        /// Read the value from stdin (one trailing newline is dropped).
        #[arg(long)]
        value_stdin: bool,
        /// Generate a random value of letters and digits.
        #[arg(long)]
        generate: bool,
        /// Length of a generated value.
        #[arg(long, default_value_t = 32, requires = "generate")]
        length: usize,
    },
    /// Reveal a secret's value (recorded in the audit trail).
    Get {
        /// VAULT/NAME
        reference: String,
        /// An older version instead of the current one.
        #[arg(long)]
        version: Option<i64>,
    },
    /// List secrets (metadata only, no values).
    List {
        /// Only this vault.
        vault: Option<String>,
    },
    /// Show a secret's versions.
    History {
        /// VAULT/NAME
        reference: String,
    },
    /// Replace the value with a new generated one; with --verify, keep it only
    /// when CMD (run with OPSDECK_NEW_VALUE and OPSDECK_OLD_VALUE) exits 0.
    Rotate {
        /// VAULT/NAME
        reference: String,
        /// A shell command that checks the new value works.
        #[arg(long, value_name = "CMD")]
        verify: Option<String>,
    },
    /// Make an older version current again (as a new version).
    Rollback {
        /// VAULT/NAME
        reference: String,
        /// The version to bring back.
        #[arg(long)]
        to: i64,
    },
    /// Delete a secret and all its versions.
    Rm {
        /// VAULT/NAME
        reference: String,
    },
}

pub(crate) async fn run_vault(
    deck: &Deck,
    command: VaultCommand,
    output: Output,
) -> Result<ExitCode, DeckError> {
    match command {
        VaultCommand::Init { name, no_keychain } => {
            let vault = deck.vault_init(&Caller::local_user("cli"), &name, no_keychain).await?;
            output.print(&vault, |vault| {
                format!("vault `{}` created (key slots: {})\n", vault.name, vault.slots.join(", "))
            });
        }
        VaultCommand::List => {
            let vaults = deck.vault_list().await?;
            output.print(&vaults, |vaults| {
                if vaults.is_empty() {
                    return "No vaults yet. Make one with `opsdeck vault init NAME`.\n".to_owned();
                }
                vaults.iter().fold(String::new(), |mut text, vault| {
                    let _ = writeln!(
                        text,
                        "{:<20} {:>4} secrets   slots: {}",
                        vault.name,
                        vault.secrets,
                        vault.slots.join(", ")
                    );
                    text
                })
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run_secret(
    deck: &Deck,
    command: SecretCommand,
    output: Output,
) -> Result<ExitCode, DeckError> {
    let caller = Caller::local_user("cli");
    match command {
        SecretCommand::Set { reference, secret_type, value_stdin, generate, length } => {
            let secret_type = SecretType::parse(&secret_type).map_err(DeckError::from)?;
            let value = if generate {
                generate_value(length)?
            } else {
                debug_assert!(value_stdin);
                let mut text = Zeroizing::new(String::new());
                if let Err(error) = std::io::stdin().read_to_string(&mut text) {
                    eprintln!("error: could not read the value from stdin: {error}");
                    return Ok(ExitCode::from(2));
                }
                let trimmed = Zeroizing::new(
                    text.strip_suffix('\n').unwrap_or(&text).trim_end_matches('\r').to_owned(),
                );
                if trimmed.is_empty() {
                    eprintln!("error: --value-stdin was given but stdin was empty; pipe the value in, e.g. `printf %s \"$VALUE\" | opsdeck secret set …`");
                    return Ok(ExitCode::from(2));
                }
                trimmed
            };
            let info = deck.secret_set(&caller, &reference, secret_type, value.as_bytes()).await?;
            output.print(&info, |info| {
                format!("{}/{} is now version {}\n", info.vault, info.name, info.version)
            });
        }
        SecretCommand::Get { reference, version } => {
            let value = deck.secret_get(&caller, &reference, version).await?;
            output.print(&value, |value| format!("{}\n", value.value.as_str()));
        }
        SecretCommand::List { vault } => {
            let secrets = deck.secret_list(vault.as_deref()).await?;
            output.print(&secrets, |secrets| {
                if secrets.is_empty() {
                    return "No secrets yet. Add one with `opsdeck secret set VAULT/NAME --type TYPE --value-stdin`.\n".to_owned();
                }
                secrets.iter().fold(String::new(), |mut text, secret| {
                    let _ = writeln!(text, "{:<40} {:<18} v{}", format!("{}/{}", secret.vault, secret.name), secret.secret_type, secret.version);
                    text
                })
            });
        }
        SecretCommand::History { reference } => {
            let versions = deck.secret_history(&reference).await?;
            output.print(&versions, |versions| {
                versions.iter().fold(String::new(), |mut text, version| {
                    let marker = if version.current { " (current)" } else { "" };
                    let _ = writeln!(
                        text,
                        "v{:<5} by {:<20} at {}{marker}",
                        version.version, version.created_by, version.created_at_unix_ms
                    );
                    text
                })
            });
        }
        SecretCommand::Rotate { reference, verify } => {
            let report = deck.secret_rotate(&caller, &reference, verify.as_deref()).await?;
            output.print(&report, |report| match &report.reason {
                None => format!("{}/{} rotated: now version {}\n", report.vault, report.name, report.version),
                Some(reason) => format!(
                    "{}/{} NOT rotated: {reason}; version {} is current again\n",
                    report.vault, report.name, report.version
                ),
            });
            if !report.rotated {
                return Ok(ExitCode::from(1));
            }
        }
        SecretCommand::Rollback { reference, to } => {
            let info = deck.secret_rollback(&caller, &reference, to).await?;
            output.print(&info, |info| {
                format!(
                    "{}/{} is now version {} (the value of version {to})\n",
                    info.vault, info.name, info.version
                )
            });
        }
        SecretCommand::Rm { reference } => {
            deck.secret_remove(&caller, &reference).await?;
            output.print(&serde_json::json!({ "removed": reference }), |_| {
                format!("{reference} was removed\n")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
