//! The audit trail: who did what to which target, when, and with what outcome.
//!
//! Entries are append-only and chained: each carries an HMAC-SHA256 (under a
//! key kept outside the store, see [`crate::keys`]) over its own fields and the
//! previous entry's MAC. A head record, MACed too, names the last entry. So
//! [`AuditLog::verify`] finds the first entry that was edited, deleted,
//! inserted or reordered, and a cut-off tail. Reading the log needs no key;
//! writing and verifying do.

use serde::Serialize;
use ts_rs::TS;

use crate::keys::{mac_of, macs_equal, Key};
use crate::store::WriteTransaction;
use crate::{Caller, CoreError, Store};

/// The name of the audit chain's key (see [`crate::keys::load_or_create_key`]).
pub const AUDIT_KEY_NAME: &str = "audit";

const HEAD_META_KEY: &str = "audit_head";
const GENESIS_MAC: [u8; 32] = [0; 32];
const VERIFY_PAGE: i64 = 2000;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It was done.
    Ok,
    /// The actor was not allowed to do it.
    Denied,
    /// It was tried and failed.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// An action to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// What was done, as `area.verb` (e.g. `secret.reveal`, `audit.verify`).
    pub action: String,
    /// What it was done to (e.g. `prod/db-password`).
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Anything else worth keeping (never a secret value).
    pub details: serde_json::Value,
}

/// One recorded entry.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    #[ts(type = "number")]
    pub seq: i64,
    /// When, in milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub at_unix_ms: i64,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// Extra facts, as JSON.
    #[ts(type = "unknown")]
    pub details: serde_json::Value,
    /// Ties the entries of one user action together.
    pub correlation_id: String,
}

/// Which entries to list (all conditions must hold), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, TS)]
#[serde(default)]
pub struct AuditFilter {
    /// Actor contains this text.
    pub actor: Option<String>,
    /// Action starts with this text (`secret.` for every secret action).
    pub action: Option<String>,
    /// Target contains this text.
    pub target: Option<String>,
    /// At or after this time.
    #[ts(type = "number | null")]
    pub since_unix_ms: Option<i64>,
    /// Before this time.
    #[ts(type = "number | null")]
    pub until_unix_ms: Option<i64>,
    /// Only entries older than this one (for paging).
    #[ts(type = "number | null")]
    pub before_seq: Option<i64>,
    /// At most this many (default 100, at most 1000).
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct VerifyReport {
    /// True when every entry and the head check out.
    pub ok: bool,
    /// How many entries were checked.
    #[ts(type = "number")]
    pub entries: i64,
    /// The sequence number of the first bad entry (or where entries are missing).
    #[ts(type = "number | null")]
    pub first_bad: Option<i64>,
    /// What is wrong there, in words.
    pub problem: Option<String>,
}

/// Writes and verifies the audit trail of one store.
pub struct AuditLog {
    store: Store,
    key: Key,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("store", &self.store).field("key", &"<redacted>").finish()
    }
}

type Row = (i64, i64, String, String, String, String, String, String, Vec<u8>, Vec<u8>);

fn entry_mac(key: &Key, row: &Row) -> [u8; 32] {
    let (seq, at, actor, action, target, outcome, details, correlation, prev_mac, _) = row;
    mac_of(
        key,
        &[
            &seq.to_be_bytes(),
            &at.to_be_bytes(),
            actor.as_bytes(),
            action.as_bytes(),
            target.as_bytes(),
            outcome.as_bytes(),
            details.as_bytes(),
            correlation.as_bytes(),
            prev_mac,
        ],
    )
}

fn head_mac(key: &Key, seq: i64, mac: &[u8]) -> [u8; 32] {
    mac_of(key, &[b"audit head", &seq.to_be_bytes(), mac])
}

fn entry_from_row(row: Row) -> AuditEntry {
    let (seq, at_unix_ms, actor, action, target, outcome, details, correlation_id, _, _) = row;
    AuditEntry {
        seq,
        at_unix_ms,
        actor,
        action,
        target,
        outcome,
        // Details are written by `record` as JSON; an unreadable one is shown as text.
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        correlation_id,
    }
}

const SELECT_COLUMNS: &str =
    "seq, at_unix_ms, actor, action, target, outcome, details, correlation_id, prev_mac, mac";

impl AuditLog {
    /// The audit log of `store`, written and checked with `key`.
    pub fn new(store: Store, key: Key) -> AuditLog {
        AuditLog { store, key }
    }

    /// Appends one entry for `caller` and returns it. Safe to call from many
    /// processes at once: a conflicting append is retried on the new tail.
    pub async fn record(&self, caller: &Caller, event: AuditEvent) -> Result<AuditEntry, CoreError> {
        let details = event.details.to_string();
        self.store.retrying(|| self.try_append(caller, &event, &details)).await
    }

    async fn try_append(
        &self,
        caller: &Caller,
        event: &AuditEvent,
        details: &str,
    ) -> Result<AuditEntry, CoreError> {
        let mut transaction = self.store.begin_write().await?;
        let entry = self.append_in(&mut transaction, caller, event, details).await?;
        transaction.commit().await?;
        Ok(entry)
    }

    /// Appends one entry inside `transaction`, the change's own: the entry
    /// and the change it records commit together or not at all.
    pub async fn append_in(
        &self,
        transaction: &mut WriteTransaction,
        caller: &Caller,
        event: &AuditEvent,
        details: &str,
    ) -> Result<AuditEntry, CoreError> {
        // Take the append lock first: a write to one row serialises appenders
        // on both backends (a row lock on PostgreSQL, the writer lock on
        // SQLite), so the tail and head read next are the latest ones.
        sqlx::query("UPDATE store_meta SET value = value WHERE key = 'store_id'")
            .execute(&mut **transaction)
            .await?;
        let tail: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut **transaction)
                .await?;
        // Appending rewrites the head record, so first make sure the head still
        // names the tail: otherwise a cut-off tail would be covered up.
        let head: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
            .bind(HEAD_META_KEY)
            .fetch_optional(&mut **transaction)
            .await?;
        let tail_seq = tail.as_ref().map_or(0, |(seq, _)| *seq);
        let tail_mac = tail.as_ref().map_or(GENESIS_MAC.to_vec(), |(_, mac)| mac.clone());
        let head_problem = match head {
            None if tail_seq == 0 => None,
            None => Some("the head record is missing".to_owned()),
            Some(text) => self.check_head(&text, tail_seq, &tail_mac).map(|(_, problem)| problem),
        };
        if let Some(problem) = head_problem {
            return Err(CoreError::AuditChainBroken { problem });
        }
        let (seq, prev_mac) = (tail_seq + 1, tail_mac);
        let mut row: Row = (
            seq,
            crate::clock::now_unix_ms(),
            caller.audited_actor(),
            event.action.clone(),
            event.target.clone(),
            event.outcome.as_str().to_owned(),
            details.to_owned(),
            caller.correlation_id.clone(),
            prev_mac,
            Vec::new(),
        );
        let mac = entry_mac(&self.key, &row);
        row.9 = mac.to_vec();
        sqlx::query(&format!(
            "INSERT INTO audit_log ({SELECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(row.0)
        .bind(row.1)
        .bind(&row.2)
        .bind(&row.3)
        .bind(&row.4)
        .bind(&row.5)
        .bind(&row.6)
        .bind(&row.7)
        .bind(&row.8)
        .bind(&row.9)
        .execute(&mut **transaction)
        .await?;
        let head = format!("{seq}:{}:{}", hex::encode(mac), hex::encode(head_mac(&self.key, seq, &mac)));
        sqlx::query(
            "INSERT INTO store_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(HEAD_META_KEY)
        .bind(head)
        .execute(&mut **transaction)
        .await?;
        Ok(entry_from_row(row))
    }

    /// Lists entries matching `filter`, newest first. Needs no key.
    pub async fn list(store: &Store, filter: &AuditFilter) -> Result<Vec<AuditEntry>, CoreError> {
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {SELECT_COLUMNS} FROM audit_log \
             WHERE ($1 = '' OR actor LIKE '%' || $1 || '%') \
               AND ($2 = '' OR action LIKE $2 || '%') \
               AND ($3 = '' OR target LIKE '%' || $3 || '%') \
               AND at_unix_ms >= $4 AND at_unix_ms < $5 AND seq < $6 \
             ORDER BY seq DESC LIMIT $7"
        ))
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(filter.action.clone().unwrap_or_default())
        .bind(filter.target.clone().unwrap_or_default())
        .bind(filter.since_unix_ms.unwrap_or(i64::MIN))
        .bind(filter.until_unix_ms.unwrap_or(i64::MAX))
        .bind(filter.before_seq.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
        Ok(rows.into_iter().map(entry_from_row).collect())
    }

    /// Entries after `seq`, oldest first, at most `limit` (following the
    /// trail as other processes append to it). Needs no key.
    pub async fn after(store: &Store, seq: i64, limit: i64) -> Result<Vec<AuditEntry>, CoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(seq)
        .bind(limit.clamp(1, 1000))
        .fetch_all(store.pool())
        .await?;
        Ok(rows.into_iter().map(entry_from_row).collect())
    }

    /// The newest entry's sequence number (0 for an empty trail).
    pub async fn last_seq(store: &Store) -> Result<i64, CoreError> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM audit_log").fetch_one(store.pool()).await?;
        Ok(seq.unwrap_or(0))
    }

    /// Checks the whole chain, oldest first, and reports the first problem.
    pub async fn verify(&self) -> Result<VerifyReport, CoreError> {
        let mut expected_seq = 1_i64;
        let mut previous_mac = GENESIS_MAC.to_vec();
        let mut checked = 0_i64;
        let bad = |first_bad: i64, checked: i64, problem: String| VerifyReport {
            ok: false,
            entries: checked,
            first_bad: Some(first_bad),
            problem: Some(problem),
        };
        loop {
            let page: Vec<Row> = sqlx::query_as(&format!(
                "SELECT {SELECT_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
            ))
            .bind(expected_seq)
            .bind(VERIFY_PAGE)
            .fetch_all(self.store.pool())
            .await?;
            if page.is_empty() {
                break;
            }
            for row in page {
                let seq = row.0;
                if seq != expected_seq {
                    return Ok(bad(
                        expected_seq,
                        checked,
                        format!("entries {expected_seq} to {} were deleted", seq - 1),
                    ));
                }
                if !macs_equal(&row.8, &previous_mac) {
                    return Ok(bad(
                        seq,
                        checked,
                        format!("entry {seq} was inserted or moved: it does not follow entry {}", seq - 1),
                    ));
                }
                if !macs_equal(&entry_mac(&self.key, &row), &row.9) {
                    return Ok(bad(seq, checked, format!("entry {seq} was edited or forged")));
                }
                previous_mac = row.9;
                checked += 1;
                expected_seq += 1;
            }
        }

        let last_seq = expected_seq - 1;
        let head: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
            .bind(HEAD_META_KEY)
            .fetch_optional(self.store.pool())
            .await?;
        let head_problem = match head {
            None if last_seq == 0 => None,
            None => Some((1, "the head record is missing".to_owned())),
            Some(text) => self.check_head(&text, last_seq, &previous_mac),
        };
        Ok(match head_problem {
            None => VerifyReport { ok: true, entries: checked, first_bad: None, problem: None },
            Some((first_bad, problem)) => bad(first_bad, checked, problem),
        })
    }

    /// Checks the head record against the last entry; returns where and what is wrong.
    fn check_head(&self, text: &str, last_seq: i64, last_mac: &[u8]) -> Option<(i64, String)> {
        let parts: Vec<&str> = text.split(':').collect();
        let parsed = match parts[..] {
            [seq, mac, head] => {
                seq.parse::<i64>().ok().zip(hex::decode(mac).ok()).zip(hex::decode(head).ok())
            }
            _ => None,
        };
        let Some(((head_seq, head_entry_mac), stored_head_mac)) = parsed else {
            return Some((last_seq.max(1), "the head record is unreadable".to_owned()));
        };
        if !macs_equal(&head_mac(&self.key, head_seq, &head_entry_mac), &stored_head_mac) {
            return Some((last_seq.max(1), "the head record was edited".to_owned()));
        }
        if head_seq > last_seq {
            return Some((
                last_seq + 1,
                format!("entries {} to {head_seq} were deleted from the end", last_seq + 1),
            ));
        }
        if head_seq < last_seq || !macs_equal(&head_entry_mac, last_mac) {
            return Some((
                head_seq + 1,
                format!("entry {} was appended without the audit key", head_seq + 1),
            ));
        }
        None
    }
}

/// One audit entry written inside the transaction of the change it records
/// (see [`AuditLog::append_in`]): the service that makes the change calls
/// [`AuditScope::append`] before it commits, so a change is never stored
/// without its entry, and an entry never names a change that was rolled back.
pub struct AuditScope<'a> {
    log: &'a AuditLog,
    caller: &'a Caller,
    action: String,
    target: String,
    outcome: Outcome,
    details: serde_json::Value,
    written: std::sync::Mutex<Option<AuditEntry>>,
}

impl<'a> AuditScope<'a> {
    /// An entry `action` on `target` by `caller`, with `details` (to which
    /// the service adds what only it knows, such as the new version).
    pub fn new(
        log: &'a AuditLog,
        caller: &'a Caller,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> AuditScope<'a> {
        AuditScope {
            log,
            caller,
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: Outcome::Ok,
            details,
            written: std::sync::Mutex::new(None),
        }
    }

    /// The same entry, recording an action that ended in `outcome` (a
    /// rotation taken back when its check failed).
    pub fn with_outcome(mut self, outcome: Outcome) -> AuditScope<'a> {
        self.outcome = outcome;
        self
    }

    /// The user behind the caller (`alice` of `cli:alice`), or the whole
    /// actor for the deck's own actors.
    pub fn user(&self) -> &str {
        self.caller.user().unwrap_or(&self.caller.actor)
    }

    /// Who acts (recorded as the author of what the change stores).
    pub fn actor(&self) -> &str {
        &self.caller.actor
    }

    /// Writes the entry inside `transaction`, with `extra` merged into its
    /// details. A transaction retried whole writes it again; the entry of
    /// the last attempt is the one kept.
    pub async fn append(
        &self,
        transaction: &mut WriteTransaction,
        extra: serde_json::Value,
    ) -> Result<(), CoreError> {
        let mut details = self.details.clone();
        if let (Some(details), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra) {
            details.extend(extra);
        }
        let event = AuditEvent {
            action: self.action.clone(),
            target: self.target.clone(),
            outcome: self.outcome,
            details: details.clone(),
        };
        let entry = self.log.append_in(transaction, self.caller, &event, &details.to_string()).await?;
        *self.written.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(entry);
        Ok(())
    }

    /// The entry written (once its transaction committed), to announce.
    pub fn written(&self) -> Option<AuditEntry> {
        self.written.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}
