//! Changing secrets: a new version (a given value or a generated one), an
//! import of many, a rollback, a removal. The product's rules live in the
//! inputs (`NewValue` is a value *or* a generator, `ImportFormat` is env *or*
//! json), so no front end decides them.

use opsdeck_vault::{MetadataChange, Role, SecretInfo, SecretType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::catalogue::vaults::OneSecret;
use crate::catalogue::{Effect, Method, Operation};
use crate::vaults::RotationReport;
use crate::vaults::{parse_dotenv, parse_json_secrets, ImportReport};
use crate::{Caller, Deck, DeckError};
use opsdeck_vault::generators::{generate_for, Alphabet, StringPolicy};

/// Where a new version's value comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum NewValue {
    /// This value (never logged; zeroized after sealing).
    Value(String),
    /// A value from the secret type's generator: a random string of
    /// `length` characters from `alphabet`, 32 random key bytes as hex
    /// (encryption_key) or an Ed25519 key pair (ssh_key).
    Generate {
        /// Characters of a generated string (default 32).
        #[serde(default = "default_length")]
        #[ts(type = "number")]
        length: usize,
        /// The characters a generated string is drawn from.
        #[serde(default)]
        alphabet: Alphabet,
    },
}

fn default_length() -> usize {
    32
}

/// Metadata to change with a new version; an absent field is left as it is.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SecretMetadata {
    /// Tags, replacing the old ones.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// Rotate every this many days; 0 removes the policy.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub rotate_every_days: Option<i64>,
    /// A shell command that checks each scheduled rotation's new value (it
    /// is kept only when the command exits 0); empty removes it. Setting one
    /// needs the vault's admin role.
    #[serde(default)]
    pub rotate_verify: Option<String>,
    /// Expiry in Unix milliseconds; 0 removes it.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub expires_at: Option<i64>,
}

impl SecretMetadata {
    /// The change it asks for.
    pub fn change(self) -> MetadataChange {
        MetadataChange {
            tags: self.tags,
            note: self.note,
            rotate_every_days: self.rotate_every_days.map(|days| (days != 0).then_some(days)),
            rotate_verify: self.rotate_verify.map(|command| Some(command).filter(|c| !c.trim().is_empty())),
            expires_at: self.expires_at.map(|at| (at != 0).then_some(at)),
        }
    }
}

/// A new version of a secret.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SecretSetInput {
    /// The vault's name.
    pub vault: String,
    /// The secret's name (made when it does not exist).
    pub name: String,
    /// What kind of secret it is; it picks the generator.
    #[serde(rename = "type")]
    pub secret_type: SecretType,
    /// The value, or how to generate it.
    pub value: NewValue,
    /// Metadata to change at the same time.
    #[serde(default)]
    pub metadata: SecretMetadata,
}

/// What storing a version gives back.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct SecretStored {
    /// The secret after the change.
    pub secret: SecretInfo,
    /// The public half of a generated SSH key, to install where it logs in.
    pub public_key: Option<String>,
}

/// `secret.set`.
pub struct SecretSet;

impl Operation for SecretSet {
    type Input = SecretSetInput;
    type Output = SecretStored;
    const NAME: &'static str = "secret.set";
    const SUMMARY: &'static str = "Stores a new version of a secret (making it if new): a given value or one from the type's generator; the value is never returned.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}";
    const MACHINE_INPUTS: &'static [&'static str] = &["metadata.rotate_verify"];

    async fn run(deck: &Deck, caller: &Caller, input: SecretSetInput) -> Result<SecretStored, DeckError> {
        let reference = format!("{}/{}", input.vault, input.name);
        let (value, public_key) = match input.value {
            NewValue::Value(value) => {
                let value = Zeroizing::new(value);
                if value.is_empty() {
                    return Err(opsdeck_vault::VaultError::Invalid(
                        "the value is empty: give a value, or ask for a generated one".into(),
                    )
                    .into());
                }
                (value, None)
            }
            NewValue::Generate { length, alphabet } => {
                let generated = generate_for(
                    input.secret_type,
                    StringPolicy { length, alphabet },
                    &format!("opsdeck:{reference}"),
                )?;
                (generated.value, generated.public_key)
            }
        };
        let secret = deck
            .vaults()
            .secret_set(caller, &reference, input.secret_type, value.as_bytes(), &input.metadata.change())
            .await?;
        Ok(SecretStored { secret, public_key })
    }
}

/// The text formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// `NAME=value` lines (`export`, quotes and comments as shells write them).
    Env,
    /// One JSON object of names to string values.
    Json,
}

impl ImportFormat {
    /// The format a file's name suggests: `.json` is JSON, anything else env.
    pub fn for_file_name(name: &std::path::Path) -> ImportFormat {
        if name.extension().is_some_and(|extension| extension == "json") {
            ImportFormat::Json
        } else {
            ImportFormat::Env
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Env => "env",
            ImportFormat::Json => "json",
        }
    }
}

/// Many secrets from one text.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SecretImportInput {
    /// The vault to import into.
    pub vault: String,
    /// The text (never logged; zeroized after sealing).
    pub text: String,
    /// How the text is written.
    pub format: ImportFormat,
    /// The type of every imported secret (default generic).
    #[serde(default = "generic", rename = "type")]
    pub secret_type: SecretType,
}

fn generic() -> SecretType {
    SecretType::Generic
}

/// `secret.import`.
pub struct SecretImport;

impl Operation for SecretImport {
    type Input = SecretImportInput;
    type Output = ImportReport;
    const NAME: &'static str = "secret.import";
    const SUMMARY: &'static str = "Imports secrets from .env or JSON text, all or nothing: each named secret gets a new version in one transaction.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/import";

    async fn run(deck: &Deck, caller: &Caller, input: SecretImportInput) -> Result<ImportReport, DeckError> {
        let text = Zeroizing::new(input.text);
        let entries = match input.format {
            ImportFormat::Env => parse_dotenv(&text)?,
            ImportFormat::Json => parse_json_secrets(&text)?,
        };
        deck.vaults()
            .secret_import(caller, &input.vault, entries, input.secret_type, input.format.as_str())
            .await
    }
}

/// Which version to make current again.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RollbackInput {
    /// The vault's name.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// The version whose value becomes current (as a new version).
    #[ts(type = "number")]
    pub to: i64,
}

/// `secret.rollback`.
pub struct SecretRollback;

impl Operation for SecretRollback {
    type Input = RollbackInput;
    type Output = SecretInfo;
    const NAME: &'static str = "secret.rollback";
    const SUMMARY: &'static str =
        "Makes an older version's value current again, as a new version (history is never rewritten).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}/rollback";

    async fn run(deck: &Deck, caller: &Caller, input: RollbackInput) -> Result<SecretInfo, DeckError> {
        deck.vaults().secret_rollback(caller, &format!("{}/{}", input.vault, input.name), input.to).await
    }
}

/// What a removal removed.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct Removed {
    /// `VAULT/NAME` of the removed secret.
    pub removed: String,
}

/// `secret.remove`.
pub struct SecretRemove;

impl Operation for SecretRemove {
    type Input = OneSecret;
    type Output = Removed;
    const NAME: &'static str = "secret.remove";
    const SUMMARY: &'static str = "Deletes a secret with every version (vault admins only; audited).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: OneSecret) -> Result<Removed, DeckError> {
        let reference = format!("{}/{}", input.vault, input.name);
        deck.vaults().secret_remove(caller, &reference).await?;
        Ok(Removed { removed: reference })
    }
}

/// New metadata for a secret (no new version).
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct SecretEditInput {
    /// The vault's name.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// What to change; absent fields are left as they are.
    pub metadata: SecretMetadata,
}

/// `secret.edit`.
pub struct SecretEdit;

impl Operation for SecretEdit {
    type Input = SecretEditInput;
    type Output = SecretInfo;
    const NAME: &'static str = "secret.edit";
    const SUMMARY: &'static str =
        "Changes a secret's tags, note, rotation policy, rotation check or expiry without a new version.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}/metadata";
    const MACHINE_INPUTS: &'static [&'static str] = &["metadata.rotate_verify"];

    async fn run(deck: &Deck, caller: &Caller, input: SecretEditInput) -> Result<SecretInfo, DeckError> {
        deck.vaults()
            .secret_edit(caller, &format!("{}/{}", input.vault, input.name), &input.metadata.change())
            .await
    }
}

/// A rotation to run now.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RotateInput {
    /// The vault's name.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// A shell command that checks the new value (given as
    /// `OPSDECK_NEW_VALUE`); the new value is kept only when it exits 0.
    /// Running one needs the vault's admin role.
    #[serde(default)]
    pub verify: Option<String>,
}

/// `secret.rotate`.
pub struct SecretRotate;

impl Operation for SecretRotate {
    type Input = RotateInput;
    type Output = RotationReport;
    const NAME: &'static str = "secret.rotate";
    const SUMMARY: &'static str = "Rotates a secret now with its type's generator; with a verification command the new value is kept only if the command accepts it, otherwise the old one stays current.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}/rotate";
    const MACHINE_INPUTS: &'static [&'static str] = &["verify"];

    async fn run(deck: &Deck, caller: &Caller, input: RotateInput) -> Result<RotationReport, DeckError> {
        let verify = input.verify.filter(|command| !command.trim().is_empty());
        deck.vaults()
            .secret_rotate(caller, &format!("{}/{}", input.vault, input.name), verify.as_deref())
            .await
    }
}
