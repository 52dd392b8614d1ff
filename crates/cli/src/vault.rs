//! `opsdeck vault …`: make and list vaults; members and their roles; key
//! slots and the passphrase; export bundles and their import.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{Deck, DeckError, Role};
use zeroize::Zeroizing;

use opsdeck::catalogue::vault_access::{
    MemberSetInput, OneMember, VaultCreate, VaultCreateInput, VaultMemberRemove, VaultMemberSet,
};
use opsdeck::catalogue::vaults::VaultList;
use opsdeck::catalogue::Nothing;

use super::{input_error, operation, read_passphrase_from_stdin, Output};

/// The environment variable with the new passphrase of `vault passphrase` and `vault slot add --passphrase`.
const NEW_PASSPHRASE_ENV: &str = "OPSDECK_NEW_PASSPHRASE";
/// The environment variable with an export bundle's passphrase.
const BUNDLE_PASSPHRASE_ENV: &str = "OPSDECK_BUNDLE_PASSPHRASE";

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Make a vault. Its data key is kept in the OS keychain and, when a
    /// passphrase is given (OPSDECK_PASSPHRASE or --passphrase-stdin), under
    /// that passphrase too, so losing the keychain never loses the vault.
    /// You become its admin.
    Init {
        /// The vault's name.
        name: String,
        /// Do not use the OS keychain: a passphrase-only vault.
        #[arg(long)]
        no_keychain: bool,
    },
    /// List vaults with their key slots and number of secrets.
    List,
    /// Members and their roles (admin, operator, viewer).
    #[command(subcommand)]
    Member(MemberCommand),
    /// List a vault's key slots.
    Slots {
        /// The vault.
        vault: String,
    },
    /// Add or remove key slots.
    #[command(subcommand)]
    Slot(SlotCommand),
    /// Change the vault's passphrase (the new one from OPSDECK_NEW_PASSPHRASE
    /// or --new-passphrase-stdin). Secrets are not re-encrypted.
    Passphrase {
        /// The vault.
        vault: String,
        /// Read the new passphrase from the next line of stdin.
        #[arg(long)]
        new_passphrase_stdin: bool,
    },
    /// Write the current value and metadata of every secret into a file
    /// sealed with a passphrase (OPSDECK_BUNDLE_PASSPHRASE or --bundle-passphrase-stdin).
    Export {
        /// The vault.
        vault: String,
        /// The bundle file to write (mode 0600).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Read the bundle passphrase from the next line of stdin.
        #[arg(long)]
        bundle_passphrase_stdin: bool,
        /// Replace FILE even when OpsDeck did not write it, or it changed since.
        #[arg(long)]
        force: bool,
    },
    /// Import an export bundle (all or nothing; each secret becomes a new version).
    ImportBundle {
        /// The bundle file.
        file: PathBuf,
        /// The vault to import into (default: the one it was exported from).
        #[arg(long)]
        into: Option<String>,
        /// Read the bundle passphrase from the next line of stdin.
        #[arg(long)]
        bundle_passphrase_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum MemberCommand {
    /// List the members of a vault.
    List {
        /// The vault.
        vault: String,
    },
    /// Give a user a role: admin, operator or viewer (admins only).
    Set {
        /// The vault.
        vault: String,
        /// The user (their OS user name).
        user: String,
        /// admin, operator or viewer.
        role: String,
    },
    /// Take a user out of a vault (admins only; never the last admin).
    Rm {
        /// The vault.
        vault: String,
        /// The user.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SlotCommand {
    /// Add a keychain slot, or a passphrase slot (from OPSDECK_NEW_PASSPHRASE or --new-passphrase-stdin).
    #[command(group(clap::ArgGroup::new("kind").required(true).args(["keychain", "passphrase"])))]
    Add {
        /// The vault.
        vault: String,
        /// A slot whose key is kept in the OS keychain.
        #[arg(long)]
        keychain: bool,
        /// A slot opened by a new passphrase.
        #[arg(long)]
        passphrase: bool,
        /// Read the new passphrase from the next line of stdin.
        #[arg(long, requires = "passphrase")]
        new_passphrase_stdin: bool,
    },
    /// Remove a key slot (never the last one).
    Rm {
        /// The vault.
        vault: String,
        /// The slot's id (`opsdeck vault slots VAULT`).
        slot: String,
    },
}

/// A passphrase from the next line of stdin, or else from `env`.
fn passphrase_from(stdin: bool, env: &str, what: &str) -> Result<Zeroizing<String>, DeckError> {
    if stdin {
        return read_passphrase_from_stdin().map_err(input_error);
    }
    match std::env::var(env) {
        Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
        _ => Err(input_error(format!("{what} is needed: set {env} or pass the --…-stdin flag"))),
    }
}

pub(crate) async fn run_vault(
    deck: &Deck,
    command: VaultCommand,
    output: Output,
) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        VaultCommand::Init { name, no_keychain } => {
            let vault = operation::<VaultCreate>(deck, VaultCreateInput { name, no_keychain }).await?;
            output.print(&vault, |vault| {
                format!("vault `{}` created (key slots: {})\n", vault.name, vault.slots.join(", "))
            });
        }
        VaultCommand::List => {
            let vaults = operation::<VaultList>(deck, Nothing {}).await?;
            output.print(&vaults, |vaults| {
                if vaults.is_empty() {
                    return "No vaults yet. Make one with `opsdeck vault init NAME`.\n".to_owned();
                }
                crate::table::table(
                    ["VAULT", "SECRETS", "KEY SLOTS"],
                    vaults
                        .iter()
                        .map(|vault| [vault.name.clone(), vault.secrets.to_string(), vault.slots.join(", ")]),
                )
            });
        }
        VaultCommand::Member(MemberCommand::List { vault }) => {
            let members = deck.vaults().members(&caller, &vault).await?;
            output.print(&members, |members| {
                if members.is_empty() {
                    return format!("Vault `{vault}` has no members, so every local user is its admin. Add one with `opsdeck vault member set {vault} USER admin`.\n");
                }
                crate::table::table(
                    ["MEMBER", "ROLE"],
                    members.iter().map(|member| [member.member.clone(), member.role.as_str().to_owned()]),
                )
            });
        }
        VaultCommand::Member(MemberCommand::Set { vault, user, role }) => {
            let role = Role::parse(&role).map_err(DeckError::from)?;
            let member = operation::<VaultMemberSet>(
                deck,
                MemberSetInput { vault: vault.clone(), member: user, role },
            )
            .await?;
            output.print(&member, |member| {
                format!("{} is now {} of vault `{vault}`\n", member.member, member.role.as_str())
            });
        }
        VaultCommand::Member(MemberCommand::Rm { vault, user }) => {
            operation::<VaultMemberRemove>(deck, OneMember { vault: vault.clone(), member: user.clone() })
                .await?;
            output.print(&serde_json::json!({ "vault": vault, "removed": user }), |_| {
                format!("{user} is no longer a member of vault `{vault}`\n")
            });
        }
        VaultCommand::Slots { vault } => {
            let slots = deck.vaults().slots(&caller, &vault).await?;
            output.print(&slots, |slots| {
                crate::table::table(
                    ["SLOT", "KIND"],
                    slots.iter().map(|slot| [slot.id.clone(), slot.kind.clone()]),
                )
            });
        }
        VaultCommand::Slot(SlotCommand::Add { vault, keychain, passphrase: _, new_passphrase_stdin }) => {
            let passphrase = if keychain {
                None
            } else {
                Some(passphrase_from(new_passphrase_stdin, NEW_PASSPHRASE_ENV, "the new passphrase")?)
            };
            let slot = deck.vaults().slot_add(&caller, &vault, passphrase).await?;
            output.print(&slot, |slot| format!("added {} slot {} to vault `{vault}`\n", slot.kind, slot.id));
        }
        VaultCommand::Slot(SlotCommand::Rm { vault, slot }) => {
            deck.vaults().slot_remove(&caller, &vault, &slot).await?;
            output.print(&serde_json::json!({ "vault": vault, "removed": slot }), |_| {
                format!("removed slot {slot} from vault `{vault}`\n")
            });
        }
        VaultCommand::Passphrase { vault, new_passphrase_stdin } => {
            let passphrase = passphrase_from(new_passphrase_stdin, NEW_PASSPHRASE_ENV, "the new passphrase")?;
            let slot = deck.vaults().change_passphrase(&caller, &vault, passphrase).await?;
            output.print(&slot, |_| format!("the passphrase of vault `{vault}` was changed\n"));
        }
        VaultCommand::Export { vault, output: path, bundle_passphrase_stdin, force } => {
            let passphrase =
                passphrase_from(bundle_passphrase_stdin, BUNDLE_PASSPHRASE_ENV, "a bundle passphrase")?;
            let bytes = deck.vaults().export(&caller, &vault, &passphrase).await?;
            deck.write_private_output(&path, &bytes, force).await?;
            let result = serde_json::json!({ "vault": vault, "file": path.display().to_string() });
            output.print(&result, |_| format!("exported vault `{vault}` to {}\n", path.display()));
        }
        VaultCommand::ImportBundle { file, into, bundle_passphrase_stdin } => {
            let passphrase =
                passphrase_from(bundle_passphrase_stdin, BUNDLE_PASSPHRASE_ENV, "the bundle passphrase")?;
            let bytes = std::fs::read(&file)
                .map_err(|error| input_error(format!("cannot read {}: {error}", file.display())))?;
            let report = deck.vaults().import_bundle(&caller, into.as_deref(), &bytes, &passphrase).await?;
            output.print(&report, super::import_summary);
        }
    }
    Ok(ExitCode::SUCCESS)
}
