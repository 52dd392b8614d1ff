//! How the command line writes times: in UTC, with the zone written, so a
//! time read in a terminal, a log or a ticket means the same everywhere (the
//! app shows local times). One place, so every command agrees.

use chrono::DateTime;

fn formatted(unix_ms: i64, pattern: &str) -> String {
    DateTime::from_timestamp_millis(unix_ms)
        .map_or_else(|| format!("{unix_ms} ms since 1970"), |time| time.format(pattern).to_string())
}

/// `2026-11-23 14:02 UTC`.
pub(crate) fn minute(unix_ms: i64) -> String {
    formatted(unix_ms, "%Y-%m-%d %H:%M UTC")
}

/// `2026-11-23 14:02:11 UTC`, for records where seconds tell entries apart.
pub(crate) fn second(unix_ms: i64) -> String {
    formatted(unix_ms, "%Y-%m-%d %H:%M:%S UTC")
}

/// `2026-11-23` (the UTC date), `—` for an unknown (zero) time.
pub(crate) fn day(unix_ms: i64) -> String {
    if unix_ms == 0 {
        return "—".to_owned();
    }
    formatted(unix_ms, "%Y-%m-%d")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc_with_the_zone() {
        assert_eq!(second(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(second(1_795_395_130_214), "2026-11-23 00:52:10 UTC");
        assert_eq!(minute(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(day(951_782_400_000), "2000-02-29");
        assert_eq!(day(0), "—");
        assert_eq!(minute(i64::MAX), format!("{} ms since 1970", i64::MAX));
    }
}
