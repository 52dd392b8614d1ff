//! The deck's own 256-bit keys (the audit chain's MAC key, later others),
//! kept outside the store: in the OS keychain, or derived from a passphrase
//! with Argon2id where no keychain is reachable.
//!
//! The store only records where each key lives and a check value
//! (HMAC of a fixed text under the key), so a wrong passphrase or a keychain
//! holding another key is reported as such, never mistaken for tampering.
//! Key bytes live in [`Zeroizing`] buffers and are never logged.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{CoreError, Store};

pub use crate::locked_key::Key;

/// The keychain service name under which OpsDeck keeps its keys.
pub const KEYCHAIN_SERVICE: &str = "dev.opsdeck";

/// Argon2id parameters for new passphrase-derived keys, slots and bundles:
/// 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option, above
/// OWASP's minimum). Older records keep the parameters they were made with.
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;

/// The most a stored (or received) parameter set may ask for: a bundle or a
/// store from someone else must not make us allocate gigabytes or spin for
/// minutes before the passphrase is even checked.
const ARGON2_MAX_M_KIB: u32 = 1024 * 1024;
const ARGON2_MAX_T: u32 = 16;
const ARGON2_MAX_P: u32 = 8;

/// The shortest passphrase OpsDeck accepts for anything new it protects
/// (deck keys, vault slots, export bundles).
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Refuses a new passphrase (`what`: "the passphrase", "the bundle
/// passphrase") shorter than [`MIN_PASSPHRASE_CHARS`], saying what to do.
pub fn check_new_passphrase(what: &str, passphrase: &str) -> Result<(), CoreError> {
    let length = passphrase.chars().count();
    if length < MIN_PASSPHRASE_CHARS {
        return Err(CoreError::WeakPassphrase {
            why: format!(
                "{what} has {length} characters and a new one needs at least {MIN_PASSPHRASE_CHARS}: \
                 use a few unrelated words (a longer passphrase is worth more than odd characters)"
            ),
        });
    }
    Ok(())
}

const CHECK_TEXT: &[u8] = b"opsdeck key check v1";

/// How the deck may reach its keys.
#[derive(Clone, Default)]
pub struct KeyAccess {
    /// A passphrase for keys that are (or, without a keychain, will be)
    /// derived from one. From `OPSDECK_PASSPHRASE` or `--passphrase-stdin`.
    pub passphrase: Option<Zeroizing<String>>,
    /// Never use the OS keychain (passphrase keys only).
    pub no_keychain: bool,
    /// Where the second half of passphrase keys lives (the data dir): a
    /// random file mixed into each key, so knowing the passphrase (as every
    /// member who opens a passphrase vault does) is not enough to compute
    /// the deck's keys. `None` derives keys from the passphrase alone.
    pub key_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for KeyAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAccess")
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<redacted>"))
            .field("no_keychain", &self.no_keychain)
            .field("key_dir", &self.key_dir)
            .finish()
    }
}

/// [`KeyAccess`] shared by the services of one deck, so a passphrase entered
/// once (in the app's unlock dialog) reaches all of them.
#[derive(Debug, Clone, Default)]
pub struct SharedKeyAccess(std::sync::Arc<std::sync::RwLock<KeyAccess>>);

impl SharedKeyAccess {
    /// Shares `access`.
    pub fn new(access: KeyAccess) -> Self {
        SharedKeyAccess(std::sync::Arc::new(std::sync::RwLock::new(access)))
    }

    /// A copy of the current access (the passphrase copy is wiped when dropped).
    pub fn snapshot(&self) -> KeyAccess {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Puts back an earlier snapshot.
    pub fn restore(&self, access: KeyAccess) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = access;
    }

    /// Sets the passphrase used from now on.
    pub fn set_passphrase(&self, passphrase: Zeroizing<String>) {
        self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()).passphrase = Some(passphrase);
    }
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `parts` (each length-prefixed, so no two different lists of
/// parts give the same input) under `key`.
pub fn mac_of(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `message` under a key of any length (for secrets chosen by
/// users, such as webhook signing secrets).
pub fn mac_of_raw(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares two MACs in constant time.
pub fn macs_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A new random 256-bit key.
pub fn random_key() -> Result<Key, CoreError> {
    let mut key = Key::zeroed();
    getrandom::fill(key.as_mut()).map_err(|error| CoreError::Random(error.to_string()))?;
    Ok(key)
}

/// The Argon2id parameters new passphrase keys use, as stored (`m_kib,t,p`).
pub fn default_kdf_params() -> String {
    format!("{ARGON2_M_KIB},{ARGON2_T},{ARGON2_P}")
}

/// Derives a key from a passphrase with Argon2id, `params` as `m_kib,t,p`.
pub fn derive_from_passphrase(passphrase: &str, salt: &[u8], params: &str) -> Result<Key, CoreError> {
    let numbers: Vec<u32> = params.split(',').filter_map(|part| part.parse().ok()).collect();
    let [m, t, p] = numbers[..] else {
        return Err(CoreError::KeyRecordDamaged(format!("unreadable Argon2 parameters `{params}`")));
    };
    if m > ARGON2_MAX_M_KIB || t > ARGON2_MAX_T || p > ARGON2_MAX_P {
        return Err(CoreError::KeyRecordDamaged(format!(
            "Argon2 parameters `{params}` ask for more than OpsDeck allows (at most {ARGON2_MAX_M_KIB} KiB, \
             {ARGON2_MAX_T} passes, {ARGON2_MAX_P} lanes); they were not made by OpsDeck, so nothing was derived"
        )));
    }
    let argon_params = argon2::Params::new(m, t, p, Some(32))
        .map_err(|error| CoreError::KeyRecordDamaged(format!("bad Argon2 parameters: {error}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
    let mut key = Key::zeroed();
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|error| CoreError::KeyRecordDamaged(format!("Argon2 failed: {error}")))?;
    Ok(key)
}

/// The keychain entry of one key of one store.
fn keychain_entry(store_id: &str, name: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(KEYCHAIN_SERVICE, &format!("{store_id}/{name}")).map_err(|error| error.to_string())
}

/// Reads the 32-byte key `name` of store `store_id` from the OS keychain;
/// `None` when the keychain has no such item, `Err` when no keychain is reachable.
pub async fn keychain_get(store_id: String, name: String) -> Result<Option<Key>, String> {
    tokio::task::spawn_blocking(move || {
        let entry = keychain_entry(&store_id, &name)?;
        match entry.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                if bytes.len() != 32 {
                    return Err("the keychain item is not a 32-byte key".to_string());
                }
                let mut key = Key::zeroed();
                key.copy_from_slice(&bytes);
                Ok(Some(key))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(error.to_string()),
        }
    })
    .await
    .map_err(|error| error.to_string())?
}

/// Stores the 32-byte key `name` of store `store_id` in the OS keychain.
pub async fn keychain_put(store_id: String, name: String, key: Key) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let entry = keychain_entry(&store_id, &name)?;
        entry.set_secret(key.as_ref()).map_err(|error| error.to_string())
    })
    .await
    .map_err(|error| error.to_string())?
}

/// Whether any of the deck's own keys (the audit key) is derived from the
/// passphrase rather than kept in the OS keychain.
pub async fn deck_keys_under_passphrase(store: &Store) -> Result<bool, CoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deck_keys WHERE source IN ('passphrase', 'passphrase+file')",
    )
    .fetch_one(store.pool())
    .await?;
    Ok(count > 0)
}

/// Deletes the key `name` of store `store_id` from the OS keychain (a
/// missing item is not an error: the goal is that it is gone).
pub async fn keychain_delete(store_id: String, name: String) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let entry = keychain_entry(&store_id, &name)?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    })
    .await
    .map_err(|error| error.to_string())?
}

/// Loads the key called `name`, creating it the first time: in the OS keychain
/// when one is reachable (and allowed), otherwise derived from the passphrase.
/// Two processes creating it at once agree on one key: the first record
/// written wins and the other loads it.
pub async fn load_or_create_key(store: &Store, name: &str, access: &KeyAccess) -> Result<Key, CoreError> {
    let store_id = store.store_id().await?;
    let mut attempt = 0;
    loop {
        let result = match load_key(store, &store_id, name, access).await {
            Ok(Some(key)) => return Ok(key),
            // No record: make the key (`None` when another process wrote the record first).
            Ok(None) => create_key(store, &store_id, name, access).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(Some(key)) => return Ok(key),
            Ok(None) => {}
            // The winner of a creation race writes the keychain item just after its
            // record (and its data-dir part just before): give it a moment.
            Err(CoreError::KeyNotInKeychain { .. } | CoreError::KeyRecordMissing { .. }) if attempt < 20 => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error),
        }
        attempt += 1;
    }
}

type KeyRecord = (String, Option<Vec<u8>>, Option<String>, Vec<u8>);

/// Loads an existing key; `None` when the store has no record of it yet.
async fn load_key(
    store: &Store,
    store_id: &str,
    name: &str,
    access: &KeyAccess,
) -> Result<Option<Key>, CoreError> {
    let record: Option<KeyRecord> =
        sqlx::query_as("SELECT source, kdf_salt, kdf_params, check_mac FROM deck_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
    let Some((source, salt, params, check)) = record else {
        return Ok(None);
    };
    let key = match source.as_str() {
        "keychain" => match keychain_get(store_id.to_owned(), name.to_owned()).await {
            Ok(Some(key)) => key,
            Ok(None) => return Err(CoreError::KeyNotInKeychain { name: name.to_owned() }),
            Err(reason) => return Err(CoreError::KeychainUnavailable { reason }),
        },
        "passphrase" => {
            let passphrase =
                access.passphrase.as_ref().ok_or(CoreError::PassphraseNeeded { name: name.to_owned() })?;
            let salt = salt.ok_or_else(|| CoreError::KeyRecordDamaged("missing salt".into()))?;
            let params = params.ok_or_else(|| CoreError::KeyRecordDamaged("missing parameters".into()))?;
            derive_from_passphrase(passphrase, &salt, &params)?
        }
        "passphrase+file" => {
            let passphrase =
                access.passphrase.as_ref().ok_or(CoreError::PassphraseNeeded { name: name.to_owned() })?;
            let salt = salt.ok_or_else(|| CoreError::KeyRecordDamaged("missing salt".into()))?;
            let params = params.ok_or_else(|| CoreError::KeyRecordDamaged("missing parameters".into()))?;
            let path = pepper_path(access, store_id, name)?;
            let pepper = match std::fs::read(&path) {
                Ok(bytes) => Zeroizing::new(bytes),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(CoreError::KeyPartMissing { name: name.to_owned(), path })
                }
                Err(error) => {
                    return Err(CoreError::KeyRecordDamaged(format!(
                        "cannot read {}: {error}",
                        path.display()
                    )))
                }
            };
            with_pepper(&derive_from_passphrase(passphrase, &salt, &params)?, &pepper)
        }
        other => return Err(CoreError::KeyRecordDamaged(format!("unknown key source `{other}`"))),
    };
    if !macs_equal(&mac_of(&key, &[CHECK_TEXT]), &check) {
        return Err(match source.as_str() {
            "passphrase" | "passphrase+file" => CoreError::WrongPassphrase,
            _ => CoreError::KeyMismatch { name: name.to_owned() },
        });
    }
    Ok(Some(key))
}

/// Creates the key; `None` when another process created it first.
async fn create_key(
    store: &Store,
    store_id: &str,
    name: &str,
    access: &KeyAccess,
) -> Result<Option<Key>, CoreError> {
    let keychain_failure = if access.no_keychain {
        "the keychain is turned off (--no-keychain)".to_owned()
    } else {
        // A keychain that still holds this store's key means its record was
        // deleted: a new key would silently replace the one the chain is under.
        if let Ok(Some(_)) = keychain_get(store_id.to_owned(), name.to_owned()).await {
            return Err(CoreError::KeyRecordMissing {
                name: name.to_owned(),
                evidence: format!("the OS keychain still holds `{KEYCHAIN_SERVICE}` / `{store_id}/{name}`"),
            });
        }
        let key = random_key()?;
        // The record goes first so that only the winner of a race touches the keychain.
        if !insert_key_record(store, name, "keychain", None, None, &key).await? {
            return Ok(None);
        }
        match keychain_put(store_id.to_owned(), name.to_owned(), key.clone()).await {
            Ok(()) => return Ok(Some(key)),
            Err(reason) => {
                sqlx::query("DELETE FROM deck_keys WHERE name = $1 AND source = 'keychain'")
                    .bind(name)
                    .execute(store.pool())
                    .await?;
                reason
            }
        }
    };
    let Some(passphrase) = access.passphrase.as_ref() else {
        return Err(CoreError::NoKeySource { reason: keychain_failure });
    };
    check_new_passphrase("the passphrase (OPSDECK_PASSPHRASE)", passphrase)?;
    tracing::info!(key = name, "no keychain ({keychain_failure}); deriving the key from the passphrase");
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(|error| CoreError::Random(error.to_string()))?;
    let params = format!("{ARGON2_M_KIB},{ARGON2_T},{ARGON2_P}");
    let derived = derive_from_passphrase(passphrase, &salt, &params)?;
    if access.key_dir.is_none() {
        if !insert_key_record(store, name, "passphrase", Some(&salt), Some(&params), &derived).await? {
            return Ok(None);
        }
        return Ok(Some(derived));
    }
    // The second half: a random file beside the store, written before the
    // record (a record without its file would lock the deck).
    let path = pepper_path(access, store_id, name)?;
    if path.exists() {
        return Err(CoreError::KeyRecordMissing {
            name: name.to_owned(),
            evidence: path.display().to_string(),
        });
    }
    let pepper = random_key()?;
    write_private_file(&path, pepper.as_ref())?;
    let key = with_pepper(&derived, pepper.as_ref());
    if !insert_key_record(store, name, "passphrase+file", Some(&salt), Some(&params), &key).await? {
        // Another process made the key first: its file is the one that counts.
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    Ok(Some(key))
}

/// The file holding the second half of passphrase key `name` of `store_id`.
fn pepper_path(access: &KeyAccess, store_id: &str, name: &str) -> Result<std::path::PathBuf, CoreError> {
    let dir = access.key_dir.as_ref().ok_or_else(|| {
        CoreError::KeyRecordDamaged(format!(
            "the key `{name}` has a part kept in the data dir, and none was given"
        ))
    })?;
    Ok(dir.join("keys").join(format!("{store_id}.{name}.key-part")))
}

/// A passphrase-derived key mixed with the random part kept in the data dir.
fn with_pepper(derived: &Key, pepper: &[u8]) -> Key {
    Key::new(mac_of(derived, &[b"opsdeck key with its data-dir part", pepper]))
}

/// Writes `bytes` to a new file only its owner may read (its directory too);
/// refuses to replace an existing file.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CoreError> {
    use std::io::Write;
    let failed = |error: std::io::Error| {
        CoreError::KeyRecordDamaged(format!("cannot write {}: {error}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// Writes a key's record; false when a record of that name already exists.
async fn insert_key_record(
    store: &Store,
    name: &str,
    source: &str,
    salt: Option<&[u8]>,
    params: Option<&str>,
    key: &Key,
) -> Result<bool, CoreError> {
    let check = mac_of(key, &[CHECK_TEXT]);
    let inserted = sqlx::query(
        "INSERT INTO deck_keys (name, source, kdf_salt, kdf_params, check_mac, created_at_unix_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(source)
    .bind(salt.map(<[u8]>::to_vec))
    .bind(params)
    .bind(check.to_vec())
    .bind(crate::clock::now_unix_ms())
    .execute(store.pool())
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passphrase_keys_cost_at_least_64_mib_and_three_passes() {
        let numbers: Vec<u32> = default_kdf_params().split(',').map(|n| n.parse().unwrap()).collect();
        assert!(numbers[0] >= 64 * 1024 && numbers[1] >= 3, "{numbers:?}");
    }

    #[test]
    fn argon2_parameters_beyond_the_cap_are_refused_before_anything_is_derived() {
        let started = std::time::Instant::now();
        for hostile in ["4194304,3,1", "65536,1000,1", "65536,3,64"] {
            let error =
                derive_from_passphrase("a long enough passphrase", b"0123456789abcdef", hostile).unwrap_err();
            assert!(error.to_string().contains("more than OpsDeck allows"), "{hostile}: {error}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "something was derived");
    }

    #[test]
    fn a_short_new_passphrase_is_refused_with_what_to_do() {
        let error = check_new_passphrase("the passphrase", "hunter2").unwrap_err();
        assert_eq!(error.code(), "weak_passphrase");
        assert!(error.to_string().contains("at least 12"), "{error}");
        check_new_passphrase("the passphrase", "three unrelated words").unwrap();
    }

    #[test]
    fn macs_separate_their_parts() {
        let key = [7_u8; 32];
        assert_ne!(mac_of(&key, &[b"ab", b"c"]), mac_of(&key, &[b"a", b"bc"]));
        assert_eq!(mac_of(&key, &[b"ab", b"c"]), mac_of(&key, &[b"ab", b"c"]));
        assert_ne!(mac_of(&key, &[b"x"]), mac_of(&[8_u8; 32], &[b"x"]));
    }

    #[test]
    fn passphrase_keys_depend_on_passphrase_and_salt() {
        let params = "256,1,1";
        let a = derive_from_passphrase("correct horse", b"0123456789abcdef", params).unwrap();
        let b = derive_from_passphrase("correct horse", b"0123456789abcdef", params).unwrap();
        let c = derive_from_passphrase("correct horsf", b"0123456789abcdef", params).unwrap();
        let d = derive_from_passphrase("correct horse", b"0123456789abcdeg", params).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
        assert_ne!(*a, *d);
        assert!(derive_from_passphrase("x", b"0123456789abcdef", "nonsense").is_err());
    }

    #[test]
    fn key_access_debug_hides_the_passphrase() {
        let access = KeyAccess {
            passphrase: Some(Zeroizing::new("hunter2".into())),
            no_keychain: true,
            key_dir: None,
        };
        assert!(!format!("{access:?}").contains("hunter2"));
    }
}

/// AES-256-GCM: seals `plaintext` under `key` and `nonce`, binding `aad`;
/// returns ciphertext ‖ 16-byte tag. The one AEAD every sealed value of the
/// deck goes through (ring's implementation, which uses the CPU's AES and
/// carry-less multiply instructions).
pub fn aead_seal(
    key: &[u8; 32],
    nonce: [u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CoreError> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let refused = |_| CoreError::Random("AES-GCM refused to seal".into());
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(refused)?);
    let mut in_out = Vec::with_capacity(plaintext.len() + AES_256_GCM.tag_len());
    in_out.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut in_out)
        .map_err(refused)?;
    Ok(in_out)
}

/// Opens what [`aead_seal`] produced; `None` when any byte of it, the nonce,
/// the key or `aad` differs.
pub fn aead_open(key: &[u8; 32], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut in_out = Zeroizing::new(sealed.to_vec());
    let length = key.open_in_place(nonce, Aad::from(aad), &mut in_out).ok()?.len();
    in_out.truncate(length);
    Some(in_out)
}

/// A random 96-bit nonce.
pub fn random_nonce() -> Result<[u8; 12], CoreError> {
    let mut nonce = [0_u8; 12];
    getrandom::fill(&mut nonce).map_err(|error| CoreError::Random(error.to_string()))?;
    Ok(nonce)
}

/// Seals `plaintext` with AES-256-GCM under `key` (a random 96-bit nonce, the
/// nonce prepended), binding it to `context` so it cannot be moved elsewhere.
pub fn seal(key: &Key, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CoreError> {
    let nonce = random_nonce()?;
    let sealed = aead_seal(key, nonce, context, plaintext)?;
    Ok([nonce.as_slice(), &sealed].concat())
}

/// Opens what [`seal`] produced; any change to it or to `context` is refused.
pub fn open(key: &Key, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CoreError> {
    if sealed.len() < 12 + 16 {
        return Err(CoreError::SealedDataDamaged);
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    aead_open(key, nonce, context, ciphertext).ok_or(CoreError::SealedDataDamaged)
}

#[cfg(test)]
mod sealing_tests {
    use super::*;

    /// The AEAD is standard AES-256-GCM (the published test vector with an
    /// all-zero key and nonce), so values sealed by earlier builds still open.
    #[test]
    fn the_aead_is_standard_aes_256_gcm() {
        let sealed = aead_seal(&[0; 32], [0; 12], b"", &[0; 16]).unwrap();
        assert_eq!(hex::encode(&sealed), "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
        assert_eq!(aead_open(&[0; 32], &[0; 12], b"", &sealed).unwrap().as_slice(), &[0; 16]);
        assert!(aead_open(&[0; 32], &[0; 11], b"", &sealed).is_none());
        assert!(aead_open(&[0; 32], &[0; 12], b"x", &sealed).is_none());
    }

    #[test]
    fn sealed_data_opens_only_unchanged_and_in_its_context() {
        let key = Key::new([9_u8; 32]);
        let sealed = seal(&key, b"target:a", b"s3cret").unwrap();
        assert_eq!(open(&key, b"target:a", &sealed).unwrap().as_slice(), b"s3cret");
        assert!(open(&key, b"target:b", &sealed).is_err(), "moved to another context");
        for index in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[index] ^= 1;
            assert!(open(&key, b"target:a", &flipped).is_err(), "byte {index} changed unnoticed");
        }
        assert!(open(&Key::new([8_u8; 32]), b"target:a", &sealed).is_err());
        assert_ne!(seal(&key, b"target:a", b"s3cret").unwrap(), sealed, "a fresh nonce each time");
    }
}
