//! Vaults and their secrets: create a vault with its key slots, unlock it,
//! and keep every value of every secret as a sealed version.

use opsdeck_core::audit::AuditScope;
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::keys::{self, Key, SharedKeyAccess};
use opsdeck_core::{Store, StoreKind};
use serde::Serialize;
use sqlx::migrate::Migrator;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::envelope::{open_version, seal_version, unwrap_data_key, wrap_data_key};
use crate::types::{check_name, SecretType};
use crate::VaultError;

/// This crate's migrations for the store's backend (versions 1000–1999).
pub fn migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// A vault as listed (no keys, no values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct VaultInfo {
    /// The vault's name.
    pub name: String,
    /// Its key slots' kinds: `keychain`, `passphrase`.
    pub slots: Vec<String>,
    /// How many secrets it holds.
    #[ts(type = "number")]
    pub secrets: i64,
    /// When it was made.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
}

/// A secret's metadata, readable while locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct SecretInfo {
    /// The vault.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub secret_type: SecretType,
    /// The current version.
    #[ts(type = "number")]
    pub version: i64,
    /// When the current version was made.
    #[ts(type = "number")]
    pub updated_at: i64,
    /// Free-form labels, sorted.
    pub tags: Vec<String>,
    /// A note for people (what it is for, who owns it).
    pub note: String,
    /// The rotation policy: rotate every this many days.
    #[ts(type = "number | null")]
    pub rotate_every_days: Option<i64>,
    /// The shell command that checks a scheduled rotation's new value.
    pub rotate_verify: Option<String>,
    /// When the current value is due for rotation (its time plus the policy).
    #[ts(type = "number | null")]
    pub rotation_due_at: Option<i64>,
    /// When the value stops working (set by the user, e.g. a token's expiry).
    #[ts(type = "number | null")]
    pub expires_at: Option<i64>,
}

/// A change to a secret's metadata; `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataChange {
    /// New tags (replacing the old ones).
    pub tags: Option<Vec<String>>,
    /// A new note.
    pub note: Option<String>,
    /// A new rotation policy (`Some(None)` removes it).
    pub rotate_every_days: Option<Option<i64>>,
    /// A new verification command for scheduled rotations (`Some(None)` removes it).
    pub rotate_verify: Option<Option<String>>,
    /// A new expiry (`Some(None)` removes it).
    pub expires_at: Option<Option<i64>>,
}

impl MetadataChange {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &MetadataChange::default()
    }

    /// Checks the change, normalising tags (trimmed, sorted, unique).
    fn checked(&self) -> Result<MetadataChange, VaultError> {
        let mut change = self.clone();
        if let Some(tags) = &mut change.tags {
            for tag in tags.iter_mut() {
                *tag = tag.trim().to_owned();
                let valid = !tag.is_empty()
                    && tag.len() <= 40
                    && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
                if !valid {
                    return Err(VaultError::Invalid(format!(
                        "`{tag}` is not a valid tag: use 1–40 letters, digits, `-`, `_`, `.` or `:`"
                    )));
                }
            }
            tags.sort();
            tags.dedup();
            if tags.len() > 20 {
                return Err(VaultError::Invalid("a secret can have at most 20 tags".into()));
            }
        }
        if let Some(note) = &change.note {
            if note.chars().count() > 2000 {
                return Err(VaultError::Invalid("the note is longer than 2000 characters".into()));
            }
        }
        if let Some(Some(days)) = change.rotate_every_days {
            if !(1..=3650).contains(&days) {
                return Err(VaultError::Invalid(
                    "the rotation policy must be between 1 and 3650 days".into(),
                ));
            }
        }
        Ok(change)
    }
}

/// The columns [`SecretRow`] reads, after `FROM secrets s JOIN vaults v`.
const SECRET_COLUMNS: &str = "v.name, s.name, s.secret_type, s.current_version, s.updated_at_unix_ms, \
     s.tags, s.note, s.rotate_every_days, s.rotate_verify, s.expires_at_unix_ms";

type SecretRow = (String, String, String, i64, i64, String, String, Option<i64>, Option<String>, Option<i64>);

impl SecretInfo {
    /// The earlier of its rotation due time and its expiry.
    pub fn due_at(&self) -> Option<i64> {
        match (self.rotation_due_at, self.expires_at) {
            (Some(rotation), Some(expiry)) => Some(rotation.min(expiry)),
            (rotation, expiry) => rotation.or(expiry),
        }
    }

    fn from_row(row: SecretRow) -> Result<SecretInfo, VaultError> {
        let (
            vault,
            name,
            secret_type,
            version,
            updated_at,
            tags,
            note,
            rotate_every_days,
            rotate_verify,
            expires_at,
        ) = row;
        Ok(SecretInfo {
            vault,
            name,
            secret_type: SecretType::parse(&secret_type)?,
            version,
            updated_at,
            // Written only by this crate as a JSON array; a damaged value shows as no tags.
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            note,
            rotate_every_days,
            rotate_verify,
            rotation_due_at: rotate_every_days.map(|days| updated_at + days * 86_400_000),
            expires_at,
        })
    }
}

/// One version in a secret's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct VersionInfo {
    /// The version number, from 1.
    #[ts(type = "number")]
    pub version: i64,
    /// When it was made.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
    /// Who made it.
    pub created_by: String,
    /// Whether it is the current one.
    pub current: bool,
}

/// A value to store as a secret's new version, with metadata changes.
/// `Debug` never shows the value; it is wiped on drop.
#[derive(Clone)]
pub struct SecretWrite {
    /// The secret's name in the vault.
    pub name: String,
    /// Its type.
    pub secret_type: SecretType,
    /// The value.
    pub value: Zeroizing<String>,
    /// Metadata to set with it.
    pub metadata: MetadataChange,
}

impl std::fmt::Debug for SecretWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretWrite")
            .field("name", &self.name)
            .field("secret_type", &self.secret_type)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// A revealed value. `Debug` never shows the value; it is wiped on drop.
#[derive(Clone, Serialize)]
pub struct SecretValue {
    /// The vault.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// The version revealed.
    pub version: i64,
    /// Its type.
    #[serde(rename = "type")]
    pub secret_type: SecretType,
    /// The value (UTF-8; binary values are not supported yet).
    #[serde(serialize_with = "serialize_revealed")]
    pub value: Zeroizing<String>,
}

/// Serialises a revealed value (only ever for an explicit reveal's output).
fn serialize_revealed<S: serde::Serializer>(
    value: &Zeroizing<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretValue")
            .field("vault", &self.vault)
            .field("name", &self.name)
            .field("version", &self.version)
            .field("value", &"<redacted>")
            .finish()
    }
}

pub(crate) fn random_id(prefix: &str) -> Result<String, VaultError> {
    let mut bytes = [0_u8; 12];
    getrandom::fill(&mut bytes).map_err(|error| VaultError::Random(error.to_string()))?;
    Ok(format!("{prefix}_{}", hex::encode(bytes)))
}

/// The vaults of one store.
#[derive(Clone)]
pub struct Vaults {
    pub(crate) store: Store,
    pub(crate) keys: SharedKeyAccess,
}

impl std::fmt::Debug for Vaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vaults").field("store", &self.store).finish()
    }
}

type SlotRow = (String, String, Option<Vec<u8>>, Option<String>, Vec<u8>);

impl Vaults {
    /// The vaults of `store`, unlocked with `keys` (keychain, passphrase).
    pub fn new(store: Store, keys: SharedKeyAccess) -> Vaults {
        Vaults { store, keys }
    }

    /// Makes a vault with a new random data key, wrapped by a keychain slot
    /// (unless `no_keychain`, or no keychain is reachable) and a passphrase
    /// slot (when a passphrase was given). At least one slot must be made.
    /// `creator` becomes the vault's first admin.
    pub async fn init(
        &self,
        name: &str,
        no_keychain: bool,
        audit: &AuditScope<'_>,
    ) -> Result<VaultInfo, VaultError> {
        let creator = audit.user();
        check_name("vault", name)?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM vaults WHERE name = $1")
            .bind(name)
            .fetch_optional(self.store.pool())
            .await?;
        if exists.is_some() {
            return Err(VaultError::VaultExists { name: name.to_owned() });
        }
        let access = self.keys.snapshot();
        let vault_id = random_id("vlt")?;
        let data_key = keys::random_key()?;
        let store_id = self.store.store_id().await?;
        let mut slots: Vec<SlotRow> = Vec::new();
        let mut keychain_problem = None;
        if !no_keychain && !access.no_keychain {
            let slot_id = random_id("slot")?;
            let slot_key = keys::random_key()?;
            match keys::keychain_put(
                store_id.clone(),
                format!("vault/{vault_id}/{slot_id}"),
                slot_key.clone(),
            )
            .await
            {
                Ok(()) => {
                    let wrapped = wrap_data_key(&slot_key, &vault_id, &slot_id, &data_key)?;
                    slots.push((slot_id, "keychain".into(), None, None, wrapped));
                }
                Err(reason) => keychain_problem = Some(reason),
            }
        }
        if let Some(passphrase) = &access.passphrase {
            crate::slots::check_new_passphrase("the passphrase (OPSDECK_PASSPHRASE)", passphrase)?;
            let slot_id = random_id("slot")?;
            let mut salt = [0_u8; 16];
            getrandom::fill(&mut salt).map_err(|error| VaultError::Random(error.to_string()))?;
            let params = keys::default_kdf_params();
            let slot_key = keys::derive_from_passphrase(passphrase, &salt, &params)?;
            let wrapped = wrap_data_key(&slot_key, &vault_id, &slot_id, &data_key)?;
            slots.push((slot_id, "passphrase".into(), Some(salt.to_vec()), Some(params), wrapped));
        }
        if slots.is_empty() {
            let reason = match keychain_problem {
                Some(problem) => {
                    format!("no OS keychain is reachable ({problem}) and no passphrase was given")
                }
                None => "--no-keychain was given but no passphrase".to_owned(),
            };
            return Err(VaultError::Locked {
                name: name.to_owned(),
                reason: format!("{reason}; set OPSDECK_PASSPHRASE or pass --passphrase-stdin"),
            });
        }

        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("INSERT INTO vaults (id, name, created_at_unix_ms) VALUES ($1, $2, $3)")
            .bind(&vault_id)
            .bind(name)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        for (slot_id, kind, salt, params, wrapped) in &slots {
            sqlx::query(
                "INSERT INTO vault_slots (id, vault_id, kind, kdf_salt, kdf_params, wrapped_key, created_at_unix_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(slot_id)
            .bind(&vault_id)
            .bind(kind)
            .bind(salt)
            .bind(params)
            .bind(wrapped)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query(
            "INSERT INTO vault_members (vault_id, member, role, added_at_unix_ms) VALUES ($1, $2, 'admin', $3)",
        )
        .bind(&vault_id)
        .bind(creator)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let kinds: Vec<&str> = slots.iter().map(|slot| slot.1.as_str()).collect();
        audit.append(&mut transaction, serde_json::json!({ "slots": kinds })).await?;
        transaction.commit().await?;
        Ok(VaultInfo {
            name: name.to_owned(),
            slots: slots.into_iter().map(|slot| slot.1).collect(),
            secrets: 0,
            created_at_unix_ms: now,
        })
    }

    /// Every vault, by name.
    pub async fn list(&self) -> Result<Vec<VaultInfo>, VaultError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at_unix_ms FROM vaults ORDER BY name")
                .fetch_all(self.store.pool())
                .await?;
        let mut vaults = Vec::new();
        for (id, name, created_at_unix_ms) in rows {
            let slots: Vec<String> =
                sqlx::query_scalar("SELECT kind FROM vault_slots WHERE vault_id = $1 ORDER BY kind")
                    .bind(&id)
                    .fetch_all(self.store.pool())
                    .await?;
            let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secrets WHERE vault_id = $1")
                .bind(&id)
                .fetch_one(self.store.pool())
                .await?;
            vaults.push(VaultInfo { name, slots, secrets, created_at_unix_ms });
        }
        Ok(vaults)
    }

    pub(crate) async fn vault_id(&self, name: &str) -> Result<String, VaultError> {
        sqlx::query_scalar("SELECT id FROM vaults WHERE name = $1")
            .bind(name)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| VaultError::UnknownVault { name: name.to_owned() })
    }

    /// The vault's data key, from its keychain slot or else its passphrase slot.
    pub(crate) async fn unlock(&self, name: &str, vault_id: &str) -> Result<Key, VaultError> {
        let slots: Vec<SlotRow> = sqlx::query_as(
            "SELECT id, kind, kdf_salt, kdf_params, wrapped_key FROM vault_slots WHERE vault_id = $1 ORDER BY kind",
        )
        .bind(vault_id)
        .fetch_all(self.store.pool())
        .await?;
        let store_id = self.store.store_id().await?;
        let access = self.keys.snapshot();
        let mut problems = Vec::new();
        let mut tried_passphrase = false;
        for (slot_id, kind, salt, params, wrapped) in &slots {
            match kind.as_str() {
                "keychain" if !access.no_keychain => {
                    match keys::keychain_get(store_id.clone(), format!("vault/{vault_id}/{slot_id}")).await {
                        Ok(Some(slot_key)) => match unwrap_data_key(&slot_key, vault_id, slot_id, wrapped) {
                            Some(data_key) => return Ok(data_key),
                            None => {
                                problems.push("the keychain holds a different key for this vault".to_owned())
                            }
                        },
                        Ok(None) => problems.push(
                            "the keychain has no key for this vault (another user or machine?)".to_owned(),
                        ),
                        Err(reason) => problems.push(format!("no OS keychain is reachable ({reason})")),
                    }
                }
                "passphrase" => {
                    let Some(passphrase) = &access.passphrase else {
                        problems.push("it has a passphrase slot but no passphrase was given".to_owned());
                        continue;
                    };
                    tried_passphrase = true;
                    let (Some(salt), Some(params)) = (salt, params) else {
                        problems.push("its passphrase slot is damaged".to_owned());
                        continue;
                    };
                    let slot_key = keys::derive_from_passphrase(passphrase, salt, params)?;
                    if let Some(data_key) = unwrap_data_key(&slot_key, vault_id, slot_id, wrapped) {
                        return Ok(data_key);
                    }
                }
                _ => {}
            }
        }
        if tried_passphrase {
            return Err(VaultError::WrongPassphrase { name: name.to_owned() });
        }
        Err(VaultError::Locked {
            name: name.to_owned(),
            reason: format!("{}; set OPSDECK_PASSPHRASE or pass --passphrase-stdin", problems.join("; ")),
        })
    }

    /// Stores `value` as a new version of `vault/name` (creating the secret).
    pub async fn set(
        &self,
        vault: &str,
        name: &str,
        secret_type: SecretType,
        value: &[u8],
        metadata: &MetadataChange,
        audit: &AuditScope<'_>,
    ) -> Result<SecretInfo, VaultError> {
        let value = std::str::from_utf8(value).map_err(|_| {
            VaultError::Invalid("the value is not UTF-8 text; binary values are not supported yet".into())
        })?;
        let write = SecretWrite {
            name: name.to_owned(),
            secret_type,
            value: Zeroizing::new(value.to_owned()),
            metadata: metadata.clone(),
        };
        let mut infos = self.set_many(vault, std::slice::from_ref(&write), audit).await?;
        infos.pop().ok_or_else(|| VaultError::Invalid("nothing was stored".into()))
    }

    /// Stores each write as a new version of its secret, all in one
    /// transaction: either every secret gets its new version or none does.
    pub async fn set_many(
        &self,
        vault: &str,
        writes: &[SecretWrite],
        audit: &AuditScope<'_>,
    ) -> Result<Vec<SecretInfo>, VaultError> {
        let mut checked = Vec::with_capacity(writes.len());
        for write in writes {
            check_name("secret", &write.name)?;
            checked.push(write.metadata.checked()?);
        }
        let vault_id = self.vault_id(vault).await?;
        let data_key = self.unlock(vault, &vault_id).await?;
        let now = now_unix_ms();
        // Everything the attempt does is inside its transaction, so a
        // PostgreSQL deadlock between two imports can be retried whole.
        self.store
            .retrying(|| self.write_versions(&vault_id, &data_key, writes, &checked, audit, now))
            .await?;
        let mut infos = Vec::with_capacity(writes.len());
        for write in writes {
            infos.push(self.info(vault, &write.name).await?);
        }
        Ok(infos)
    }

    /// One attempt at [`Vaults::set_many`]'s transaction.
    async fn write_versions(
        &self,
        vault_id: &str,
        data_key: &Key,
        writes: &[SecretWrite],
        checked: &[MetadataChange],
        audit: &AuditScope<'_>,
        now: i64,
    ) -> Result<(), VaultError> {
        let mut transaction = self.store.begin_write().await?;
        let mut versions = serde_json::Map::new();
        for (write, metadata) in writes.iter().zip(checked) {
            let (secret_id, version) =
                next_version(&mut transaction, vault_id, &write.name, write.secret_type, now).await?;
            let (nonce, ciphertext) =
                seal_version(data_key, vault_id, &secret_id, version, write.value.as_bytes())?;
            sqlx::query(
                "INSERT INTO secret_versions (secret_id, version, nonce, ciphertext, created_at_unix_ms, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&secret_id)
            .bind(version)
            .bind(nonce.to_vec())
            .bind(ciphertext)
            .bind(now)
            .bind(audit.actor())
            .execute(&mut *transaction)
            .await?;
            apply_metadata(&mut transaction, &secret_id, metadata).await?;
            set_pointer(&mut transaction, data_key, vault_id, &secret_id, &write.name, version).await?;
            versions.insert(write.name.clone(), version.into());
        }
        // One secret's entry names its version; an import's names each secret's.
        let extra = match (writes.len(), versions.values().next()) {
            (1, Some(version)) => serde_json::json!({ "version": version }),
            _ => serde_json::json!({ "versions": versions }),
        };
        audit.append(&mut transaction, extra).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Changes a secret's metadata (no new version: the value is unchanged).
    pub async fn set_metadata(
        &self,
        vault: &str,
        name: &str,
        change: &MetadataChange,
        audit: &AuditScope<'_>,
    ) -> Result<SecretInfo, VaultError> {
        let change = change.checked()?;
        let (_, secret_id, _, _) = self.secret_row(vault, name).await?;
        let mut transaction = self.store.begin_write().await?;
        apply_metadata(&mut transaction, &secret_id, &change).await?;
        audit.append(&mut transaction, serde_json::json!({})).await?;
        transaction.commit().await?;
        self.info(vault, name).await
    }

    /// One secret's metadata.
    pub async fn info(&self, vault: &str, name: &str) -> Result<SecretInfo, VaultError> {
        let row: Option<SecretRow> = sqlx::query_as(&format!(
            "SELECT {SECRET_COLUMNS} FROM secrets s JOIN vaults v ON v.id = s.vault_id WHERE v.name = $1 AND s.name = $2"
        ))
        .bind(vault)
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(SecretInfo::from_row)
            .ok_or_else(|| VaultError::UnknownSecret { reference: format!("{vault}/{name}") })?
    }

    async fn secret_row(&self, vault: &str, name: &str) -> Result<(String, String, String, i64), VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, secret_type, current_version FROM secrets WHERE vault_id = $1 AND name = $2",
        )
        .bind(&vault_id)
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?;
        let (secret_id, secret_type, current) =
            row.ok_or_else(|| VaultError::UnknownSecret { reference: format!("{vault}/{name}") })?;
        Ok((vault_id, secret_id, secret_type, current))
    }

    /// Reveals a version of `vault/name` (the current one by default).
    pub async fn get(
        &self,
        vault: &str,
        name: &str,
        version: Option<i64>,
    ) -> Result<SecretValue, VaultError> {
        // The current version and its MAC in one read: a writer committing in
        // between would otherwise pair one version with the next one's MAC.
        let vault_id = self.vault_id(vault).await?;
        let row: Option<(String, String, i64, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT id, secret_type, current_version, pointer_mac FROM secrets WHERE vault_id = $1 AND name = $2",
        )
        .bind(&vault_id)
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?;
        let (secret_id, secret_type, current, pointer) =
            row.ok_or_else(|| VaultError::UnknownSecret { reference: format!("{vault}/{name}") })?;
        let version = version.unwrap_or(current);
        let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT nonce, ciphertext FROM secret_versions WHERE secret_id = $1 AND version = $2",
        )
        .bind(&secret_id)
        .bind(version)
        .fetch_optional(self.store.pool())
        .await?;
        let (nonce, ciphertext) =
            row.ok_or_else(|| VaultError::UnknownSecret { reference: format!("{vault}/{name}#{version}") })?;
        let data_key = self.unlock(vault, &vault_id).await?;
        let expected = pointer_mac(&data_key, &vault_id, &secret_id, name, current);
        if !pointer.is_some_and(|stored| keys::macs_equal(&stored, &expected)) {
            return Err(VaultError::Integrity {
                what: format!("{vault}/{name}'s name and current version ({current})"),
            });
        }
        if version > current {
            return Err(VaultError::UnknownSecret { reference: format!("{vault}/{name}#{version}") });
        }
        let plain = open_version(&data_key, &vault_id, &secret_id, version, &nonce, &ciphertext)
            .map_err(|_| VaultError::Integrity { what: format!("{vault}/{name} version {version}") })?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| VaultError::Integrity { what: format!("{vault}/{name} version {version}") })?;
        Ok(SecretValue {
            vault: vault.to_owned(),
            name: name.to_owned(),
            version,
            secret_type: SecretType::parse(&secret_type)?,
            value: Zeroizing::new(text),
        })
    }

    /// Secrets (of one vault, or all), by vault and name.
    pub async fn secrets(&self, vault: Option<&str>) -> Result<Vec<SecretInfo>, VaultError> {
        // The list comes back as one JSON array in one row: through sqlx
        // every row is a hand-off from the database's thread to ours, and
        // those hand-offs were most of the time a list of 10,000 took.
        let aggregate = match self.store.kind() {
            StoreKind::Sqlite => {
                format!("json_group_array(json_array({SECRET_COLUMNS}) ORDER BY v.name, s.name)")
            }
            StoreKind::Postgres => format!(
                "COALESCE(json_agg(json_build_array({SECRET_COLUMNS}) ORDER BY v.name, s.name)::text, '[]')"
            ),
        };
        let list: String = sqlx::query_scalar(&format!(
            "SELECT {aggregate} FROM secrets s JOIN vaults v ON v.id = s.vault_id WHERE ($1 = '' OR v.name = $1)"
        ))
        .bind(vault.unwrap_or(""))
        .fetch_one(self.store.pool())
        .await?;
        let rows: Vec<SecretRow> = serde_json::from_str(&list).map_err(|error| {
            VaultError::Invalid(format!("the store's list of secrets could not be read: {error}"))
        })?;
        // No rows: an empty vault, or no such vault (said as such).
        if let (Some(vault), true) = (vault, rows.is_empty()) {
            self.vault_id(vault).await?;
        }
        rows.into_iter().map(SecretInfo::from_row).collect()
    }

    /// Every version of `vault/name`, newest first.
    pub async fn history(&self, vault: &str, name: &str) -> Result<Vec<VersionInfo>, VaultError> {
        let (_, secret_id, _, current) = self.secret_row(vault, name).await?;
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT version, created_at_unix_ms, created_by FROM secret_versions WHERE secret_id = $1 ORDER BY version DESC",
        )
        .bind(&secret_id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, created_at_unix_ms, created_by)| VersionInfo {
                version,
                created_at_unix_ms,
                created_by,
                current: version == current,
            })
            .collect())
    }

    /// Makes the value of version `to` current again, as a new version.
    pub async fn rollback(
        &self,
        vault: &str,
        name: &str,
        to: i64,
        audit: &AuditScope<'_>,
    ) -> Result<SecretInfo, VaultError> {
        let old = self.get(vault, name, Some(to)).await?;
        let secret_type = old.secret_type;
        self.set(vault, name, secret_type, old.value.as_bytes(), &MetadataChange::default(), audit).await
    }

    /// Takes back version `version` when it is the current one (a rotation
    /// whose verification failed): the version is deleted and the previous one
    /// is current again.
    pub async fn discard_version(
        &self,
        vault: &str,
        name: &str,
        version: i64,
        audit: &AuditScope<'_>,
    ) -> Result<i64, VaultError> {
        let (vault_id, secret_id, _, _) = self.secret_row(vault, name).await?;
        let data_key = self.unlock(vault, &vault_id).await?;
        let mut transaction = self.store.begin_write().await?;
        // Lock the secret's row first (a no-op write), then read: a version
        // another writer added meanwhile is seen, and is not taken back.
        sqlx::query("UPDATE secrets SET current_version = current_version WHERE id = $1")
            .bind(&secret_id)
            .execute(&mut *transaction)
            .await?;
        let current: i64 = sqlx::query_scalar("SELECT current_version FROM secrets WHERE id = $1")
            .bind(&secret_id)
            .fetch_one(&mut *transaction)
            .await?;
        if current != version || version <= 1 {
            return Err(VaultError::Invalid(format!(
                "{vault}/{name}: version {version} is not the newest of several versions, so it cannot be taken back"
            )));
        }
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM secret_versions WHERE secret_id = $1 AND version < $2",
        )
        .bind(&secret_id)
        .bind(version)
        .fetch_one(&mut *transaction)
        .await?;
        let previous =
            previous.ok_or_else(|| VaultError::Invalid(format!("{vault}/{name} has no earlier version")))?;
        sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1 AND version = $2")
            .bind(&secret_id)
            .bind(version)
            .execute(&mut *transaction)
            .await?;
        // The restored version is current again as it was: with its own time, so a
        // rotation policy still sees it as due.
        sqlx::query(
            "UPDATE secrets SET current_version = $1, updated_at_unix_ms = \
             (SELECT created_at_unix_ms FROM secret_versions WHERE secret_id = $2 AND version = $1) WHERE id = $2",
        )
        .bind(previous)
        .bind(&secret_id)
        .execute(&mut *transaction)
        .await?;
        set_pointer(&mut transaction, &data_key, &vault_id, &secret_id, name, previous).await?;
        audit.append(&mut transaction, serde_json::json!({ "restored_version": previous })).await?;
        transaction.commit().await?;
        Ok(previous)
    }

    /// Deletes `vault/name` and all its versions.
    pub async fn remove(&self, vault: &str, name: &str, audit: &AuditScope<'_>) -> Result<(), VaultError> {
        let (_, secret_id, _, _) = self.secret_row(vault, name).await?;
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1")
            .bind(&secret_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM secrets WHERE id = $1").bind(&secret_id).execute(&mut *transaction).await?;
        audit.append(&mut transaction, serde_json::json!({})).await?;
        transaction.commit().await?;
        Ok(())
    }
}

/// Claims the next version number of `vault_id/name` inside `transaction`,
/// creating the secret when it is new, and makes it current. The counter is
/// bumped by one `UPDATE … RETURNING` before anything is read, so on
/// PostgreSQL the secret's row stays locked until commit and two writers
/// can never both take the same number (on SQLite the transaction already
/// holds the write lock). Returns the secret's id and the new version.
async fn next_version(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    vault_id: &str,
    name: &str,
    secret_type: SecretType,
    now: i64,
) -> Result<(String, i64), VaultError> {
    loop {
        let bumped: Option<(String, i64)> = sqlx::query_as(
            "UPDATE secrets SET current_version = current_version + 1, secret_type = $1, updated_at_unix_ms = $2 \
             WHERE vault_id = $3 AND name = $4 RETURNING id, current_version",
        )
        .bind(secret_type.as_str())
        .bind(now)
        .bind(vault_id)
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
        if let Some(found) = bumped {
            return Ok(found);
        }
        let id = random_id("sec")?;
        let created = sqlx::query(
            "INSERT INTO secrets (id, vault_id, name, secret_type, current_version, created_at_unix_ms, updated_at_unix_ms) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) ON CONFLICT (vault_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(vault_id)
        .bind(name)
        .bind(secret_type.as_str())
        .bind(now)
        .execute(&mut **transaction)
        .await?;
        if created.rows_affected() == 1 {
            return Ok((id, 1));
        }
        // Another writer created it between the two statements: bump its counter instead.
    }
}

/// The MAC that binds a secret's name and current version to it (under the
/// vault's data key, so only someone who can open the vault can make one).
fn pointer_mac(data_key: &Key, vault_id: &str, secret_id: &str, name: &str, current: i64) -> [u8; 32] {
    // A key of its own, derived from the data key (which AES-GCM uses).
    let mac_key = keys::mac_of(data_key, &[b"opsdeck secret pointer key"]);
    keys::mac_of(
        &mac_key,
        &[
            b"opsdeck secret pointer v1",
            vault_id.as_bytes(),
            secret_id.as_bytes(),
            name.as_bytes(),
            &current.to_be_bytes(),
        ],
    )
}

/// Records `version` as the current one of `secret_id` (named `name`), authenticated.
async fn set_pointer(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    data_key: &Key,
    vault_id: &str,
    secret_id: &str,
    name: &str,
    version: i64,
) -> Result<(), VaultError> {
    sqlx::query("UPDATE secrets SET pointer_mac = $1 WHERE id = $2")
        .bind(pointer_mac(data_key, vault_id, secret_id, name, version).to_vec())
        .bind(secret_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Writes the fields of `change` that are set.
async fn apply_metadata(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    secret_id: &str,
    change: &MetadataChange,
) -> Result<(), VaultError> {
    if let Some(tags) = &change.tags {
        let tags = serde_json::to_string(tags).map_err(|error| VaultError::Invalid(error.to_string()))?;
        sqlx::query("UPDATE secrets SET tags = $1 WHERE id = $2")
            .bind(tags)
            .bind(secret_id)
            .execute(&mut **transaction)
            .await?;
    }
    if let Some(note) = &change.note {
        sqlx::query("UPDATE secrets SET note = $1 WHERE id = $2")
            .bind(note)
            .bind(secret_id)
            .execute(&mut **transaction)
            .await?;
    }
    if let Some(days) = change.rotate_every_days {
        sqlx::query("UPDATE secrets SET rotate_every_days = $1 WHERE id = $2")
            .bind(days)
            .bind(secret_id)
            .execute(&mut **transaction)
            .await?;
    }
    if let Some(verify) = &change.rotate_verify {
        sqlx::query("UPDATE secrets SET rotate_verify = $1 WHERE id = $2")
            .bind(verify.as_deref().filter(|command| !command.trim().is_empty()))
            .bind(secret_id)
            .execute(&mut **transaction)
            .await?;
    }
    if let Some(expires_at) = change.expires_at {
        sqlx::query("UPDATE secrets SET expires_at_unix_ms = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(secret_id)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}
