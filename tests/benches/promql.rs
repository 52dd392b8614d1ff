//! `make bench`: the PromQL figure of targets.md — `rate()` over 1,000
//! series × 24 h at a 60 s step — in OpsDeck's engine (reading and
//! decoding the series store's chunks in SQLite included) and in a real
//! Prometheus 2.42 on the same samples, side by side.
//!
//! Prometheus' time is its own `execTotalTime` from `stats=all` (queueing,
//! preparation, evaluation, sorting; not the JSON encoding of the answer),
//! so both figures are the query's work without the answer's transport.

use std::fmt::Write as _;
use std::time::Instant;

use opsdeck_core::{DataDir, Store, StoreLocation};
use opsdeck_metrics::promql::{Loaded, Query, QueryResult};
use opsdeck_metrics::{Labels, SeriesStore};
use opsdeck_tests::prometheus::PrometheusServer;

const SERIES: usize = 1_000;
const SCRAPE_MS: i64 = 30_000;
const DAY_MS: i64 = 24 * 3_600_000;
const STEP_MS: i64 = 60_000;
const QUERY: &str = "rate(http_requests_total[5m])";
const RUNS: usize = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // A day ending on a whole hour, two hours ago.
    let end = (now / 3_600_000 - 2) * 3_600_000;
    let start = end - DAY_MS;
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
    let value = |series: usize, scrape: i64| (scrape * (1 + series as i64 % 7) + scrape / 13) as f64;
    let scrapes = DAY_MS / SCRAPE_MS + 1;
    println!(
        "promql: {SERIES} series × 24 h at a {} s scrape interval ({} samples); `{QUERY}` at a {} s step",
        SCRAPE_MS / 1000,
        SERIES as i64 * scrapes,
        STEP_MS / 1000
    );

    // Prometheus on the same samples.
    let mut text = String::new();
    for (index, series) in labels.iter().enumerate() {
        let rest = format!("job=\"shop\",instance=\"{}\",path=\"{}\"", series["instance"], series["path"]);
        for scrape in 0..scrapes {
            let _ = writeln!(
                text,
                "http_requests_total{{{rest}}} {} {}",
                value(index, scrape),
                (start + scrape * SCRAPE_MS) / 1000
            );
        }
    }
    text.push_str("# EOF\n");
    let loading = Instant::now();
    let prometheus = PrometheusServer::start(&text);
    drop(text);
    let samples = SERIES as f64 * scrapes as f64;
    let (their_chunks, their_total) = prometheus.disk_bytes();
    println!(
        "  prometheus: blocks made from the OpenMetrics text (parsing included) and loaded in {:.1} s; \
         {:.2} bytes/sample in chunk files, {:.2} with the index",
        loading.elapsed().as_secs_f64(),
        their_chunks as f64 / samples,
        their_total as f64 / samples
    );
    let params = |stats: bool| {
        let mut params = vec![
            ("query", QUERY.to_owned()),
            ("start", format!("{}", start / 1000)),
            ("end", format!("{}", end / 1000)),
            ("step", format!("{}", STEP_MS / 1000)),
        ];
        if stats {
            params.push(("stats", "all".to_owned()));
        }
        params
    };
    let mut theirs = Vec::new();
    let mut their_points = 0;
    for _ in 0..RUNS {
        let answer = prometheus.get("/api/v1/query_range", &params(true));
        assert_eq!(answer["status"], "success", "{answer}");
        let seconds =
            answer["data"]["stats"]["timings"]["execTotalTime"].as_f64().expect("Prometheus' timings");
        theirs.push(seconds * 1000.0);
        their_points = answer["data"]["result"]
            .as_array()
            .map_or(0, |series| series.iter().map(|one| one["values"].as_array().map_or(0, Vec::len)).sum());
    }

    // OpsDeck's engine over its series store.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = DataDir::prepare(dir.path()).expect("data dir");
        let store =
            Store::open(StoreLocation::choose(&data_dir, None).expect("location")).await.expect("store");
        store.apply_migrations(opsdeck_metrics::migrator(store.kind())).await.expect("migrations");
        let metrics = SeriesStore::new(store.clone(), "bench");
        let appending = Instant::now();
        for scrape in 0..scrapes {
            let t = start + scrape * SCRAPE_MS;
            let batch: Vec<(&Labels, i64, f64)> =
                labels.iter().enumerate().map(|(index, series)| (series, t, value(index, scrape))).collect();
            metrics.append(&batch).await.expect("append");
            if scrape % 120 == 119 {
                metrics.flush().await.expect("flush");
            }
        }
        metrics.flush().await.expect("flush");
        let appended_in = appending.elapsed().as_secs_f64();
        let database = store.size_bytes().await.expect("database size");
        println!(
            "  opsdeck:    appended (by labels, flushes included) at {:.2} M samples/s; {:.2} bytes/sample in \
             chunk data, {:.2} with series, index and SQLite's pages",
            samples / appended_in / 1e6,
            metrics.size_bytes().await.expect("size") as f64 / samples,
            database as f64 / samples
        );
        let query = Query::parse(QUERY).expect("query");
        let mut ours = Vec::new();
        let mut reading = Vec::new();
        let mut our_points = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let loaded = Loaded::load(&metrics, &query, start, end, STEP_MS).await.expect("load");
            reading.push(started.elapsed().as_secs_f64() * 1000.0);
            let result = query.range_on(&loaded, start, end, STEP_MS).expect("range query");
            ours.push(started.elapsed().as_secs_f64() * 1000.0);
            if let QueryResult::Matrix(series) = result {
                our_points = series.iter().map(|one| one.values.len()).sum();
            }
        }
        assert_eq!(our_points, their_points, "both engines answer with the same number of points");
        let (ours, theirs) = (median(ours), median(theirs));
        let reading = median(reading);
        println!(
            "  opsdeck:    {ours:.0} ms (median of {RUNS}; {reading:.0} ms reading and decoding chunks, {:.0} ms \
             evaluating; {our_points} points; aim ≤ 100 ms)",
            ours - reading
        );
        println!("  prometheus: {theirs:.0} ms (median of {RUNS}, execTotalTime)");
        println!(
            "  opsdeck is {} ({:.2}× Prometheus' time)",
            if ours < theirs { "faster" } else { "slower" },
            ours / theirs
        );
    });
}
