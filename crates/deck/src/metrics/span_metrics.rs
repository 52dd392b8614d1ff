//! Request rate, errors and duration (RED) of every traced service and
//! operation, derived from spans as they are stored — what an OpenTelemetry
//! Collector's span-metrics connector would compute, with no collector and
//! no metrics instrumentation in the service.
//!
//! The telemetry writer hands over each stored batch of spans (without
//! waiting); this task counts them per service, operation (span name) and
//! span kind, and every [`EMIT_EVERY`] appends the running totals to the
//! series store as cumulative Prometheus series, under the connector's
//! names so existing dashboards and queries apply:
//!
//! - `traces_span_metrics_calls_total{service_name, span_name, span_kind, status_code}`
//! - `traces_span_metrics_duration_seconds_bucket{…, le}`, `_sum`, `_count`
//!
//! Each also carries `job` (the service, as OTLP metrics are named) and
//! `instance` (this OpsDeck process: two processes receiving spans keep
//! their own counters, which `sum by` adds up; a restart is a counter reset,
//! which `rate()` handles). Samples are stamped with the time they are
//! emitted, like a scrape. At most [`MAX_OPERATIONS`] service/operation/kind
//! combinations are tracked: beyond, new ones are counted as dropped and
//! logged, so a span name with an id in it cannot flood the store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opsdeck_metrics::{Labels, SeriesStore};
use opsdeck_telemetry::writer::OnSpans;
use opsdeck_telemetry::Span;
use tokio::sync::mpsc;

use crate::Deck;

/// The counter of calls.
pub const CALLS: &str = "traces_span_metrics_calls_total";
/// The duration histogram (its `_bucket`, `_sum` and `_count` series).
pub const DURATION: &str = "traces_span_metrics_duration_seconds";

/// Bucket bounds in seconds: the span-metrics connector's defaults.
const BUCKETS: [f64; 16] =
    [0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0];

/// How often the totals are appended.
pub const EMIT_EVERY: Duration = Duration::from_secs(10);

/// The most service/operation/kind combinations tracked.
const MAX_OPERATIONS: usize = 5_000;

/// Batches waiting before new ones are dropped (and said so in the log).
const QUEUE: usize = 256;

/// What is kept of a span.
struct Digest {
    service: String,
    name: String,
    kind: i32,
    status_code: i32,
    seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Operation {
    service: String,
    name: String,
    kind: i32,
}

#[derive(Debug, Default)]
struct Totals {
    /// Calls by status: unset, ok, error.
    calls: [u64; 3],
    /// Spans at or under each bound (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
    /// Spans over the last bound.
    over: u64,
    sum: f64,
}

/// Starts the task and returns the hook for the telemetry writer.
pub(crate) fn start_span_metrics(deck: &Arc<Deck>) -> OnSpans {
    let (sender, receiver) = mpsc::channel::<Vec<Digest>>(QUEUE);
    let series = deck.metrics.clone();
    let instance = format!("opsdeck@{}:{}", opsdeck_core::definitions::this_host(), std::process::id());
    deck.tasks.spawn("span-metrics", move |stop| run(series, instance, receiver, stop));
    Arc::new(move |spans: &[Span]| {
        let digests = spans
            .iter()
            .map(|span| Digest {
                service: span.service.clone(),
                name: span.name.clone(),
                kind: span.kind,
                status_code: span.status_code,
                seconds: (span.end_unix_nano.saturating_sub(span.start_unix_nano)).max(0) as f64 / 1e9,
            })
            .collect();
        if sender.try_send(digests).is_err() {
            tracing::warn!(spans = spans.len(), "span metrics are behind; these spans are not counted");
        }
    })
}

async fn run(
    series: Arc<SeriesStore>,
    instance: String,
    mut receiver: mpsc::Receiver<Vec<Digest>>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut totals: HashMap<Operation, Totals> = HashMap::new();
    let mut dropped: u64 = 0;
    let mut tick = tokio::time::interval(EMIT_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            batch = receiver.recv() => match batch {
                Some(digests) => count(&mut totals, &mut dropped, digests),
                None => break,
            },
            _ = tick.tick() => emit(&series, &instance, &totals).await,
            () = stop.cancelled() => {
                while let Ok(digests) = receiver.try_recv() {
                    count(&mut totals, &mut dropped, digests);
                }
                break;
            }
        }
    }
    emit(&series, &instance, &totals).await;
}

fn count(totals: &mut HashMap<Operation, Totals>, dropped: &mut u64, digests: Vec<Digest>) {
    for digest in digests {
        let operation = Operation { service: digest.service, name: digest.name, kind: digest.kind };
        if !totals.contains_key(&operation) && totals.len() >= MAX_OPERATIONS {
            *dropped += 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = *dropped,
                    limit = MAX_OPERATIONS,
                    "too many span names to derive metrics for each; spans of new ones are not counted \
                     (a span name should name the operation, not carry ids)"
                );
            }
            continue;
        }
        let entry = totals.entry(operation).or_default();
        entry.calls[usize::try_from(digest.status_code.clamp(0, 2)).unwrap_or(0)] += 1;
        match BUCKETS.iter().position(|bound| digest.seconds <= *bound) {
            Some(index) => entry.buckets[index] += 1,
            None => entry.over += 1,
        }
        entry.sum += digest.seconds;
    }
}

fn kind_word(kind: i32) -> &'static str {
    match kind {
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

const STATUS_WORDS: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// Every series' sample at `at`, from the running totals.
fn samples(totals: &HashMap<Operation, Totals>, instance: &str, at: i64) -> Vec<(Labels, i64, f64)> {
    let mut samples = Vec::new();
    for (operation, counts) in totals {
        let mut base = Labels::new();
        base.insert("job".to_owned(), operation.service.clone());
        base.insert("instance".to_owned(), instance.to_owned());
        base.insert("service_name".to_owned(), operation.service.clone());
        base.insert("span_name".to_owned(), operation.name.clone());
        base.insert("span_kind".to_owned(), kind_word(operation.kind).to_owned());
        for (status, calls) in STATUS_WORDS.iter().zip(counts.calls) {
            if calls == 0 {
                continue;
            }
            let mut labels = base.clone();
            labels.insert("__name__".to_owned(), CALLS.to_owned());
            labels.insert("status_code".to_owned(), (*status).to_owned());
            samples.push((labels, at, calls as f64));
        }
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(counts.buckets) {
            cumulative += count;
            let mut labels = base.clone();
            labels.insert("__name__".to_owned(), format!("{DURATION}_bucket"));
            labels.insert("le".to_owned(), opsdeck_metrics::promql::format_value(*bound));
            samples.push((labels, at, cumulative as f64));
        }
        let total = cumulative + counts.over;
        for (suffix, value) in [("_bucket", total as f64), ("_sum", counts.sum), ("_count", total as f64)] {
            let mut labels = base.clone();
            labels.insert("__name__".to_owned(), format!("{DURATION}{suffix}"));
            if suffix == "_bucket" {
                labels.insert("le".to_owned(), "+Inf".to_owned());
            }
            samples.push((labels, at, value));
        }
    }
    samples
}

async fn emit(series: &SeriesStore, instance: &str, totals: &HashMap<Operation, Totals>) {
    if totals.is_empty() {
        return;
    }
    let samples = samples(totals, instance, opsdeck_core::clock::now_unix_ms());
    let histograms = opsdeck_metrics::HistogramNames::from([DURATION.to_owned()]);
    if let Err(error) = series.append_typed(&samples, &histograms).await {
        tracing::error!(%error, "span metrics could not be stored");
        return;
    }
    if let Err(error) = series.flush().await {
        tracing::error!(%error, "span metrics could not be written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_calls_by_status_and_a_cumulative_duration_histogram() {
        let mut totals = HashMap::new();
        let mut dropped = 0;
        let span = |seconds: f64, status_code: i32| Digest {
            service: "shop".into(),
            name: "GET /cart".into(),
            kind: 2,
            status_code,
            seconds,
        };
        count(&mut totals, &mut dropped, vec![span(0.003, 0), span(0.09, 2), span(30.0, 1), span(0.003, 0)]);
        let samples = samples(&totals, "opsdeck@test:1", 1_000);
        let value = |name: &str, extra: &[(&str, &str)]| {
            samples
                .iter()
                .find(|(labels, _, _)| {
                    labels["__name__"] == name
                        && extra.iter().all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
                })
                .map(|(_, _, value)| *value)
        };
        assert_eq!(value(CALLS, &[("status_code", "STATUS_CODE_UNSET")]), Some(2.0));
        assert_eq!(value(CALLS, &[("status_code", "STATUS_CODE_ERROR")]), Some(1.0));
        assert_eq!(value(CALLS, &[("status_code", "STATUS_CODE_OK")]), Some(1.0));
        let bucket = format!("{DURATION}_bucket");
        assert_eq!(value(&bucket, &[("le", "0.002")]), Some(0.0));
        assert_eq!(value(&bucket, &[("le", "0.004")]), Some(2.0));
        assert_eq!(value(&bucket, &[("le", "0.1")]), Some(3.0));
        assert_eq!(value(&bucket, &[("le", "15")]), Some(3.0));
        assert_eq!(value(&bucket, &[("le", "+Inf")]), Some(4.0));
        assert_eq!(value(&format!("{DURATION}_count"), &[]), Some(4.0));
        assert!((value(&format!("{DURATION}_sum"), &[]).unwrap() - 30.096).abs() < 1e-9);
        let first = &samples[0].0;
        assert_eq!(first["job"], "shop");
        assert_eq!(first["span_kind"], "SPAN_KIND_SERVER");
        assert_eq!(first["span_name"], "GET /cart");
    }

    #[test]
    fn span_names_beyond_the_limit_are_not_tracked() {
        let mut totals = HashMap::new();
        let mut dropped = 0;
        let digests = (0..MAX_OPERATIONS + 3)
            .map(|index| Digest {
                service: "s".into(),
                name: format!("GET /item/{index}"),
                kind: 2,
                status_code: 0,
                seconds: 0.001,
            })
            .collect();
        count(&mut totals, &mut dropped, digests);
        assert_eq!(totals.len(), MAX_OPERATIONS);
        assert_eq!(dropped, 3);
    }
}
