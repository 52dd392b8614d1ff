//! `make bench`: a 90-day panel before and after downsampling. 100 counters
//! scraped every 60 s for 90 days (12.96 M samples) in a real SQLite store;
//! `rate(x[1h])` over the 90 days at the step a 250-point panel uses
//! (8.64 h), then one retention pass (everything past 7 days rolled up to
//! 5 minutes) and the same query again; the pass's own time and the bytes
//! before and after.

use std::time::Instant;

use opsdeck_core::{DataDir, Store, StoreLocation};
use opsdeck_metrics::promql::{Query, QueryResult};
use opsdeck_metrics::store::SeriesId;
use opsdeck_metrics::{Labels, SeriesStore};

const SERIES: usize = 100;
const DAYS: i64 = 90;
const INTERVAL_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

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
                    ("__name__", "jobs_done_total".to_owned()),
                    ("job", "worker".to_owned()),
                    ("queue", format!("q{index}")),
                ]
                .into_iter()
                .map(|(label, value)| (label.to_owned(), value))
                .collect()
            })
            .collect();
        let refs: Vec<&Labels> = labels.iter().collect();
        let (ids, _) = metrics.resolve(&refs).await.expect("resolve");
        let end = 1_800_000_000_000 / INTERVAL_MS * INTERVAL_MS;
        let start = end - DAYS * DAY_MS;
        let mut t = start;
        let mut scrape = 0_i64;
        while t <= end {
            let batch: Vec<(SeriesId, i64, f64)> = ids
                .iter()
                .enumerate()
                .map(|(index, id)| (*id, t, (scrape * (index as i64 % 5 + 1)) as f64))
                .collect();
            metrics.append_by_id(&batch).await.expect("append");
            if scrape % 5_000 == 0 {
                metrics.flush().await.expect("flush");
            }
            t += INTERVAL_MS;
            scrape += 1;
        }
        metrics.flush().await.expect("flush");
        let samples = scrape as usize * SERIES;

        let query = Query::parse("sum(rate(jobs_done_total[1h]))").expect("query");
        let step = (end - start) / 250;
        let timed = |label: &'static str| {
            let query = &query;
            let metrics = &metrics;
            async move {
                let mut times = Vec::new();
                let mut points = 0;
                for _ in 0..5 {
                    let started = Instant::now();
                    let answer = query.range(metrics, start, end, step).await.expect("range query");
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                    if let QueryResult::Matrix(series) = answer {
                        points = series.iter().map(|one| one.values.len()).sum::<usize>();
                    }
                }
                times.sort_by(f64::total_cmp);
                println!("{:<52} {:>12.1} ms (median of 5; {points} points)", label, times[2]);
            }
        };
        let bytes_before = metrics.size_bytes().await.expect("size");
        timed("metrics store: 90-day panel, full resolution").await;
        let started = Instant::now();
        let rolled = metrics.downsample(end - 7 * DAY_MS).await.expect("downsample");
        println!(
            "{:<52} {:>12.1} s ({} of {samples} samples kept; {:.1} MB became {:.1} MB)",
            "metrics store: downsampling pass past 7 days",
            started.elapsed().as_secs_f64(),
            samples as u64 - rolled.samples_before + rolled.samples_after,
            bytes_before as f64 / 1e6,
            metrics.size_bytes().await.expect("size") as f64 / 1e6
        );
        timed("metrics store: 90-day panel, rolled up past 7 days").await;
    });
}
