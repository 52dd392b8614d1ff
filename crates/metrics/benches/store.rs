//! `make bench`: the series store's append rate into a real SQLite store
//! (scrapes of 1,000 series, flushed as the deck does: once a second), its bytes per sample on disk, and a range read of every series.

use std::time::Instant;

use opsdeck_core::{DataDir, Store, StoreLocation};
use opsdeck_metrics::{Labels, Matcher, SeriesStore};

const SERIES: usize = 1_000;
const SCRAPES: i64 = 720;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = DataDir::prepare(dir.path()).expect("data dir");
        let store =
            Store::open(StoreLocation::choose(&data_dir, None).expect("location")).await.expect("store");
        store.apply_migrations(opsdeck_metrics::migrator(store.kind())).await.expect("migrations");
        let metrics = SeriesStore::new(store.clone(), "bench");
        let labels: Vec<Labels> = (0..SERIES)
            .map(|index| {
                [
                    ("__name__", "http_requests_total".to_owned()),
                    ("job", "shop".to_owned()),
                    ("instance", format!("10.0.0.{}:9100", index % 50)),
                    ("path", format!("/api/v1/items/{}", index / 50)),
                ]
                .into_iter()
                .map(|(label, value)| (label.to_owned(), value))
                .collect()
            })
            .collect();
        let started = Instant::now();
        let mut flushed = Instant::now();
        for scrape in 0..SCRAPES {
            let t = 1_700_000_000_000 + scrape * 15_000;
            let batch: Vec<(&Labels, i64, f64)> = labels
                .iter()
                .enumerate()
                .map(|(index, labels)| (labels, t, (scrape * (index as i64 % 7 + 1)) as f64))
                .collect();
            metrics.append(&batch).await.expect("append");
            // As the deck flushes: once a second of wall time.
            if flushed.elapsed().as_secs() >= 1 {
                metrics.flush().await.expect("flush");
                flushed = Instant::now();
            }
        }
        metrics.flush().await.expect("flush");
        let elapsed = started.elapsed();
        let samples = SERIES as f64 * SCRAPES as f64;
        println!(
            "{:<52} {:>12.0} samples/s ({SERIES} series x {SCRAPES} scrapes at 15 s, flushed once a second)",
            "metrics store: append",
            samples / elapsed.as_secs_f64()
        );
        // As a source that resolves its series once (a scrape target's
        // cache, the span metrics) appends: by id, into a second writer.
        let by_id = SeriesStore::new(store.clone(), "bench-by-id");
        let refs: Vec<&Labels> = labels.iter().collect();
        let (ids, _) = by_id.resolve(&refs).await.expect("resolve");
        let started = Instant::now();
        let mut flushed = Instant::now();
        for scrape in 0..SCRAPES {
            let t = 1_700_000_000_000 + scrape * 15_000;
            let batch: Vec<(opsdeck_metrics::store::SeriesId, i64, f64)> = ids
                .iter()
                .enumerate()
                .map(|(index, id)| (*id, t, (scrape * (index as i64 % 7 + 1)) as f64))
                .collect();
            by_id.append_by_id(&batch).await.expect("append");
            if flushed.elapsed().as_secs() >= 1 {
                by_id.flush().await.expect("flush");
                flushed = Instant::now();
            }
        }
        by_id.flush().await.expect("flush");
        println!(
            "{:<52} {:>12.0} samples/s (the same, series resolved once)",
            "metrics store: append by series id",
            samples / started.elapsed().as_secs_f64()
        );
        opsdeck_core::sqlx::query("DELETE FROM metric_chunks WHERE writer = 'bench-by-id'")
            .execute(store.pool())
            .await
            .expect("clean");
        let stored: i64 = opsdeck_core::sqlx::query_scalar("SELECT SUM(LENGTH(data)) FROM metric_chunks")
            .fetch_one(store.pool())
            .await
            .expect("size");
        println!(
            "{:<52} {:>12.2} bytes/sample (chunk data only)",
            "metrics store: size",
            stored as f64 / samples
        );
        let started = Instant::now();
        let read = metrics
            .select(&[Matcher::equal("__name__", "http_requests_total")], 0, i64::MAX)
            .await
            .expect("select");
        let total: usize = read.iter().map(|series| series.samples.len()).sum();
        assert_eq!(total as f64, samples);
        println!(
            "{:<52} {:>12.1} ms ({total} samples of {} series)",
            "metrics store: read every series, 3 h",
            started.elapsed().as_secs_f64() * 1e3,
            read.len()
        );
    });
}
