//! When to renew: when a set fraction of the lifetime remains (a third by
//! default), a little earlier by random jitter so many certificates issued
//! together do not all renew in the same minute — or inside the window the
//! CA suggests through ACME Renewal Information, when it offers one.

use crate::acme::RenewalWindow;

/// The default: renew when a third of the lifetime remains.
pub const DEFAULT_REMAINING_FRACTION: f64 = 1.0 / 3.0;

/// The most jitter, as a fraction of the lifetime (and never more than a day).
const JITTER_FRACTION: f64 = 0.02;

/// When to renew a certificate valid from `not_before` to `not_after` (Unix
/// ms), with `remaining` of its lifetime left; `random` in 0..1 picks the
/// jitter (or the point in the CA's `window`).
pub fn renew_at(
    not_before: i64,
    not_after: i64,
    remaining: f64,
    window: Option<RenewalWindow>,
    random: f64,
) -> i64 {
    let random = random.clamp(0.0, 1.0);
    if let Some(window) = window {
        if window.end >= window.start {
            return window.start + ((window.end - window.start) as f64 * random) as i64;
        }
    }
    let lifetime = (not_after - not_before).max(0) as f64;
    let remaining = remaining.clamp(0.0, 1.0);
    let jitter = (lifetime * JITTER_FRACTION).min(86_400_000.0) * random;
    not_after - (lifetime * remaining) as i64 - jitter as i64
}

/// A random number in 0..1 from the operating system.
pub fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom_fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<(), ()> {
    use rsa::rand_core::RngCore;
    rsa::rand_core::OsRng.try_fill_bytes(bytes).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_90_day_certificate_renews_30_days_before_expiry_less_the_jitter() {
        let due = renew_at(0, 90 * DAY, DEFAULT_REMAINING_FRACTION, None, 0.0);
        assert_eq!(due, 60 * DAY);
        let jittered = renew_at(0, 90 * DAY, DEFAULT_REMAINING_FRACTION, None, 1.0);
        assert!(jittered < due && jittered >= due - DAY, "{jittered}");
    }

    #[test]
    fn the_cas_window_wins_over_the_fraction() {
        let window = RenewalWindow { start: 10 * DAY, end: 12 * DAY };
        assert_eq!(renew_at(0, 90 * DAY, 0.33, Some(window), 0.5), 11 * DAY);
    }

    #[test]
    fn random_numbers_stay_in_range() {
        for _ in 0..100 {
            let value = random_unit();
            assert!((0.0..1.0).contains(&value));
        }
    }
}
