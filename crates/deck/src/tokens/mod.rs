//! Bearer tokens for the local HTTP API (and, later, the MCP server's HTTP
//! transport): made by a person, shown once, kept only as a SHA-256, their
//! rights sealed like the definitions that run commands, revocable.
//!
//! A token's caller is `api:NAME`; its rights come from the token (a role on
//! one vault or on every vault, and whether it may reveal values), never
//! from a membership of that name. Nobody can mint a token with more rights
//! than they hold themselves.

pub mod operations;

use std::time::Duration;

use base64::Engine as _;
use opsdeck_core::api_tokens::{self as tokens, ApiToken};
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{CoreError, Grant};
use opsdeck_vault::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Caller, DeckError, Outcome};

/// A deck's API tokens: `deck.api_tokens()`.
#[derive(Clone, Copy)]
pub struct ApiTokens<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// The definitions kind a token's rights are sealed under.
const API_TOKEN: &str = "api.token";

/// How every token starts, so a leaked one is easy to recognise (and to
/// search for with a secret scanner).
const TOKEN_PREFIX: &str = "odk_";

/// A token just made: the only time its value is shown.
#[derive(Debug, Clone, Serialize)]
pub struct NewApiToken {
    /// The bearer token (`Authorization: Bearer odk_…`).
    pub token: String,
    /// What it allows.
    #[serde(flatten)]
    pub info: ApiToken,
}

/// The tokens this process has checked, by hash. A token read less than
/// [`FRESH_FOR_MS`] ago is trusted without reading its row again (so a
/// revocation or expiry counts within that time); otherwise its row is read,
/// its seal re-checked only when the row changed, and its last use recorded
/// at most every [`TOUCH_EVERY_MS`].
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    checked: std::sync::Mutex<std::collections::HashMap<String, CheckedToken>>,
}

#[derive(Debug, Clone)]
struct CheckedToken {
    /// The sealed content found valid.
    content: serde_json::Value,
    /// The caller it stands for.
    caller: Caller,
    /// When its row was last read.
    read_at: i64,
    /// When its last use was last written.
    touched_at: i64,
}

/// How long a checked token is trusted without reading its row again.
const FRESH_FOR_MS: i64 = 1_000;

/// How often a token's last use is written.
const TOUCH_EVERY_MS: i64 = 60_000;

fn hash_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the seal covers: everything that decides what the token may do.
fn sealed_content(hash: &str, info: &ApiToken) -> serde_json::Value {
    serde_json::json!({
        "hash": hash, "role": info.role, "vault": info.vault, "reveal": info.reveal,
        "expires_at_unix_ms": info.expires_at_unix_ms,
    })
}

fn unauthenticated(why: impl Into<String>) -> DeckError {
    CoreError::Unauthenticated { why: why.into() }.into()
}

impl ApiTokens<'_> {
    /// Makes a token called `name` with `role` on `vault` (every vault when
    /// `None`), valid for `expires_in` (for ever when `None`), allowed to
    /// reveal values when `reveal`. The caller must hold at least `role`
    /// (operator for `reveal`) on every vault the token reaches. Audited.
    pub async fn create(
        self,
        caller: &Caller,
        name: &str,
        role: Role,
        vault: Option<&str>,
        expires_in: Option<Duration>,
        reveal: bool,
    ) -> Result<NewApiToken, DeckError> {
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(opsdeck_vault::VaultError::Invalid(format!(
                "`{name}` cannot name a token: use 1 to 64 letters, digits, `-`, `_` or `.`"
            ))
            .into());
        }
        let needed = if reveal { role.max(Role::Operator) } else { role };
        self.deck
            .require_on(
                caller,
                vault,
                needed,
                "api.token_create",
                name,
                "making an API token with these rights",
            )
            .await?;
        let mut random = Zeroizing::new([0_u8; 32]);
        getrandom::fill(random.as_mut()).map_err(|error| CoreError::Random(error.to_string()))?;
        let token =
            format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*random));
        let hash = hash_of(&token);
        let now = now_unix_ms();
        let expires = expires_in.map(|every| now + i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2));
        let info = ApiToken {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            vault: vault.map(str::to_owned),
            reveal,
            created_by: caller.actor.clone(),
            created_at_unix_ms: now,
            expires_at_unix_ms: expires,
            revoked_at_unix_ms: None,
            last_used_at_unix_ms: None,
        };
        let details = serde_json::json!({
            "role": info.role, "vault": info.vault, "reveal": reveal, "expires_at_unix_ms": expires,
        });
        self.deck.audit(caller, "api.token_create", name, Outcome::Ok, details).await?;
        let inserted = tokens::insert(&self.deck.store, &hash, &info).await?;
        if !inserted {
            return Err(opsdeck_vault::VaultError::Invalid(format!(
                "a token called `{name}` exists; revoke it first (`api token revoke {name}`) or choose another name"
            ))
            .into());
        }
        self.deck.seal_definition(caller, API_TOKEN, name, &sealed_content(&hash, &info), true).await?;
        Ok(NewApiToken { token, info })
    }

    /// Every token, newest first (never their values).
    pub async fn list(self) -> Result<Vec<ApiToken>, DeckError> {
        Ok(tokens::list(&self.deck.store).await?)
    }

    /// Revokes a token at once (it stays listed, marked revoked). Its maker,
    /// or an admin of what it reaches, may revoke it. Audited.
    pub async fn revoke(self, caller: &Caller, name: &str) -> Result<ApiToken, DeckError> {
        let token = self.list().await?.into_iter().find(|token| token.name == name).ok_or_else(|| {
            opsdeck_vault::VaultError::Invalid(format!("there is no token called `{name}`"))
        })?;
        if token.created_by != caller.actor {
            let vault = token.vault.as_deref();
            self.deck
                .require_on(caller, vault, Role::Admin, "api.token_revoke", name, "revoking another's token")
                .await?;
        }
        self.deck.audit(caller, "api.token_revoke", name, Outcome::Ok, serde_json::json!({})).await?;
        tokens::revoke(&self.deck.store, name, now_unix_ms()).await?;
        // Clearing `revoked_at` in the store must not bring the token back.
        self.deck.unseal_definition(caller, API_TOKEN, name).await?;
        let revoked = self.list().await?.into_iter().find(|token| token.name == name);
        Ok(revoked.unwrap_or(token))
    }

    /// The caller a bearer token stands for, or why it is refused. A token
    /// whose stored rights fail their seal is refused and the refusal
    /// audited (someone wrote the table without the deck's key).
    pub async fn authenticate(self, bearer: &str) -> Result<Caller, DeckError> {
        let bearer = bearer.trim();
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(unauthenticated(
                "this is not an OpsDeck API token (they start with `odk_`); make one with `opsdeck api token create`",
            ));
        }
        let hash = hash_of(bearer);
        let now = now_unix_ms();
        let known =
            self.deck.api_token_cache.checked.lock().ok().and_then(|checked| checked.get(&hash).cloned());
        if let Some(known) = known.as_ref().filter(|known| now - known.read_at < FRESH_FOR_MS) {
            // A new correlation id per request; the rest is the token's.
            return Ok(Caller {
                grant: known.caller.grant.clone(),
                ..Caller::new(known.caller.actor.clone())
            });
        }
        let found = tokens::find_by_hash(&self.deck.store, &hash).await?;
        let Some((stored_hash, info)) = found else {
            return Err(unauthenticated("the token is not known here (mistyped, or made for another store)"));
        };
        let caller = Caller::new(format!("api:{}", info.name));
        if let Some(at) = info.revoked_at_unix_ms {
            let details = serde_json::json!({ "why": "revoked", "revoked_at_unix_ms": at });
            self.deck.audit(&caller, "api.refused", &info.name, Outcome::Denied, details).await?;
            return Err(unauthenticated(format!("the token `{}` was revoked; make a new one", info.name)));
        }
        if info.expires_at_unix_ms.is_some_and(|at| at <= now) {
            let details = serde_json::json!({ "why": "expired" });
            self.deck.audit(&caller, "api.refused", &info.name, Outcome::Denied, details).await?;
            return Err(unauthenticated(format!("the token `{}` has expired; make a new one", info.name)));
        }
        let content = sealed_content(&stored_hash, &info);
        let touched_at = match known {
            Some(known) if known.content == content => known.touched_at,
            _ => {
                self.deck.check_definition(&caller, API_TOKEN, &info.name, &content, false).await.map_err(
                    |error| unauthenticated(format!("the token `{}` was refused: {error}", info.name)),
                )?;
                0
            }
        };
        let caller = Caller {
            grant: Some(Grant { role: info.role.clone(), vault: info.vault.clone(), reveal: info.reveal }),
            ..caller
        };
        let touch_due = now - touched_at >= TOUCH_EVERY_MS;
        if let Ok(mut checked) = self.deck.api_token_cache.checked.lock() {
            let touched_at = if touch_due { now } else { touched_at };
            checked.insert(hash, CheckedToken { content, caller: caller.clone(), read_at: now, touched_at });
        }
        if touch_due {
            if let Err(error) = tokens::touch(&self.deck.store, &info.name, now).await {
                // Bookkeeping only: the request goes on.
                tracing::warn!(%error, token = %info.name, "could not record a token's last use");
            }
        }
        Ok(caller)
    }
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![entry::<operations::TokenList>()]
}
