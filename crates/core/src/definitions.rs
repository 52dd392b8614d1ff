//! Seals on stored definitions that make OpsDeck run a command or write a
//! file chosen by stored data: command jobs, rotation verification commands,
//! config reload hooks and linked files, certificate deploy and DNS hooks.
//!
//! Anyone who can write the store (a member of a shared PostgreSQL store, a
//! compromised service) could otherwise plant a command that every OpsDeck
//! sharing the store runs. So each definition is sealed when a person sets
//! it: an HMAC-SHA256, under the deck's `definitions` key (kept outside the
//! store, like the audit key), of the definition's kind, subject and
//! content, who defined it, the host it was defined on and whether it may
//! run on any host. Before anything runs, the stored definition is checked
//! against its seal; a definition changed or inserted without the key is
//! refused (the caller audits the refusal and shows the error).
//!
//! A seal alone cannot tell an old definition from the current one: someone
//! who kept an earlier sealed row could put it back (or put back one that
//! was removed, such as a revoked API token). So every seal and every
//! removal is also written to the audit trail, in the same transaction,
//! and a definition is accepted only when the trail's newest record of its
//! subject is that very seal. The trail only grows and is anchored outside
//! the store; removing the newer record breaks the chain, which
//! `audit verify` (a daily built-in job) reports.

use serde::Serialize;

use crate::audit::{AuditLog, AuditScope};
use crate::keys::{load_or_create_key, mac_of, macs_equal, Key, SharedKeyAccess};
use crate::{CoreError, Store};

/// The audit action recording a new seal (its details carry the seal's MAC).
pub const SEALED_ACTION: &str = "definition.sealed";
/// The audit action recording that a definition was removed.
pub const REMOVED_ACTION: &str = "definition.removed";

/// The audit target of a definition: its kind and subject.
pub fn audit_target(kind: &str, subject: &str) -> String {
    format!("{kind} {subject}")
}

/// The name of the deck key that seals definitions.
pub const DEFINITIONS_KEY_NAME: &str = "definitions";

/// Who set a definition, where, and where it may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seal {
    /// The actor who set it (`cli:alice`).
    pub defined_by: String,
    /// The host it was set on.
    pub host: String,
    /// True when it may run on any host sharing the store.
    pub run_anywhere: bool,
    /// When it was set.
    pub defined_at_unix_ms: i64,
}

/// Seals and checks the definitions of one store.
pub struct Seals {
    store: Store,
    keys: SharedKeyAccess,
    key: tokio::sync::OnceCell<Key>,
}

impl std::fmt::Debug for Seals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seals").field("store", &self.store).finish_non_exhaustive()
    }
}

/// This machine's host name (what a pinned definition is pinned to).
pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|name| !name.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|name| !name.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

fn seal_mac(key: &Key, kind: &str, subject: &str, content: &serde_json::Value, seal: &Seal) -> [u8; 32] {
    // serde_json keeps object keys sorted, so equal content gives equal text.
    let content = content.to_string();
    mac_of(
        key,
        &[
            b"opsdeck definition v1",
            kind.as_bytes(),
            subject.as_bytes(),
            content.as_bytes(),
            seal.defined_by.as_bytes(),
            seal.host.as_bytes(),
            &[u8::from(seal.run_anywhere)],
            &seal.defined_at_unix_ms.to_be_bytes(),
        ],
    )
}

/// Deletes the seal of `kind` `subject` inside `transaction`.
async fn delete_seal(
    transaction: &mut crate::store::WriteTransaction,
    kind: &str,
    subject: &str,
) -> Result<(), CoreError> {
    sqlx::query("DELETE FROM definition_seals WHERE kind = $1 AND subject = $2")
        .bind(kind)
        .bind(subject)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

impl Seals {
    /// The seals of `store`, made and checked with its `definitions` key.
    pub fn new(store: Store, keys: SharedKeyAccess) -> Seals {
        Seals { store, keys, key: tokio::sync::OnceCell::new() }
    }

    async fn key(&self) -> Result<&Key, CoreError> {
        self.key
            .get_or_try_init(|| async {
                load_or_create_key(&self.store, DEFINITIONS_KEY_NAME, &self.keys.snapshot()).await
            })
            .await
    }

    /// Seals `content` as the `kind` definition of `subject`, set by
    /// `defined_by` on this host (replacing any earlier seal), and writes
    /// `audit` (a [`SEALED_ACTION`] entry on [`audit_target`]) with the
    /// seal's MAC in the same transaction.
    pub async fn seal(
        &self,
        kind: &str,
        subject: &str,
        content: &serde_json::Value,
        defined_by: &str,
        run_anywhere: bool,
        audit: &AuditScope<'_>,
    ) -> Result<Seal, CoreError> {
        let key = self.key().await?;
        let seal = Seal {
            defined_by: defined_by.to_owned(),
            host: this_host(),
            run_anywhere,
            defined_at_unix_ms: crate::clock::now_unix_ms(),
        };
        let mac = seal_mac(key, kind, subject, content, &seal);
        self.store
            .retrying(|| async {
                let mut transaction = self.store.begin_write().await?;
                delete_seal(&mut transaction, kind, subject).await?;
                sqlx::query(
                    "INSERT INTO definition_seals (kind, subject, defined_by, host, run_anywhere, defined_at_unix_ms, mac) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(kind)
                .bind(subject)
                .bind(&seal.defined_by)
                .bind(&seal.host)
                .bind(i64::from(seal.run_anywhere))
                .bind(seal.defined_at_unix_ms)
                .bind(mac.to_vec())
                .execute(&mut *transaction)
                .await?;
                audit.append(&mut transaction, serde_json::json!({ "seal": hex::encode(mac) })).await?;
                transaction.commit().await?;
                Ok::<_, CoreError>(())
            })
            .await?;
        Ok(seal)
    }

    /// Removes the seal of a definition that was removed, writing `audit`
    /// (a [`REMOVED_ACTION`] entry on [`audit_target`]) in the same
    /// transaction, so the definition cannot be put back.
    pub async fn unseal(&self, kind: &str, subject: &str, audit: &AuditScope<'_>) -> Result<(), CoreError> {
        self.store
            .retrying(|| async {
                let mut transaction = self.store.begin_write().await?;
                delete_seal(&mut transaction, kind, subject).await?;
                audit.append(&mut transaction, serde_json::json!({})).await?;
                transaction.commit().await?;
                Ok::<_, CoreError>(())
            })
            .await
    }

    /// Checks the stored `content` of `subject` against its seal and the
    /// seal against the newest record of it in `audit_log`; with `pinned`,
    /// also that it may run on this host.
    pub async fn check(
        &self,
        audit_log: &AuditLog,
        kind: &str,
        subject: &str,
        content: &serde_json::Value,
        pinned: bool,
    ) -> Result<Seal, CoreError> {
        let key = self.key().await?;
        let row: Option<(String, String, i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT defined_by, host, run_anywhere, defined_at_unix_ms, mac FROM definition_seals \
             WHERE kind = $1 AND subject = $2",
        )
        .bind(kind)
        .bind(subject)
        .fetch_optional(self.store.pool())
        .await?;
        let refused = |why: &str| CoreError::DefinitionNotAuthentic {
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            why: why.to_owned(),
        };
        let Some((defined_by, host, run_anywhere, defined_at_unix_ms, mac)) = row else {
            return Err(refused("it has no seal: it was added to the store without OpsDeck"));
        };
        let seal = Seal { defined_by, host, run_anywhere: run_anywhere != 0, defined_at_unix_ms };
        if !macs_equal(&seal_mac(key, kind, subject, content, &seal), &mac) {
            return Err(refused(
                "its seal does not match: it was changed in the store without OpsDeck's key",
            ));
        }
        let target = audit_target(kind, subject);
        let newest = audit_log.newest_authentic(&target, &[SEALED_ACTION, REMOVED_ACTION]).await?;
        match newest {
            None => {
                return Err(refused(
                    "the audit trail has no record of its seal: it was set before seals were recorded \
                     there (set it again), or the record was removed from the store",
                ))
            }
            Some(entry) if entry.action == REMOVED_ACTION => {
                return Err(refused(&format!(
                    "it was removed (audit entry {}) and put back in the store without OpsDeck",
                    entry.seq
                )))
            }
            Some(entry)
                if entry.details.get("seal").and_then(|seal| seal.as_str()) != Some(&hex::encode(&mac)) =>
            {
                return Err(refused(&format!(
                    "it is an older definition put back in the store: the audit trail's newest seal of it \
                     is entry {}",
                    entry.seq
                )))
            }
            Some(_) => {}
        }
        if pinned && !seal.run_anywhere {
            let here = this_host();
            if seal.host != here {
                return Err(CoreError::DefinitionPinned {
                    kind: kind.to_owned(),
                    subject: subject.to_owned(),
                    host: seal.host,
                    here,
                });
            }
        }
        Ok(seal)
    }
}
