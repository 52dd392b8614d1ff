//! Telling "someone else is writing" apart from real failures, and waiting it out.
//!
//! Many processes share one store: the app, `opsdeck serve`, scripts calling
//! the CLI. On SQLite only one of them writes at a time; on PostgreSQL two
//! transactions can deadlock or, at stricter isolation, fail to serialise.
//! Those answers mean "try again", not "something is wrong", so the store
//! retries them (see [`crate::Store::begin_write`] and
//! [`crate::Store::retrying`]) with capped, jittered backoff inside one total
//! deadline, and only then reports [`crate::CoreError::StoreBusy`].
//!
//! This module does not decide what to retry at a higher level: an operation
//! is retried whole only by code that knows it has no effect outside the
//! failed transaction.

use std::time::Duration;

/// SQLite's result codes for "locked by someone else", extended codes included:
/// BUSY (5), LOCKED (6), BUSY_RECOVERY (261), LOCKED_SHAREDCACHE (262),
/// BUSY_SNAPSHOT (517), BUSY_TIMEOUT (773).
const SQLITE_CONTENTION_CODES: [&str; 6] = ["5", "6", "261", "262", "517", "773"];

/// PostgreSQL's SQLSTATEs for the same: serialization_failure (40001),
/// deadlock_detected (40P01), lock_not_available (55P03), and a server that
/// has every connection slot taken by other clients (53300,
/// too_many_connections) or is starting up (57P03, cannot_connect_now).
const POSTGRES_CONTENTION_CODES: [&str; 5] = ["40001", "40P01", "55P03", "53300", "57P03"];

/// True when `error` only says that other writers were in the way.
pub fn is_contention(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            SQLITE_CONTENTION_CODES.contains(&code.as_ref())
                || POSTGRES_CONTENTION_CODES.contains(&code.as_ref())
        }),
        // Every pooled connection of this process stayed in use: the same
        // situation seen from inside one process.
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// The waits between attempts: 5 ms doubling to at most 250 ms, each with up
/// to half of it added at random so that processes woken together spread out.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MOST: Duration = Duration::from_millis(250);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    /// The next wait (never past `left`).
    pub(crate) fn next_wait(&mut self, left: Duration) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        let mut random = [0u8; 2];
        // Without randomness the wait is merely not spread; still correct.
        let jitter_share = match getrandom::fill(&mut random) {
            Ok(()) => f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX),
            Err(_) => 0.5,
        };
        (base + base.mul_f64(jitter_share / 2.0)).min(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_never_passes_the_time_left() {
        let mut backoff = Backoff::new();
        let waits: Vec<Duration> = (0..12).map(|_| backoff.next_wait(Duration::from_secs(10))).collect();
        assert!(waits[0] >= Duration::from_millis(5) && waits[0] <= Duration::from_millis(8), "{waits:?}");
        assert!(waits.windows(2).take(5).all(|pair| pair[1] > pair[0]), "{waits:?}");
        assert!(waits.iter().all(|wait| *wait <= Duration::from_millis(375)), "{waits:?}");
        assert!(waits[11] >= Duration::from_millis(250), "{waits:?}");
        assert_eq!(backoff.next_wait(Duration::from_millis(3)), Duration::from_millis(3));
    }

    #[test]
    fn only_lock_answers_count_as_contention() {
        assert!(is_contention(&sqlx::Error::PoolTimedOut));
        assert!(!is_contention(&sqlx::Error::RowNotFound));
        assert!(!is_contention(&sqlx::Error::Protocol("bad".into())));
    }
}
