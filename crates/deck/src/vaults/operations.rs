//! Vault operations: the vaults a caller reaches, their secrets' metadata and
//! history, and revealing a value.

use opsdeck_vault::{Role, SecretInfo, VaultInfo, VersionInfo};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// `vault.list`.
pub struct VaultList;

impl Operation for VaultList {
    type Input = Nothing;
    type Output = Vec<VaultInfo>;
    const NAME: &'static str = "vault.list";
    const SUMMARY: &'static str =
        "The vaults (a token sees those it reaches), with their key slots and how many secrets each holds.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/vaults";

    async fn run(deck: &Deck, caller: &Caller, _input: Nothing) -> Result<Vec<VaultInfo>, DeckError> {
        let vaults = deck.vaults().list().await?;
        // A person sees every vault's name (the store is theirs to read; the
        // page then shows their role in each); a token sees the vaults it
        // reaches.
        if caller.grant.is_none() {
            return Ok(vaults);
        }
        let mut visible = Vec::new();
        for vault in vaults {
            if deck.vaults().role(caller, &vault.name).await?.is_some() {
                visible.push(vault);
            }
        }
        Ok(visible)
    }
}

/// A vault.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct InVault {
    /// The vault's name.
    pub vault: String,
}

/// One secret of a vault.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneSecret {
    /// The vault's name.
    pub vault: String,
    /// The secret's name.
    pub name: String,
}

/// `secret.list`.
pub struct SecretList;

impl Operation for SecretList {
    type Input = InVault;
    type Output = Vec<SecretInfo>;
    const NAME: &'static str = "secret.list";
    const SUMMARY: &'static str =
        "Metadata of every secret in a vault (name, type, version, tags, rotation and expiry); never values.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets";

    async fn run(deck: &Deck, caller: &Caller, input: InVault) -> Result<Vec<SecretInfo>, DeckError> {
        deck.vaults().secret_list(caller, Some(&input.vault)).await
    }
}

/// `secret.show`.
pub struct SecretShow;

impl Operation for SecretShow {
    type Input = OneSecret;
    type Output = SecretInfo;
    const NAME: &'static str = "secret.show";
    const SUMMARY: &'static str = "Metadata of one secret; never its value.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}";

    async fn run(deck: &Deck, caller: &Caller, input: OneSecret) -> Result<SecretInfo, DeckError> {
        deck.vaults().secret_info(caller, &format!("{}/{}", input.vault, input.name)).await
    }
}

/// `secret.versions`.
pub struct SecretVersions;

impl Operation for SecretVersions {
    type Input = OneSecret;
    type Output = Vec<VersionInfo>;
    const NAME: &'static str = "secret.versions";
    const SUMMARY: &'static str = "The versions of one secret, newest first: when and by whom each was made.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}/versions";

    async fn run(deck: &Deck, caller: &Caller, input: OneSecret) -> Result<Vec<VersionInfo>, DeckError> {
        deck.vaults().secret_history(caller, &format!("{}/{}", input.vault, input.name)).await
    }
}

/// Which value to reveal.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RevealInput {
    /// The vault's name.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// A version; the current one when absent.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub version: Option<i64>,
}

/// A revealed value.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct Revealed {
    /// The version revealed.
    #[ts(type = "number")]
    pub version: i64,
    /// The value.
    pub value: String,
}

/// `secret.reveal`.
pub struct SecretReveal;

impl Operation for SecretReveal {
    type Input = RevealInput;
    type Output = Revealed;
    const NAME: &'static str = "secret.reveal";
    const SUMMARY: &'static str =
        "Reveals a secret's value (the current version unless one is named); audited before the value is returned.";
    const EFFECT: Effect = Effect::Reveal;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/secrets/{name}/reveal";

    async fn run(deck: &Deck, caller: &Caller, input: RevealInput) -> Result<Revealed, DeckError> {
        let value = deck
            .vaults()
            .secret_get(caller, &format!("{}/{}", input.vault, input.name), input.version)
            .await?;
        Ok(Revealed { version: value.version, value: value.value.to_string() })
    }
}

/// How far ahead to look.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct DueInput {
    /// Secrets due for rotation or expiring within this many days (default 14).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub within_days: Option<i64>,
}

/// `secret.due`.
pub struct SecretsDue;

impl Operation for SecretsDue {
    type Input = DueInput;
    type Output = Vec<SecretInfo>;
    const NAME: &'static str = "secret.due";
    const SUMMARY: &'static str =
        "Secrets whose rotation is due or that expire within a number of days, soonest first, across the vaults the caller reaches.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/secrets/due";

    async fn run(deck: &Deck, caller: &Caller, input: DueInput) -> Result<Vec<SecretInfo>, DeckError> {
        deck.vaults().secrets_due(caller, input.within_days.unwrap_or(14).clamp(0, 3650)).await
    }
}
