//! `make bench`: the PromQL figure of targets.md — `rate()` over 1,000
//! series × 24 h at a 60 s step — in OpsDeck's engine (reading and
//! decoding the series store's chunks in SQLite included) and in a real
//! Prometheus 2.42 on the same samples, side by side.
//!
//! Then histograms, the same way: 100 classic histograms of 12 buckets (a
//! count and a sum each) × 24 h at 30 s, `histogram_quantile` over them,
//! and the bytes each side keeps per sample — OpsDeck stores a histogram's
//! series together in one chunk of columns, Prometheus as separate series.
//!
//! Prometheus' time is its own `execTotalTime` from `stats=all` (queueing,
//! preparation, evaluation, sorting; not the JSON encoding of the answer),
//! so both figures are the query's work without the answer's transport.

use std::fmt::Write as _;
use std::time::Instant;

use opsdeck_metrics::promql::{Loaded, Query, QueryResult};
use opsdeck_metrics::{Labels, SeriesStore};
use opsdeck_tests::prometheus::PrometheusServer;

const SERIES: usize = 1_000;
const SCRAPE_MS: i64 = 30_000;
const DAY_MS: i64 = 24 * 3_600_000;
const STEP_MS: i64 = 60_000;
const QUERY: &str = "rate(http_requests_total[5m])";
const RUNS: usize = 5;
const HISTOGRAMS: usize = 100;
const BOUNDS: [&str; 12] =
    ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
const HISTOGRAM_QUERY: &str =
    "histogram_quantile(0.9, sum by (le, instance) (rate(latency_seconds_bucket[5m])))";

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() {
    counters();
    histograms();
}

/// Prometheus' answer to a range query: its time (ms) and points.
fn their_range(prometheus: &PrometheusServer, query: &str, start: i64, end: i64) -> (f64, usize) {
    let params = vec![
        ("query", query.to_owned()),
        ("start", format!("{}", start / 1000)),
        ("end", format!("{}", end / 1000)),
        ("step", format!("{}", STEP_MS / 1000)),
        ("stats", "all".to_owned()),
    ];
    let mut times = Vec::new();
    let mut points = 0;
    for _ in 0..RUNS {
        let answer = prometheus.get("/api/v1/query_range", &params);
        assert_eq!(answer["status"], "success", "{answer}");
        let seconds =
            answer["data"]["stats"]["timings"]["execTotalTime"].as_f64().expect("Prometheus' timings");
        times.push(seconds * 1000.0);
        points = answer["data"]["result"]
            .as_array()
            .map_or(0, |series| series.iter().map(|one| one["values"].as_array().map_or(0, Vec::len)).sum());
    }
    (median(times), points)
}

/// Our answer to a range query: its time (ms), reading included, and points.
async fn our_range(metrics: &SeriesStore, query: &str, start: i64, end: i64) -> (f64, usize) {
    let query = Query::parse(query).expect("query");
    let mut times = Vec::new();
    let mut points = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let loaded = Loaded::load(metrics, &query, start, end, STEP_MS).await.expect("load");
        let result = query.range_on(&loaded, start, end, STEP_MS).expect("range query");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if let QueryResult::Matrix(series) = result {
            points = series.iter().map(|one| one.values.len()).sum();
        }
    }
    (median(times), points)
}

fn histograms() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let end = (now / 3_600_000 - 2) * 3_600_000;
    let start = end - DAY_MS;
    let scrapes = DAY_MS / SCRAPE_MS + 1;
    // Each histogram's series: a bucket per bound, then the count and the sum.
    let members: Vec<Vec<Labels>> = (0..HISTOGRAMS)
        .map(|index| {
            let base = [
                ("job", "shop".to_owned()),
                ("instance", format!("10.0.0.{}:9100", index % 10)),
                ("path", format!("/api/v1/items/{}", index / 10)),
            ];
            let with = |name: &str, le: Option<&str>| -> Labels {
                let mut labels: Labels =
                    base.iter().map(|(label, value)| ((*label).to_owned(), value.clone())).collect();
                labels.insert("__name__".to_owned(), name.to_owned());
                if let Some(le) = le {
                    labels.insert("le".to_owned(), le.to_owned());
                }
                labels
            };
            let mut series: Vec<Labels> =
                BOUNDS.iter().map(|le| with("latency_seconds_bucket", Some(le))).collect();
            series.push(with("latency_seconds_count", None));
            series.push(with("latency_seconds_sum", None));
            series
        })
        .collect();
    // Every scrape, 10–40 requests fall into the buckets (more into the
    // middle ones); the values are each histogram's cumulative rows.
    let mut state = 42_u64;
    let mut random = move |below: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % below
    };
    let mut rows: Vec<Vec<Vec<f64>>> =
        (0..HISTOGRAMS).map(|_| Vec::with_capacity(scrapes as usize)).collect();
    for histogram in &mut rows {
        let mut observed = [0_u64; 12];
        let mut sum = 0.0;
        for _ in 0..scrapes {
            for _ in 0..(10 + random(31)) {
                let bucket = ((random(6) + random(7)) as usize).min(11);
                observed[bucket] += 1;
                sum += 0.003 * (bucket as f64 + 1.0) * (1.0 + random(100) as f64 / 100.0);
            }
            let mut cumulative = 0;
            let mut row: Vec<f64> = observed
                .iter()
                .map(|n| {
                    cumulative += n;
                    cumulative as f64
                })
                .collect();
            row.push(cumulative as f64);
            row.push(sum);
            histogram.push(row);
        }
    }
    let samples = (HISTOGRAMS * members[0].len()) as f64 * scrapes as f64;
    println!(
        "promql, histograms: {HISTOGRAMS} histograms of {} buckets (with count and sum: {} series) × 24 h at {} s \
         ({samples} samples); `{HISTOGRAM_QUERY}` at a {} s step",
        BOUNDS.len(),
        HISTOGRAMS * members[0].len(),
        SCRAPE_MS / 1000,
        STEP_MS / 1000
    );
    let mut text = String::new();
    for (histogram, series) in members.iter().enumerate() {
        for (column, labels) in series.iter().enumerate() {
            let rest: Vec<String> = labels
                .iter()
                .filter(|(label, _)| label.as_str() != "__name__")
                .map(|(label, value)| format!("{label}=\"{value}\""))
                .collect();
            for (scrape, row) in rows[histogram].iter().enumerate() {
                let _ = writeln!(
                    text,
                    "{}{{{}}} {} {}",
                    labels["__name__"],
                    rest.join(","),
                    row[column],
                    (start + scrape as i64 * SCRAPE_MS) / 1000
                );
            }
        }
    }
    text.push_str("# EOF\n");
    let prometheus = PrometheusServer::start(&text);
    drop(text);
    let (their_chunks, their_total) = prometheus.disk_bytes();
    let (theirs, their_points) = their_range(&prometheus, HISTOGRAM_QUERY, start, end);

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, metrics) = opsdeck_tests::prometheus::series_store_in(dir.path(), "bench").await;
        let names = opsdeck_metrics::HistogramNames::from(["latency_seconds".to_owned()]);
        let appending = Instant::now();
        for scrape in 0..scrapes as usize {
            let t = start + scrape as i64 * SCRAPE_MS;
            let mut batch: Vec<(&Labels, i64, f64)> = Vec::with_capacity(HISTOGRAMS * members[0].len());
            for (series, histogram) in members.iter().zip(&rows) {
                batch.extend(series.iter().zip(&histogram[scrape]).map(|(labels, v)| (labels, t, *v)));
            }
            metrics.append_typed(&batch, &names).await.expect("append");
            if scrape % 120 == 119 {
                metrics.flush().await.expect("flush");
            }
        }
        metrics.flush().await.expect("flush");
        let appended_in = appending.elapsed().as_secs_f64();
        let database = store.size_bytes().await.expect("database size");
        let (ours, our_points) = our_range(&metrics, HISTOGRAM_QUERY, start, end).await;
        assert_eq!(our_points, their_points, "both engines answer with the same number of points");
        println!(
            "  bytes/sample in chunk data: opsdeck {:.2} (histograms stored whole), prometheus {:.2} (a series per bucket)",
            metrics.size_bytes().await.expect("size") as f64 / samples,
            their_chunks as f64 / samples
        );
        println!(
            "  bytes/sample on disk:       opsdeck {:.2} (series, index, SQLite's pages), prometheus {:.2} (chunks, index)",
            database as f64 / samples,
            their_total as f64 / samples
        );
        println!("  opsdeck appended (by labels, flushes included) at {:.2} M samples/s", samples / appended_in / 1e6);
        println!(
            "  histogram_quantile: opsdeck {ours:.0} ms, prometheus {theirs:.0} ms (medians of {RUNS}; {our_points} points); \
             opsdeck is {} ({:.2}×)",
            if ours < theirs { "faster" } else { "slower" },
            ours / theirs
        );
    });
}

fn counters() {
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
        let (store, metrics) = opsdeck_tests::prometheus::series_store_in(dir.path(), "bench").await;
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
