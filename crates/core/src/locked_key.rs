//! [`Key`]: 32 key bytes kept off swap and wiped when dropped.
//!
//! Each key lives alone at the start of its own 16 KiB-aligned block, and the
//! page holding it is locked in memory (`mlock`, `VirtualLock` on Windows)
//! through the `region` crate, so the kernel never writes it to a swap file.
//! Alone, because unlocking is per page, not counted: two keys sharing a page
//! would unlock each other. 16 KiB covers the largest common page size
//! (Apple silicon); on 4 KiB pages only the first page of the block is locked
//! and the rest is never touched.
//!
//! Locking is best effort: an account's locked-memory limit
//! (`RLIMIT_MEMLOCK`, often 8 MiB, sometimes 64 KiB) may refuse it, and then
//! the key still works, unlocked (said once in the log). Core dumps, which
//! would be the other way keys reach the disk, are refused at start
//! ([`crate::child_process::refuse_inspection`]).

use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroize;

const BLOCK: usize = 16 * 1024;

#[repr(C, align(16384))]
struct Block {
    key: [u8; 32],
    _rest: [u8; BLOCK - 32],
}

/// A 256-bit key, locked in memory where the OS allows it and wiped from
/// memory when dropped. Reads as a `[u8; 32]`.
pub struct Key {
    block: Box<Block>,
    /// Unlocks the page when dropped (after the bytes are wiped).
    _locked: Option<region::LockGuard>,
}

static LOCK_REFUSED_SAID: AtomicBool = AtomicBool::new(false);

impl Key {
    /// An all-zero key, locked, to be filled in place (so the bytes are
    /// never copied through an unlocked temporary).
    pub fn zeroed() -> Key {
        let block: Box<Block> = Box::new(Block { key: [0; 32], _rest: [0; BLOCK - 32] });
        let locked = match region::lock(block.key.as_ptr(), 32) {
            Ok(guard) => Some(guard),
            Err(error) => {
                if !LOCK_REFUSED_SAID.swap(true, Ordering::Relaxed) {
                    tracing::info!(%error, "key memory could not be locked (locked-memory limit?); keys stay usable but may be swapped");
                }
                None
            }
        };
        Key { block, _locked: locked }
    }

    /// A key holding `bytes`; the caller should wipe its own copy.
    pub fn new(mut bytes: [u8; 32]) -> Key {
        let mut key = Key::zeroed();
        key.copy_from_slice(&bytes);
        bytes.zeroize();
        key
    }

    /// Whether the key's page is locked in memory.
    pub fn is_locked(&self) -> bool {
        self._locked.is_some()
    }
}

impl std::ops::Deref for Key {
    type Target = [u8; 32];
    fn deref(&self) -> &[u8; 32] {
        &self.block.key
    }
}

impl std::ops::DerefMut for Key {
    fn deref_mut(&mut self) -> &mut [u8; 32] {
        &mut self.block.key
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        &self[..]
    }
}

impl AsMut<[u8]> for Key {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self[..]
    }
}

impl Clone for Key {
    fn clone(&self) -> Key {
        let mut copy = Key::zeroed();
        copy.copy_from_slice(&self[..]);
        copy
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.block.key.zeroize();
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Key(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_what_was_put_in_and_copies_are_independent() {
        let mut key = Key::new([7; 32]);
        assert_eq!(*key, [7; 32]);
        let copy = key.clone();
        key[0] = 1;
        assert_eq!(copy[0], 7);
        assert_eq!(key.as_ref().len(), 32);
    }

    #[test]
    fn each_key_is_alone_on_its_page() {
        let keys: Vec<Key> = (0..4).map(|byte| Key::new([byte; 32])).collect();
        let page = region::page::size();
        let pages: std::collections::HashSet<usize> =
            keys.iter().map(|key| key.as_ref().as_ptr() as usize / page).collect();
        assert_eq!(pages.len(), keys.len(), "no two keys share a page");
    }

    /// Kilobytes of this process's memory locked, from `/proc/self/status`.
    #[cfg(target_os = "linux")]
    fn locked_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|line| line.starts_with("VmLck:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn key_pages_are_locked_in_memory() {
        let keys: Vec<Key> = (0..4).map(|byte| Key::new([byte; 32])).collect();
        assert!(keys.iter().all(Key::is_locked), "the test runner's locked-memory limit refused 4 pages");
        // Other tests' keys can only add to the figure.
        let page_kib = region::page::size() as u64 / 1024;
        assert!(locked_kib() >= 4 * page_kib, "VmLck {} KiB", locked_kib());
    }
}
