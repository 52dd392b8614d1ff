//! OpsDeck's own numbers as series, for the generated OpsDeck dashboard:
//! what this process takes in (telemetry records stored, samples appended),
//! how big the store is, and what is waiting (scheduler jobs overdue,
//! webhook deliveries queued). Every [`EMIT_EVERY`] this process appends
//! them with `instance="opsdeck@HOST:PID"`; counters are per process (a
//! restart is a reset, which `rate()` handles), the store-wide gauges are
//! the same from every process (the dashboard takes their `max`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opsdeck_metrics::Labels;

use crate::Deck;

/// How often the numbers are appended (a scrape interval's worth).
pub const EMIT_EVERY: Duration = Duration::from_secs(15);

/// Telemetry records stored by this process, by signal.
pub const TELEMETRY_STORED: &str = "opsdeck_telemetry_records_stored_total";
/// Samples appended to the series store by this process.
pub const SAMPLES_APPENDED: &str = "opsdeck_series_samples_appended_total";
/// Bytes of sample data in the series store.
pub const SERIES_BYTES: &str = "opsdeck_series_store_bytes";
/// Series in the series store.
pub const SERIES: &str = "opsdeck_series";
/// The size of the whole store (SQLite file or PostgreSQL database).
pub const STORE_BYTES: &str = "opsdeck_store_bytes";
/// Scheduler jobs due more than a minute ago and not started.
pub const JOBS_OVERDUE: &str = "opsdeck_jobs_overdue";
/// Webhook deliveries waiting to be sent (or sent again).
pub const WEBHOOKS_QUEUED: &str = "opsdeck_webhook_deliveries_queued";

/// Counts kept as work happens (the telemetry writer's hook adds to them).
#[derive(Debug, Default)]
pub struct SelfCounters {
    /// Spans stored.
    pub spans: AtomicU64,
    /// Log records stored.
    pub logs: AtomicU64,
    /// OTLP metric points stored.
    pub metric_points: AtomicU64,
}

/// Starts the task (the app and `opsdeck serve`).
pub(crate) fn start_self_metrics(deck: &Arc<Deck>) {
    let weak = Arc::downgrade(deck);
    let instance = format!("opsdeck@{}:{}", opsdeck_core::definitions::this_host(), std::process::id());
    deck.tasks.spawn("self-metrics", move |stop| async move {
        let mut tick = tokio::time::interval(EMIT_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let Some(deck) = weak.upgrade() else { break };
                    if let Err(error) = emit(&deck, &instance).await {
                        tracing::warn!(error = %error, "OpsDeck's own metrics were not recorded");
                    }
                }
                () = stop.cancelled() => break,
            }
        }
    });
}

fn series(name: &str, instance: &str, extra: &[(&str, &str)]) -> Labels {
    [("__name__", name), ("job", "opsdeck"), ("instance", instance)]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(label, value)| (label.to_owned(), value.to_owned()))
        .collect()
}

async fn emit(deck: &Deck, instance: &str) -> Result<(), crate::DeckError> {
    let now = opsdeck_core::clock::now_unix_ms();
    let counters = &deck.self_counters;
    // Due more than a minute ago and nobody holds its lease: work waiting.
    let overdue = opsdeck_core::scheduler::Scheduler::overdue(&deck.store, now, 60_000).await?;
    let queued = opsdeck_core::webhooks::pending_count(&deck.store).await?;
    let store_bytes = deck.store.size_bytes().await?;
    let series_count = deck.metrics.series_count().await?;
    let series_bytes = deck.metrics.size_bytes().await?;
    let counter = |count: &AtomicU64| count.load(Ordering::Relaxed) as f64;
    let samples = [
        (series(TELEMETRY_STORED, instance, &[("signal", "spans")]), counter(&counters.spans)),
        (series(TELEMETRY_STORED, instance, &[("signal", "logs")]), counter(&counters.logs)),
        (
            series(TELEMETRY_STORED, instance, &[("signal", "metric_points")]),
            counter(&counters.metric_points),
        ),
        // Counted before this append, so it does not count itself.
        (series(SAMPLES_APPENDED, instance, &[]), deck.metrics.appended_total() as f64),
        (series(SERIES_BYTES, instance, &[]), series_bytes as f64),
        (series(SERIES, instance, &[]), series_count as f64),
        (series(STORE_BYTES, instance, &[]), store_bytes as f64),
        (series(JOBS_OVERDUE, instance, &[]), overdue as f64),
        (series(WEBHOOKS_QUEUED, instance, &[]), queued as f64),
    ];
    let samples: Vec<(Labels, i64, f64)> =
        samples.into_iter().map(|(labels, value)| (labels, now, value)).collect();
    deck.metrics.append(&samples).await?;
    deck.metrics.flush().await?;
    Ok(())
}
