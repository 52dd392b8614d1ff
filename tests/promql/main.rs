//! PromQL answers compared with a real Prometheus on the same samples.
//!
//! One hour of samples (counters with a reset, jittered scrapes, gauges, a
//! series that stops, histogram buckets) is written once as OpenMetrics
//! text, loaded into a real Prometheus with `promtool tsdb
//! create-blocks-from openmetrics`, and appended to OpsDeck's series store
//! on SQLite. Every query below then runs on both, as instant queries at
//! several times and as range queries, and the answers must agree: the
//! same series, the same values (to 1e-9 relative; the engines sum in the
//! same order but Go and Rust print floats differently), the same errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use opsdeck_core::{DataDir, Store, StoreLocation};
use opsdeck_metrics::promql::{Query, QueryResult};
use opsdeck_metrics::{Labels, SeriesStore};
use opsdeck_tests::prometheus::PrometheusServer;
use serde_json::Value;

/// A generated series: labels and (Unix ms, value) samples.
struct Generated {
    labels: Vec<(&'static str, String)>,
    samples: Vec<(i64, f64)>,
}

/// A small deterministic generator (the same data on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, limit: u64) -> u64 {
        self.next() % limit
    }
}

const HOUR_MS: i64 = 3_600_000;

/// One hour of samples starting at `start` (Unix ms, whole seconds).
fn generate(start: i64) -> Vec<Generated> {
    let mut random = Lcg(17);
    let mut series = Vec::new();
    let labels = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(name, value)| (*name, (*value).to_owned())).collect()
    };
    // Counters scraped every 15 s; instance b restarts at 35 min.
    for (instance, code, every_s, jitter_s) in
        [("a", "200", 15, 0), ("a", "500", 15, 0), ("b", "200", 15, 0), ("b", "500", 30, 4)]
    {
        let mut value = 0.0;
        let mut samples = Vec::new();
        let mut t = start;
        while t < start + HOUR_MS {
            let jitter = if jitter_s > 0 { random.below(jitter_s) as i64 * 1000 } else { 0 };
            value += random.below(if code == "200" { 40 } else { 5 }) as f64;
            if instance == "b" && t - start >= 35 * 60_000 && t - start < 35 * 60_000 + every_s * 1000 {
                value = random.below(3) as f64;
            }
            samples.push((t + jitter, value));
            t += every_s * 1000;
        }
        series.push(Generated {
            labels: labels(&[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("instance", instance),
                ("code", code),
            ]),
            samples,
        });
    }
    // Gauges every 20 s.
    for (instance, base) in [("a", 2.0e8), ("b", 3.5e8)] {
        let samples = (0..180)
            .map(|i| (start + i * 20_000, base + (random.below(1_000_000) as f64) * 37.5 - (i as f64) * 1e5))
            .collect();
        series.push(Generated {
            labels: labels(&[("__name__", "memory_bytes"), ("job", "api"), ("instance", instance)]),
            samples,
        });
    }
    // A gauge that stops at 30 min (no staleness marker: the lookback ends it).
    series.push(Generated {
        labels: labels(&[("__name__", "queue_depth"), ("job", "worker"), ("instance", "a")]),
        samples: (0..120).map(|i| (start + i * 15_000, (random.below(50) as f64) / 4.0)).collect(),
    });
    // Histogram buckets every 15 s for two instances.
    let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"];
    for instance in ["a", "b"] {
        // Observations per bucket so far; a bucket's series counts its own and every lower one.
        let mut totals = [0.0_f64; 6];
        let mut per_bucket: Vec<Vec<(i64, f64)>> = vec![Vec::new(); bounds.len()];
        for i in 0..240 {
            for total in &mut totals {
                *total += random.below(10) as f64;
            }
            let mut cumulative = 0.0;
            for (index, total) in totals.iter().enumerate() {
                cumulative += total;
                per_bucket[index].push((start + i * 15_000, cumulative));
            }
        }
        for (index, samples) in per_bucket.into_iter().enumerate() {
            series.push(Generated {
                labels: labels(&[
                    ("__name__", "latency_seconds_bucket"),
                    ("job", "api"),
                    ("instance", instance),
                    ("le", bounds[index]),
                ]),
                samples,
            });
        }
    }
    series
}

/// The series as OpenMetrics text with timestamps (what promtool loads).
fn openmetrics(series: &[Generated]) -> String {
    let mut text = String::new();
    for one in series {
        let name = &one.labels[0].1;
        let labels: Vec<String> =
            one.labels[1..].iter().map(|(label, value)| format!("{label}=\"{value}\"")).collect();
        for (t, v) in &one.samples {
            writeln!(text, "{name}{{{}}} {v} {}", labels.join(","), t / 1000).unwrap();
        }
    }
    text.push_str("# EOF\n");
    text
}

/// An answer reduced to what must agree: per label set, its (time, value) points.
#[derive(Debug)]
enum Answer {
    Error(String),
    Series(String, BTreeMap<String, Vec<(i64, f64)>>),
}

fn parse_value(text: &str) -> f64 {
    match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => text.parse().unwrap(),
    }
}

fn point(pair: &Value) -> (i64, f64) {
    let t = (pair[0].as_f64().unwrap() * 1000.0).round() as i64;
    (t, parse_value(pair[1].as_str().unwrap()))
}

fn labels_key(metric: &Value) -> String {
    let labels: BTreeMap<String, String> = serde_json::from_value(metric.clone()).unwrap_or_default();
    format!("{labels:?}")
}

/// Prometheus' JSON `data` (or error) as an [`Answer`].
fn answer_of(document: &Value) -> Answer {
    if document["status"] != "success" {
        return Answer::Error(document["errorType"].as_str().unwrap_or("?").to_owned());
    }
    let data = &document["data"];
    let kind = data["resultType"].as_str().unwrap().to_owned();
    let mut series = BTreeMap::new();
    match kind.as_str() {
        "scalar" | "string" => {
            series.insert(String::new(), vec![point(&data["result"])]);
        }
        "vector" => {
            for item in data["result"].as_array().unwrap() {
                series.insert(labels_key(&item["metric"]), vec![point(&item["value"])]);
            }
        }
        _ => {
            for item in data["result"].as_array().unwrap() {
                let points = item["values"].as_array().unwrap().iter().map(point).collect();
                series.insert(labels_key(&item["metric"]), points);
            }
        }
    }
    Answer::Series(kind, series)
}

fn ours(result: Result<QueryResult, opsdeck_metrics::promql::QueryError>) -> Answer {
    match result {
        Ok(result) => answer_of(&serde_json::json!({ "status": "success", "data": result })),
        Err(error) => Answer::Error(error.error_type().to_owned()),
    }
}

/// How many points an answer holds.
fn points_in(answer: &Answer) -> usize {
    match answer {
        Answer::Error(_) => 0,
        Answer::Series(_, series) => series.values().map(Vec::len).sum(),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Where the two answers differ, if they do.
fn difference(theirs: &Answer, ours: &Answer) -> Option<String> {
    match (theirs, ours) {
        (Answer::Error(a), Answer::Error(b)) if a == b => None,
        (Answer::Series(kind_a, a), Answer::Series(kind_b, b)) => {
            if kind_a != kind_b {
                return Some(format!("result type {kind_a} vs ours {kind_b}"));
            }
            if a.keys().ne(b.keys()) {
                return Some(format!(
                    "series {:?} vs ours {:?}",
                    a.keys().collect::<Vec<_>>(),
                    b.keys().collect::<Vec<_>>()
                ));
            }
            for (key, points) in a {
                let other = &b[key];
                if points.len() != other.len() {
                    return Some(format!("{key}: {} points vs ours {}", points.len(), other.len()));
                }
                for (p, q) in points.iter().zip(other) {
                    if p.0 != q.0 || !same(p.1, q.1) {
                        return Some(format!("{key}: {p:?} vs ours {q:?}"));
                    }
                }
            }
            None
        }
        _ => Some(format!("{theirs:?} vs ours {ours:?}")),
    }
}

/// Queries every engine must answer alike (instant and, where the result is
/// not a range vector, range).
const QUERIES: &[&str] = &[
    "http_requests_total",
    "http_requests_total{code=~\"5..\", instance!=\"a\"}",
    "rate(http_requests_total[5m])",
    "rate(http_requests_total[1m])",
    "irate(http_requests_total[1m])",
    "increase(http_requests_total[10m])",
    "delta(memory_bytes[10m])",
    "idelta(memory_bytes[5m])",
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum without (instance) (rate(http_requests_total[5m]))",
    "avg by (code) (http_requests_total)",
    "min(memory_bytes)",
    "max by (instance) (memory_bytes)",
    "count(http_requests_total)",
    "group by (instance) (http_requests_total)",
    "stddev(memory_bytes)",
    "stdvar by (job) (http_requests_total)",
    "topk(2, rate(http_requests_total[5m]))",
    "bottomk(1, memory_bytes)",
    "quantile(0.9, rate(http_requests_total[5m]))",
    "count_values(\"depth\", queue_depth)",
    "avg_over_time(memory_bytes[10m])",
    "min_over_time(memory_bytes[10m])",
    "max_over_time(memory_bytes[10m])",
    "sum_over_time(queue_depth[5m])",
    "count_over_time(http_requests_total[7m])",
    "last_over_time(memory_bytes[2m])",
    "stddev_over_time(memory_bytes[10m])",
    "stdvar_over_time(queue_depth[10m])",
    "quantile_over_time(0.75, memory_bytes[15m])",
    "present_over_time(queue_depth[1m])",
    "changes(queue_depth[10m])",
    "resets(http_requests_total[20m])",
    "histogram_quantile(0.9, sum by (le, job) (rate(latency_seconds_bucket[5m])))",
    "histogram_quantile(0.5, rate(latency_seconds_bucket[2m]))",
    "histogram_quantile(0.99, latency_seconds_bucket)",
    "sum by (instance) (rate(http_requests_total{code=\"500\"}[5m])) / on (instance) sum by (instance) (rate(http_requests_total[5m]))",
    "http_requests_total / on (instance) group_left memory_bytes",
    "memory_bytes / ignoring (code) group_right http_requests_total",
    "rate(http_requests_total[5m]) > 1",
    "rate(http_requests_total[5m]) > bool 1",
    "1 < rate(http_requests_total[5m])",
    "memory_bytes * 2 + 1",
    "-memory_bytes",
    "memory_bytes % 7 ^ 2",
    "http_requests_total and on (instance) queue_depth",
    "http_requests_total unless on (code) http_requests_total{code=\"200\"}",
    "memory_bytes or queue_depth",
    "rate(http_requests_total[5m] offset 10m)",
    "memory_bytes offset 3m",
    "max_over_time(rate(http_requests_total[1m])[10m:1m])",
    "avg_over_time(memory_bytes[15m:30s] offset 2m)",
    "absent(nonexistent{job=\"x\", env=~\"p.*\"})",
    "absent(memory_bytes)",
    "absent_over_time(queue_depth[1m])",
    "timestamp(memory_bytes)",
    "time()",
    "scalar(sum(memory_bytes))",
    "vector(1)",
    "clamp(memory_bytes, 1e8, 3e8)",
    "clamp_min(queue_depth, 5)",
    "abs(delta(memory_bytes[5m]))",
    "ceil(queue_depth) + floor(queue_depth) - round(queue_depth, 0.5)",
    "sqrt(memory_bytes) + ln(memory_bytes) + log2(queue_depth) + log10(memory_bytes) + exp(queue_depth / 10)",
    "sgn(delta(memory_bytes[5m]))",
    "label_replace(memory_bytes, \"host\", \"node-$1\", \"instance\", \"(.*)\")",
    "label_join(memory_bytes, \"where\", \"/\", \"job\", \"instance\")",
    "sort_desc(memory_bytes)",
    "http_requests_total + on (job) memory_bytes",
    "http_requests_total + ignoring (code) memory_bytes",
    "rate({__name__=~\"http_requests_total|memory_bytes\"}[5m])",
    "deriv(memory_bytes[10m])",
    "deriv(http_requests_total[5m])",
    "predict_linear(memory_bytes[15m], 3600)",
    "predict_linear(queue_depth[5m], -600)",
    "holt_winters(memory_bytes[10m], 0.3, 0.6)",
    "hour(timestamp(memory_bytes)) * 60 + minute(timestamp(memory_bytes))",
    "day_of_week() + day_of_month() + days_in_month() + month() + year() + hour() + minute()",
];

/// An hour of generated samples ending two hours ago on a whole hour (its
/// start, the series), loaded into a real Prometheus (told to keep data for
/// 100 years, so nothing is dropped as old).
fn hour_in_prometheus() -> (i64, Vec<Generated>, PrometheusServer) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let start = (now / HOUR_MS - 3) * HOUR_MS;
    let generated = generate(start);
    let prometheus = PrometheusServer::start(&openmetrics(&generated));
    (start, generated, prometheus)
}

/// OpsDeck's series store in the data dir `dir` (SQLite), holding `series`.
async fn series_store_with(dir: &Path, series: &[Generated]) -> (Store, SeriesStore) {
    let (store, series_store) = opsdeck_tests::prometheus::series_store_in(dir, "promql-test").await;
    // In time order, as a scrape appends them: the histogram's buckets are
    // stored together (one chunk of columns), the rest as series.
    let mut samples: Vec<(Labels, i64, f64)> = Vec::new();
    for one in series {
        let labels: Labels =
            one.labels.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
        samples.extend(one.samples.iter().map(|(t, v)| (labels.clone(), *t, *v)));
    }
    samples.sort_by_key(|(_, t, _)| *t);
    let histograms = opsdeck_metrics::HistogramNames::from(["latency_seconds".to_owned()]);
    let appended = series_store.append_typed(&samples, &histograms).await.unwrap();
    assert_eq!(appended.samples, samples.len());
    series_store.flush().await.unwrap();
    let together: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metric_histogram_chunks")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(together > 0, "the histogram's buckets are stored together");
    (store, series_store)
}

#[tokio::test(flavor = "current_thread")]
async fn promql_answers_equal_real_prometheus_on_the_same_samples() {
    let (start, generated, prometheus) = hour_in_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let (_store, series_store) = series_store_with(dir.path(), &generated).await;

    // Instants inside the hour, on and off the sample grid, near the end
    // of the stopped series' lookback, and after the data ends.
    let instants: Vec<i64> =
        [10 * 60, 17 * 60 + 7, 33 * 60 + 30, 35 * 60 + 11, 34 * 60 + 59, 59 * 60, 62 * 60]
            .iter()
            .map(|s| start + s * 1000)
            .collect();
    let seconds = |t: i64| format!("{}", t as f64 / 1000.0);
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut points = 0;
    for text in QUERIES {
        let query = Query::parse(text);
        for &t in &instants {
            let theirs = answer_of(
                &prometheus.get("/api/v1/query", &[("query", text.to_string()), ("time", seconds(t))]),
            );
            let mine = match &query {
                Ok(query) => ours(query.instant(&series_store, t).await),
                Err(error) => Answer::Error(error.error_type().to_owned()),
            };
            compared += 1;
            points += points_in(&theirs);
            if let Some(difference) = difference(&theirs, &mine) {
                failures.push(format!("instant `{text}` at +{} s: {difference}", (t - start) / 1000));
            }
        }
        for (from, to, step) in
            [(start + 5 * 60_000, start + 65 * 60_000, 60_000), (start, start + 40 * 60_000, 37_000)]
        {
            let theirs = answer_of(&prometheus.get(
                "/api/v1/query_range",
                &[
                    ("query", text.to_string()),
                    ("start", seconds(from)),
                    ("end", seconds(to)),
                    ("step", format!("{}", step as f64 / 1000.0)),
                ],
            ));
            let mine = match &query {
                Ok(query) => ours(query.range(&series_store, from, to, step).await),
                Err(error) => Answer::Error(error.error_type().to_owned()),
            };
            compared += 1;
            points += points_in(&theirs);
            if let Some(difference) = difference(&theirs, &mine) {
                failures.push(format!("range `{text}` step {} s: {difference}", step / 1000));
            }
        }
    }
    // A comparison of empty answers proves nothing: Prometheus must have the data.
    println!("{compared} answers compared, {points} points in Prometheus' answers");
    assert!(points > 10_000, "Prometheus answered only {points} points: were the blocks loaded?");
    assert!(
        failures.is_empty(),
        "{} of {compared} answers differ from Prometheus':\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `opsdeck serve --prometheus-api ADDR` on `dir`, until dropped.
struct Serve(std::process::Child);

impl Serve {
    fn start(dir: &Path, address: &str) -> Serve {
        let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
        let data_dir = dir.display().to_string();
        let guard = opsdeck_tests::process::spawn_tied_to_this_process(
            &binary,
            &[
                "--data-dir",
                &data_dir,
                "serve",
                "--otlp-grpc",
                "off",
                "--otlp-http",
                "off",
                "--prometheus-api",
                address,
            ],
            &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
            "TERM",
            None,
        );
        let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
        opsdeck_tests::process::wait_until(Duration::from_secs(60), "opsdeck serve's Prometheus API", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Serve(guard)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        opsdeck_tests::process::stop(&mut self.0);
    }
}

const PASSPHRASE: &str = "promql-test-passphrase-2c81";

fn opsdeck_json(dir: &Path, args: &[&str]) -> Value {
    let output = opsdeck_tests::opsdeck_command()
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A request to a Prometheus-compatible API: (HTTP status, JSON answer).
fn call(
    agent: &ureq::Agent,
    url: &str,
    params: &[(&str, String)],
    form: bool,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut answer = if form {
        let mut request = agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send_form(params.iter().map(|(name, value)| (*name, value.as_str()))).unwrap()
    } else {
        let mut request = agent.get(url);
        for (name, value) in params {
            request = request.query(*name, value);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.call().unwrap()
    };
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{url}: not JSON: {text}")))
}

#[tokio::test(flavor = "current_thread")]
async fn prometheus_clients_get_prometheus_answers_from_opsdeck_serve() {
    let (start, generated, prometheus) = hour_in_prometheus();

    // A deck with a viewer token, its series store holding the same samples.
    let dir = tempfile::tempdir().unwrap();
    let token =
        opsdeck_json(dir.path(), &["api", "token", "create", "--name", "grafana", "--role", "viewer"])
            ["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let (store, _) = series_store_with(dir.path(), &generated).await;
    store.close().await;
    let ports = opsdeck_tests::process::free_ports(2);
    let _loopback = Serve::start(dir.path(), &format!("127.0.0.1:{}", ports[0]));
    let _everywhere = Serve::start(dir.path(), &format!("0.0.0.0:{}", ports[1]));
    let ours = format!("http://127.0.0.1:{}", ports[0]);
    let ours_with_token = format!("http://127.0.0.1:{}", ports[1]);
    let bearer = format!("Bearer {token}");
    let theirs = format!("http://{}", prometheus.address);
    let agent = &prometheus.agent;
    let seconds = |t: i64| format!("{}", t as f64 / 1000.0);

    // Queries as Grafana sends them: instant and range, by GET and by POST form.
    let at = start + 33 * 60_000 + 30_000;
    for text in [
        "sum by (instance) (rate(http_requests_total[5m]))",
        "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))",
        "memory_bytes",
        "1 + 1",
    ] {
        let params = [("query", text.to_owned()), ("time", seconds(at))];
        let (status, expected) = call(agent, &format!("{theirs}/api/v1/query"), &params, false, &[]);
        assert_eq!(status, 200, "{expected}");
        let (status, got) = call(agent, &format!("{ours}/api/v1/query"), &params, false, &[]);
        assert_eq!(status, 200, "{got}");
        assert_eq!(difference(&answer_of(&expected), &answer_of(&got)), None, "{text}");
        let (status, posted) = call(
            agent,
            &format!("{ours_with_token}/api/v1/query"),
            &params,
            true,
            &[("Authorization", &bearer)],
        );
        assert_eq!(status, 200, "{posted}");
        assert_eq!(difference(&answer_of(&expected), &answer_of(&posted)), None, "{text} by POST");
        let range = [
            ("query", text.to_owned()),
            ("start", seconds(start)),
            ("end", seconds(start + HOUR_MS)),
            ("step", "2m".to_owned()),
        ];
        let (_, expected) = call(agent, &format!("{theirs}/api/v1/query_range"), &range, false, &[]);
        let (status, got) = call(agent, &format!("{ours}/api/v1/query_range"), &range, false, &[]);
        assert_eq!(status, 200, "{got}");
        assert_eq!(difference(&answer_of(&expected), &answer_of(&got)), None, "range {text}");
    }

    // Series, label names and label values: the same lists. Over the data's
    // hour: `opsdeck serve` also keeps its own series (`opsdeck_*`), now.
    let hour = || vec![("start", seconds(start)), ("end", seconds(start + HOUR_MS))];
    let lists: [(&str, Vec<(&str, String)>); 4] = [
        (
            "/api/v1/series",
            vec![("match[]", "http_requests_total{code=\"500\"}".into()), ("match[]", "memory_bytes".into())],
        ),
        ("/api/v1/labels", hour()),
        ("/api/v1/label/__name__/values", hour()),
        ("/api/v1/label/instance/values", vec![("match[]", "queue_depth".into())]),
    ];
    for (path, params) in &lists {
        let (_, expected) = call(agent, &format!("{theirs}{path}"), params, false, &[]);
        let (status, got) = call(agent, &format!("{ours}{path}"), params, false, &[]);
        assert_eq!(status, 200, "{path}: {got}");
        let sorted = |answer: &Value| {
            let mut items: Vec<String> =
                answer["data"].as_array().unwrap().iter().map(Value::to_string).collect();
            items.sort();
            items
        };
        assert_eq!(sorted(&got), sorted(&expected), "{path}");
        assert!(!sorted(&got).is_empty(), "{path} found nothing");
    }

    // Errors in Prometheus' shape and statuses.
    for (text, status_wanted, kind) in [
        ("sum(rate(http_requests_total[5m])", 400, "bad_data"),
        ("http_requests_total + on (job) memory_bytes", 422, "execution"),
    ] {
        let params = [("query", text.to_owned()), ("time", seconds(at))];
        let (status, expected) = call(agent, &format!("{theirs}/api/v1/query"), &params, false, &[]);
        assert_eq!(
            (status, expected["errorType"].as_str()),
            (status_wanted, Some(kind)),
            "Prometheus: {expected}"
        );
        let (status, got) = call(agent, &format!("{ours}/api/v1/query"), &params, false, &[]);
        assert_eq!(
            (status, got["status"].as_str(), got["errorType"].as_str()),
            (status_wanted, Some("error"), Some(kind)),
            "{got}"
        );
    }
    let (status, got) =
        call(agent, &format!("{ours}/api/v1/query_range"), &[("query", "up".into())], false, &[]);
    assert_eq!((status, got["errorType"].as_str()), (400, Some("bad_data")), "{got}");

    // Beyond loopback a token is needed; on loopback a rebound name is refused.
    let params = [("query", "1".to_owned())];
    let (status, got) = call(agent, &format!("{ours_with_token}/api/v1/query"), &params, false, &[]);
    assert_eq!(status, 401, "{got}");
    let (status, got) = call(
        agent,
        &format!("{ours_with_token}/api/v1/query"),
        &params,
        false,
        &[("Authorization", "Bearer odk_forged")],
    );
    assert_eq!(status, 401, "{got}");
    let (status, got) =
        call(agent, &format!("{ours}/api/v1/query"), &params, false, &[("Host", "evil.example")]);
    assert_eq!(status, 403, "{got}");
}

/// A metrics endpoint in Python: a counter that grows by 5 on every scrape,
/// for paths /a, /b and /c (/c claims its own `job`); a `mode` file next to
/// it makes it drop /b (`drop`) or fail (`fail`).
const EXPORTER: &str = r##"
import http.server, os, sys
state = {"count": 0}
mode_file = sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/secure":
            if self.headers.get("Authorization") != "Bearer scrape-token-6c1e":
                self.send_response(401); self.end_headers(); return
            self.send_response(200); self.send_header("Content-Type", "text/plain")
            self.end_headers(); self.wfile.write(b"secure_total 1\n"); return
        mode = open(mode_file).read().strip() if os.path.exists(mode_file) else "ok"
        if mode == "fail":
            self.send_response(500); self.end_headers(); self.wfile.write(b"broken"); return
        state["count"] += 5
        lines = ["# TYPE shop_orders_total counter", 'shop_orders_total{path="/a"} %d' % state["count"]]
        if mode != "drop":
            lines.append('shop_orders_total{path="/b"} %d' % state["count"])
        lines.append('shop_orders_total{path="/c",job="exported"} 1')
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"##;

/// `opsdeck --json ARGS` on `dir` (the output whatever the exit code).
fn opsdeck_output(dir: &Path, args: &[&str]) -> std::process::Output {
    opsdeck_tests::opsdeck_command()
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap()
}

/// The series of an instant PromQL query through the CLI (`--json` is
/// Prometheus' own `/api/v1/query` document): labels → points (a range
/// selector's samples, or the one value).
fn query_now(dir: &Path, text: &str) -> Vec<(Value, Vec<(i64, f64)>)> {
    let answer = opsdeck_json(dir, &["metrics", "query", text]);
    assert_eq!(answer["status"], "success", "{answer}");
    answer["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|series| {
            let points = match series["values"].as_array() {
                Some(values) => values.iter().map(point).collect(),
                None => vec![point(&series["value"])],
            };
            (series["metric"].clone(), points)
        })
        .collect()
}

#[test]
fn a_scrape_target_is_read_on_its_grid_and_series_that_go_away_end_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let script = path.join("exporter.py");
    std::fs::write(&script, EXPORTER).unwrap();
    let mode = path.join("mode");
    let port = opsdeck_tests::process::free_port();
    let mut exporter = opsdeck_tests::process::spawn_tied_to_this_process(
        "python3",
        &[&script.display().to_string(), &port.to_string(), &mode.display().to_string()],
        &[],
        "TERM",
        None,
    );
    let url = format!("http://127.0.0.1:{port}/metrics");
    opsdeck_tests::process::wait_until(Duration::from_secs(20), "the exporter", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    // A target that cannot be scraped is refused, saying why.
    let bad = opsdeck_output(path, &["metrics", "target", "set", "bad", "ftp://example.com/metrics"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("http(s) URL"), "{bad:?}");

    opsdeck_json(path, &["metrics", "target", "set", "shop", &url, "--every", "1", "--label", "env=test"]);
    // A target behind a bearer token, taken from a vault, never stored as text.
    opsdeck_json(path, &["vault", "init", "ops", "--no-keychain"]);
    let mut set_token = opsdeck_tests::opsdeck_command()
        .arg("--data-dir")
        .arg(path)
        .args(["secret", "set", "ops/scrape-token", "--type", "api_key", "--value-stdin"])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut set_token.stdin.take().unwrap(), b"scrape-token-6c1e").unwrap();
    assert!(set_token.wait().unwrap().success());
    let secure = format!("http://127.0.0.1:{port}/secure");
    let literal = opsdeck_output(
        path,
        &["metrics", "target", "set", "secure", &secure, "--bearer-token", "scrape-token-6c1e"],
    );
    assert_eq!(literal.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&literal.stderr).contains("vault reference"), "{literal:?}");
    let bearer = ["--bearer-token", "opsdeck://ops/scrape-token", "--every", "1"];
    opsdeck_json(path, &[&["metrics", "target", "set", "secure", &secure][..], &bearer[..]].concat());
    let _serve = Serve::start(path, &format!("127.0.0.1:{}", opsdeck_tests::process::free_port()));
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        opsdeck_tests::process::wait_until(Duration::from_secs(60), what, done);
    };
    wait_for("five scrapes", &|| {
        query_now(path, "count_over_time(shop_orders_total{path=\"/a\"}[1m])")
            .first()
            .is_some_and(|(_, points)| points[0].1 >= 5.0)
    });

    // The protected endpoint answers the token; the token was revealed once
    // (as the person who set the target, audited), not once per scrape.
    wait_for("the protected target up", &|| {
        query_now(path, "up{job=\"secure\"}").first().is_some_and(|(_, points)| points[0].1 == 1.0)
    });
    wait_for("three protected scrapes", &|| {
        query_now(path, "count_over_time(secure_total[1m])")
            .first()
            .is_some_and(|(_, points)| points[0].1 >= 3.0)
    });
    let reveals =
        opsdeck_json(path, &["audit", "log", "--action", "secret.reveal", "--target", "ops/scrape-token"]);
    assert_eq!(reveals.as_array().unwrap().len(), 1, "{reveals}");
    let trail = opsdeck_json(path, &["audit", "log", "--limit", "1000"]).to_string();
    assert!(!trail.contains("scrape-token-6c1e"), "the token's value reached the audit trail");

    // On the target's grid: whole intervals apart (a scrape the scheduler
    // reached too late on this busy machine is skipped, never shifted).
    let window = query_now(path, "shop_orders_total{path=\"/a\"}[1m]");
    let times: Vec<i64> = window[0].1.iter().map(|point| point.0).collect();
    assert!(times.windows(2).all(|pair| (pair[1] - pair[0]) % 1000 == 0), "{times:?}");
    let exact = times.windows(2).filter(|pair| pair[1] - pair[0] == 1000).count();
    assert!(exact * 2 >= times.len(), "most scrapes one interval apart: {times:?}");
    let up = query_now(path, "up{job=\"shop\"}");
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0].1[0].1, 1.0);
    assert_eq!(up[0].0["instance"], format!("127.0.0.1:{port}"));
    assert_eq!(query_now(path, "scrape_samples_scraped{job=\"shop\"}")[0].1[0].1, 3.0);
    // The series' own `job` is kept as exported_job; the target's labels are added.
    let claimed = query_now(path, "shop_orders_total{path=\"/c\"}");
    assert_eq!(claimed[0].0["job"], "shop", "{claimed:?}");
    assert_eq!(claimed[0].0["exported_job"], "exported");
    assert_eq!(claimed[0].0["env"], "test");
    // Each scrape saw the counter 5 higher than the one before.
    let values: Vec<f64> = window[0].1.iter().map(|point| point.1).collect();
    assert!(values.windows(2).all(|pair| pair[1] - pair[0] == 5.0), "{values:?}");

    // A series the endpoint stops returning ends at the next scrape, not
    // five minutes later.
    std::fs::write(&mode, "drop").unwrap();
    wait_for("/b to end", &|| query_now(path, "shop_orders_total{path=\"/b\"}").is_empty());
    assert_eq!(query_now(path, "shop_orders_total{path=\"/a\"}").len(), 1, "/a goes on");

    // A failing endpoint: up is 0 and every series of the target ends.
    std::fs::write(&mode, "fail").unwrap();
    wait_for("up to be 0", &|| {
        query_now(path, "up{job=\"shop\"}").first().is_some_and(|(_, points)| points[0].1 == 0.0)
    });
    assert!(query_now(path, "shop_orders_total").is_empty());
    let targets = opsdeck_json(path, &["metrics", "target", "list"]);
    let shop = targets.as_array().unwrap().iter().find(|info| info["target"]["name"] == "shop").unwrap();
    assert_eq!(shop["health"], "down", "{targets}");
    assert!(shop["last_message"].as_str().unwrap().contains("HTTP 500"), "{targets}");

    opsdeck_json(path, &["metrics", "target", "rm", "shop"]);
    opsdeck_json(path, &["metrics", "target", "rm", "secure"]);
    assert_eq!(opsdeck_json(path, &["metrics", "target", "list"]), serde_json::json!([]));
    opsdeck_tests::process::stop(&mut exporter);
}

#[test]
fn dashboards_keep_every_version_refuse_bad_panels_and_draw_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // The generated dashboards are there from the start.
    let listed = opsdeck_json(path, &["metrics", "dashboards"]);
    let names: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|one| one["name"].as_str()).collect();
    assert_eq!(names, ["red", "opsdeck"], "{listed}");

    // Exported, changed and imported: saved as version 1, then 2.
    let export = path.join("red.json");
    opsdeck_json(path, &["metrics", "dashboard", "export", "red", "-o", &export.display().to_string()]);
    let mut dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    dashboard["name"] = "shop".into();
    dashboard["title"] = "Shop".into();
    std::fs::write(&export, dashboard.to_string()).unwrap();
    let saved = opsdeck_json(path, &["metrics", "dashboard", "import", &export.display().to_string()]);
    assert_eq!((&saved["name"], &saved["version"]), (&"shop".into(), &1.into()), "{saved}");
    dashboard["panels"].as_array_mut().unwrap().truncate(2);
    std::fs::write(&export, dashboard.to_string()).unwrap();
    opsdeck_json(path, &["metrics", "dashboard", "import", &export.display().to_string()]);
    let history = opsdeck_json(path, &["metrics", "dashboard", "history", "shop"]);
    let versions: Vec<(i64, i64)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|one| (one["version"].as_i64().unwrap(), one["panels"].as_i64().unwrap()))
        .collect();
    assert_eq!(versions, [(2, 2), (1, 8)], "{history}");
    let first = opsdeck_json(path, &["metrics", "dashboard", "show", "shop", "--version", "1"]);
    assert_eq!(first["dashboard"]["panels"].as_array().unwrap().len(), 8);

    // Bad input says what is wrong, and nothing stored changes.
    let truncated = path.join("bad.json");
    std::fs::write(&truncated, "{\"name\": \"shop\", \"panels\": [").unwrap();
    let refused = opsdeck_output(path, &["metrics", "dashboard", "import", &truncated.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not JSON"), "{refused:?}");
    dashboard["panels"][0]["expr"] = "sum(rate(x[5m])".into();
    std::fs::write(&export, dashboard.to_string()).unwrap();
    let refused = opsdeck_output(path, &["metrics", "dashboard", "import", &export.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2));
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(why.contains("panel `Requests`") && why.contains("not valid PromQL"), "{why}");
    dashboard["name"] = "red".into();
    dashboard["panels"][0]["expr"] = "up".into();
    std::fs::write(&export, dashboard.to_string()).unwrap();
    let refused = opsdeck_output(path, &["metrics", "dashboard", "import", &export.display().to_string()]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("generated dashboard"), "{refused:?}");
    assert_eq!(opsdeck_json(path, &["metrics", "dashboard", "history", "shop"]).as_array().unwrap().len(), 2);

    // Drawn: a PNG of a dashboard, an SVG of a query; a wrong extension or
    // variable is refused.
    let png = path.join("shop.png");
    opsdeck_json(
        path,
        &["metrics", "render", "shop", "--var", "service=cart", "-o", &png.display().to_string()],
    );
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let svg = path.join("up.svg");
    opsdeck_json(path, &["metrics", "render", "--expr", "vector(1)", "-o", &svg.display().to_string()]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let wrong =
        opsdeck_output(path, &["metrics", "render", "shop", "-o", &path.join("x.gif").display().to_string()]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains(".png or .svg"));
    let wrong = opsdeck_output(
        path,
        &["metrics", "render", "shop", "--var", "nope=1", "-o", &png.display().to_string()],
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("no variable `nope`"), "{wrong:?}");
    // One panel alone, titled by the dashboard and the panel; one past the end is named.
    let panel = path.join("panel.svg");
    opsdeck_json(path, &["metrics", "render", "shop", "--panel", "1", "-o", &panel.display().to_string()]);
    let drawn = std::fs::read_to_string(&panel).unwrap();
    let second = dashboard["panels"][1]["title"].as_str().unwrap();
    assert!(drawn.contains(&format!("Shop · {second}")), "the panel's own title");
    let first = dashboard["panels"][0]["title"].as_str().unwrap();
    assert!(!drawn.contains(&format!(">{first}<")), "only that panel is drawn");
    let wrong = opsdeck_output(
        path,
        &["metrics", "render", "shop", "--panel", "9", "-o", &panel.display().to_string()],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("dashboard `shop` has 2 panels (0 to 1); there is no panel 9"),
        "{wrong:?}"
    );

    // The query commands print Prometheus' own documents with --json.
    let at = opsdeck_json(path, &["metrics", "query", "vector(1)", "--time", "1700000000"]);
    assert_eq!(
        at,
        serde_json::json!({"status": "success", "data": {"resultType": "vector",
        "result": [{"metric": {}, "value": [1_700_000_000, "1"]}]}})
    );
    let over = opsdeck_json(
        path,
        &[
            "metrics",
            "query-range",
            "vector(2)",
            "--start",
            "2023-11-14T22:13:20Z",
            "--end",
            "1700000060",
            "--step",
            "30s",
        ],
    );
    assert_eq!(over["data"]["resultType"], "matrix", "{over}");
    assert_eq!(
        over["data"]["result"][0]["values"],
        serde_json::json!([[1_700_000_000, "2"], [1_700_000_030, "2"], [1_700_000_060, "2"]])
    );
    let bad = opsdeck_output(path, &["metrics", "query", "up", "--time", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--time"), "{bad:?}");

    opsdeck_json(path, &["metrics", "dashboard", "rm", "shop"]);
    assert_eq!(opsdeck_json(path, &["metrics", "dashboards"]).as_array().unwrap().len(), 2);
}

#[test]
fn a_remote_prometheus_answers_queries_and_panels_as_a_data_source() {
    let (start, _generated, prometheus) = hour_in_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let url = format!("http://{}", prometheus.address);

    // A token is a vault reference, never the value; a URL must be http(s).
    let literal =
        opsdeck_output(path, &["metrics", "source", "set", "prom", &url, "--bearer-token", "s3cret"]);
    assert_eq!(literal.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&literal.stderr).contains("vault reference"), "{literal:?}");
    let bad_url = opsdeck_output(path, &["metrics", "source", "set", "prom", "ftp://x"]);
    assert_eq!(bad_url.status.code(), Some(2));
    opsdeck_json(path, &["metrics", "source", "set", "prom", &url]);
    assert_eq!(opsdeck_json(path, &["metrics", "source", "list"])[0]["url"], url.as_str());

    // The same answer as asking Prometheus itself, in Prometheus' own shape.
    let at = ((start + 1_800_000) / 1000).to_string();
    let query = "sum by (job) (rate(http_requests_total[5m]))";
    let ours = opsdeck_json(path, &["metrics", "query", query, "--time", &at, "--source", "prom"]);
    let theirs = prometheus.get("/api/v1/query", &[("query", query.to_owned()), ("time", at.clone())]);
    assert_eq!(ours, theirs);
    let end = ((start + 3_000_000) / 1000).to_string();
    let ours = opsdeck_json(
        path,
        &[
            "metrics",
            "query-range",
            "memory_bytes",
            "--start",
            &at,
            "--end",
            &end,
            "--step",
            "60",
            "--source",
            "prom",
        ],
    );
    let theirs = prometheus.get(
        "/api/v1/query_range",
        &[
            ("query", "memory_bytes".to_owned()),
            ("start", at.clone()),
            ("end", end.clone()),
            ("step", "60".to_owned()),
        ],
    );
    assert_eq!(ours["data"]["result"], theirs["data"]["result"]);

    // Its errors come back with its words; an unknown or unreachable source says so.
    let bad = opsdeck_output(path, &["metrics", "query", "sum(", "--source", "prom"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("data source `prom` says"), "{bad:?}");
    let unknown = opsdeck_output(path, &["metrics", "query", "up", "--source", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no data source `nope`"), "{unknown:?}");
    let port = opsdeck_tests::process::free_port();
    opsdeck_json(path, &["metrics", "source", "set", "gone", &format!("http://127.0.0.1:{port}")]);
    let gone = opsdeck_output(path, &["metrics", "query", "up", "--source", "gone"]);
    assert_ne!(gone.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("could not be asked"), "{gone:?}");

    // A panel answered by the source draws.
    let dashboard = serde_json::json!({
        "name": "remote", "title": "Remote", "range_minutes": 60,
        "panels": [{ "title": "Memory from Prometheus", "kind": "timeseries", "expr": "memory_bytes",
                     "x": 0, "y": 0, "w": 12, "h": 6, "source": "prom" }],
    });
    let file = path.join("remote.json");
    std::fs::write(&file, dashboard.to_string()).unwrap();
    opsdeck_json(path, &["metrics", "dashboard", "import", &file.display().to_string()]);
    let svg = path.join("remote.svg");
    opsdeck_json(path, &["metrics", "render", "remote", "-o", &svg.display().to_string()]);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Memory from Prometheus"));

    // A source redirected in the store (to collect its token) is refused
    // before anything is sent.
    let database = path.join("opsdeck.db");
    let redirect = format!(
        "import sqlite3; c = sqlite3.connect('{}'); \
         c.execute(\"UPDATE metric_sources SET definition = replace(definition, '{url}', 'http://127.0.0.1:9') WHERE name = 'prom'\"); \
         c.commit()",
        database.display()
    );
    assert!(std::process::Command::new("python3").args(["-c", &redirect]).status().unwrap().success());
    let refused = opsdeck_output(path, &["metrics", "query", "up", "--source", "prom"]);
    assert_ne!(refused.status.code(), Some(0));
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(why.contains("metrics.source `prom` was not used"), "{why}");

    opsdeck_json(path, &["metrics", "source", "rm", "gone"]);
    opsdeck_json(path, &["metrics", "source", "rm", "prom"]);
    assert_eq!(opsdeck_json(path, &["metrics", "source", "list"]), serde_json::json!([]));
}

#[test]
fn an_https_target_is_scraped_when_its_private_ca_is_given_and_refused_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let pki = opsdeck_tests::testpki::Pki::new();
    let now = opsdeck_tests::testpki::now_ms();
    let (leaf, key) = pki.leaf_with_key("localhost", now - 86_400_000, now + 86_400_000);
    std::fs::write(path.join("chain.pem"), format!("{leaf}{}", pki.intermediate_pem())).unwrap();
    std::fs::write(path.join("key.pem"), key).unwrap();
    std::fs::write(path.join("root.pem"), pki.root_pem()).unwrap();
    let script = path.join("exporter.py");
    std::fs::write(
        &script,
        "import http.server, ssl, sys\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       body = b'tls_jobs_total 7\\n'\n\
         \x20       self.send_response(200); self.send_header('Content-Type', 'text/plain; version=0.0.4')\n\
         \x20       self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)\n\
         \x20   def log_message(self, *args): pass\n\
         server = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)\n\
         context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         context.load_cert_chain(sys.argv[2], sys.argv[3])\n\
         server.socket = context.wrap_socket(server.socket, server_side=True)\n\
         server.serve_forever()\n",
    )
    .unwrap();
    let port = opsdeck_tests::process::free_port();
    let mut exporter = opsdeck_tests::process::spawn_tied_to_this_process(
        "python3",
        &[
            &script.display().to_string(),
            &port.to_string(),
            &path.join("chain.pem").display().to_string(),
            &path.join("key.pem").display().to_string(),
        ],
        &[],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(Duration::from_secs(20), "the https exporter", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = format!("https://localhost:{port}/metrics");
    let root = path.join("root.pem").display().to_string();
    // A bundle that is not PEM certificates is refused when set.
    std::fs::write(path.join("junk.pem"), "not a certificate").unwrap();
    let junk = opsdeck_output(
        path,
        &["metrics", "target", "set", "bad", &url, "--ca-file", &path.join("junk.pem").display().to_string()],
    );
    assert_eq!(junk.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&junk.stderr).contains("PEM certificates"), "{junk:?}");
    // Two seconds apart (and so two seconds to answer): a scrape is not cut
    // short by the other target's refused handshake on a busy machine.
    opsdeck_json(path, &["metrics", "target", "set", "private", &url, "--every", "2", "--ca-file", &root]);
    opsdeck_json(path, &["metrics", "target", "set", "system", &url, "--every", "2"]);
    let _serve = Serve::start(path, &format!("127.0.0.1:{}", opsdeck_tests::process::free_port()));
    opsdeck_tests::process::wait_until(Duration::from_secs(60), "both targets scraped", || {
        let targets = opsdeck_json(path, &["metrics", "target", "list"]);
        targets.as_array().unwrap().iter().all(|info| info["health"] != "unknown")
    });
    let targets = opsdeck_json(path, &["metrics", "target", "list"]);
    let health = |name: &str| {
        let info = targets.as_array().unwrap().iter().find(|info| info["target"]["name"] == name).unwrap();
        (info["health"].as_str().unwrap().to_owned(), info["last_message"].as_str().unwrap().to_owned())
    };
    assert_eq!(health("private").0, "up", "{targets}");
    let (system_health, why) = health("system");
    assert_eq!(system_health, "down", "a private CA is not trusted by default: {targets}");
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    let scraped = query_now(path, "tls_jobs_total{job=\"private\"}");
    assert_eq!(scraped[0].1[0].1, 7.0);
    // A query reading more samples than allowed fails with why, not by
    // exhausting memory.
    opsdeck_tests::process::wait_until(Duration::from_secs(30), "a few scrapes", || {
        query_now(path, "count_over_time(tls_jobs_total[1m])")
            .first()
            .is_some_and(|(_, points)| points[0].1 >= 4.0)
    });
    let limited = opsdeck_tests::opsdeck_command()
        .arg("--data-dir")
        .arg(path)
        .args(["metrics", "query", "count_over_time(tls_jobs_total[1m])"])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("OPSDECK_QUERY_MAX_SAMPLES", "3")
        .output()
        .unwrap();
    assert!(!limited.status.success());
    assert!(String::from_utf8_lossy(&limited.stderr).contains("more than 3 samples"), "{limited:?}");
    opsdeck_tests::process::stop(&mut exporter);
}

/// The values of a `query-range --json` answer's only series.
fn range_values(answer: &Value) -> Vec<(i64, f64)> {
    assert_eq!(answer["status"], "success", "{answer}");
    let result = answer["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{answer}");
    result[0]["values"].as_array().unwrap().iter().map(point).collect()
}

#[test]
fn samples_past_the_full_resolution_days_are_rolled_up_and_rate_still_answers() {
    const DAY_MS: i64 = 24 * HOUR_MS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // The retention as a new deck has it.
    let first = opsdeck_json(path, &["metrics", "retention"]);
    assert_eq!(
        first["retention"],
        serde_json::json!({"full_resolution_days": 7, "keep_days": 90, "max_bytes": 1_073_741_824_i64}),
        "{first}"
    );

    // Ten days of a counter growing by one a second, every 60 s, up to now.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let end = now / 60_000 * 60_000;
    let start = end - 10 * DAY_MS;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let data_dir = DataDir::prepare(path).unwrap();
        let store = Store::open(StoreLocation::choose(&data_dir, None).unwrap()).await.unwrap();
        let series = SeriesStore::new(store.clone(), "retention-test");
        let labels: Labels = [("__name__", "jobs_done_total"), ("job", "worker")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let samples: Vec<(Labels, i64, f64)> = (start..=end)
            .step_by(60_000)
            .map(|t| (labels.clone(), t, 1_000_000.0 + ((t - start) / 1000) as f64))
            .collect();
        series.append(&samples).await.unwrap();
        series.flush().await.unwrap();
        store.close().await;
    });
    // Unix seconds `hours` into the ten days: days 1 to 3 get rolled up (a
    // chunk that straddles the seven days' line stays whole, so not up to it).
    let at = |hours: i64| ((start + hours * HOUR_MS) / 1000).to_string();
    let rates_in_hours_40_to_64 = |path: &Path| {
        opsdeck_json(
            path,
            &[
                "metrics",
                "query-range",
                "rate(jobs_done_total[1h])",
                "--start",
                &at(40),
                "--end",
                &at(64),
                "--step",
                "1h",
            ],
        )
    };
    // Evaluated 30 s before the hour, so the range's ends fall between samples.
    let before_hour_64 = ((start + 64 * HOUR_MS) / 1000 - 30).to_string();
    let count_before_hour_64 = |path: &Path| {
        opsdeck_json(
            path,
            &["metrics", "query", "count_over_time(jobs_done_total[1d])", "--time", &before_hour_64],
        )
    };
    let raw_rates = range_values(&rates_in_hours_40_to_64(path));
    assert_eq!(raw_rates.len(), 25);
    assert!(raw_rates.iter().all(|(_, rate)| (rate - 1.0).abs() < 1e-9), "{raw_rates:?}");
    assert_eq!(count_before_hour_64(path)["data"]["result"][0]["value"][1], "1440");
    let held = first["stored_bytes"].as_i64().unwrap();
    let before = opsdeck_json(path, &["metrics", "retention"])["stored_bytes"].as_i64().unwrap();
    assert!(before > held, "{before} bytes after ten days were written");

    // Bad settings are refused and change nothing.
    let refused =
        opsdeck_output(path, &["metrics", "retention", "--full-resolution-days", "30", "--keep-days", "9"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("full_resolution_days is 30: give between 1 and keep_days (9)"), "{said}");
    assert_eq!(opsdeck_json(path, &["metrics", "retention"])["retention"], first["retention"]);

    // Seven days at full resolution, nine kept: applied at once.
    let set =
        opsdeck_json(path, &["metrics", "retention", "--full-resolution-days", "7", "--keep-days", "9"]);
    let pass = set["last_run"].as_str().unwrap();
    assert!(pass.starts_with("rolled 1 series up to 5-minute samples"), "{set}");
    let after = set["stored_bytes"].as_i64().unwrap();
    // Seven of ten days stay whole: a little under three days' bytes go.
    assert!(after * 4 < before * 3, "{after} bytes left of {before}");
    // Hours 40 to 64 keep one sample per five minutes, and its rates are the same.
    assert_eq!(count_before_hour_64(path)["data"]["result"][0]["value"][1], "288");
    let rolled_rates = range_values(&rates_in_hours_40_to_64(path));
    assert_eq!(rolled_rates.len(), raw_rates.len());
    for ((t, raw), (rolled_t, rolled)) in raw_rates.iter().zip(&rolled_rates) {
        assert_eq!(t, rolled_t);
        assert!((raw - rolled).abs() < 1e-9, "at {t}: {raw} at full resolution, {rolled} rolled up");
    }
    // The last day is untouched; the first is gone (older than nine days).
    let last_day = ((end - 30_000) / 1000).to_string();
    let recent = opsdeck_json(
        path,
        &["metrics", "query", "count_over_time(jobs_done_total[1d])", "--time", &last_day],
    );
    assert_eq!(recent["data"]["result"][0]["value"][1], "1440", "{recent}");
    let oldest =
        opsdeck_json(path, &["metrics", "query", "count_over_time(jobs_done_total[12h])", "--time", &at(20)]);
    assert_eq!(oldest["data"]["result"], serde_json::json!([]), "{oldest}");
}
