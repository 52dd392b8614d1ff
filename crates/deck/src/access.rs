//! Access to vaults: the role check every vault action passes first, and the
//! admin actions on members and key slots. A refused action is audited as
//! `denied` before the error returns.

use opsdeck_vault::{Role, VaultError};

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
pub(crate) fn granted_role(grant: &opsdeck_core::Grant, vault: &str) -> Option<Role> {
    let reaches = grant.vault.as_deref().is_none_or(|only| only == vault);
    if reaches {
        Role::parse(&grant.role).ok()
    } else {
        None
    }
}
