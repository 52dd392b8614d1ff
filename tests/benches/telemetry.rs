//! Telemetry figures for BENCHMARKS.md (`make bench`):
//!  1. sustained ingest: a load generator sends 1,000,000 spans over OTLP/gRPC
//!     (HTTP/2 on loopback, 1,000 spans a request, several connections) to a
//!     release `opsdeck serve`; the rate is spans stored per second, from the
//!     first request until the last span is in the store;
//!  2. the receiver's memory: peak and final resident size of that process;
//!  3. search latency over those 1,000,000 spans, through the deck as the
//!     Traces page calls it (six kinds of search, 30 runs each);
//!  4. loading a 10,000-span trace with its critical path and self times.
//!
//! Everything is real: the `opsdeck` binary, its SQLite store, gRPC framing.
//! The load generator speaks gRPC through hyper's HTTP/2 client (a gRPC
//! unary call is one HTTP/2 POST with a 5-byte frame header).

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use opsdeck::{Deck, DeckOptions, KeyAccess, TraceQuery};
use prost::Message;

const SPANS: usize = 1_000_000;
const SPANS_PER_REQUEST: usize = 1_000;
const SPANS_PER_TRACE: usize = 10;
const CONNECTIONS: usize = 4;
const PASSPHRASE: &str = "telemetry bench passphrase";

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
    }
}

fn number(key: &str, value: i64) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(value)) }) }
}

/// A small xorshift generator: the same traffic on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const ROUTES: [&str; 4] = ["/products", "/cart", "/checkout", "/search"];
const SERVICES: [&str; 5] = ["gateway", "catalog", "cart", "payments", "postgres"];

/// One request: 100 traces of 10 spans (a gateway root, four services under
/// it, each with a database call), spread over the last hour.
fn request(index: usize, random: &mut Random, now: u64) -> ExportTraceServiceRequest {
    let mut by_service: Vec<Vec<Span>> = vec![Vec::new(); SERVICES.len()];
    for trace in 0..SPANS_PER_REQUEST / SPANS_PER_TRACE {
        let number_of_trace = (index * (SPANS_PER_REQUEST / SPANS_PER_TRACE) + trace) as u64;
        let trace_id = [number_of_trace.to_be_bytes(), random.next().to_be_bytes()].concat();
        let start = now - 3_600_000_000_000 + number_of_trace * 36_000;
        let slow = random.next().is_multiple_of(20);
        let failed = random.next().is_multiple_of(12);
        let length = if slow { 900_000_000 } else { 20_000_000 + random.next() % 80_000_000 };
        let route = ROUTES[(number_of_trace % 4) as usize];
        let span_id = |n: u64| (number_of_trace * 16 + n + 1).to_be_bytes().to_vec();
        let root = Span {
            trace_id: trace_id.clone(),
            span_id: span_id(0),
            name: format!("GET {route}"),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + length,
            attributes: vec![
                text("http.request.method", "GET"),
                text("http.route", route),
                number("http.response.status_code", if failed { 500 } else { 200 }),
                text("client.address", "10.1.2.3"),
            ],
            status: failed.then(|| Status {
                code: status::StatusCode::Error as i32,
                message: "upstream failed".into(),
            }),
            ..Default::default()
        };
        by_service[0].push(root);
        // Four calls in a row, each with a database query inside.
        for call in 0..4u64 {
            let service = 1 + (call as usize % 3);
            let from = start + 1_000_000 + call * length / 4;
            let to = from + length / 4 - 2_000_000;
            by_service[service].push(Span {
                trace_id: trace_id.clone(),
                span_id: span_id(1 + call * 2),
                parent_span_id: span_id(0),
                name: format!("{} handle", SERVICES[service]),
                kind: 2,
                start_time_unix_nano: from,
                end_time_unix_nano: to,
                attributes: vec![text("rpc.system", "grpc"), number("retries", (random.next() % 3) as i64)],
                status: (failed && call == 3)
                    .then(|| Status { code: status::StatusCode::Error as i32, message: "declined".into() }),
                ..Default::default()
            });
            by_service[4].push(Span {
                trace_id: trace_id.clone(),
                span_id: span_id(2 + call * 2),
                parent_span_id: span_id(1 + call * 2),
                name: "SELECT".to_owned(),
                kind: 3,
                start_time_unix_nano: from + 500_000,
                end_time_unix_nano: to - 500_000,
                attributes: vec![
                    text("db.system", "postgresql"),
                    text("db.statement", "SELECT id, name, price FROM products WHERE id = $1"),
                ],
                ..Default::default()
            });
        }
        // The tenth span: the gateway's own response write.
        by_service[0].push(Span {
            trace_id,
            span_id: span_id(9),
            parent_span_id: span_id(0),
            name: "write response".to_owned(),
            kind: 1,
            start_time_unix_nano: start + length - 900_000,
            end_time_unix_nano: start + length - 100_000,
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .enumerate()
            .map(|(index, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        text("service.name", SERVICES[index]),
                        text("deployment.environment", "bench"),
                    ],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    }
}

/// A gRPC unary call body: uncompressed flag, big-endian length, message.
fn grpc_frame(message: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(message.len() + 5);
    frame.push(0);
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    Bytes::from(frame)
}

/// Sends `frames` one after another over one HTTP/2 connection; returns how
/// many calls were answered RESOURCE_EXHAUSTED (and then sent again).
async fn sender(address: String, frames: Vec<Bytes>) -> usize {
    let stream = tokio::net::TcpStream::connect(&address).await.expect("connect to the gRPC receiver");
    stream.set_nodelay(true).expect("nodelay");
    let (mut send, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("HTTP/2 handshake");
    tokio::spawn(connection);
    let mut pushed_back = 0;
    for frame in frames {
        loop {
            let request = hyper::Request::post(format!(
                "http://{address}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(frame.clone()))
            .expect("request");
            send.ready().await.expect("connection ready");
            let response = send.send_request(request).await.expect("gRPC call");
            // An error may come "trailers-only": the status in the headers.
            let in_headers = response
                .headers()
                .get("grpc-status")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let collected = response.into_body().collect().await.expect("gRPC answer");
            let code = in_headers
                .or_else(|| {
                    collected
                        .trailers()
                        .and_then(|trailers| trailers.get("grpc-status"))
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "missing".to_owned());
            match code.as_str() {
                "0" => break,
                // RESOURCE_EXHAUSTED: the writer is behind; wait as RetryInfo says.
                "8" => {
                    pushed_back += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => panic!("the receiver answered grpc-status {other}"),
            }
        }
    }
    pushed_back
}

fn summary(label: &str, mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let median = samples[samples.len() / 2];
    let p95 = samples[((samples.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)];
    println!(
        "{label:<52} {median:>8.2} ms median, p95 {p95:.2} ms, max {:.2} ms ({} runs)",
        samples[samples.len() - 1],
        samples.len()
    );
    p95
}

async fn stored_spans(store: &opsdeck_core::Store) -> i64 {
    // Each span is a new row here, so the largest row id counts them without a scan.
    sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM telemetry_spans")
        .fetch_one(store.pool())
        .await
        .unwrap_or(0)
}

fn main() {
    let binary = opsdeck_tests::workspace_root().join("target/release/opsdeck");
    assert!(binary.is_file(), "build the release binary first: cargo build --release -p opsdeck-cli");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let now = u64::try_from(opsdeck_core::clock::now_unix_ms()).expect("clock") * 1_000_000;

    // The traffic, encoded before the clock starts.
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let frames: Vec<Bytes> = (0..SPANS / SPANS_PER_REQUEST)
        .map(|index| grpc_frame(&request(index, &mut random, now).encode_to_vec()))
        .collect();
    let bytes: usize = frames.iter().map(Bytes::len).sum();
    println!(
        "load: {SPANS} spans in {} gRPC requests, {:.0} MB of protobuf",
        frames.len(),
        bytes as f64 / 1e6
    );

    let grpc = format!("127.0.0.1:{}", opsdeck_tests::process::free_port());
    let data_dir = dir.path().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary.display().to_string(),
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", &grpc, "--otlp-http", "off"],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(Duration::from_secs(30), "the gRPC receiver", || {
        std::net::TcpStream::connect(&grpc).is_ok()
    });
    let pid = opsdeck_tests::process::program_pid(&serve).expect("opsdeck serve runs");
    let idle_kib = opsdeck_tests::process::memory_kib(pid, "VmRSS:");

    runtime.block_on(async {
        let store = opsdeck_core::Store::open(opsdeck_core::store::StoreLocation::Sqlite(dir.path().join("opsdeck.db")))
            .await
            .expect("the store");
        let started = Instant::now();
        let mut shares: Vec<Vec<Bytes>> = vec![Vec::new(); CONNECTIONS];
        for (index, frame) in frames.into_iter().enumerate() {
            shares[index % CONNECTIONS].push(frame);
        }
        let senders: Vec<_> = shares.into_iter().map(|share| tokio::spawn(sender(grpc.clone(), share))).collect();
        let mut pushed_back = 0;
        for sender in senders {
            pushed_back += sender.await.expect("sender");
        }
        let sent = started.elapsed();
        let mut peak_kib = opsdeck_tests::process::memory_kib(pid, "VmHWM:");
        while stored_spans(&store).await < SPANS as i64 {
            peak_kib = peak_kib.max(opsdeck_tests::process::memory_kib(pid, "VmHWM:"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stored = started.elapsed();
        peak_kib = peak_kib.max(opsdeck_tests::process::memory_kib(pid, "VmHWM:"));
        let final_kib = opsdeck_tests::process::memory_kib(pid, "VmRSS:");
        println!(
            "{:<52} {:>8.0} spans/s ({SPANS} spans stored in {:.2} s; all sent in {:.2} s; {pushed_back} calls pushed back)",
            "ingest over OTLP/gRPC into the store",
            SPANS as f64 / stored.as_secs_f64(),
            stored.as_secs_f64(),
            sent.as_secs_f64()
        );
        println!(
            "{:<52} {:>8.0} MB peak (VmHWM), {:.0} MB after, {:.0} MB idle before",
            "receiver resident memory (opsdeck serve)",
            peak_kib as f64 / 1024.0,
            final_kib as f64 / 1024.0,
            idle_kib as f64 / 1024.0
        );
        store.close().await;
    });
    opsdeck_tests::process::stop(&mut serve);
    let size = std::fs::metadata(dir.path().join("opsdeck.db")).map(|meta| meta.len()).unwrap_or(0);
    println!("{:<52} {:>8.0} MB", "store file after 1,000,000 spans", size as f64 / 1e6);
    println!("{:<52} {:>8.0} bytes (aim ≤ 150)", "store file per span", size as f64 / SPANS as f64);
    // Where those bytes are, table by table and index by index (SQLite's
    // dbstat, through the sqlite3 shell where it is installed).
    let breakdown = std::process::Command::new("sqlite3")
        .arg(dir.path().join("opsdeck.db"))
        .arg("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8")
        .output();
    match breakdown {
        Ok(output) if output.status.success() => {
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                if let Some((name, bytes)) = line.split_once('|') {
                    let bytes: f64 = bytes.parse().unwrap_or(0.0);
                    println!(
                        "{:<52} {:>8.0} bytes per span",
                        format!("  of which {name}"),
                        bytes / SPANS as f64
                    );
                }
            }
        }
        Ok(output) => println!("  (no breakdown: {})", String::from_utf8_lossy(&output.stderr).trim()),
        Err(error) => println!("  (no breakdown: sqlite3 could not be run: {error})"),
    }

    runtime.block_on(async {
        let options = DeckOptions {
            data_dir: Some(dir.path().to_path_buf()),
            database_url: None,
            keys: KeyAccess {
                passphrase: Some(PASSPHRASE.to_owned().into()),
                no_keychain: true,
                key_dir: None,
            },
            ..DeckOptions::default()
        };
        let deck = Deck::open(options).await.expect("deck");
        let hour_ago = (now - 3_600_000_000_000) as i64;
        let base = TraceQuery { since_unix_nano: Some(hour_ago), limit: 100, ..TraceQuery::default() };
        let searches: Vec<(&str, TraceQuery)> = vec![
            ("search: newest 100 traces of the last hour", base.clone()),
            ("search: service = payments", TraceQuery { service: Some("payments".into()), ..base.clone() }),
            (
                "search: service + operation",
                TraceQuery {
                    service: Some("gateway".into()),
                    operation: Some("GET /checkout".into()),
                    ..base.clone()
                },
            ),
            ("search: errors only", TraceQuery { errors_only: true, ..base.clone() }),
            (
                "search: duration ≥ 500 ms",
                TraceQuery { min_duration_nano: Some(500_000_000), ..base.clone() },
            ),
            (
                "search: attribute http.route=/checkout",
                TraceQuery { attribute: Some(("http.route".into(), "/checkout".into())), ..base.clone() },
            ),
        ];
        let mut all = Vec::new();
        for (label, query) in &searches {
            let mut samples = Vec::new();
            for _ in 0..30 {
                let start = Instant::now();
                let found = deck.telemetry().traces(query).await.expect("search");
                samples.push(start.elapsed().as_secs_f64() * 1000.0);
                assert!(!found.is_empty(), "{label} found nothing");
            }
            all.extend(samples.iter().copied());
            summary(label, samples);
        }
        summary("search over 1,000,000 spans, all kinds together", all);
        let mut samples = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let edges = deck.telemetry().service_map(hour_ago).await.expect("service map");
            samples.push(start.elapsed().as_secs_f64() * 1000.0);
            assert!(edges.len() >= 4, "{edges:?}");
        }
        summary("service map of the last hour (1,000,000 spans)", samples);
        let mut samples = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let services = deck.telemetry().services(hour_ago).await.expect("services");
            samples.push(start.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(services.len(), SERVICES.len());
        }
        summary("services and operations for the search form", samples);

        // A 10,000-span trace: one root, 100 workers, 99 steps each.
        let trace_id = "0000000000000000000000000000beef";
        let mut spans = Vec::with_capacity(10_000);
        let start = (now - 60_000_000_000) as i64;
        for n in 0..10_000i64 {
            let parent = if n == 0 {
                String::new()
            } else if n <= 100 {
                format!("{:016x}", 1)
            } else {
                format!("{:016x}", n - 99)
            };
            spans.push(opsdeck::Span {
                trace_id: trace_id.to_owned(),
                span_id: format!("{:016x}", n + 1),
                parent_span_id: parent,
                service: format!("worker-{}", n % 7),
                name: if n == 0 { "nightly import".to_owned() } else { format!("step {n}") },
                kind: 1,
                start_unix_nano: start + n * 1_000_000,
                end_unix_nano: start + n * 1_000_000 + if n == 0 { 20_000_000_000 } else { 900_000 },
                status_code: 0,
                status: opsdeck::SpanStatus::Unset,
                status_message: String::new(),
                trace_state: String::new(),
                flags: 1,
                attributes: opsdeck_telemetry::JsonText::from_value(
                    &serde_json::json!({ "step": n, "batch": "2026-11-23" }),
                )
                .unwrap(),
                resource: opsdeck_telemetry::JsonText::from_value(
                    &serde_json::json!({ "service.name": format!("worker-{}", n % 7) }),
                )
                .unwrap(),
                scope: opsdeck_telemetry::JsonText::from_value(
                    &serde_json::json!({ "name": "importer", "version": "1.0" }),
                )
                .unwrap(),
                events: opsdeck_telemetry::JsonText::from_value(&serde_json::json!([])).unwrap(),
                links: opsdeck_telemetry::JsonText::from_value(&serde_json::json!([])).unwrap(),
            });
        }
        let store = opsdeck_core::Store::open(opsdeck_core::store::StoreLocation::Sqlite(
            dir.path().join("opsdeck.db"),
        ))
        .await
        .expect("the store");
        opsdeck_telemetry::Telemetry::new(store.clone()).insert_spans(&spans).await.expect("the big trace");
        store.close().await;
        let mut samples = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            let detail = deck.telemetry().trace(trace_id).await.expect("load the big trace");
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(detail.spans.len(), 10_000);
            assert!(!detail.critical_path.is_empty());
        }
        summary("load a 10,000-span trace (spans, logs, critical path, self times)", samples);
        deck.shutdown().await;
    });
}
