//! The crypto envelope: a vault's data key seals every secret version with
//! AES-256-GCM (random 96-bit nonce); the additional data binds the vault id,
//! secret id and version, so a ciphertext moved to another row does not open.
//! Key slots wrap the data key the same way, bound to the vault and slot.

use opsdeck_core::keys::{aead_open, aead_seal, Key};
use zeroize::Zeroizing;

use crate::VaultError;

/// Length-prefixed parts, so no two different lists give the same bytes.
fn additional_data(label: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut data = label.to_vec();
    for part in parts {
        data.extend_from_slice(&(part.len() as u64).to_be_bytes());
        data.extend_from_slice(part);
    }
    data
}

fn random_nonce() -> Result<[u8; 12], VaultError> {
    Ok(opsdeck_core::keys::random_nonce()?)
}

/// Seals one version of a secret: returns (nonce, ciphertext with tag).
pub fn seal_version(
    data_key: &Key,
    vault_id: &str,
    secret_id: &str,
    version: i64,
    plaintext: &[u8],
) -> Result<([u8; 12], Vec<u8>), VaultError> {
    let aad = additional_data(
        b"opsdeck-secret-v1",
        &[vault_id.as_bytes(), secret_id.as_bytes(), &version.to_be_bytes()],
    );
    let nonce = random_nonce()?;
    let sealed = aead_seal(data_key, nonce, &aad, plaintext)?;
    Ok((nonce, sealed))
}

/// Opens one version; any changed byte of nonce, ciphertext, tag or bound ids fails.
pub fn open_version(
    data_key: &Key,
    vault_id: &str,
    secret_id: &str,
    version: i64,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if nonce.len() != 12 {
        return Err(VaultError::Integrity { what: format!("version {version} (its nonce is damaged)") });
    }
    let aad = additional_data(
        b"opsdeck-secret-v1",
        &[vault_id.as_bytes(), secret_id.as_bytes(), &version.to_be_bytes()],
    );
    aead_open(data_key, nonce, &aad, ciphertext)
        .ok_or_else(|| VaultError::Integrity { what: format!("version {version}") })
}

/// Wraps the data key under a slot key: nonce ‖ ciphertext.
pub fn wrap_data_key(
    slot_key: &Key,
    vault_id: &str,
    slot_id: &str,
    data_key: &Key,
) -> Result<Vec<u8>, VaultError> {
    let aad = additional_data(b"opsdeck-slot-v1", &[vault_id.as_bytes(), slot_id.as_bytes()]);
    let nonce = random_nonce()?;
    let sealed = aead_seal(slot_key, nonce, &aad, data_key.as_ref())?;
    Ok([nonce.as_slice(), &sealed].concat())
}

/// Unwraps the data key; `None` when the slot key is not the right one.
pub fn unwrap_data_key(slot_key: &Key, vault_id: &str, slot_id: &str, wrapped: &[u8]) -> Option<Key> {
    if wrapped.len() != 12 + 32 + 16 {
        return None;
    }
    let aad = additional_data(b"opsdeck-slot-v1", &[vault_id.as_bytes(), slot_id.as_bytes()]);
    let (nonce, sealed) = wrapped.split_at(12);
    let plain = aead_open(slot_key, nonce, &aad, sealed)?;
    if plain.len() != 32 {
        return None;
    }
    let mut key = Key::zeroed();
    key.copy_from_slice(&plain);
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::new([byte; 32])
    }

    #[test]
    fn every_changed_byte_or_moved_ciphertext_is_refused() {
        let data_key = key(1);
        let (nonce, sealed) = seal_version(&data_key, "v1", "s1", 3, b"hunter2").unwrap();
        assert_eq!(open_version(&data_key, "v1", "s1", 3, &nonce, &sealed).unwrap().as_slice(), b"hunter2");
        for index in 0..nonce.len() {
            let mut changed = nonce;
            changed[index] ^= 0x80;
            assert!(open_version(&data_key, "v1", "s1", 3, &changed, &sealed).is_err());
        }
        for index in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[index] ^= 0x01;
            assert!(open_version(&data_key, "v1", "s1", 3, &nonce, &changed).is_err(), "byte {index}");
        }
        assert!(open_version(&data_key, "v2", "s1", 3, &nonce, &sealed).is_err(), "another vault");
        assert!(open_version(&data_key, "v1", "s2", 3, &nonce, &sealed).is_err(), "another secret");
        assert!(open_version(&data_key, "v1", "s1", 4, &nonce, &sealed).is_err(), "another version");
        assert!(open_version(&key(2), "v1", "s1", 3, &nonce, &sealed).is_err(), "another key");
    }

    #[test]
    fn a_wrapped_data_key_opens_only_with_its_slot_key_and_binding() {
        let data_key = key(7);
        let wrapped = wrap_data_key(&key(9), "vault", "slot", &data_key).unwrap();
        assert_eq!(*unwrap_data_key(&key(9), "vault", "slot", &wrapped).unwrap(), *data_key);
        assert!(unwrap_data_key(&key(8), "vault", "slot", &wrapped).is_none());
        assert!(unwrap_data_key(&key(9), "vault", "other", &wrapped).is_none());
        assert!(unwrap_data_key(&key(9), "vault", "slot", &wrapped[1..]).is_none());
    }
}
