//! Many processes on one SQLite store, for BENCHMARKS.md (`make bench`):
//!  1. `opsdeck secret set` wall time, from process start, with nothing else
//!     running but an idle `opsdeck serve` (60 calls one after another);
//!  2. ingest alone: OTLP/HTTP from four connections into a release `opsdeck
//!     serve` for 20 s, as spans stored per second;
//!  3. the same ingest while one script sets a secret again and again (the
//!     everyday case: the app receives telemetry while a script writes);
//!  4. the same ingest under the contention of the black-box test: 16
//!     processes × 25 `secret set`, 16 × 25 `secret get`, 4 × 10 `config
//!     set`, all at once; every `secret set` timed.
//!
//! Every figure comes from the same run, on the same store. Everything is
//! real: the release `opsdeck` binary, its SQLite store, OTLP/HTTP protobuf.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use opsdeck_core::{sqlx, DataDir, Store, StoreLocation};
use prost::Message;

const PASSPHRASE: &str = "contention bench passphrase";
const LOAD_CONNECTIONS: u64 = 4;
const SPANS_PER_REQUEST: u64 = 1_000;
const WINDOW: Duration = Duration::from_secs(20);

fn binary() -> PathBuf {
    let binary = opsdeck_tests::workspace_root().join("target/release/opsdeck");
    assert!(binary.is_file(), "build the release binary first: cargo build --release -p opsdeck-cli");
    binary
}

fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, Duration, String) {
    let started = Instant::now();
    let mut child = Command::new(binary())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        // The store logs how long each write waited for the lock (see `lock_wait`).
        .env("OPSDECK_LOG", "warn,opsdeck_core::store=debug")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env_remove("OPSDECK_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    (output.status.success(), started.elapsed(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `text` without terminal colour sequences (ESC [ … letter).
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// One `secret set`: its wall time and the time it waited for the write lock, in all.
fn set_secret(dir: &Path, name: &str, value: &str) -> (Duration, Duration) {
    let (ok, took, stderr) =
        cli(dir, &["secret", "set", name, "--type", "api_key", "--value-stdin"], Some(value));
    assert!(ok, "secret set {name} failed: {stderr}");
    (took, lock_wait(&stderr))
}

/// The time a CLI process waited for the store's write lock, summed over its
/// write transactions (from the store's debug lines `write lock taken waited_us=N`).
fn lock_wait(stderr: &str) -> Duration {
    let plain = without_colours(stderr);
    let micros: u64 = plain
        .lines()
        .filter(|line| line.contains("write lock taken"))
        .filter_map(|line| line.split("waited_us=").nth(1))
        .filter_map(|rest| {
            rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u64>().ok()
        })
        .sum();
    Duration::from_micros(micros)
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
    }
}

fn request(connection: u64, number: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let spans = (0..SPANS_PER_REQUEST)
        .map(|index| {
            let trace = index / 10;
            Span {
                trace_id: [connection.to_be_bytes(), (number * 1_000 + trace + 1).to_be_bytes()].concat(),
                span_id: (index + 1).to_be_bytes().to_vec(),
                parent_span_id: if index % 10 == 0 {
                    Vec::new()
                } else {
                    (trace * 10 + 1).to_be_bytes().to_vec()
                },
                name: format!("GET /bench/{}", index % 10),
                kind: 2,
                start_time_unix_nano: now - 40_000_000 + index,
                end_time_unix_nano: now - 30_000_000 + index,
                attributes: vec![text("http.route", "/bench"), text("http.request.method", "GET")],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "bench")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// OTLP/HTTP from [`LOAD_CONNECTIONS`] threads until `stop`.
fn start_load(http: &str, first_number: u64, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    (0..LOAD_CONNECTIONS)
        .map(|connection| {
            let (url, stop) = (format!("http://{http}/v1/traces"), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let mut number = first_number;
                while !stop.load(Ordering::SeqCst) {
                    let body = request(connection + 1, number);
                    number += 1;
                    let status = agent
                        .post(&url)
                        .header("Content-Type", "application/x-protobuf")
                        .send(&body[..])
                        .map(|response| response.status().as_u16())
                        .unwrap_or(0);
                    if status == 503 {
                        std::thread::sleep(Duration::from_millis(50)); // the receiver's backpressure
                    }
                }
            })
        })
        .collect()
}

async fn stored_spans(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM telemetry_spans").fetch_one(store.pool()).await.unwrap()
}

fn percentile(samples: &mut [Duration], share: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 * share).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[index]
}

fn report(what: &str, samples: &mut [Duration]) -> (Duration, Duration) {
    let (p50, p99) = (percentile(samples, 0.50), percentile(samples, 0.99));
    println!(
        "{what:<58} p50 {:>7.1} ms   p99 {:>7.1} ms   ({} calls)",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        samples.len()
    );
    (p50, p99)
}

/// Runs ingest for [`WINDOW`] while `during` runs; returns spans stored per second in the window.
fn ingest_window(
    runtime: &tokio::runtime::Runtime,
    store: &Store,
    http: &str,
    first: u64,
    during: impl FnOnce(),
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(http, first, stop.clone());
    std::thread::sleep(Duration::from_secs(2)); // past the first requests' warm-up
    let (before, started) = (runtime.block_on(stored_spans(store)), Instant::now());
    let until = started + WINDOW;
    during();
    let left = until.saturating_duration_since(Instant::now());
    std::thread::sleep(left);
    let (after, took) = (runtime.block_on(stored_spans(store)), started.elapsed());
    stop.store(true, Ordering::SeqCst);
    for thread in load {
        thread.join().unwrap();
    }
    (after - before) as f64 / took.as_secs_f64()
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return; // `cargo test --benches` lists benches: nothing to list here
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    println!("== many processes on one SQLite store (release opsdeck, OTLP/HTTP ingest from {LOAD_CONNECTIONS} connections)");
    let (ok, _, stderr) = cli(dir, &["vault", "init", "bench", "--no-keychain"], None);
    assert!(ok, "{stderr}");
    for secret in 0..4 {
        set_secret(dir, &format!("bench/s{secret}"), "v0");
    }
    let (ok, _, stderr) = cli(dir, &["config", "set", "shop", "dev", "seed", "1"], None);
    assert!(ok, "{stderr}");

    let http = format!("127.0.0.1:{}", opsdeck_tests::process::free_port());
    let data_dir = dir.display().to_string();
    let binary = binary().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", &http],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(Duration::from_secs(20), "the OTLP/HTTP receiver", || {
        std::net::TcpStream::connect(&http).is_ok()
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(async {
        let location = StoreLocation::choose(&DataDir::prepare(dir).unwrap(), None).unwrap();
        Store::open(location).await.unwrap()
    });

    // 1. Alone.
    let (mut alone, mut alone_waits): (Vec<Duration>, Vec<Duration>) =
        (0..60).map(|call| set_secret(dir, "bench/alone", &format!("alone-{call}"))).unzip();
    let (_, alone_p99) = report("secret set, alone", &mut alone);
    report("  of which waiting for the write lock", &mut alone_waits);

    // 2. Ingest alone.
    let ingest_alone = ingest_window(&runtime, &store, &http, 0, || {});

    // 3. Ingest while one script sets a secret again and again.
    let probe = Mutex::new(Vec::new());
    let ingest_with_script = ingest_window(&runtime, &store, &http, 1_000_000, || {
        let until = Instant::now() + WINDOW - Duration::from_secs(1);
        let mut call = 0;
        while Instant::now() < until {
            probe.lock().unwrap().push(set_secret(dir, "bench/probe", &format!("probe-{call}")));
            call += 1;
        }
    });
    let (mut probe, mut probe_waits): (Vec<Duration>, Vec<Duration>) =
        probe.into_inner().unwrap().into_iter().unzip();
    let (_, script_p99) = report("secret set, one script beside full ingest", &mut probe);
    report("  of which waiting for the write lock", &mut probe_waits);

    // 4. Ingest under the black-box test's contention.
    let sets = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let ingest_with_crowd = ingest_window(&runtime, &store, &http, 2_000_000, || {
        std::thread::scope(|scope| {
            for writer in 0..16 {
                let (sets, failures) = (&sets, &failures);
                scope.spawn(move || {
                    for call in 0..25 {
                        let name = format!("bench/s{}", (writer + call) % 4);
                        let (ok, took, stderr) = cli(
                            dir,
                            &["secret", "set", &name, "--type", "api_key", "--value-stdin"],
                            Some(&format!("w{writer}-{call}")),
                        );
                        sets.lock().unwrap().push((took, lock_wait(&stderr)));
                        if !ok {
                            failures.lock().unwrap().push(stderr);
                        }
                    }
                });
            }
            for reader in 0..16 {
                let failures = &failures;
                scope.spawn(move || {
                    for call in 0..25 {
                        let (ok, _, stderr) =
                            cli(dir, &["secret", "get", &format!("bench/s{}", (reader + call) % 4)], None);
                        if !ok {
                            failures.lock().unwrap().push(stderr);
                        }
                    }
                });
            }
            for writer in 0..4 {
                let failures = &failures;
                scope.spawn(move || {
                    for call in 0..10 {
                        let key = format!("load.w{writer}.k{call}");
                        let (ok, _, stderr) = cli(dir, &["config", "set", "shop", "dev", &key, "1"], None);
                        if !ok {
                            failures.lock().unwrap().push(stderr);
                        }
                    }
                });
            }
        });
    });
    let (mut sets, mut set_waits): (Vec<Duration>, Vec<Duration>) =
        sets.into_inner().unwrap().into_iter().unzip();
    let (_, crowd_p99) = report("secret set, 36 CLI processes at once beside full ingest", &mut sets);
    report("  of which waiting for the write lock", &mut set_waits);
    let failures = failures.into_inner().unwrap();

    println!("{:<58} {:>9.0} spans/s", "ingest alone", ingest_alone);
    println!("{:<58} {:>9.0} spans/s", "ingest beside one script setting secrets", ingest_with_script);
    println!("{:<58} {:>9.0} spans/s", "ingest beside 36 CLI processes", ingest_with_crowd);
    println!(
        "p99 ratios to alone: one script {:.1}x, 36 processes {:.1}x (aim <= 5x); failed CLI calls: {} of 840",
        script_p99.as_secs_f64() / alone_p99.as_secs_f64(),
        crowd_p99.as_secs_f64() / alone_p99.as_secs_f64(),
        failures.len()
    );
    for failure in failures.iter().take(5) {
        println!("  failure: {}", failure.trim());
    }
    runtime.block_on(store.close());
    opsdeck_tests::process::stop(&mut serve);
}
