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

use std::path::PathBuf;

use crate::keys::{load_or_create_key, mac_of, macs_equal, Key, KeyAccess};
use crate::store::WriteTransaction;
use crate::{Caller, CoreError, Store};

/// The name of the audit chain's key (see [`crate::keys::load_or_create_key`]).
pub const AUDIT_KEY_NAME: &str = "audit";

const HEAD_META_KEY: &str = "audit_head";
const VERIFY_PAGE: i64 = 2000;

crate::word_enum! {
    /// How an audited action ended.
    #[ts(rename = "AuditOutcome")]
    "audit outcome" pub enum Outcome {
        /// It was done.
        Ok = "ok",
        /// The actor was not allowed to do it.
        Denied = "denied",
        /// It was tried and failed.
        Failed = "failed",
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
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
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
    /// How it ended.
    pub outcome: Outcome,
    /// Extra facts, as JSON.
    #[ts(type = "unknown")]
    pub details: serde_json::Value,
    /// Ties the entries of one user action together.
    pub correlation_id: String,
}

/// Which entries to list (all conditions must hold), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, TS, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
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

/// A checkpoint of the chain to keep away from this machine (sent to a
/// webhook on a schedule, or saved by `opsdeck audit checkpoint`): the
/// newest entry's sequence number and MAC, and a MAC of both under the audit
/// key. Checking the trail against it (`audit verify --checkpoint`) finds a
/// store rolled back or replaced even on a machine that keeps no checkpoint
/// of its own, such as a new one after a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
pub struct Checkpoint {
    /// The store the chain belongs to.
    pub store_id: String,
    /// The newest entry when the checkpoint was taken.
    #[ts(type = "number")]
    pub seq: i64,
    /// That entry's MAC (hex).
    pub mac: String,
    /// HMAC of store, sequence number and MAC under the audit key (hex):
    /// only the deck that holds the key can make a checkpoint.
    pub check: String,
    /// When it was taken (informational: not part of `check`).
    #[ts(type = "number")]
    pub at_unix_ms: i64,
}

/// Writes and verifies the audit trail of one store.
pub struct AuditLog {
    store: Store,
    key: Key,
    /// The store's id: the chain's first link is bound to it.
    store_id: String,
    /// The checkpoint kept outside the store, if this process keeps one.
    anchor: Option<PathBuf>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("store", &self.store)
            .field("key", &"<redacted>")
            .field("anchor", &self.anchor)
            .finish()
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

fn entry_from_row(row: Row) -> Result<AuditEntry, CoreError> {
    let (seq, at_unix_ms, actor, action, target, outcome, details, correlation_id, _, _) = row;
    Ok(AuditEntry {
        seq,
        at_unix_ms,
        actor,
        action,
        target,
        outcome: outcome.parse()?,
        // Details are written by `record` as JSON; an unreadable one is shown as text.
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        correlation_id,
    })
}

const SELECT_COLUMNS: &str =
    "seq, at_unix_ms, actor, action, target, outcome, details, correlation_id, prev_mac, mac";

/// What the first entry follows: a MAC of the store's id under the audit
/// key, so a chain is bound to its store and its key (a chain copied from
/// another store, or rewritten under another key, does not verify).
fn genesis_mac(key: &Key, store_id: &str) -> Vec<u8> {
    mac_of(key, &[b"audit genesis", store_id.as_bytes()]).to_vec()
}

fn anchor_mac(key: &Key, store_id: &str, seq: i64, mac: &[u8]) -> [u8; 32] {
    mac_of(key, &[b"audit anchor", store_id.as_bytes(), &seq.to_be_bytes(), mac])
}

/// A checkpoint of the chain kept outside the store: the newest entry this
/// machine saw (its sequence number and MAC), MACed. The store's chain must
/// always reach it with the same MAC there; a store restored in place from an
/// older copy, rolled back or wiped does not.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Anchor {
    seq: i64,
    mac: Vec<u8>,
}

impl Anchor {
    /// Where a chain ending at `last_seq` (with `mac_there` at this anchor's
    /// entry) departs from the anchor: cut short before it (`cut`), or a
    /// different entry there (`replaced`); `None` when it still holds it.
    fn departure(
        &self,
        last_seq: i64,
        mac_there: Option<&[u8]>,
        cut: String,
        replaced: String,
    ) -> Option<(i64, String)> {
        if last_seq < self.seq {
            return Some((last_seq + 1, cut));
        }
        match mac_there {
            Some(mac) if macs_equal(mac, &self.mac) => None,
            _ => Some((self.seq, replaced)),
        }
    }
}

impl AuditLog {
    /// The audit log of `store`: its key loaded (or made, for a store that
    /// never had one), its anchor kept in `anchor_dir` (the data dir).
    ///
    /// A store whose trail has entries, or whose anchor exists, but whose
    /// key record is gone gets no new key: that would hide the old chain.
    pub async fn open(
        store: Store,
        access: &KeyAccess,
        anchor_dir: Option<PathBuf>,
    ) -> Result<AuditLog, CoreError> {
        let store_id = store.store_id().await?;
        let anchor = anchor_dir.map(|dir| dir.join("audit-anchors").join(&store_id));
        // Evidence of a chain first, then the key record: the record is
        // written before any entry (another process may be making both right
        // now), so a record missing *after* entries were seen was deleted.
        let last = AuditLog::last_seq(&store).await?;
        let head: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
            .bind(HEAD_META_KEY)
            .fetch_optional(store.pool())
            .await?;
        let record_exists = || async {
            let found: Option<String> = sqlx::query_scalar("SELECT name FROM deck_keys WHERE name = $1")
                .bind(AUDIT_KEY_NAME)
                .fetch_optional(store.pool())
                .await?;
            Ok::<bool, CoreError>(found.is_some())
        };
        if !record_exists().await? {
            let evidence = if last > 0 {
                Some(format!("its audit trail has {last} entries"))
            } else if head.is_some() {
                Some("its audit trail's head record is there".to_owned())
            } else {
                anchor.as_ref().filter(|path| path.exists()).map(|path| {
                    format!("this machine keeps a checkpoint of its audit trail ({})", path.display())
                })
            };
            // The checkpoint file is read after the record, so a process
            // making the key right now may have written both in between:
            // only a record still missing now is missing.
            if let Some(evidence) = evidence {
                if !record_exists().await? {
                    return Err(CoreError::KeyRecordMissing { name: AUDIT_KEY_NAME.to_owned(), evidence });
                }
            }
        }
        let key = load_or_create_key(&store, AUDIT_KEY_NAME, access).await?;
        Ok(AuditLog { store, key, store_id, anchor })
    }

    /// Reads this machine's checkpoint; `None` when it keeps none yet.
    fn read_anchor(&self) -> Result<Option<Anchor>, String> {
        let Some(path) = &self.anchor else { return Ok(None) };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("its checkpoint {} cannot be read: {error}", path.display())),
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let parsed = match parts[..] {
            ["v1", seq, mac, check] => {
                seq.parse::<i64>().ok().zip(hex::decode(mac).ok()).zip(hex::decode(check).ok())
            }
            _ => None,
        };
        let Some(((seq, mac), check)) = parsed else {
            return Err(format!("its checkpoint {} is unreadable", path.display()));
        };
        if !macs_equal(&anchor_mac(&self.key, &self.store_id, seq, &mac), &check) {
            return Err(format!("its checkpoint {} was edited", path.display()));
        }
        Ok(Some(Anchor { seq, mac }))
    }

    /// Moves this machine's checkpoint forward to the chain's newest entry
    /// (never back). Failing to write it is logged, not fatal: the entry is
    /// committed, and the next one moves the checkpoint on.
    pub async fn advance_anchor(&self) {
        let Some(path) = &self.anchor else { return };
        let tail: Result<Option<(i64, Vec<u8>)>, _> =
            sqlx::query_as("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(self.store.pool())
                .await;
        let Ok(Some((seq, mac))) = tail else { return };
        if matches!(self.read_anchor(), Ok(Some(anchor)) if anchor.seq >= seq) {
            return;
        }
        let text = format!(
            "v1 {seq} {} {}\n",
            hex::encode(&mac),
            hex::encode(anchor_mac(&self.key, &self.store_id, seq, &mac))
        );
        if let Err(error) = write_replacing(path, text.as_bytes()) {
            tracing::warn!(path = %path.display(), %error, "could not move the audit checkpoint forward");
        }
    }

    /// Forgets this machine's checkpoint (after a deliberate restore of an
    /// older store in place) and returns the sequence number it named; the
    /// caller records that it did, which anchors the chain anew.
    pub fn forget_anchor(&self) -> Result<Option<i64>, CoreError> {
        let Some(path) = &self.anchor else { return Ok(None) };
        let seen = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.split_whitespace().nth(1).and_then(|seq| seq.parse().ok()));
        match std::fs::remove_file(path) {
            Ok(()) => Ok(seen),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(CoreError::AuditChainBroken {
                problem: format!("the checkpoint {} cannot be removed: {error}", path.display()),
            }),
        }
    }

    /// What is wrong when the store's chain (ending at `last_seq`) does not
    /// reach this machine's checkpoint `anchor` (as read once by the caller:
    /// other processes move it on) with the same entry there; `mac_at_anchor`
    /// is the store's MAC of that entry (`None` when there is no such entry).
    fn anchor_problem(
        anchor: Result<Option<Anchor>, String>,
        last_seq: i64,
        mac_at_anchor: Option<&[u8]>,
    ) -> Option<(i64, String)> {
        let anchor = match anchor {
            Ok(Some(anchor)) => anchor,
            Ok(None) => return None,
            Err(problem) => return Some((last_seq.max(1), problem)),
        };
        anchor.departure(
            last_seq,
            mac_at_anchor,
            format!(
                "this machine saw entry {} but the store's trail ends at {last_seq}: the store was rolled \
                 back, restored in place from an older copy, or wiped",
                anchor.seq
            ),
            format!(
                "entry {} is not the one this machine saw there: the store's trail was replaced",
                anchor.seq
            ),
        )
    }

    /// A checkpoint's entry, once it is known to be this store's and made
    /// under its audit key; otherwise what is wrong with it.
    fn open_checkpoint(&self, checkpoint: &Checkpoint) -> Result<Anchor, String> {
        if checkpoint.store_id != self.store_id {
            return Err(format!(
                "the checkpoint is of another store ({}), not of this one ({})",
                checkpoint.store_id, self.store_id
            ));
        }
        let (Ok(mac), Ok(check)) = (hex::decode(&checkpoint.mac), hex::decode(&checkpoint.check)) else {
            return Err("the checkpoint is unreadable (its mac and check must be hex)".to_owned());
        };
        if !macs_equal(&anchor_mac(&self.key, &self.store_id, checkpoint.seq, &mac), &check) {
            return Err(
                "the checkpoint was not made with this store's audit key: it was edited or forged, or the \
                 store's audit key was replaced"
                    .to_owned(),
            );
        }
        Ok(Anchor { seq: checkpoint.seq, mac })
    }

    /// Where the chain departs from an outside checkpoint, if it does.
    fn checkpoint_problem(
        checkpoint: &Checkpoint,
        external: &Anchor,
        last_seq: i64,
        mac_there: Option<&[u8]>,
    ) -> Option<(i64, String)> {
        if external.seq == 0 {
            return None;
        }
        let taken = format!("the checkpoint taken at unix ms {}", checkpoint.at_unix_ms);
        external.departure(
            last_seq,
            mac_there,
            format!(
                "{taken} vouches for entry {} but the store's trail ends at {last_seq}: entries were removed \
                 (an older copy of the store restored, or the trail wiped)",
                external.seq
            ),
            format!("entry {} is not the one {taken} vouches for: the trail was replaced", external.seq),
        )
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
        self.advance_anchor().await;
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
        let tail_mac =
            tail.as_ref().map_or_else(|| genesis_mac(&self.key, &self.store_id), |(_, mac)| mac.clone());
        let head_problem = match head {
            None if tail_seq == 0 => None,
            None => Some("the head record is missing".to_owned()),
            Some(text) => self.check_head(&text, tail_seq, &tail_mac).map(|(_, problem)| problem),
        };
        if let Some(problem) = head_problem {
            return Err(CoreError::AuditChainBroken { problem });
        }
        // The chain must still reach this machine's checkpoint.
        let anchor = self.read_anchor();
        let mac_at_anchor: Option<Vec<u8>> = match &anchor {
            Ok(Some(anchor)) if anchor.seq == tail_seq => Some(tail_mac.clone()),
            Ok(Some(anchor)) => {
                sqlx::query_scalar("SELECT mac FROM audit_log WHERE seq = $1")
                    .bind(anchor.seq)
                    .fetch_optional(&mut **transaction)
                    .await?
            }
            _ => None,
        };
        if let Some((_, problem)) = AuditLog::anchor_problem(anchor, tail_seq, mac_at_anchor.as_deref()) {
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
        entry_from_row(row)
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
        rows.into_iter().map(entry_from_row).collect()
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
        rows.into_iter().map(entry_from_row).collect()
    }

    /// The newest entry on `target` whose action is one of `actions`, once
    /// its own MAC is checked (an entry edited in the store is an error, not
    /// an answer). Entries removed after it are found by [`AuditLog::verify`].
    pub async fn newest_authentic(
        &self,
        target: &str,
        actions: &[&str],
    ) -> Result<Option<AuditEntry>, CoreError> {
        let placeholders: Vec<String> = (0..actions.len()).map(|at| format!("${}", at + 2)).collect();
        let sql = format!(
            "SELECT {SELECT_COLUMNS} FROM audit_log WHERE target = $1 AND action IN ({}) \
             ORDER BY seq DESC LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, Row>(&sql).bind(target);
        for action in actions {
            query = query.bind(*action);
        }
        let Some(row) = query.fetch_optional(self.store.pool()).await? else {
            return Ok(None);
        };
        if !macs_equal(&entry_mac(&self.key, &row), &row.9) {
            return Err(CoreError::AuditChainBroken {
                problem: format!("entry {} was changed in the store (its MAC does not match)", row.0),
            });
        }
        entry_from_row(row).map(Some)
    }

    /// The newest entry's sequence number (0 for an empty trail).
    pub async fn last_seq(store: &Store) -> Result<i64, CoreError> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM audit_log").fetch_one(store.pool()).await?;
        Ok(seq.unwrap_or(0))
    }

    /// A checkpoint of the chain as it is now (see [`Checkpoint`]).
    pub async fn checkpoint(&self) -> Result<Checkpoint, CoreError> {
        let tail: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(self.store.pool())
                .await?;
        let (seq, mac) = tail.unwrap_or_else(|| (0, genesis_mac(&self.key, &self.store_id)));
        Ok(Checkpoint {
            store_id: self.store_id.clone(),
            seq,
            mac: hex::encode(&mac),
            check: hex::encode(anchor_mac(&self.key, &self.store_id, seq, &mac)),
            at_unix_ms: crate::clock::now_unix_ms(),
        })
    }

    /// Checks the whole chain, oldest first, and reports the first problem.
    pub async fn verify(&self) -> Result<VerifyReport, CoreError> {
        self.verify_against(None).await
    }

    /// Checks the whole chain, and that it still holds the entry `checkpoint`
    /// (taken earlier, kept elsewhere) vouches for.
    pub async fn verify_against(&self, checkpoint: Option<&Checkpoint>) -> Result<VerifyReport, CoreError> {
        let external = match checkpoint.map(|checkpoint| self.open_checkpoint(checkpoint)).transpose() {
            Ok(external) => external,
            Err(problem) => {
                return Ok(VerifyReport { ok: false, entries: 0, first_bad: Some(0), problem: Some(problem) })
            }
        };
        let mut mac_at_external: Option<Vec<u8>> = None;
        let mut expected_seq = 1_i64;
        let mut previous_mac = genesis_mac(&self.key, &self.store_id);
        // Read once: other processes move it on while the chain is walked.
        let anchor = self.read_anchor();
        let anchor_seq = anchor.as_ref().ok().and_then(|anchor| anchor.as_ref().map(|anchor| anchor.seq));
        let mut mac_at_anchor: Option<Vec<u8>> = None;
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
                    let problem = if seq == 1 {
                        "entry 1 does not begin this store's chain: the trail was copied from another store \
                         or written under another key"
                            .to_owned()
                    } else {
                        format!("entry {seq} was inserted or moved: it does not follow entry {}", seq - 1)
                    };
                    return Ok(bad(seq, checked, problem));
                }
                if !macs_equal(&entry_mac(&self.key, &row), &row.9) {
                    return Ok(bad(seq, checked, format!("entry {seq} was edited or forged")));
                }
                if Some(seq) == anchor_seq {
                    mac_at_anchor = Some(row.9.clone());
                }
                if Some(seq) == external.as_ref().map(|anchor| anchor.seq) {
                    mac_at_external = Some(row.9.clone());
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
        }
        .or_else(|| AuditLog::anchor_problem(anchor, last_seq, mac_at_anchor.as_deref()))
        .or_else(|| {
            let (checkpoint, external) = checkpoint.zip(external)?;
            AuditLog::checkpoint_problem(checkpoint, &external, last_seq, mac_at_external.as_deref())
        });
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

/// Replaces `path` with `bytes` through a new sibling renamed over it (never
/// half-written), readable by its owner only.
fn write_replacing(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut suffix = [0_u8; 6];
    getrandom::fill(&mut suffix).map_err(|error| std::io::Error::other(error.to_string()))?;
    let sibling = dir.join(format!(
        ".{}.{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        hex::encode(suffix)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&sibling)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&sibling, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&sibling);
    }
    written
}
