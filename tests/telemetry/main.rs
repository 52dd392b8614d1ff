//! The OTLP receivers of `opsdeck serve` (HTTP and gRPC), fed as SDKs feed
//! them (protobuf, JSON, gzip) and as they must not (truncated, wrong type,
//! bad ids, too large, too deep); then the traces read back through the CLI.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use opsdeck_tests::opsdeck_command;
use prost::Message;
use serde_json::Value;

const PASSPHRASE: &str = "telemetry test passphrase";
const TRACE: &str = "5b8efff798038103d269b633813fc60c";

fn cli(dir: &Path, args: &[&str]) -> Output {
    cli_on(dir, "", args)
}

/// The CLI on `dir`, with its store on PostgreSQL at `database_url` (SQLite when empty).
fn cli_on(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    opsdeck_command()
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_DATABASE_URL", database_url)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    json_on(dir, "", args)
}

fn json_on(dir: &Path, database_url: &str, args: &[&str]) -> Value {
    let output = cli_on(dir, database_url, &[&["--json"], args].concat());
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn text_value(text: &str) -> Option<AnyValue> {
    Some(AnyValue { value: Some(any_value::Value::StringValue(text.to_owned())) })
}

fn attribute(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue { key: key.to_owned(), value }
}

fn otlp_span(span_id: u8, parent: Option<u8>, name: &str, start_ms: u64, end_ms: u64) -> Span {
    let base = 1_795_000_000_000_000_000u64;
    Span {
        trace_id: hex_bytes(TRACE),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, span_id],
        parent_span_id: parent.map(|parent| vec![0, 0, 0, 0, 0, 0, 0, parent]).unwrap_or_default(),
        name: name.to_owned(),
        kind: 2,
        start_time_unix_nano: base + start_ms * 1_000_000,
        end_time_unix_nano: base + end_ms * 1_000_000,
        trace_state: "vendor=1".to_owned(),
        flags: 1,
        ..Default::default()
    }
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap()).collect()
}

fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attribute("service.name", text_value(service))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn post(url: &str, content_type: &str, gzip: bool, body: &[u8]) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = agent.post(url).header("Content-Type", content_type);
    let body = if gzip {
        request = request.header("Content-Encoding", "gzip");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(body).unwrap();
        encoder.finish().unwrap()
    } else {
        body.to_vec()
    };
    let mut response = request.send(&body[..]).unwrap();
    let mut bytes = Vec::new();
    response.body_mut().as_reader().read_to_end(&mut bytes).unwrap();
    Answer {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: bytes,
    }
}

fn wait_until(what: &str, done: &dyn Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `opsdeck serve` on `dir` with its OTLP receivers on free ports; returns
/// it and the HTTP and gRPC addresses.
fn serve(dir: &Path) -> (std::process::Child, String, String) {
    serve_on(dir, "")
}

fn serve_on(dir: &Path, database_url: &str) -> (std::process::Child, String, String) {
    let address = format!("127.0.0.1:{}", opsdeck_tests::process::free_port());
    let grpc = format!("127.0.0.1:{}", opsdeck_tests::process::free_port());
    let data_dir = dir.display().to_string();
    let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
    let serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", &grpc],
        &[
            ("OPSDECK_PASSPHRASE", PASSPHRASE),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
            ("OPSDECK_OTLP_HTTP", &address),
            ("OPSDECK_DATABASE_URL", database_url),
        ],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(Duration::from_secs(20), "the OTLP receivers", || {
        std::net::TcpStream::connect(&address).is_ok() && std::net::TcpStream::connect(&grpc).is_ok()
    });
    (serve, address, grpc)
}

#[test]
fn the_opentelemetry_python_sdk_exports_over_http_and_grpc_and_its_spans_logs_and_metrics_come_back() {
    let python = opsdeck_tests::workspace_root().join(".tools/otel-venv/bin/python");
    assert!(python.is_file(), "the OpenTelemetry SDK is not installed: run `make setup`");
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, address, grpc) = serve(dir.path());
    for (protocol, endpoint) in [("http", format!("http://{address}")), ("grpc", grpc.clone())] {
        let service = format!("shop-sdk-{protocol}");
        let sent = std::process::Command::new(&python)
            .arg(opsdeck_tests::workspace_root().join("tests/telemetry/send_otel.py"))
            .args([protocol, &endpoint])
            .output()
            .unwrap();
        assert!(sent.status.success(), "{protocol}: {}", String::from_utf8_lossy(&sent.stderr));
        let trace_id = String::from_utf8(sent.stdout).unwrap().trim().to_owned();
        assert_eq!(trace_id.len(), 32, "{trace_id}");

        let complete = || {
            let output = cli(dir.path(), &["--json", "traces", "show", &trace_id]);
            output.status.success()
                && serde_json::from_slice::<Value>(&output.stdout).is_ok_and(|detail| {
                    detail["spans"].as_array().unwrap().len() == 3
                        && detail["logs"].as_array().unwrap().len() == 2
                })
        };
        wait_until(&format!("the SDK's three spans and two logs over {protocol}"), &complete);
        let detail = json(dir.path(), &["traces", "show", &trace_id]);
        let spans = detail["spans"].as_array().unwrap();
        let by_name = |name: &str| spans.iter().find(|span| span["name"] == name).unwrap().clone();
        let root = by_name("POST /orders");
        assert_eq!(
            (&root["service"], &root["kind"], &root["parent_span_id"]),
            (&service.as_str().into(), &2.into(), &"".into())
        );
        assert_eq!(root["attributes"]["order.items"], 3);
        assert_eq!(root["resource"]["deployment.environment"], "test");
        assert_eq!(
            (&root["scope"]["name"], &root["scope"]["version"]),
            (&"checkout".into(), &"1.2.3".into())
        );
        let reserve = by_name("reserve stock");
        let charge = by_name("charge card");
        assert_eq!(reserve["parent_span_id"], root["span_id"]);
        assert_eq!(charge["parent_span_id"], root["span_id"]);
        assert_eq!(reserve["events"][0]["name"], "stock.checked");
        assert_eq!(reserve["events"][0]["attributes"], serde_json::json!({"sku": "A-1", "available": true}));
        assert_eq!(
            (&charge["status"], &charge["status_message"], &charge["kind"]),
            (&"error".into(), &"card declined".into(), &3.into())
        );
        // The logs carry the span they were written in.
        let logs = detail["logs"].as_array().unwrap();
        let info = logs.iter().find(|log| log["body"] == "stock reserved for order").unwrap();
        assert_eq!(
            (&info["span_id"], &info["severity_text"], &info["severity_number"]),
            (&reserve["span_id"], &"INFO".into(), &9.into())
        );
        let error = logs.iter().find(|log| log["body"] == "payment failed: card declined").unwrap();
        assert_eq!((&error["span_id"], &error["severity_text"]), (&charge["span_id"], &"ERROR".into()));
        // The logs on their own: by trace, text, severity and service.
        assert_eq!(json(dir.path(), &["logs", "--trace", &trace_id]).as_array().unwrap().len(), 2);
        let declined = json(dir.path(), &["logs", "--grep", "DECLINED", "--service", &service]);
        assert_eq!(declined.as_array().unwrap().len(), 1, "{declined}");
        assert_eq!(declined[0]["severity_text"], "ERROR");
        let errors = json(dir.path(), &["logs", "--severity", "error", "--service", &service]);
        assert_eq!(errors.as_array().unwrap().len(), 1);
        let infos = json(dir.path(), &["logs", "--severity", "info", "--service", &service]);
        assert_eq!(infos.as_array().unwrap().len(), 2);
        let listed = json(dir.path(), &["traces", "list", "--service", &service, "--error"]);
        assert_eq!((&listed[0]["trace_id"], &listed[0]["error"]), (&trace_id.as_str().into(), &true.into()));
        // The metrics are stored point by point: the counter's sum and the histogram's counts.
        let stored = || json(dir.path(), &["metrics", "points", "--service", &service]);
        wait_until(&format!("the SDK's metrics over {protocol}"), &|| {
            stored().as_array().unwrap().len() == 2
        });
        let points = stored();
        let point =
            |name: &str| points.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
        let orders = point("orders.placed");
        assert_eq!(
            (&orders["kind"], &orders["value"], &orders["unit"]),
            (&"sum".into(), &3.0.into(), &"1".into())
        );
        assert_eq!(
            (&orders["data"]["monotonic"], &orders["attributes"]["region"]),
            (&true.into(), &"eu".into())
        );
        let latency = point("checkout.duration");
        assert_eq!((&latency["kind"], &latency["data"]["count"]), (&"histogram".into(), &2.into()));
        assert_eq!(latency["data"]["sum"], 42.5);
        // And as the series Prometheus' OTLP receiver would make of them.
        let series = |name: &str| {
            let selector = format!("{name}{{job=\"{service}\"}}");
            json(dir.path(), &["call", "metric.series", &format!("selector={selector}")])
        };
        wait_until(&format!("the SDK's metrics as series over {protocol}"), &|| {
            !series("checkout_duration_milliseconds_count").as_array().unwrap().is_empty()
        });
        let orders =
            json(dir.path(), &["metrics", "series", &format!("orders_placed_total{{job=\"{service}\"}}")]);
        assert_eq!(orders.as_array().unwrap().len(), 1, "{orders}");
        assert_eq!((&orders[0]["labels"]["region"], &orders[0]["last_value"]), (&"eu".into(), &3.0.into()));
        let buckets = series("checkout_duration_milliseconds_bucket");
        let infinite = buckets.as_array().unwrap().iter().find(|bucket| bucket["labels"]["le"] == "+Inf");
        assert_eq!(infinite.map(|bucket| bucket["last_value"].clone()), Some(2.0.into()), "{buckets}");
        assert_eq!(series("checkout_duration_milliseconds_sum")[0]["last_value"], 42.5);
        // One PromQL query over what the SDK sent: the mean checkout time.
        let mean = json(
            dir.path(),
            &[
                "metrics",
                "query",
                &format!(
                    "sum(checkout_duration_milliseconds_sum{{job=\"{service}\"}}) / \
                     sum(checkout_duration_milliseconds_count{{job=\"{service}\"}})"
                ),
            ],
        );
        // `--json` is Prometheus' own document.
        assert_eq!(mean["data"]["resultType"], "vector", "{mean}");
        assert_eq!(mean["data"]["result"][0]["value"][1], "21.25", "{mean}");
        // Delta points add up to running totals; the exponential histogram
        // is classic buckets at its bounds, so histogram_quantile reads it.
        let batch = format!("batch-sdk-{protocol}");
        let value = |query: String| {
            let answer = json(dir.path(), &["metrics", "query", &query]);
            answer["data"]["result"][0]["value"][1].as_str().and_then(|text| text.parse::<f64>().ok())
        };
        wait_until(&format!("the delta points over {protocol}"), &|| {
            value(format!("sum(payload_size_bytes_count{{job=\"{batch}\"}})")) == Some(5.0)
        });
        assert_eq!(value(format!("sum(jobs_done_total{{job=\"{batch}\"}})")), Some(5.0));
        assert_eq!(value(format!("sum(payload_size_bytes_sum{{job=\"{batch}\"}})")), Some(3100.0));
        let median = value(format!(
            "histogram_quantile(0.5, sum by (le) (payload_size_bytes_bucket{{job=\"{batch}\"}}))"
        ))
        .unwrap();
        assert!((median - 400.0).abs() / 400.0 < 0.19, "the median of 100..1600 is 400: {median}");
    }
    // Request rate, errors and duration derived from the spans themselves
    // (no metrics instrumentation needed), under the span-metrics
    // connector's names: each service's three spans, the declined charge an
    // error.
    let calls = |query: &str| {
        let answer = json(dir.path(), &["metrics", "query", query]);
        answer["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|series| {
                let labels = &series["metric"];
                let key = format!(
                    "{} {} {}",
                    labels["service_name"].as_str().unwrap_or(""),
                    labels["span_name"].as_str().unwrap_or(""),
                    labels["status_code"].as_str().unwrap_or("")
                );
                (key, series["value"][1].as_str().unwrap().to_owned())
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let by_operation = "sum by (service_name, span_name, status_code) (traces_span_metrics_calls_total)";
    wait_until("span metrics for both services", &|| calls(by_operation).len() == 6);
    let counted = calls(by_operation);
    assert_eq!(
        counted.get("shop-sdk-http POST /orders STATUS_CODE_UNSET").map(String::as_str),
        Some("1"),
        "{counted:?}"
    );
    assert_eq!(
        counted.get("shop-sdk-grpc charge card STATUS_CODE_ERROR").map(String::as_str),
        Some("1"),
        "{counted:?}"
    );
    let errors = calls(
        "sum by (service_name) (traces_span_metrics_calls_total{status_code=\"STATUS_CODE_ERROR\"}) \
         / sum by (service_name) (traces_span_metrics_calls_total)",
    );
    let third = errors.get("shop-sdk-http  ").and_then(|value| value.parse::<f64>().ok()).unwrap();
    assert!((third - 1.0 / 3.0).abs() < 1e-9, "one span in three failed: {errors:?}");
    let durations = calls("sum by (service_name) (traces_span_metrics_duration_seconds_count)");
    assert_eq!(durations.get("shop-sdk-grpc  ").map(String::as_str), Some("3"), "{durations:?}");
    // OpsDeck's own numbers (every 15 s): each span stored is counted, the
    // store has a size, and nothing waits.
    let own = |query: &str| {
        json(dir.path(), &["metrics", "query", query])["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_owned)
    };
    let spans_counted = own("sum(traces_span_metrics_calls_total)").unwrap();
    wait_until("OpsDeck's own metrics", &|| {
        own(r#"sum(opsdeck_telemetry_records_stored_total{signal="spans"})"#).as_deref()
            == Some(spans_counted.as_str())
    });
    let store_bytes: f64 = own("max(opsdeck_store_bytes)").unwrap().parse().unwrap();
    assert!(store_bytes > 100_000.0, "{store_bytes}");
    assert!(own("max(opsdeck_series)").unwrap().parse::<f64>().unwrap() > 10.0);
    assert_eq!(own("max(opsdeck_jobs_overdue)").as_deref(), Some("0"));
    assert_eq!(own("max(opsdeck_webhook_deliveries_queued)").as_deref(), Some("0"));
    let bad = cli(dir.path(), &["metrics", "query", "sum(rate(orders_placed_total[5m])"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not valid PromQL"), "{bad:?}");
    assert_eq!(
        json(dir.path(), &["logs", "--grep", "100%_"]),
        serde_json::json!([]),
        "LIKE wildcards are literal"
    );
    let bad = cli(dir.path(), &["logs", "--severity", "loud"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--severity takes"));
    let series = json(dir.path(), &["metrics", "list"]);
    assert_eq!(series.as_array().unwrap().len(), 8, "two metrics from each of four services: {series}");
    opsdeck_tests::process::stop(&mut serve);
}

#[test]
fn traces_sent_over_otlp_http_come_back_whole_and_bad_requests_get_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, address, _grpc) = serve(dir.path());
    let traces_url = format!("http://{address}/v1/traces");

    // A gateway span with a child in error (an event, a link, nested attributes), over protobuf + gzip.
    let mut root = otlp_span(1, None, "GET /checkout", 0, 120);
    root.attributes = vec![
        attribute("http.route", text_value("/checkout")),
        attribute("retries", Some(AnyValue { value: Some(any_value::Value::IntValue(2)) })),
    ];
    let mut child = otlp_span(2, Some(1), "charge card", 10, 110);
    child.status = Some(Status { code: 2, message: "card declined".to_owned() });
    child.events = vec![span::Event {
        time_unix_nano: 1_795_000_000_050_000_000,
        name: "retry".to_owned(),
        attributes: vec![attribute("attempt", Some(AnyValue { value: Some(any_value::Value::IntValue(1)) }))],
        ..Default::default()
    }];
    child.links = vec![span::Link {
        trace_id: hex_bytes("0af7651916cd43dd8448eb211c80319c"),
        span_id: hex_bytes("b7ad6b7169203331"),
        ..Default::default()
    }];
    let answer =
        post(&traces_url, "application/x-protobuf", true, &request("gateway", vec![root]).encode_to_vec());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/x-protobuf");
    let response = ExportTraceServiceResponse::decode(&answer.body[..]).unwrap();
    assert!(response.partial_success.is_none(), "{response:?}");
    post(&traces_url, "application/x-protobuf", false, &request("payments", vec![child]).encode_to_vec());

    // The same trace's database span as OTLP/JSON (hex ids, 64-bit integers as strings).
    let json_body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "postgres"}}]},
        "scopeSpans": [{"scope": {"name": "sqlx", "version": "0.8"}, "spans": [{
            "traceId": TRACE, "spanId": "0000000000000003", "parentSpanId": "0000000000000002",
            "name": "SELECT orders", "kind": 3,
            "startTimeUnixNano": "1795000000020000000", "endTimeUnixNano": "1795000000090000000",
            "attributes": [{"key": "db.statement", "value": {"stringValue": "SELECT * FROM orders"}},
                           {"key": "rows", "value": {"intValue": "42"}},
                           {"key": "shape", "value": {"kvlistValue": {"values": [{"key": "ok", "value": {"boolValue": true}}]}}}]
        }]}]
    }]});
    let answer = post(&traces_url, "application/json", false, json_body.to_string().as_bytes());
    assert_eq!((answer.status, answer.content_type.as_str()), (200, "application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&answer.body).unwrap(), serde_json::json!({}));

    // Read back through the CLI once the writer has stored them.
    wait_until("the three spans", &|| {
        json(dir.path(), &["traces", "list"])
            .as_array()
            .is_some_and(|list| list.first().is_some_and(|t| t["span_count"] == 3))
    });
    let list = json(dir.path(), &["traces", "list"]);
    assert_eq!(list[0]["trace_id"], TRACE);
    assert_eq!(
        (&list[0]["root_service"], &list[0]["root_operation"]),
        (&"gateway".into(), &"GET /checkout".into())
    );
    assert_eq!(list[0]["duration_nano"], 120_000_000);
    assert_eq!((&list[0]["error_count"], &list[0]["error"]), (&1.into(), &true.into()));
    assert_eq!(json(dir.path(), &["traces", "list", "--service", "postgres"]).as_array().unwrap().len(), 1);
    assert_eq!(json(dir.path(), &["traces", "list", "--service", "nobody"]), serde_json::json!([]));
    assert_eq!(json(dir.path(), &["traces", "list", "--errors"]).as_array().unwrap().len(), 1);
    // By duration and by attribute (given as text, number or boolean, never as a prefix).
    let count =
        |args: &[&str]| json(dir.path(), &[&["traces", "list"], args].concat()).as_array().unwrap().len();
    assert_eq!(count(&["--min-duration", "100", "--max-duration", "120"]), 1);
    assert_eq!(count(&["--min-duration-ms", "121"]), 0);
    assert_eq!(count(&["--attr", "rows=42"]), 1);
    assert_eq!(count(&["--attr", "rows=4"]), 0);
    assert_eq!(count(&["--attr", "http.route=/checkout"]), 1);
    assert_eq!(count(&["--attr", "http.route=/check"]), 0);
    assert_eq!(count(&["--attribute", "retries=2", "--service", "gateway"]), 1);
    assert_eq!(cli(dir.path(), &["traces", "list", "--attribute", "novalue"]).status.code(), Some(2));
    let detail = json(dir.path(), &["traces", "show", &TRACE.to_uppercase()]);
    let spans = detail["spans"].as_array().unwrap();
    let by_name = |name: &str| spans.iter().find(|span| span["name"] == name).unwrap().clone();
    let charge = by_name("charge card");
    assert_eq!(charge["parent_span_id"], "0000000000000001");
    assert_eq!((&charge["status_code"], &charge["status_message"]), (&2.into(), &"card declined".into()));
    assert_eq!(charge["events"][0]["name"], "retry");
    assert_eq!(charge["events"][0]["attributes"]["attempt"], 1);
    assert_eq!(charge["links"][0]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(charge["service"], "payments");
    let select = by_name("SELECT orders");
    assert_eq!(select["attributes"]["rows"], 42);
    assert_eq!(select["attributes"]["shape"]["ok"], true);
    assert_eq!(select["scope"]["name"], "sqlx");
    let gateway = by_name("GET /checkout");
    assert_eq!((&gateway["trace_state"], &gateway["flags"]), (&"vendor=1".into(), &1.into()));
    assert_eq!(gateway["attributes"]["retries"], 2);
    let shown = String::from_utf8(cli(dir.path(), &["traces", "show", TRACE]).stdout).unwrap();
    assert!(
        shown.contains("* gateway GET /checkout") && shown.contains("\n*   payments charge card"),
        "{shown}"
    );
    assert!(
        shown.contains("\n*     postgres SELECT orders") && shown.contains("ERROR card declined"),
        "{shown}"
    );
    // The critical path: gateway 0–10 ms, charge 10–20, the query 20–90, charge 90–110, gateway 110–120.
    let path = detail["critical_path_segments"].as_array().unwrap();
    let stretches: Vec<(String, i64)> = path
        .iter()
        .map(|s| {
            let length = s["end_unix_nano"].as_i64().unwrap() - s["start_unix_nano"].as_i64().unwrap();
            (s["name"].as_str().unwrap().to_owned(), length / 1_000_000)
        })
        .collect();
    let expected = [
        ("GET /checkout", 10),
        ("charge card", 10),
        ("SELECT orders", 70),
        ("charge card", 20),
        ("GET /checkout", 10),
    ];
    assert_eq!(stretches, expected.map(|(name, ms)| (name.to_owned(), ms)), "{path:?}");
    // The contract's shape: the spans on the path, each once, in time order.
    let on_path: Vec<&str> =
        detail["critical_path"].as_array().unwrap().iter().map(|id| id.as_str().unwrap()).collect();
    let id_of = |name: &str| spans.iter().find(|span| span["name"] == name).unwrap()["span_id"].clone();
    assert_eq!(
        on_path,
        [id_of("GET /checkout"), id_of("charge card"), id_of("SELECT orders")]
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!((&charge["status"], &select["status"]), (&"error".into(), &"unset".into()));
    assert_eq!(detail["self_time_nano"][charge["span_id"].as_str().unwrap()], 30_000_000);
    let printed =
        String::from_utf8(cli(dir.path(), &["traces", "show", TRACE, "--critical-path"]).stdout).unwrap();
    assert!(printed.contains("70.00 ms  58.3%  postgres SELECT orders"), "{printed}");

    // Bad requests: each a 4xx with a message, and the receiver stays up.
    let encoded = request("gateway", vec![otlp_span(9, None, "x", 0, 1)]).encode_to_vec();
    let truncated = post(&traces_url, "application/x-protobuf", false, &encoded[..encoded.len() - 3]);
    assert_eq!(truncated.status, 400);
    let message = String::from_utf8_lossy(&truncated.body);
    assert!(message.contains("protobuf"), "{message}");
    let wrong_type = post(&traces_url, "text/plain", false, b"hello");
    assert_eq!(wrong_type.status, 415);
    let bad_json = post(&traces_url, "application/json", false, b"{\"resourceSpans\": [");
    assert_eq!(bad_json.status, 400);
    assert!(String::from_utf8_lossy(&bad_json.body).contains("not valid JSON"));
    let not_gzip = post(&traces_url, "application/json", false, b"{}");
    assert_eq!(not_gzip.status, 200);
    // A span with a short trace id is rejected alone; the good one in the same request is kept.
    let mut short = otlp_span(7, None, "short id", 0, 1);
    short.trace_id = vec![1, 2, 3];
    let mixed = post(
        &traces_url,
        "application/x-protobuf",
        false,
        &request("gateway", vec![short, otlp_span(8, Some(1), "kept", 1, 2)]).encode_to_vec(),
    );
    assert_eq!(mixed.status, 200);
    let partial = ExportTraceServiceResponse::decode(&mixed.body[..]).unwrap().partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("trace id must be 16 bytes"), "{}", partial.error_message);
    // Attributes nested 34 deep (past our limit of 32, within JSON's own) are refused with the reason.
    let mut deep = serde_json::json!({"stringValue": "bottom"});
    for _ in 0..34 {
        deep = serde_json::json!({"arrayValue": {"values": [deep]}});
    }
    let deep_body = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TRACE, "spanId": "00000000000000aa", "name": "deep",
        "attributes": [{"key": "deep", "value": deep}]}]}]}]});
    let answer = post(&traces_url, "application/json", false, deep_body.to_string().as_bytes());
    assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(&answer.body));
    assert!(String::from_utf8_lossy(&answer.body).contains("nest deeper"));
    // A body over 16 MiB is refused without being read whole: 100 MB raise
    // the receiver's peak memory by far less than their size. (The peak is
    // compared with the one before it: what the process already held —
    // its store, its caches — is not the body's.)
    let before = peak_resident_mib(&serve);
    let status_line = post_without_waiting(&address, "/v1/traces", 100 * 1024 * 1024);
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    let peak = peak_resident_mib(&serve);
    assert!(
        peak.saturating_sub(before) < 40,
        "opsdeck serve's peak went from {before} MiB to {peak} MiB with a 100 MB body"
    );
    let bomb = vec![0u8; 20 * 1024 * 1024];
    assert_eq!(
        post(&traces_url, "application/x-protobuf", true, &bomb).status,
        413,
        "a gzip bomb is cut off"
    );
    assert_eq!(post(&format!("http://{address}/v1/nothing"), "application/json", false, b"{}").status, 404);
    // Still answering, and the kept span arrived.
    wait_until("the kept span", &|| {
        json(dir.path(), &["traces", "show", TRACE])["spans"].as_array().unwrap().len() == 4
    });
    assert!(json(dir.path(), &["traces", "show", TRACE])["spans"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["name"] != "short id"));
    let itself = json(dir.path(), &["traces", "compare", TRACE, TRACE]);
    assert!(itself.as_array().unwrap().iter().all(|change| change["change"] == "same"), "{itself}");
    let printed = String::from_utf8(cli(dir.path(), &["traces", "compare", TRACE, TRACE]).stdout).unwrap();
    assert_eq!(printed, "the traces match span for span\n");
    // The service map of those spans (sent days "ago": look back far enough).
    let map = json(dir.path(), &["traces", "map", "--since-minutes", "100000000"]);
    let edges: Vec<(String, String, i64, f64, i64)> = map
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap().to_owned();
            (
                text("from"),
                text("to"),
                e["calls"].as_i64().unwrap(),
                e["error_rate"].as_f64().unwrap(),
                e["p95_nano"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("gateway".to_owned(), "payments".to_owned(), 1, 1.0, 100_000_000),
            ("payments".to_owned(), "postgres".to_owned(), 1, 0.0, 70_000_000)
        ],
        "{map}"
    );
    // Retention: the oldest spans go first past the count, then everything past the age.
    let pruned = json(dir.path(), &["traces", "prune", "--max-age-days", "3650", "--max-spans", "2"]);
    assert_eq!(pruned["spans"], 2, "{pruned}");
    let kept: Vec<String> = json(dir.path(), &["traces", "show", TRACE])["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|span| span["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kept, ["charge card", "SELECT orders"], "the two that started last stay");
    let pruned = json(dir.path(), &["traces", "prune", "--max-age-days", "1"]);
    assert_eq!(pruned["spans"], 2, "these spans are days old: {pruned}");
    assert_eq!(json(dir.path(), &["traces", "list"]), serde_json::json!([]));
    let unknown = cli(dir.path(), &["traces", "show", "00000000000000000000000000000001"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no trace"));
    opsdeck_tests::process::stop(&mut serve);
}

/// POSTs `size` bytes of JSON-typed spaces while reading the answer, as a
/// client that sees an early answer does (the receiver answers 413 and
/// closes without reading the rest); returns the status line.
fn post_without_waiting(address: &str, path: &str, size: usize) -> String {
    use std::net::TcpStream;
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    );
    let sending = std::thread::spawn(move || {
        let chunk = vec![b' '; 1024 * 1024];
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        for _ in 0..size / chunk.len() {
            // The receiver stops reading after 16 MiB: the write fails then.
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(2).any(|pair| pair == b"\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
        }
    }
    let _ = sending.join();
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

/// The most memory `opsdeck serve` has held (VmHWM), in MiB.
fn peak_resident_mib(serve: &std::process::Child) -> u64 {
    let pid = opsdeck_tests::process::program_pid(serve).expect("opsdeck serve runs");
    opsdeck_tests::process::memory_kib(pid, "VmHWM:") / 1024
}

/// One raw gRPC call through Python's grpcio: the status code's name and
/// the answer (details, or the response in hex).
fn grpc_call(address: &str, method: &str, body: &[u8]) -> (String, String) {
    let python = opsdeck_tests::workspace_root().join(".tools/otel-venv/bin/python");
    let mut child = std::process::Command::new(&python)
        .arg(opsdeck_tests::workspace_root().join("tests/telemetry/grpc_probe.py"))
        .args([address, method])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let (code, answer) = text.split_once('\n').unwrap();
    (code.to_owned(), answer.trim().to_owned())
}

#[test]
fn the_grpc_receiver_keeps_good_spans_and_answers_bad_calls_with_grpc_status_codes() {
    const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, _http, grpc) = serve(dir.path());
    // One good span and one whose span id is three bytes: the good one is kept.
    let mut short = otlp_span(2, Some(1), "short id", 1, 2);
    short.span_id = vec![1, 2, 3];
    let body = request("grpc-shop", vec![otlp_span(1, None, "GET /", 0, 5), short]).encode_to_vec();
    let (code, answer) = grpc_call(&grpc, EXPORT, &body);
    assert_eq!(code, "OK", "{answer}");
    let response = ExportTraceServiceResponse::decode(&hex_bytes(&answer)[..]).unwrap();
    let partial = response.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("span id"), "{}", partial.error_message);
    // A truncated message, a method nobody serves, a body past the limit.
    let (code, answer) = grpc_call(&grpc, EXPORT, &body[..body.len() / 2]);
    assert_eq!(code, "INVALID_ARGUMENT", "{answer}");
    assert!(answer.contains("not an OTLP trace export request"), "{answer}");
    let (code, answer) = grpc_call(&grpc, "/opentelemetry.proto.collector.trace.v1.TraceService/Nope", &body);
    assert_eq!(code, "UNIMPLEMENTED", "{answer}");
    let (code, answer) = grpc_call(&grpc, EXPORT, &vec![0u8; 100 * 1024 * 1024]);
    assert!(matches!(code.as_str(), "OUT_OF_RANGE" | "RESOURCE_EXHAUSTED"), "{code}: {answer}");
    assert!(answer.contains("too large"), "{answer}");
    let peak = peak_resident_mib(&serve);
    assert!(peak < 100, "opsdeck serve peaked at {peak} MiB after a 100 MB gRPC message");
    // Still up, and the good span is stored.
    let (code, _) = grpc_call(
        &grpc,
        EXPORT,
        &request("grpc-shop", vec![otlp_span(3, None, "GET /b", 0, 5)]).encode_to_vec(),
    );
    assert_eq!(code, "OK");
    wait_until("the two good spans", &|| {
        json(dir.path(), &["traces", "show", TRACE])["spans"].as_array().is_some_and(|spans| spans.len() == 2)
    });
    opsdeck_tests::process::stop(&mut serve);
}

#[test]
fn the_slow_trace_finder_names_traces_above_their_operations_percentile() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, address, _grpc) = serve(dir.path());
    let now_ms = u64::try_from(opsdeck_core::clock::now_unix_ms()).unwrap();
    // Six checkouts of 10 ms and one of 100 ms; two searches (too few to judge).
    let mut spans = Vec::new();
    for (index, duration) in [10u64, 10, 10, 10, 10, 10, 100].into_iter().enumerate() {
        let mut root = otlp_span(1, None, "GET /checkout", 0, duration);
        root.trace_id = hex_bytes(&format!("{:032x}", index + 1));
        root.start_time_unix_nano = (now_ms - 1000) * 1_000_000;
        root.end_time_unix_nano = root.start_time_unix_nano + duration * 1_000_000;
        spans.push(root);
    }
    for index in 0..2u64 {
        let mut root = otlp_span(1, None, "GET /search", 0, 500);
        root.trace_id = hex_bytes(&format!("{:032x}", 100 + index));
        root.start_time_unix_nano = (now_ms - 1000) * 1_000_000;
        root.end_time_unix_nano = root.start_time_unix_nano + 500_000_000;
        spans.push(root);
    }
    let answer = post(
        &format!("http://{address}/v1/traces"),
        "application/x-protobuf",
        false,
        &request("shop", spans).encode_to_vec(),
    );
    assert_eq!(answer.status, 200);
    wait_until("nine traces", &|| json(dir.path(), &["traces", "list"]).as_array().unwrap().len() == 9);
    let slow = json(dir.path(), &["traces", "slow", "--percentile", "80"]);
    let slow = slow.as_array().unwrap();
    assert_eq!(slow.len(), 1, "{slow:?}");
    assert_eq!(slow[0]["trace_id"], format!("{:032x}", 7));
    assert_eq!((&slow[0]["threshold_nano"], &slow[0]["samples"]), (&10_000_000.into(), &7.into()));
    assert_eq!(
        json(dir.path(), &["traces", "slow"]),
        serde_json::json!([]),
        "nothing beats its own p95 of 7 samples"
    );
    opsdeck_tests::process::stop(&mut serve);
}

#[test]
fn opsdeck_demo_fills_the_store_with_a_simulated_shop() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, address, _grpc) = serve(dir.path());
    let sent = json(dir.path(), &["demo", "--endpoint", &format!("http://{address}"), "--traces", "120"]);
    assert_eq!(sent["traces"], 120, "{sent}");
    let spans = sent["spans"].as_i64().unwrap();
    wait_until("the demo traces", &|| {
        json(dir.path(), &["traces", "list", "--limit", "1000"])
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["span_count"].as_i64().unwrap())
            .sum::<i64>()
            == spans
    });
    let map = json(dir.path(), &["traces", "map"]);
    let edges: Vec<String> = map
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}->{}", e["from"].as_str().unwrap(), e["to"].as_str().unwrap()))
        .collect();
    for edge in
        ["gateway->catalog", "catalog->redis", "gateway->orders", "orders->payments", "orders->postgres"]
    {
        assert!(edges.contains(&edge.to_owned()), "{edge} missing from {edges:?}");
    }
    let logs = json(dir.path(), &["logs", "--service", "orders"]);
    assert!(
        !logs.as_array().unwrap().is_empty()
            && logs.as_array().unwrap().iter().all(|log| log["trace_id"].as_str().unwrap().len() == 32)
    );
    // Nothing listens: the command says where it tried and what to do.
    let closed = format!("http://127.0.0.1:{}", opsdeck_tests::process::free_port());
    let failed = cli(dir.path(), &["demo", "--endpoint", &closed, "--traces", "1"]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("is the app or `opsdeck serve` running?"));
    opsdeck_tests::process::stop(&mut serve);
}

#[test]
fn telemetry_lives_in_postgresql_as_well() {
    let dir = tempfile::tempdir().unwrap();
    let url = opsdeck_tests::postgres::shared().fresh_database();
    let (mut serve, address, _grpc) = serve_on(dir.path(), &url);
    let sent =
        json_on(dir.path(), &url, &["demo", "--endpoint", &format!("http://{address}"), "--traces", "60"]);
    let spans = sent["spans"].as_i64().unwrap();
    let stored = || {
        json_on(dir.path(), &url, &["traces", "list", "--limit", "1000"])
            .as_array()
            .unwrap()
            .iter()
            .map(|trace| trace["span_count"].as_i64().unwrap())
            .sum::<i64>()
    };
    wait_until("the demo spans in PostgreSQL", &|| stored() == spans);
    let list = json_on(dir.path(), &url, &["traces", "list", "--limit", "1"]);
    assert_eq!(list[0]["root_service"], "gateway", "the root's service: {list}");
    let trace_id = list[0]["trace_id"].as_str().unwrap().to_owned();
    let detail = json_on(dir.path(), &url, &["traces", "show", &trace_id]);
    assert!(!detail["critical_path"].as_array().unwrap().is_empty());
    assert!(!json_on(dir.path(), &url, &["traces", "map"]).as_array().unwrap().is_empty());
    assert!(!json_on(dir.path(), &url, &["logs", "--grep", "order"]).as_array().unwrap().is_empty());
    let pruned = json_on(dir.path(), &url, &["traces", "prune", "--max-spans", "10"]);
    let left = stored();
    assert!(left <= 10 && pruned["spans"].as_i64().unwrap() == spans - left, "{pruned}, {left} left");
    opsdeck_tests::process::stop(&mut serve);
}
