//! `opsdeck secret …`: set, get, list, show, edit, due, history, rotate,
//! rollback, import, rm.

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::catalogue::secret_changes::{
    ImportFormat, NewValue, RollbackInput, RotateInput, SecretImport, SecretImportInput, SecretMetadata,
    SecretRemove, SecretRollback, SecretRotate, SecretSet, SecretSetInput, SecretStored,
};
use opsdeck::catalogue::Operation;
use opsdeck::{Alphabet, Deck, DeckError, MetadataChange, SecretInfo, SecretType};
use zeroize::Zeroizing;

use opsdeck::catalogue::vaults::{DueInput, OneSecret, SecretShow, SecretVersions, SecretsDue};

use super::{input_error, operation, Output};

/// `VAULT/NAME` as the catalogue's input (the same message for a reference
/// without both parts as everywhere else).
fn one_secret(reference: &str) -> Result<OneSecret, DeckError> {
    let (vault, name) = opsdeck_vault::split_reference(reference)?;
    Ok(OneSecret { vault: vault.to_owned(), name: name.to_owned() })
}

/// Metadata options shared by `secret set` and `secret edit`.
#[derive(Debug, clap::Args)]
pub(crate) struct MetadataArgs {
    /// A tag (repeat for several); replaces the secret's tags.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Remove every tag.
    #[arg(long, conflicts_with = "tags")]
    clear_tags: bool,
    /// A note for people: what it is for, who owns it.
    #[arg(long)]
    note: Option<String>,
    /// Rotation policy: rotate every N days (`off` removes the policy).
    #[arg(long, value_name = "DAYS|off")]
    rotate_every: Option<String>,
    /// A shell command that checks each scheduled rotation's new value
    /// (`OPSDECK_NEW_VALUE`); an empty string removes it.
    #[arg(long, value_name = "CMD")]
    rotate_verify: Option<String>,
    /// When the value stops working: YYYY-MM-DD (midnight UTC), an RFC 3339
    /// time, or `never`.
    #[arg(long, value_name = "DATE|never")]
    expires: Option<String>,
}

impl MetadataArgs {
    /// The flags as the catalogue's metadata input (`off` and `never` are 0,
    /// which removes the policy or the expiry).
    fn input(&self) -> Result<SecretMetadata, DeckError> {
        let tags = if self.clear_tags {
            Some(Vec::new())
        } else if self.tags.is_empty() {
            None
        } else {
            Some(self.tags.clone())
        };
        let rotate_every_days = match self.rotate_every.as_deref() {
            None => None,
            Some("off") => Some(0),
            Some(text) => Some(text.trim_end_matches('d').parse::<i64>().map_err(|_| {
                input_error(format!("--rotate-every `{text}` is not a number of days (e.g. 90) or `off`"))
            })?),
        };
        let expires_at = match self.expires.as_deref() {
            None => None,
            Some("never") => Some(0),
            Some(text) => Some(parse_time(text)?),
        };
        Ok(SecretMetadata {
            tags,
            note: self.note.clone(),
            rotate_every_days,
            rotate_verify: self.rotate_verify.clone(),
            expires_at,
        })
    }

    fn change(&self) -> Result<MetadataChange, DeckError> {
        Ok(self.input()?.change())
    }
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time into Unix milliseconds.
fn parse_time(text: &str) -> Result<i64, DeckError> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(midnight.and_utc().timestamp_millis());
        }
    }
    Err(input_error(format!(
        "`{text}` is not a date: use YYYY-MM-DD, an RFC 3339 time such as 2027-01-31T12:00:00Z, or `never`"
    )))
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
        /// Generate the value with the type's generator: a random string, 32
        /// random key bytes (encryption_key) or an Ed25519 key pair (ssh_key).
        #[arg(long)]
        generate: bool,
        /// Length of a generated string.
        #[arg(long, default_value_t = 32, requires = "generate")]
        length: usize,
        /// Characters of a generated string: alphanumeric, hex, base64url or symbols.
        #[arg(long, default_value = "alphanumeric", requires = "generate")]
        alphabet: String,
        #[command(flatten)]
        metadata: MetadataArgs,
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
        /// Only secrets with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// Show a secret's metadata (no value).
    Show {
        /// VAULT/NAME
        reference: String,
    },
    /// Change a secret's tags, note, rotation policy or expiry (no new version).
    Edit {
        /// VAULT/NAME
        reference: String,
        #[command(flatten)]
        metadata: MetadataArgs,
    },
    /// Secrets due for rotation under their policy, or expiring, soonest first.
    Due {
        /// Also those due within this many days.
        #[arg(long, default_value_t = 0)]
        within: i64,
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
    /// Import secrets from a .env file or a JSON object of names to values
    /// (all or nothing; each becomes a new version).
    Import {
        /// The vault to import into.
        vault: String,
        /// The file (`-` for stdin).
        file: PathBuf,
        /// env or json (default: from the file name, else env).
        #[arg(long)]
        format: Option<String>,
        /// The type of the imported secrets.
        #[arg(long = "type", value_name = "TYPE", default_value = "generic")]
        secret_type: String,
    },
    /// Delete a secret and all its versions.
    Rm {
        /// VAULT/NAME
        reference: String,
    },
}

fn describe(secret: &SecretInfo) -> String {
    let mut text = format!(
        "{}/{}\n  type:      {}\n  version:   {} (changed {})\n",
        secret.vault,
        secret.name,
        secret.secret_type.as_str(),
        secret.version,
        crate::time::minute(secret.updated_at)
    );
    if !secret.tags.is_empty() {
        let _ = writeln!(text, "  tags:      {}", secret.tags.join(", "));
    }
    if !secret.note.is_empty() {
        let _ = writeln!(text, "  note:      {}", secret.note);
    }
    if let (Some(days), Some(due)) = (secret.rotate_every_days, secret.rotation_due_at) {
        let _ = writeln!(text, "  rotation:  every {days} days, next due {}", crate::time::minute(due));
    }
    if let Some(verify) = &secret.rotate_verify {
        let _ = writeln!(text, "  verified:  by `{verify}`");
    }
    if let Some(expires) = secret.expires_at {
        let _ = writeln!(text, "  expires:   {}", crate::time::minute(expires));
    }
    text
}

fn read_value_from_stdin() -> Result<Zeroizing<String>, DeckError> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|error| input_error(format!("could not read the value from stdin: {error}")))?;
    let trimmed = Zeroizing::new(text.strip_suffix('\n').unwrap_or(&text).trim_end_matches('\r').to_owned());
    if trimmed.is_empty() {
        return Err(input_error(
            "--value-stdin was given but stdin was empty; pipe the value in, e.g. `printf %s \"$VALUE\" | opsdeck secret set …`".into(),
        ));
    }
    Ok(trimmed)
}

pub(crate) async fn run(deck: &Deck, command: SecretCommand, output: Output) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        SecretCommand::Set { reference, secret_type, value_stdin, generate, length, alphabet, metadata } => {
            let (vault, name) = opsdeck_vault::split_reference(&reference).map_err(DeckError::from)?;
            let value = if generate {
                NewValue::Generate { length, alphabet: Alphabet::parse(&alphabet)? }
            } else {
                debug_assert!(value_stdin);
                // Moved, not copied: the operation zeroizes it after sealing.
                NewValue::Value(std::mem::take(&mut *read_value_from_stdin()?))
            };
            let input = SecretSetInput {
                vault: vault.to_owned(),
                name: name.to_owned(),
                secret_type: SecretType::parse(&secret_type).map_err(DeckError::from)?,
                value,
                metadata: metadata.input()?,
            };
            let SecretStored { secret: info, public_key } = SecretSet::run(deck, &caller, input).await?;
            let result = serde_json::json!({
                "vault": info.vault, "name": info.name, "type": info.secret_type,
                "version": info.version, "public_key": public_key,
            });
            output.print(&result, |_| {
                let mut text = format!("{}/{} is now version {}\n", info.vault, info.name, info.version);
                if let Some(public_key) = &public_key {
                    let _ = writeln!(text, "public key: {public_key}");
                }
                text
            });
        }
        SecretCommand::Get { reference, version } => {
            let value = deck.vaults().secret_get(&caller, &reference, version).await?;
            output.print(&value, |value| format!("{}\n", value.value.as_str()));
        }
        SecretCommand::List { vault, tag } => {
            let mut secrets = deck.vaults().secret_list(&caller, vault.as_deref()).await?;
            if let Some(tag) = &tag {
                secrets.retain(|secret| secret.tags.contains(tag));
            }
            output.print(&secrets, |secrets| {
                if secrets.is_empty() {
                    return "No secrets yet. Add one with `opsdeck secret set VAULT/NAME --type TYPE --value-stdin`.\n".to_owned();
                }
                crate::table::table(
                    ["SECRET", "TYPE", "VERSION", "TAGS"],
                    secrets.iter().map(|secret| {
                        [
                            format!("{}/{}", secret.vault, secret.name),
                            secret.secret_type.as_str().to_owned(),
                            format!("v{}", secret.version),
                            secret.tags.join(", "),
                        ]
                    }),
                )
            });
        }
        SecretCommand::Show { reference } => {
            let info = operation::<SecretShow>(deck, one_secret(&reference)?).await?;
            output.print(&info, describe);
        }
        SecretCommand::Edit { reference, metadata } => {
            let info = deck.vaults().secret_edit(&caller, &reference, &metadata.change()?).await?;
            output.print(&info, describe);
        }
        SecretCommand::Due { within } => {
            let due = operation::<SecretsDue>(deck, DueInput { within_days: Some(within) }).await?;
            output.print(&due, |due| {
                if due.is_empty() {
                    return "Nothing is due. Set a policy with `opsdeck secret edit VAULT/NAME --rotate-every 90`.\n".to_owned();
                }
                crate::table::table(
                    ["SECRET", "DUE"],
                    due.iter().map(|secret| {
                        let why = match (secret.rotation_due_at, secret.expires_at) {
                            (Some(rotation), Some(expiry)) if expiry < rotation => format!("expires {}", crate::time::minute(expiry)),
                            (Some(rotation), _) => format!("rotation due {}", crate::time::minute(rotation)),
                            (None, Some(expiry)) => format!("expires {}", crate::time::minute(expiry)),
                            (None, None) => String::new(),
                        };
                        [format!("{}/{}", secret.vault, secret.name), why]
                    }),
                )
            });
        }
        SecretCommand::History { reference } => {
            let versions = operation::<SecretVersions>(deck, one_secret(&reference)?).await?;
            output.print(&versions, |versions| {
                versions.iter().fold(String::new(), |mut text, version| {
                    let marker = if version.current { " (current)" } else { "" };
                    let _ = writeln!(
                        text,
                        "v{:<5} by {:<20} at {}{marker}",
                        version.version,
                        version.created_by,
                        crate::time::minute(version.created_at_unix_ms)
                    );
                    text
                })
            });
        }
        SecretCommand::Rotate { reference, verify } => {
            let OneSecret { vault, name } = one_secret(&reference)?;
            let report = operation::<SecretRotate>(deck, RotateInput { vault, name, verify }).await?;
            output.print(&report, |report| match &report.reason {
                None => {
                    let mut text =
                        format!("{}/{} rotated: now version {}\n", report.vault, report.name, report.version);
                    if let Some(public_key) = &report.public_key {
                        let _ = writeln!(text, "public key: {public_key}");
                    }
                    text
                }
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
            let OneSecret { vault, name } = one_secret(&reference)?;
            let info = operation::<SecretRollback>(deck, RollbackInput { vault, name, to }).await?;
            output.print(&info, |info| {
                format!(
                    "{}/{} is now version {} (the value of version {to})\n",
                    info.vault, info.name, info.version
                )
            });
        }
        SecretCommand::Import { vault, file, format, secret_type } => {
            let secret_type = SecretType::parse(&secret_type).map_err(DeckError::from)?;
            let mut text = if file.as_os_str() == "-" {
                let mut text = Zeroizing::new(String::new());
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|error| input_error(format!("could not read stdin: {error}")))?;
                text
            } else {
                Zeroizing::new(
                    std::fs::read_to_string(&file)
                        .map_err(|error| input_error(format!("cannot read {}: {error}", file.display())))?,
                )
            };
            let format = match format.as_deref() {
                None => ImportFormat::for_file_name(&file),
                Some("env") => ImportFormat::Env,
                Some("json") => ImportFormat::Json,
                Some(other) => {
                    return Err(input_error(format!("unknown --format `{other}`; use env or json")))
                }
            };
            let input = SecretImportInput { vault, text: std::mem::take(&mut *text), format, secret_type };
            let report =
                SecretImport::run(deck, &caller, input).await.map_err(|error| match error.code() {
                    "invalid_input" => input_error(format!("{}: {error}", file.display())),
                    _ => error,
                })?;
            output.print(&report, super::import_summary);
        }
        SecretCommand::Rm { reference } => {
            operation::<SecretRemove>(deck, one_secret(&reference)?).await?;
            output.print(&serde_json::json!({ "removed": reference }), |_| {
                format!("{reference} was removed\n")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
