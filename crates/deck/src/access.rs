//! Access to vaults: the role check every vault action passes first, and the
//! admin actions on members and key slots. A refused action is audited as
//! `denied` before the error returns.

use opsdeck_vault::{MemberInfo, Role, SlotInfo, VaultError};
use zeroize::Zeroizing;

use crate::{Caller, Deck, DeckError, Outcome};

impl Deck {
    /// Checks that `caller` holds at least `needed` in `vault`. The deck's own
    /// actors (the scheduler) act on policies a member set and pass.
    /// `doing` names the action in words for the error ("revealing a value").
    pub(crate) async fn require(
        &self,
        caller: &Caller,
        vault: &str,
        needed: Role,
        action: &str,
        target: &str,
        doing: &str,
    ) -> Result<(), DeckError> {
        let Some(user) = caller.user() else {
            return Ok(());
        };
        // A token's rights are its grant's, never a membership of its name.
        let role = match &caller.grant {
            Some(grant) => granted_role(grant, vault),
            None => self.vaults.role_of(vault, user).await?,
        };
        if role.is_some_and(|role| role >= needed) {
            return Ok(());
        }
        let has = match (role, &caller.grant) {
            (None, Some(_)) => "has a token that does not reach".to_owned(),
            (Some(role), Some(_)) => {
                format!("has a token for {} {} of", article(role.as_str()), role.as_str())
            }
            (None, None) => "is not a member of".to_owned(),
            (Some(role), None) => format!("is {} {} of", article(role.as_str()), role.as_str()),
        };
        let details = serde_json::json!({ "needed": needed.as_str(), "role": role.map(Role::as_str) });
        self.audit(caller, action, target, Outcome::Denied, details).await?;
        Err(VaultError::Forbidden {
            vault: vault.to_owned(),
            member: user.to_owned(),
            has,
            action: doing.to_owned(),
            needed: needed.as_str(),
        }
        .into())
    }

    /// The caller's role in `vault` (`None`: not a member), for the UI to
    /// offer only what the role allows.
    pub async fn vault_role(&self, caller: &Caller, vault: &str) -> Result<Option<Role>, DeckError> {
        match (caller.user(), &caller.grant) {
            (_, Some(grant)) => Ok(granted_role(grant, vault)),
            (Some(user), None) => Ok(self.vaults.role_of(vault, user).await?),
            (None, None) => Ok(Some(Role::Admin)),
        }
    }

    /// [`Deck::require`] on `vault`, or on every vault when `None` (what an
    /// API token reaches).
    pub(crate) async fn require_on(
        &self,
        caller: &Caller,
        vault: Option<&str>,
        needed: Role,
        action: &str,
        target: &str,
        doing: &str,
    ) -> Result<(), DeckError> {
        let reached: Vec<String> = match vault {
            Some(vault) => vec![vault.to_owned()],
            None => self.vaults.list().await?.into_iter().map(|info| info.name).collect(),
        };
        for each in &reached {
            self.require(caller, each, needed, action, target, doing).await?;
        }
        Ok(())
    }

    /// Checks that `caller` is an admin of every vault (the deck-wide
    /// operations: API tokens); a token must be an admin token for every vault.
    pub(crate) async fn require_deck_admin(
        &self,
        caller: &Caller,
        action: &str,
        doing: &str,
    ) -> Result<(), DeckError> {
        if let Some(grant) = &caller.grant {
            if grant.vault.is_some() || grant.role != Role::Admin.as_str() {
                self.audit(
                    caller,
                    action,
                    "deck",
                    Outcome::Denied,
                    serde_json::json!({ "needed": "admin token" }),
                )
                .await?;
                return Err(opsdeck_core::CoreError::NotGranted {
                    why: format!(
                        "{} may not do {doing}: that takes an admin token for every vault",
                        caller.actor
                    ),
                }
                .into());
            }
        }
        for vault in self.vaults.list().await? {
            self.require(caller, &vault.name, Role::Admin, action, &vault.name, doing).await?;
        }
        Ok(())
    }

    /// Refuses to reveal a value to an API token made without the reveal
    /// grant (its role alone is not enough). Audited as denied.
    pub(crate) async fn require_reveal_grant(&self, caller: &Caller, target: &str) -> Result<(), DeckError> {
        let Some(grant) = &caller.grant else { return Ok(()) };
        if grant.reveal {
            return Ok(());
        }
        let details = serde_json::json!({ "needed": "reveal grant" });
        self.audit(caller, "secret.reveal", target, Outcome::Denied, details).await?;
        Err(opsdeck_core::CoreError::NotGranted {
            why: format!(
                "{} may not reveal values: its token was made without the reveal grant; make one with it for that",
                caller.actor
            ),
        }
        .into())
    }

    /// The members of `vault` (any member may look).
    pub async fn vault_members(&self, caller: &Caller, vault: &str) -> Result<Vec<MemberInfo>, DeckError> {
        self.require(caller, vault, Role::Viewer, "vault.members", vault, "listing its members").await?;
        Ok(self.vaults.members(vault).await?)
    }

    /// Gives `member` `role` in `vault` (admins only).
    pub async fn vault_member_set(
        &self,
        caller: &Caller,
        vault: &str,
        member: &str,
        role: Role,
    ) -> Result<MemberInfo, DeckError> {
        let target = format!("{vault}/{member}");
        self.require(caller, vault, Role::Admin, "vault.member_set", &target, "changing members").await?;
        let audit = self.audit.scope(caller, "vault.member_set", &target, serde_json::json!({})).await?;
        let info = self.vaults.set_member(vault, member, role, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(info)
    }

    /// Takes `member` out of `vault` (admins only; never the last admin).
    pub async fn vault_member_remove(
        &self,
        caller: &Caller,
        vault: &str,
        member: &str,
    ) -> Result<(), DeckError> {
        let target = format!("{vault}/{member}");
        self.require(caller, vault, Role::Admin, "vault.member_remove", &target, "changing members").await?;
        let audit = self.audit.scope(caller, "vault.member_remove", &target, serde_json::json!({})).await?;
        self.vaults.remove_member(vault, member, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(())
    }

    /// The key slots of `vault`.
    pub async fn vault_slots(&self, caller: &Caller, vault: &str) -> Result<Vec<SlotInfo>, DeckError> {
        self.require(caller, vault, Role::Viewer, "vault.slots", vault, "listing its key slots").await?;
        Ok(self.vaults.slots(vault).await?)
    }

    /// Adds a keychain slot, or a passphrase slot opened by `passphrase` (admins only).
    pub async fn vault_slot_add(
        &self,
        caller: &Caller,
        vault: &str,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<SlotInfo, DeckError> {
        self.require(caller, vault, Role::Admin, "vault.slot_add", vault, "managing key slots").await?;
        let audit = self.audit.scope(caller, "vault.slot_add", vault, serde_json::json!({})).await?;
        let slot = match &passphrase {
            Some(passphrase) => self.vaults.add_passphrase_slot(vault, passphrase, &audit).await?,
            None => self.vaults.add_keychain_slot(vault, &audit).await?,
        };
        self.audit.announce(&audit).await;
        Ok(slot)
    }

    /// Replaces the vault's passphrase (admins only; the vault must open now).
    pub async fn vault_change_passphrase(
        &self,
        caller: &Caller,
        vault: &str,
        new_passphrase: Zeroizing<String>,
    ) -> Result<SlotInfo, DeckError> {
        self.require(caller, vault, Role::Admin, "vault.passphrase", vault, "changing the passphrase")
            .await?;
        // Without a keychain the deck's own keys sit under the same passphrase: a vault
        // with a different one would need two passphrases at once, and lock its user out.
        if opsdeck_core::keys::deck_keys_under_passphrase(&self.store).await? {
            return Err(VaultError::Invalid(
                "this deck keeps its own keys (the audit key) under the same passphrase, because no OS \
                 keychain was available when it was set up, so one vault cannot get a different passphrase; \
                 add a second passphrase slot with `opsdeck vault slot add VAULT --passphrase` to share the \
                 vault, or move it with `opsdeck vault export` into a deck that uses the OS keychain"
                    .into(),
            )
            .into());
        }
        let audit = self.audit.scope(caller, "vault.passphrase", vault, serde_json::json!({})).await?;
        let slot = self.vaults.change_passphrase(vault, &new_passphrase, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(slot)
    }

    /// Removes a key slot (admins only; never the last one).
    pub async fn vault_slot_remove(
        &self,
        caller: &Caller,
        vault: &str,
        slot_id: &str,
    ) -> Result<(), DeckError> {
        self.require(caller, vault, Role::Admin, "vault.slot_remove", vault, "managing key slots").await?;
        let audit = self.audit.scope(caller, "vault.slot_remove", vault, serde_json::json!({})).await?;
        self.vaults.remove_slot(vault, slot_id, &audit).await?;
        self.audit.announce(&audit).await;
        Ok(())
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The role a token's grant gives on `vault`: its role when it reaches the
/// vault (all vaults, or that one), else none.
fn granted_role(grant: &opsdeck_core::Grant, vault: &str) -> Option<Role> {
    let reaches = grant.vault.as_deref().is_none_or(|only| only == vault);
    if reaches {
        Role::parse(&grant.role).ok()
    } else {
        None
    }
}
