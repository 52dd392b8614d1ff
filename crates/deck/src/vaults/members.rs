//! Members and key slots of a vault: who holds which role, and the slots
//! (keychain, passphrase) that open its key. Admin actions, audited.

use opsdeck_vault::{MemberInfo, Role, SlotInfo, VaultError};
use zeroize::Zeroizing;

use super::Vaults;
use crate::access::granted_role;
use crate::{Caller, DeckError};

impl Vaults<'_> {
    /// The caller's role in `vault` (`None`: not a member), for the UI to
    /// offer only what the role allows.
    pub async fn role(self, caller: &Caller, vault: &str) -> Result<Option<Role>, DeckError> {
        match (caller.user(), &caller.grant) {
            (_, Some(grant)) => Ok(granted_role(grant, vault)),
            (Some(user), None) => Ok(self.deck.vaults.role_of(vault, user).await?),
            (None, None) => Ok(Some(Role::Admin)),
        }
    }

    /// The members of `vault` (any member may look).
    pub async fn members(self, caller: &Caller, vault: &str) -> Result<Vec<MemberInfo>, DeckError> {
        self.deck.require(caller, vault, Role::Viewer, "vault.members", vault, "listing its members").await?;
        Ok(self.deck.vaults.members(vault).await?)
    }

    /// Gives `member` `role` in `vault` (admins only).
    pub async fn member_set(
        self,
        caller: &Caller,
        vault: &str,
        member: &str,
        role: Role,
    ) -> Result<MemberInfo, DeckError> {
        let target = format!("{vault}/{member}");
        self.deck
            .require(caller, vault, Role::Admin, "vault.member_set", &target, "changing members")
            .await?;
        let audit = self.deck.audit.scope(caller, "vault.member_set", &target, serde_json::json!({})).await?;
        let info = self.deck.vaults.set_member(vault, member, role, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(info)
    }

    /// Takes `member` out of `vault` (admins only; never the last admin).
    pub async fn member_remove(self, caller: &Caller, vault: &str, member: &str) -> Result<(), DeckError> {
        let target = format!("{vault}/{member}");
        self.deck
            .require(caller, vault, Role::Admin, "vault.member_remove", &target, "changing members")
            .await?;
        let audit =
            self.deck.audit.scope(caller, "vault.member_remove", &target, serde_json::json!({})).await?;
        self.deck.vaults.remove_member(vault, member, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(())
    }

    /// The key slots of `vault`.
    pub async fn slots(self, caller: &Caller, vault: &str) -> Result<Vec<SlotInfo>, DeckError> {
        self.deck.require(caller, vault, Role::Viewer, "vault.slots", vault, "listing its key slots").await?;
        Ok(self.deck.vaults.slots(vault).await?)
    }

    /// Adds a keychain slot, or a passphrase slot opened by `passphrase` (admins only).
    pub async fn slot_add(
        self,
        caller: &Caller,
        vault: &str,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<SlotInfo, DeckError> {
        self.deck.require(caller, vault, Role::Admin, "vault.slot_add", vault, "managing key slots").await?;
        let audit = self.deck.audit.scope(caller, "vault.slot_add", vault, serde_json::json!({})).await?;
        let slot = match &passphrase {
            Some(passphrase) => self.deck.vaults.add_passphrase_slot(vault, passphrase, &audit).await?,
            None => self.deck.vaults.add_keychain_slot(vault, &audit).await?,
        };
        self.deck.audit.announce(&audit).await;
        Ok(slot)
    }

    /// Replaces the vault's passphrase (admins only; the vault must open now).
    pub async fn change_passphrase(
        self,
        caller: &Caller,
        vault: &str,
        new_passphrase: Zeroizing<String>,
    ) -> Result<SlotInfo, DeckError> {
        self.deck
            .require(caller, vault, Role::Admin, "vault.passphrase", vault, "changing the passphrase")
            .await?;
        // Without a keychain the deck's own keys sit under the same passphrase: a vault
        // with a different one would need two passphrases at once, and lock its user out.
        if opsdeck_core::keys::deck_keys_under_passphrase(&self.deck.store).await? {
            return Err(VaultError::Invalid(
                "this deck keeps its own keys (the audit key) under the same passphrase, because no OS \
                 keychain was available when it was set up, so one vault cannot get a different passphrase; \
                 add a second passphrase slot with `opsdeck vault slot add VAULT --passphrase` to share the \
                 vault, or move it with `opsdeck vault export` into a deck that uses the OS keychain"
                    .into(),
            )
            .into());
        }
        let audit = self.deck.audit.scope(caller, "vault.passphrase", vault, serde_json::json!({})).await?;
        let slot = self.deck.vaults.change_passphrase(vault, &new_passphrase, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(slot)
    }

    /// Removes a key slot (admins only; never the last one).
    pub async fn slot_remove(self, caller: &Caller, vault: &str, slot_id: &str) -> Result<(), DeckError> {
        self.deck
            .require(caller, vault, Role::Admin, "vault.slot_remove", vault, "managing key slots")
            .await?;
        let audit = self.deck.audit.scope(caller, "vault.slot_remove", vault, serde_json::json!({})).await?;
        self.deck.vaults.remove_slot(vault, slot_id, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(())
    }
}
