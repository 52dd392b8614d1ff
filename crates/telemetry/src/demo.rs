//! Demo traffic: a small simulated shop (a gateway in front of catalog,
//! cart, orders and payments services, with PostgreSQL and Redis behind
//! them), as OTLP requests an instrumented system would send — with the odd
//! declined card and slow payment, and logs tied to their spans — so every
//! telemetry view has something real-looking to show within seconds.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};

/// A small deterministic generator (xorshift), so a seed replays the same traffic.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A whole number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// True `percent`% of the time.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn bytes<const N: usize>(&mut self) -> Vec<u8> {
        (0..N).map(|_| (self.next() & 0xff) as u8).map(|byte| byte.max(1)).collect()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
    }
}

fn number(key: &str, value: i64) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(value)) }) }
}

/// The spans and logs of one batch, by service.
#[derive(Default)]
struct Traffic {
    spans: Vec<(&'static str, Span)>,
    logs: Vec<(&'static str, LogRecord)>,
}

struct Builder<'a> {
    dice: &'a mut Dice,
    traffic: &'a mut Traffic,
    trace_id: Vec<u8>,
}

impl Builder<'_> {
    /// Adds a span starting at `start` (ns) lasting `duration_ms`; returns its id.
    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        service: &'static str,
        name: &str,
        kind: i32,
        parent: &[u8],
        start: u64,
        duration_ms: u64,
        attributes: Vec<KeyValue>,
        error: Option<&str>,
    ) -> (Vec<u8>, u64) {
        let id = self.dice.bytes::<8>();
        let end = start + duration_ms * 1_000_000 + self.dice.between(0, 900_000);
        self.traffic.spans.push((
            service,
            Span {
                trace_id: self.trace_id.clone(),
                span_id: id.clone(),
                parent_span_id: parent.to_vec(),
                name: name.to_owned(),
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                flags: 1,
                status: error.map(|message| Status { code: 2, message: message.to_owned() }),
                events: if error.is_some() {
                    vec![span::Event {
                        time_unix_nano: end,
                        name: "exception".to_owned(),
                        attributes: vec![text("exception.message", error.unwrap_or_default())],
                        ..Default::default()
                    }]
                } else {
                    Vec::new()
                },
                ..Default::default()
            },
        ));
        (id, end)
    }

    fn log(&mut self, service: &'static str, span_id: &[u8], time: u64, severity: (i32, &str), body: &str) {
        self.traffic.logs.push((
            service,
            LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: time,
                severity_number: severity.0,
                severity_text: severity.1.to_owned(),
                body: Some(AnyValue { value: Some(any_value::Value::StringValue(body.to_owned())) }),
                trace_id: self.trace_id.clone(),
                span_id: span_id.to_vec(),
                ..Default::default()
            },
        ));
    }
}

const INFO: (i32, &str) = (9, "INFO");
const WARN: (i32, &str) = (13, "WARN");
const ERROR: (i32, &str) = (17, "ERROR");

fn one_trace(builder: &mut Builder<'_>, start: u64) {
    let kind = builder.dice.between(0, 9);
    let root_name = match kind {
        0..=4 => "GET /products",
        5..=7 => "GET /cart",
        _ => "POST /checkout",
    };
    let (root, _) = builder.span(
        "gateway",
        root_name,
        2,
        &[],
        start,
        0,
        vec![text("http.route", &root_name[root_name.find(' ').map_or(0, |i| i + 1)..])],
        None,
    );
    let mut cursor = start + builder.dice.between(1, 3) * 1_000_000;
    let mut failed = None;
    match root_name {
        "GET /products" => {
            let (catalog, _) = builder.span("catalog", "list products", 2, &root, cursor, 0, vec![], None);
            cursor += 1_000_000;
            let hit = builder.dice.chance(70);
            let (_, end) = builder.span(
                "redis",
                "GET products",
                3,
                &catalog,
                cursor,
                1,
                vec![text("db.system", "redis"), number("cache.hit", i64::from(hit))],
                None,
            );
            cursor = end;
            if !hit {
                let rows = builder.dice.between(20, 200) as i64;
                let took_ms = builder.dice.between(8, 40);
                let (query, end) = builder.span(
                    "postgres",
                    "SELECT products",
                    3,
                    &catalog,
                    cursor,
                    took_ms,
                    vec![text("db.system", "postgresql"), number("db.rows", rows)],
                    None,
                );
                builder.log("catalog", &query, end, INFO, "cache miss: products loaded from the database");
                cursor = end;
            }
            fix_end(builder, &catalog, cursor + 500_000);
        }
        "GET /cart" => {
            let (cart, _) = builder.span("cart", "load cart", 2, &root, cursor, 0, vec![], None);
            let took_ms = builder.dice.between(1, 4);
            let (_, end) = builder.span(
                "redis",
                "HGETALL cart",
                3,
                &cart,
                cursor + 500_000,
                took_ms,
                vec![text("db.system", "redis")],
                None,
            );
            cursor = end;
            fix_end(builder, &cart, cursor + 300_000);
        }
        _ => {
            let items = builder.dice.between(1, 6) as i64;
            let (orders, _) = builder.span(
                "orders",
                "create order",
                2,
                &root,
                cursor,
                0,
                vec![number("order.items", items)],
                None,
            );
            let took_ms = builder.dice.between(3, 12);
            let (insert, end) = builder.span(
                "postgres",
                "INSERT orders",
                3,
                &orders,
                cursor + 1_000_000,
                took_ms,
                vec![text("db.system", "postgresql")],
                None,
            );
            builder.log("orders", &insert, end, INFO, "order created");
            cursor = end;
            let slow = builder.dice.chance(8);
            let declined = builder.dice.chance(12);
            let took = if slow { builder.dice.between(600, 1200) } else { builder.dice.between(40, 120) };
            let error = declined.then_some("card declined");
            let (charge, end) = builder.span(
                "payments",
                "charge card",
                3,
                &orders,
                cursor,
                took,
                vec![text("payment.provider", "acme-pay")],
                error,
            );
            if slow {
                builder.log("payments", &charge, end, WARN, "payment provider answered slowly");
            }
            if declined {
                builder.log("payments", &charge, end, ERROR, "payment failed: card declined");
                failed = Some("payment failed");
            }
            cursor = end;
            fix_end(builder, &orders, cursor + 1_000_000);
        }
    }
    let root_end = cursor + builder.dice.between(1, 2) * 1_000_000;
    fix_end(builder, &root, root_end);
    if let Some(message) = failed {
        if let Some((_, span)) = builder.traffic.spans.iter_mut().find(|(_, span)| span.span_id == root) {
            span.status = Some(Status { code: 2, message: message.to_owned() });
        }
    }
}

/// Parents are added before their children are known: set their end once they are.
fn fix_end(builder: &mut Builder<'_>, span_id: &[u8], end: u64) {
    if let Some((_, span)) = builder.traffic.spans.iter_mut().rev().find(|(_, span)| span.span_id == span_id)
    {
        span.end_time_unix_nano = end;
    }
}

fn by_service<T>(items: Vec<(&'static str, T)>) -> Vec<(&'static str, Vec<T>)> {
    let mut grouped: Vec<(&'static str, Vec<T>)> = Vec::new();
    for (service, item) in items {
        match grouped.iter_mut().find(|(name, _)| *name == service) {
            Some((_, list)) => list.push(item),
            None => grouped.push((service, vec![item])),
        }
    }
    grouped
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![text("service.name", service), text("deployment.environment", "demo")],
        ..Default::default()
    })
}

/// `traces` traces of shop traffic ending around `now_unix_nano`, one every
/// 50 ms or so, and their logs, as OTLP export requests.
pub fn shop_traffic(
    traces: usize,
    seed: u64,
    now_unix_nano: u64,
) -> (ExportTraceServiceRequest, ExportLogsServiceRequest) {
    let mut dice = Dice(seed | 1);
    let mut traffic = Traffic::default();
    let first = now_unix_nano.saturating_sub(traces as u64 * 50_000_000 + 2_000_000_000);
    for index in 0..traces {
        let trace_id = dice.bytes::<16>();
        let start = first + index as u64 * 50_000_000 + dice.between(0, 20) * 1_000_000;
        let mut builder = Builder { dice: &mut dice, traffic: &mut traffic, trace_id };
        one_trace(&mut builder, start);
    }
    let scope = Some(InstrumentationScope {
        name: "opsdeck-demo".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    });
    let spans = ExportTraceServiceRequest {
        resource_spans: by_service(traffic.spans)
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: resource(service),
                scope_spans: vec![ScopeSpans { scope: scope.clone(), spans, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: by_service(traffic.logs)
            .into_iter()
            .map(|(service, log_records)| ResourceLogs {
                resource: resource(service),
                scope_logs: vec![ScopeLogs { scope: scope.clone(), log_records, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    };
    (spans, logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{decode_logs, decode_traces, Encoding};
    use prost::Message;

    #[test]
    fn demo_traffic_decodes_whole_with_children_inside_their_parents() {
        let (traces, logs) = shop_traffic(200, 42, 1_800_000_000_000_000_000);
        let spans = decode_traces(&traces.encode_to_vec(), Encoding::Protobuf).unwrap();
        assert_eq!(spans.rejected, 0, "{}", spans.error);
        let roots: Vec<_> = spans.records.iter().filter(|span| span.parent_span_id.is_empty()).collect();
        assert_eq!(roots.len(), 200);
        for span in &spans.records {
            if let Some(parent) = spans.records.iter().find(|p| p.span_id == span.parent_span_id) {
                assert!(
                    parent.start_unix_nano <= span.start_unix_nano
                        && span.end_unix_nano <= parent.end_unix_nano,
                    "{} inside {}",
                    span.name,
                    parent.name
                );
            }
        }
        let services: std::collections::BTreeSet<&str> =
            spans.records.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(
            services.into_iter().collect::<Vec<_>>(),
            ["cart", "catalog", "gateway", "orders", "payments", "postgres", "redis"]
        );
        assert!(spans.records.iter().any(|span| span.status_code == 2), "some cards are declined");
        let logs = decode_logs(&logs.encode_to_vec(), Encoding::Protobuf).unwrap();
        assert!(logs.records.iter().all(|log| log.trace_id.len() == 32 && log.span_id.len() == 16));
        assert_eq!(shop_traffic(3, 7, 1).0, shop_traffic(3, 7, 1).0, "a seed replays the same traffic");
    }
}
