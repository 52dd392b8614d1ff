//! `opsdeck-metrics`: the series store behind the Metrics page, PromQL and
//! alerting.
//!
//! [`chunk`] packs a series' samples (millisecond timestamps, 64-bit float
//! values) into compressed chunks — delta-of-delta timestamps and XOR'd
//! values, the scheme Facebook's Gorilla paper published and Prometheus'
//! TSDB uses — so a regularly scraped series costs about 1.3 bytes per
//! sample instead of 16; [`histogram_chunk`] keeps a histogram's bucket,
//! count and sum series together, timestamps once and a column each.
//! [`exposition`] reads what scrape targets answer
//! (the Prometheus text format and OpenMetrics), strictly, with the line
//! and column of anything malformed. [`store`] keeps series by their labels
//! with an inverted label index and their samples in those chunks, in the
//! deck's store (SQLite or PostgreSQL), and selects them by PromQL's label
//! matchers and a time range. [`otlp`] names OTLP metric points' series the
//! way Prometheus' OTLP receiver does. [`promql`] evaluates PromQL over the
//! store as Prometheus does. [`alerts`] holds alerting rules, the alerts
//! they raise and their state machine, silences, and Prometheus rule files;
//! [`dashboards`] the dashboards of panels, stored with their versions.

pub mod alerts;
pub mod chunk;
pub mod dashboards;
pub mod exposition;
pub mod histogram_chunk;
pub mod otlp;
pub mod promql;
pub mod selector;
pub mod sources;
pub mod store;

pub use chunk::{decode, ChunkEncoder, ChunkError, Sample, STALE_NAN_BITS};
pub use selector::parse_selector;
pub use store::{
    histogram_of, migrator, series_text, HistogramNames, Labels, Matcher, MetricsError, SeriesStore,
};

/// What is wrong with the name of a `what` (a dashboard, a rule, a scrape
/// target…), if anything: 1 to 100 letters, digits and the characters of
/// `punctuation`, which the message lists in the order given.
pub fn check_name(what: &str, name: &str, punctuation: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || punctuation.contains(c));
    if valid {
        return Ok(());
    }
    let marks: Vec<String> = punctuation.chars().map(|c| format!("`{c}`")).collect();
    let listed = match marks.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(format!("`{name}` is not a {what} name: use letters, digits, {listed} (at most 100)"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_is_checked_and_the_refusal_lists_what_is_allowed() {
        assert_eq!(super::check_name("rule", "High-Errors:5m", "_-.:"), Ok(()));
        assert_eq!(
            super::check_name("dashboard", "my board", "-_."),
            Err("`my board` is not a dashboard name: use letters, digits, `-`, `_` and `.` (at most 100)"
                .to_owned())
        );
        assert_eq!(
            super::check_name("rule", "", "_-.:"),
            Err("`` is not a rule name: use letters, digits, `_`, `-`, `.` and `:` (at most 100)".to_owned())
        );
        assert!(super::check_name("target", &"a".repeat(101), "_-.").is_err());
    }
}
