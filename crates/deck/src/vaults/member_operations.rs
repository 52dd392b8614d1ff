//! Vaults themselves: making one, who may do what in it, and changing that.

use opsdeck_vault::{MemberInfo, Role, SlotInfo, VaultInfo};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::vaults::InVault;
use crate::catalogue::{Effect, Method, Operation};
use crate::{Caller, Deck, DeckError};

/// A vault to make.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct VaultCreateInput {
    /// Its name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Keep its key under the deck's passphrase instead of the OS keychain.
    #[serde(default)]
    pub no_keychain: bool,
}

/// `vault.create`.
pub struct VaultCreate;

impl Operation for VaultCreate {
    type Input = VaultCreateInput;
    type Output = VaultInfo;
    const NAME: &'static str = "vault.create";
    const SUMMARY: &'static str =
        "Makes a vault with its own data key (in the OS keychain unless no_keychain); its maker becomes its admin.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults";

    async fn run(deck: &Deck, caller: &Caller, input: VaultCreateInput) -> Result<VaultInfo, DeckError> {
        deck.vaults().init(caller, &input.name, input.no_keychain).await
    }
}

/// Who may do what in a vault.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct VaultAccess {
    /// The caller, as the vault's members list names people.
    pub me: String,
    /// The caller's role (`null`: not a member).
    pub role: Option<Role>,
    /// The members (empty when the caller is not one).
    pub members: Vec<MemberInfo>,
    /// The key slots (empty when the caller is not a member).
    pub slots: Vec<SlotInfo>,
}

/// `vault.access`.
pub struct VaultAccessOperation;

impl Operation for VaultAccessOperation {
    type Input = InVault;
    type Output = VaultAccess;
    const NAME: &'static str = "vault.access";
    const SUMMARY: &'static str =
        "The caller's role in a vault, and (for members) its members and key slots.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/vaults/{vault}/access";

    async fn run(deck: &Deck, caller: &Caller, input: InVault) -> Result<VaultAccess, DeckError> {
        let role = deck.vaults().role(caller, &input.vault).await?;
        let (members, slots) = if role.is_some() {
            (
                deck.vaults().members(caller, &input.vault).await?,
                deck.vaults().slots(caller, &input.vault).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(VaultAccess { me: caller.user().unwrap_or(&caller.actor).to_owned(), role, members, slots })
    }
}

/// A member and the role to give them.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct MemberSetInput {
    /// The vault's name.
    pub vault: String,
    /// The member's OS account name.
    pub member: String,
    /// The role to give.
    pub role: Role,
}

/// `vault.member_set`.
pub struct VaultMemberSet;

impl Operation for VaultMemberSet {
    type Input = MemberSetInput;
    type Output = MemberInfo;
    const NAME: &'static str = "vault.member_set";
    const SUMMARY: &'static str =
        "Gives a person a role in a vault (viewer, operator or admin); a vault keeps at least one admin.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/vaults/{vault}/members";

    async fn run(deck: &Deck, caller: &Caller, input: MemberSetInput) -> Result<MemberInfo, DeckError> {
        deck.vaults().member_set(caller, &input.vault, &input.member, input.role).await
    }
}

/// A member of a vault.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneMember {
    /// The vault's name.
    pub vault: String,
    /// The member's OS account name.
    pub member: String,
}

/// What a member removal did.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct MemberRemoved {
    /// The vault.
    pub vault: String,
    /// Who is no longer a member.
    pub removed: String,
}

/// `vault.member_remove`.
pub struct VaultMemberRemove;

impl Operation for VaultMemberRemove {
    type Input = OneMember;
    type Output = MemberRemoved;
    const NAME: &'static str = "vault.member_remove";
    const SUMMARY: &'static str = "Takes a person out of a vault (not its last admin).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/vaults/{vault}/members/{member}";

    async fn run(deck: &Deck, caller: &Caller, input: OneMember) -> Result<MemberRemoved, DeckError> {
        deck.vaults().member_remove(caller, &input.vault, &input.member).await?;
        Ok(MemberRemoved { vault: input.vault, removed: input.member })
    }
}

/// A vault's new passphrase. Not `Debug`: it holds the passphrase.
#[derive(Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct NewPassphrase {
    /// The vault's name.
    pub vault: String,
    /// The new passphrase (zeroized after use).
    #[schemars(with = "String")]
    #[ts(type = "string")]
    pub passphrase: zeroize::Zeroizing<String>,
}

/// `vault.change_passphrase`.
pub struct VaultChangePassphrase;

impl Operation for VaultChangePassphrase {
    type Input = NewPassphrase;
    type Output = SlotInfo;
    const NAME: &'static str = "vault.change_passphrase";
    const SUMMARY: &'static str =
        "Changes the passphrase that opens a vault (vault admins only); the old one stops working at once.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/vaults/{vault}/passphrase";

    async fn run(deck: &Deck, caller: &Caller, input: NewPassphrase) -> Result<SlotInfo, DeckError> {
        deck.vaults().change_passphrase(caller, &input.vault, input.passphrase).await
    }
}
