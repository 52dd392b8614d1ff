//! `make bench`: the dashboard figure of targets.md — a dashboard of 8
//! panels opened (aim ≤ 300 ms to first draw) — measured on the generated
//! Service RED dashboard, whose 8 panels are what a person opens first.
//!
//! The series store holds 6 hours of the span metrics OpsDeck derives
//! (10 services × 8 operations: calls by status and a 16-bucket duration
//! histogram, every 10 s — 1,760 series, 3.8 million samples) in SQLite.
//! Opening the dashboard runs its 8 range queries over the last hour at the
//! app's step (the range in 250 points), all at once as the page sends
//! them; "first draw" is when the first answer is back, "all drawn" the
//! last. Panel drawing in the web view is not counted (uPlot draws 250
//! points per series in well under a millisecond).

use std::sync::Arc;
use std::time::Instant;

use opsdeck_metrics::dashboards::{expand, red_dashboard};
use opsdeck_metrics::promql::Query;
use opsdeck_metrics::Labels;

const SERVICES: usize = 10;
const OPERATIONS: usize = 8;
const INTERVAL_MS: i64 = 10_000;
const HOURS: i64 = 6;
const BUCKETS: [&str; 17] = [
    "0.002", "0.004", "0.006", "0.008", "0.01", "0.05", "0.1", "0.2", "0.4", "0.8", "1", "1.4", "2", "5",
    "10", "15", "+Inf",
];
const RUNS: usize = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn labels(pairs: &[(&str, String)]) -> Labels {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
}

fn main() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let end = now / INTERVAL_MS * INTERVAL_MS;
    let start = end - HOURS * 3_600_000;
    // Every series with how its value grows per interval.
    let mut series: Vec<(Labels, f64)> = Vec::new();
    for service in 0..SERVICES {
        for operation in 0..OPERATIONS {
            let base = [
                ("job", format!("svc-{service}")),
                ("instance", "opsdeck@bench:1".to_owned()),
                ("service_name", format!("svc-{service}")),
                ("span_name", format!("GET /op/{operation}")),
                ("span_kind", "SPAN_KIND_SERVER".to_owned()),
            ];
            let rate = 1.0 + (service * OPERATIONS + operation) as f64 % 9.0;
            for (status, share) in
                [("STATUS_CODE_UNSET", 0.95), ("STATUS_CODE_OK", 0.03), ("STATUS_CODE_ERROR", 0.02)]
            {
                let mut pairs = base.to_vec();
                pairs.push(("__name__", "traces_span_metrics_calls_total".to_owned()));
                pairs.push(("status_code", status.to_owned()));
                series.push((labels(&pairs), rate * share * 10.0));
            }
            for (index, le) in BUCKETS.iter().enumerate() {
                let mut pairs = base.to_vec();
                pairs.push(("__name__", "traces_span_metrics_duration_seconds_bucket".to_owned()));
                pairs.push(("le", (*le).to_owned()));
                series.push((labels(&pairs), rate * 10.0 * (index + 1) as f64 / BUCKETS.len() as f64));
            }
            for (name, growth) in [("_sum", rate * 1.5), ("_count", rate * 10.0)] {
                let mut pairs = base.to_vec();
                pairs.push(("__name__", format!("traces_span_metrics_duration_seconds{name}")));
                series.push((labels(&pairs), growth));
            }
        }
    }
    let steps = (end - start) / INTERVAL_MS + 1;
    println!(
        "dashboard: Service RED (8 panels) over the last hour; the store holds {} series × {HOURS} h every {} s ({} samples)",
        series.len(),
        INTERVAL_MS / 1000,
        series.len() as i64 * steps
    );
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_store, metrics) = opsdeck_tests::prometheus::series_store_in(dir.path(), "bench").await;
        let metrics = Arc::new(metrics);
        let loading = Instant::now();
        // As the span metrics append them: the duration histogram stored whole.
        let histograms = opsdeck_metrics::HistogramNames::from(["traces_span_metrics_duration_seconds".to_owned()]);
        for step in 0..steps {
            let t = start + step * INTERVAL_MS;
            let batch: Vec<(&Labels, i64, f64)> =
                series.iter().map(|(labels, growth)| (labels, t, growth * step as f64)).collect();
            metrics.append_typed(&batch, &histograms).await.expect("append");
            if step % 120 == 119 {
                metrics.flush().await.expect("flush");
            }
        }
        metrics.flush().await.expect("flush");
        println!("  loaded in {:.1} s", loading.elapsed().as_secs_f64());

        let dashboard = red_dashboard();
        let values = vec![("service".to_owned(), "svc-3".to_owned())];
        let queries: Vec<Query> =
            dashboard.panels.iter().map(|panel| Query::parse(&expand(&panel.expr, &values)).expect("query")).collect();
        let (from, to) = (end - 3_600_000, end);
        let step = ((to - from) / 250).max(1000);
        let mut first_draws = Vec::new();
        let mut all_drawn = Vec::new();
        for _ in 0..RUNS {
            let opened = Instant::now();
            let tasks: Vec<_> = queries
                .iter()
                .cloned()
                .map(|query| {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        let answer = query.range(&metrics, from, to, step).await.expect("panel query");
                        (opened.elapsed().as_secs_f64() * 1000.0, answer)
                    })
                })
                .collect();
            let mut times = Vec::new();
            for task in tasks {
                let (ms, answer) = task.await.expect("panel task");
                assert!(
                    !matches!(&answer, opsdeck_metrics::promql::QueryResult::Matrix(series) if series.is_empty()),
                    "every panel has data"
                );
                times.push(ms);
            }
            first_draws.push(times.iter().copied().fold(f64::INFINITY, f64::min));
            all_drawn.push(times.iter().copied().fold(0.0, f64::max));
        }
        println!(
            "  first panel answered in {:.0} ms, all 8 in {:.0} ms (median of {RUNS}; aim ≤ 300 ms to first draw)",
            median(first_draws),
            median(all_drawn)
        );
    });
}
