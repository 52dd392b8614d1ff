//! Alerting, black box: a real exporter (Prometheus' Python client) scraped
//! by two `opsdeck serve` on one store, rules evaluated by their schedulers,
//! notifications received by a webhook receiver that checks signatures.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use opsdeck_core::webhooks::verify_signature;
use opsdeck_tests::http_server::{Scripted, ScriptedServer};
use serde_json::Value;

const PASSPHRASE: &str = "alerts-test-passphrase-51d0";
const HOOK_SECRET: &str = "whsec_alert_receiver_test_8f21";

/// An exporter written with `prometheus_client`: the gauge
/// `shop_errors{service="shop"}` reads its value from a file at each scrape.
const EXPORTER: &str = r#"
import sys, time
from prometheus_client import start_http_server, REGISTRY
from prometheus_client.core import GaugeMetricFamily

class ShopErrors:
    def collect(self):
        gauge = GaugeMetricFamily("shop_errors", "Errors the shop saw in the last minute.", labels=["service"])
        gauge.add_metric(["shop"], float(open(sys.argv[2]).read()))
        yield gauge

REGISTRY.register(ShopErrors())
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
while True:
    time.sleep(60)
"#;

fn opsdeck(dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = opsdeck_tests::opsdeck_command()
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let output = opsdeck(dir, &[&["--json"][..], args].concat(), None);
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `opsdeck serve` (scheduler only) on `dir`, until dropped.
struct Serve(std::process::Child);

impl Serve {
    fn start(dir: &Path) -> Serve {
        let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
        let data_dir = dir.display().to_string();
        Serve(opsdeck_tests::process::spawn_tied_to_this_process(
            &binary,
            &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", "off"],
            &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
            "TERM",
            None,
        ))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        opsdeck_tests::process::stop(&mut self.0);
    }
}

/// The alert of `rule` in `alerts list`, if any.
fn alert_of(dir: &Path, rule: &str) -> Option<Value> {
    json(dir, &["alerts", "list"]).as_array().unwrap().iter().find(|alert| alert["rule"] == rule).cloned()
}

/// The webhook events the receiver accepted, each checked for its
/// signature: (event, rule, status).
fn events(receiver: &ScriptedServer) -> Vec<(String, Value)> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    receiver
        .received()
        .iter()
        .map(|request| {
            let signature = &request.headers["opsdeck-signature"];
            assert_eq!(
                verify_signature(HOOK_SECRET.as_bytes(), signature, &request.body, now, 300),
                Ok(()),
                "every notification is signed"
            );
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            (request.headers["opsdeck-event"].clone(), body)
        })
        .collect()
}

#[test]
fn a_rule_goes_pending_firing_resolved_and_two_servers_notify_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let value_file = path.join("errors");
    std::fs::write(&value_file, "0").unwrap();
    let script = path.join("exporter.py");
    std::fs::write(&script, EXPORTER).unwrap();
    let port = opsdeck_tests::process::free_port();
    let python = opsdeck_tests::workspace_root().join(".tools/otel-venv/bin/python");
    let mut exporter = opsdeck_tests::process::spawn_tied_to_this_process(
        &python.display().to_string(),
        &[&script.display().to_string(), &port.to_string(), &value_file.display().to_string()],
        &[],
        "TERM",
        None,
    );
    opsdeck_tests::process::wait_until(Duration::from_secs(20), "the exporter", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    let added = opsdeck(
        path,
        &["notify", "add", "pager", "--url", &receiver.url("/alerts"), "--secret-stdin"],
        Some(HOOK_SECRET),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    json(
        path,
        &["metrics", "target", "set", "shop", &format!("http://127.0.0.1:{port}/metrics"), "--every", "1"],
    );

    // Bad rules are refused, saying what is wrong; nothing is stored.
    let bad = opsdeck(
        path,
        &["alerts", "rules", "add", "shop", "Broken", "rate(shop_errors[5m]", "--severity", "P2"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not valid PromQL"), "{bad:?}");
    let bad_template = opsdeck(
        path,
        &["alerts", "rules", "add", "shop", "Broken", "up", "--severity", "P2", "--summary", "{{ range . }}"],
        None,
    );
    assert_eq!(bad_template.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_template.stderr).contains("is not a template"), "{bad_template:?}");
    let broken_file =
        opsdeck(path, &["alerts", "rules", "import", "-"], Some("groups:\n  - name: x\n    rules: [\n"));
    assert_eq!(broken_file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken_file.stderr).contains("not YAML"), "{broken_file:?}");
    assert_eq!(json(path, &["alerts", "rules", "list"]), serde_json::json!([]));

    // A P1 rule and a P3 one about the same service, in a rule file as
    // Prometheus would have it; evaluated every second.
    let rules = r#"
groups:
  - name: shop
    interval: 1s
    rules:
      - alert: ShopErrorsHigh
        expr: shop_errors > 5
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.service }} sees {{ $value }} errors"
      - alert: ShopErrorsElevated
        expr: shop_errors > 1
        for: 3s
        labels:
          severity: warning
      - record: shop:errors:max
        expr: max(shop_errors)
"#;
    let imported = opsdeck(path, &["--json", "alerts", "rules", "import", "-"], Some(rules));
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let report: Value = serde_json::from_slice(&imported.stdout).unwrap();
    assert_eq!(
        report["rules"],
        serde_json::json!(["shop/ShopErrorsHigh (P1)", "shop/ShopErrorsElevated (P3)"])
    );
    assert!(report["notes"].to_string().contains("shop:errors:max"), "{report}");

    // Two servers on one store.
    let _first = Serve::start(path);
    let _second = Serve::start(path);
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        opsdeck_tests::process::wait_until(Duration::from_secs(60), what, done);
    };
    wait_for("the rules to be evaluated", &|| {
        json(path, &["alerts", "rules", "list"])[0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|rule| rule["health"] == "ok")
    });
    assert!(alert_of(path, "ShopErrorsHigh").is_none(), "nothing fires at 0 errors");

    // The errors climb: pending first, firing after `for`.
    std::fs::write(&value_file, "12").unwrap();
    wait_for("ShopErrorsHigh pending", &|| {
        alert_of(path, "ShopErrorsHigh").is_some_and(|alert| alert["state"] != "resolved")
    });
    wait_for("ShopErrorsHigh firing", &|| {
        alert_of(path, "ShopErrorsHigh").is_some_and(|alert| alert["state"] == "firing")
    });
    wait_for("ShopErrorsElevated firing", &|| {
        alert_of(path, "ShopErrorsElevated").is_some_and(|alert| alert["state"] == "firing")
    });
    let high = alert_of(path, "ShopErrorsHigh").unwrap();
    assert_eq!(high["severity"], "P1");
    assert_eq!(high["annotations"]["summary"], "shop sees 12 errors");
    assert_eq!(high["labels"]["job"], "shop");
    let elevated = alert_of(path, "ShopErrorsElevated").unwrap();
    assert!(elevated["inhibited_by"].as_str().unwrap().contains("ShopErrorsHigh"), "{elevated}");
    // `alerts list` exits 1 while something fires.
    assert_eq!(opsdeck(path, &["alerts", "list"], None).status.code(), Some(1));

    // The receiver heard of the P1 once (two servers, many evaluations),
    // signed, and not of the inhibited P3.
    wait_for("the firing notification", &|| !receiver.received().is_empty());
    std::thread::sleep(Duration::from_secs(4));
    let heard = events(&receiver);
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].0, "alert.firing");
    assert_eq!(heard[0].1["data"]["rule"], "ShopErrorsHigh");
    assert_eq!(heard[0].1["data"]["severity"], "P1");
    assert_eq!(heard[0].1["data"]["summary"], "shop sees 12 errors");

    // Back to normal: resolved, announced once.
    std::fs::write(&value_file, "0").unwrap();
    wait_for("ShopErrorsHigh resolved", &|| {
        alert_of(path, "ShopErrorsHigh").is_some_and(|alert| alert["state"] == "resolved")
    });
    wait_for("the resolved notification", &|| receiver.received().len() >= 2);
    std::thread::sleep(Duration::from_secs(3));
    let heard = events(&receiver);
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert_eq!(heard[1].0, "alert.resolved");
    assert_eq!(heard[1].1["data"]["rule"], "ShopErrorsHigh");

    // The history holds each step once.
    let history = json(path, &["alerts", "history", "--limit", "100"]);
    let high_steps: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|transition| transition["rule"] == "ShopErrorsHigh")
        .map(|transition| {
            format!("{}→{}", transition["from"].as_str().unwrap(), transition["to"].as_str().unwrap())
        })
        .collect();
    assert_eq!(high_steps, ["inactive→pending", "pending→firing", "firing→resolved"]);

    // A silence (with its reason, audited) holds the next firing back.
    let no_reason =
        opsdeck(path, &["alerts", "silence", "{service=\"shop\"}", "--for", "10m", "--reason", " "], None);
    assert_eq!(no_reason.status.code(), Some(2));
    let silence =
        json(path, &["alerts", "silence", "{service=\"shop\"}", "--for", "10m", "--reason", "load test"]);
    let silence_id = silence["id"].as_str().unwrap().to_owned();
    std::fs::write(&value_file, "20").unwrap();
    wait_for("ShopErrorsHigh firing again", &|| {
        alert_of(path, "ShopErrorsHigh").is_some_and(|alert| alert["state"] == "firing")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(events(&receiver).len(), 2, "a silenced alert is not notified");
    assert_eq!(alert_of(path, "ShopErrorsHigh").unwrap()["silenced_by"], silence_id.as_str());
    let audit = json(path, &["audit", "log", "--action", "alert.silence"]);
    assert!(audit.to_string().contains("load test"), "{audit}");

    // Ended, the silence no longer holds it: notified at the next evaluation.
    json(path, &["alerts", "unsilence", &silence_id]);
    wait_for("the notification held back", &|| receiver.received().len() >= 3);
    let heard = events(&receiver);
    assert_eq!(heard[2].0, "alert.firing");
    assert_eq!(heard[2].1["data"]["summary"], "shop sees 20 errors");

    // Acknowledged, it stays firing and shows who is on it.
    let fingerprint = alert_of(path, "ShopErrorsHigh").unwrap()["fingerprint"].as_str().unwrap().to_owned();
    let acknowledged = json(path, &["alerts", "ack", &fingerprint]);
    assert!(acknowledged["acknowledged_by"].as_str().is_some_and(|by| !by.is_empty()), "{acknowledged}");

    // A rule removed takes its alerts with it.
    json(path, &["alerts", "rules", "rm", "shop", "ShopErrorsElevated"]);
    assert!(alert_of(path, "ShopErrorsElevated").is_none());
    let ids: HashSet<String> =
        receiver.received().iter().map(|request| request.headers["opsdeck-delivery"].clone()).collect();
    assert_eq!(ids.len(), receiver.received().len(), "no delivery was sent twice");
    opsdeck_tests::process::stop(&mut exporter);
}
