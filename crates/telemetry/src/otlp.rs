//! Reading OTLP export requests — protobuf (prost types from
//! `opentelemetry-proto`) or OTLP/JSON (mapped onto the same types here,
//! with the spec's deviations from proto3 JSON: hex trace and span ids,
//! integer enums, 64-bit integers as strings or numbers) — into our spans
//! and log records. Records that cannot be kept (ids of the wrong length,
//! nesting too deep) are counted as rejected with the first reason, as
//! OTLP's partial success reports them.

use base64::Engine;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as OtlpLog, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span as OtlpSpan, Status};
use prost::Message;
use serde_json::{Map, Value};

use crate::model::{JsonText, LogRecord, MetricPoint, Span};

mod metrics;

/// How deep attribute values may nest (arrays and maps inside each other).
pub const MAX_ATTRIBUTE_DEPTH: usize = 32;

/// A request body that cannot be read at all (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// What a request held: the records kept, and how many were rejected and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// The records to store.
    pub records: Vec<T>,
    /// How many were rejected.
    pub rejected: i64,
    /// The first reason, for the partial-success message.
    pub error: String,
}

impl<T> Default for Decoded<T> {
    fn default() -> Self {
        Decoded { records: Vec::new(), rejected: 0, error: String::new() }
    }
}

impl<T> Decoded<T> {
    fn reject(&mut self, why: String) {
        self.rejected += 1;
        if self.error.is_empty() {
            self.error = why;
        }
    }
}

/// The body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

/// Reads a trace export request.
pub fn decode_traces(body: &[u8], encoding: Encoding) -> Result<Decoded<Span>, DecodeError> {
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|error| DecodeError(format!("not an OTLP trace export request in protobuf: {error}")))?,
        Encoding::Json => json_traces(&parse_json(body)?)?,
    };
    Ok(spans_of(request))
}

/// Reads a metric export request (one record per data point).
pub fn decode_metrics(body: &[u8], encoding: Encoding) -> Result<Decoded<MetricPoint>, DecodeError> {
    let request = match encoding {
        Encoding::Protobuf => ExportMetricsServiceRequest::decode(body).map_err(|error| {
            DecodeError(format!("not an OTLP metric export request in protobuf: {error}"))
        })?,
        Encoding::Json => metrics::json_metrics(&parse_json(body)?)?,
    };
    Ok(metrics::metrics_of(request))
}

/// Reads a log export request.
pub fn decode_logs(body: &[u8], encoding: Encoding) -> Result<Decoded<LogRecord>, DecodeError> {
    let request = match encoding {
        Encoding::Protobuf => ExportLogsServiceRequest::decode(body)
            .map_err(|error| DecodeError(format!("not an OTLP log export request in protobuf: {error}")))?,
        Encoding::Json => json_logs(&parse_json(body)?)?,
    };
    Ok(logs_of(request))
}

fn parse_json(body: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(body).map_err(|error| DecodeError(format!("not valid JSON: {error}")))
}

// ---- protobuf types to ours ----

fn service_of(resource: &Value) -> String {
    resource.get("service.name").and_then(Value::as_str).unwrap_or("unknown_service").to_owned()
}

/// The attributes as compact JSON text, written straight from the OTLP
/// values (the same text `attributes(..).to_string()` gives, in the order
/// received) — no map is built on the way. Repeated keys keep the last, as
/// the map would: such rare lists go the map's way.
fn attributes_text(pairs: &[KeyValue]) -> Result<JsonText, String> {
    let repeated = if pairs.len() <= 16 {
        pairs
            .iter()
            .enumerate()
            .any(|(index, pair)| pairs[..index].iter().any(|earlier| earlier.key == pair.key))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        pairs.iter().any(|pair| !seen.insert(pair.key.as_str()))
    };
    if repeated {
        return JsonText::from_value(&attributes(pairs)?).map_err(|error| error.to_string());
    }
    let mut out = Vec::with_capacity(pairs.len() * 40 + 2);
    write_pairs(&mut out, pairs, 0)?;
    let text = String::from_utf8(out).map_err(|error| error.to_string())?;
    JsonText::from_json(text).map_err(|error| error.to_string())
}

fn write_pairs(out: &mut Vec<u8>, pairs: &[KeyValue], depth: usize) -> Result<(), String> {
    out.push(b'{');
    for (index, pair) in pairs.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &pair.key).map_err(|error| error.to_string())?;
        out.push(b':');
        write_any(out, pair.value.as_ref(), depth)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_any(out: &mut Vec<u8>, value: Option<&AnyValue>, depth: usize) -> Result<(), String> {
    use std::io::Write as _;
    if depth > MAX_ATTRIBUTE_DEPTH {
        return Err(format!("attribute values nest deeper than {MAX_ATTRIBUTE_DEPTH} levels"));
    }
    let failed = |error: std::io::Error| error.to_string();
    match value.and_then(|value| value.value.as_ref()) {
        None => out.extend_from_slice(b"null"),
        Some(any_value::Value::StringValue(text)) => {
            serde_json::to_writer(&mut *out, text).map_err(|error| error.to_string())?;
        }
        Some(any_value::Value::BoolValue(flag)) => {
            out.extend_from_slice(if *flag { b"true" } else { b"false" })
        }
        Some(any_value::Value::IntValue(number)) => write!(out, "{number}").map_err(failed)?,
        Some(any_value::Value::DoubleValue(number)) => {
            if number.is_finite() {
                serde_json::to_writer(&mut *out, number).map_err(|error| error.to_string())?;
            } else {
                out.extend_from_slice(b"null");
            }
        }
        Some(any_value::Value::BytesValue(bytes)) => {
            write!(out, "\"{}\"", base64::engine::general_purpose::STANDARD.encode(bytes)).map_err(failed)?;
        }
        Some(any_value::Value::ArrayValue(array)) => {
            out.push(b'[');
            for (index, item) in array.values.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_any(out, Some(item), depth + 1)?;
            }
            out.push(b']');
        }
        Some(any_value::Value::KvlistValue(list)) => {
            let repeated = list
                .values
                .iter()
                .enumerate()
                .any(|(index, pair)| list.values[..index].iter().any(|earlier| earlier.key == pair.key));
            if repeated {
                let mut map = Map::new();
                for pair in &list.values {
                    map.insert(pair.key.clone(), any_value(pair.value.as_ref(), depth + 1)?);
                }
                serde_json::to_writer(&mut *out, &map).map_err(|error| error.to_string())?;
            } else {
                write_pairs(out, &list.values, depth + 1)?;
            }
        }
    }
    Ok(())
}

fn scope_json(scope: Option<&InstrumentationScope>) -> Result<Value, String> {
    let Some(scope) = scope else { return Ok(Value::Object(Map::new())) };
    Ok(serde_json::json!({
        "name": scope.name, "version": scope.version, "attributes": attributes(&scope.attributes)?,
    }))
}

fn attributes(pairs: &[KeyValue]) -> Result<Value, String> {
    let mut map = Map::new();
    for pair in pairs {
        map.insert(pair.key.clone(), any_value(pair.value.as_ref(), 0)?);
    }
    Ok(Value::Object(map))
}

fn any_value(value: Option<&AnyValue>, depth: usize) -> Result<Value, String> {
    if depth > MAX_ATTRIBUTE_DEPTH {
        return Err(format!("attribute values nest deeper than {MAX_ATTRIBUTE_DEPTH} levels"));
    }
    Ok(match value.and_then(|value| value.value.as_ref()) {
        None => Value::Null,
        Some(any_value::Value::StringValue(text)) => Value::String(text.clone()),
        Some(any_value::Value::BoolValue(flag)) => Value::Bool(*flag),
        Some(any_value::Value::IntValue(number)) => Value::from(*number),
        Some(any_value::Value::DoubleValue(number)) => {
            serde_json::Number::from_f64(*number).map_or(Value::Null, Value::Number)
        }
        Some(any_value::Value::BytesValue(bytes)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Some(any_value::Value::ArrayValue(array)) => Value::Array(
            array.values.iter().map(|item| any_value(Some(item), depth + 1)).collect::<Result<_, _>>()?,
        ),
        Some(any_value::Value::KvlistValue(list)) => {
            let mut map = Map::new();
            for pair in &list.values {
                map.insert(pair.key.clone(), any_value(pair.value.as_ref(), depth + 1)?);
            }
            Value::Object(map)
        }
    })
}

fn id(bytes: &[u8], length: usize, what: &str, optional: bool) -> Result<String, String> {
    if optional && bytes.is_empty() {
        return Ok(String::new());
    }
    if bytes.len() != length || bytes.iter().all(|byte| *byte == 0) {
        return Err(format!("{what} must be {length} bytes and not all zero (got {} bytes)", bytes.len()));
    }
    Ok(hex::encode(bytes))
}

fn time(nanos: u64) -> i64 {
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

fn span_of(span: &OtlpSpan, service: &str, resource: &JsonText, scope: &JsonText) -> Result<Span, String> {
    let text = |value: &Value| JsonText::from_value(value).map_err(|error| error.to_string());
    let events = span
        .events
        .iter()
        .map(|event| {
            Ok(serde_json::json!({
                "time_unix_nano": time(event.time_unix_nano), "name": event.name,
                "attributes": attributes(&event.attributes)?,
            }))
        })
        .collect::<Result<Vec<Value>, String>>()?;
    let links = span
        .links
        .iter()
        .map(|link| {
            Ok(serde_json::json!({
                "trace_id": id(&link.trace_id, 16, "a link's trace id", false)?,
                "span_id": id(&link.span_id, 8, "a link's span id", false)?,
                "trace_state": link.trace_state, "attributes": attributes(&link.attributes)?,
            }))
        })
        .collect::<Result<Vec<Value>, String>>()?;
    let status = span.status.clone().unwrap_or_default();
    Ok(Span {
        trace_id: id(&span.trace_id, 16, "trace id", false)?,
        span_id: id(&span.span_id, 8, "span id", false)?,
        parent_span_id: id(&span.parent_span_id, 8, "parent span id", true)?,
        service: service.to_owned(),
        name: span.name.clone(),
        kind: span.kind,
        start_unix_nano: time(span.start_time_unix_nano),
        end_unix_nano: time(span.end_time_unix_nano),
        status_code: status.code,
        status: crate::model::SpanStatus::from_code(status.code),
        status_message: status.message,
        trace_state: span.trace_state.clone(),
        flags: i64::from(span.flags),
        attributes: attributes_text(&span.attributes)?,
        resource: resource.clone(),
        scope: scope.clone(),
        events: if events.is_empty() { JsonText::empty_list() } else { text(&Value::Array(events))? },
        links: if links.is_empty() { JsonText::empty_list() } else { text(&Value::Array(links))? },
    })
}

fn spans_of(request: ExportTraceServiceRequest) -> Decoded<Span> {
    let mut decoded = Decoded::default();
    for resource_spans in &request.resource_spans {
        let resource = match resource_spans.resource.as_ref().map(|resource| attributes(&resource.attributes))
        {
            Some(Ok(resource)) => resource,
            Some(Err(why)) => {
                let count = resource_spans.scope_spans.iter().map(|scope| scope.spans.len()).sum::<usize>();
                for _ in 0..count {
                    decoded.reject(format!("resource: {why}"));
                }
                continue;
            }
            None => Value::Object(Map::new()),
        };
        let service = service_of(&resource);
        // Kept as text once per resource and scope, shared by their spans.
        let resource = match JsonText::from_value(&resource) {
            Ok(resource) => resource,
            Err(why) => {
                decoded.reject(format!("resource: {why}"));
                continue;
            }
        };
        for scope_spans in &resource_spans.scope_spans {
            let scope = match scope_json(scope_spans.scope.as_ref())
                .and_then(|scope| JsonText::from_value(&scope).map_err(|error| error.to_string()))
            {
                Ok(scope) => scope,
                Err(why) => {
                    for _ in &scope_spans.spans {
                        decoded.reject(format!("scope: {why}"));
                    }
                    continue;
                }
            };
            for span in &scope_spans.spans {
                match span_of(span, &service, &resource, &scope) {
                    Ok(span) => decoded.records.push(span),
                    Err(why) => decoded.reject(format!("span {:?}: {why}", span.name)),
                }
            }
        }
    }
    decoded
}

fn log_of(record: &OtlpLog, service: &str, resource: &Value, scope: &Value) -> Result<LogRecord, String> {
    let body = match any_value(record.body.as_ref(), 0)? {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let observed = time(record.observed_time_unix_nano);
    Ok(LogRecord {
        time_unix_nano: if record.time_unix_nano == 0 { observed } else { time(record.time_unix_nano) },
        observed_unix_nano: observed,
        severity_number: record.severity_number,
        severity_text: record.severity_text.clone(),
        body,
        service: service.to_owned(),
        trace_id: id(&record.trace_id, 16, "trace id", true)?,
        span_id: id(&record.span_id, 8, "span id", true)?,
        attributes: attributes(&record.attributes)?,
        resource: resource.clone(),
        scope: scope.clone(),
    })
}

fn logs_of(request: ExportLogsServiceRequest) -> Decoded<LogRecord> {
    let mut decoded = Decoded::default();
    for resource_logs in &request.resource_logs {
        let resource = match resource_logs.resource.as_ref().map(|resource| attributes(&resource.attributes))
        {
            Some(Ok(resource)) => resource,
            Some(Err(why)) => {
                let count =
                    resource_logs.scope_logs.iter().map(|scope| scope.log_records.len()).sum::<usize>();
                for _ in 0..count {
                    decoded.reject(format!("resource: {why}"));
                }
                continue;
            }
            None => Value::Object(Map::new()),
        };
        let service = service_of(&resource);
        for scope_logs in &resource_logs.scope_logs {
            let scope = match scope_json(scope_logs.scope.as_ref()) {
                Ok(scope) => scope,
                Err(why) => {
                    for _ in &scope_logs.log_records {
                        decoded.reject(format!("scope: {why}"));
                    }
                    continue;
                }
            };
            for record in &scope_logs.log_records {
                match log_of(record, &service, &resource, &scope) {
                    Ok(record) => decoded.records.push(record),
                    Err(why) => decoded.reject(format!("log record: {why}")),
                }
            }
        }
    }
    decoded
}

// ---- OTLP/JSON onto the protobuf types ----

fn field<'a>(object: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    object.get(camel).or_else(|| object.get(snake))
}

fn list<'a>(object: &'a Value, camel: &str, snake: &str) -> Result<&'a [Value], DecodeError> {
    match field(object, camel, snake) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(DecodeError(format!("`{camel}` must be a list"))),
    }
}

fn text(object: &Value, camel: &str, snake: &str) -> Result<String, DecodeError> {
    match field(object, camel, snake) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(DecodeError(format!("`{camel}` must be a string"))),
    }
}

/// A 64-bit integer given as a JSON number or a decimal string.
fn integer(object: &Value, camel: &str, snake: &str) -> Result<i64, DecodeError> {
    match field(object, camel, snake) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_u64().map(|value| i64::try_from(value).unwrap_or(i64::MAX)))
            .ok_or_else(|| DecodeError(format!("`{camel}` must be an integer"))),
        Some(Value::String(text)) => text
            .parse::<i64>()
            .or_else(|_| text.parse::<u64>().map(|value| i64::try_from(value).unwrap_or(i64::MAX)))
            .map_err(|_| DecodeError(format!("`{camel}` must be an integer, not {text:?}"))),
        Some(_) => Err(DecodeError(format!("`{camel}` must be an integer"))),
    }
}

fn unsigned(object: &Value, camel: &str, snake: &str) -> Result<u64, DecodeError> {
    integer(object, camel, snake).map(|value| u64::try_from(value).unwrap_or(0))
}

/// Hex ids as the spec says; anything else is kept as bytes that fail the length check later.
fn hex_id(object: &Value, camel: &str, snake: &str) -> Result<Vec<u8>, DecodeError> {
    let text = text(object, camel, snake)?;
    hex::decode(&text).map_err(|_| DecodeError(format!("`{camel}` must be hex digits, not {text:?}")))
}

fn json_any(value: &Value, depth: usize) -> Result<AnyValue, DecodeError> {
    if depth > MAX_ATTRIBUTE_DEPTH {
        return Err(DecodeError(format!("attribute values nest deeper than {MAX_ATTRIBUTE_DEPTH} levels")));
    }
    let inner = if let Some(text) = value.get("stringValue") {
        any_value::Value::StringValue(text.as_str().unwrap_or_default().to_owned())
    } else if let Some(flag) = value.get("boolValue") {
        any_value::Value::BoolValue(flag.as_bool().unwrap_or_default())
    } else if value.get("intValue").is_some() {
        any_value::Value::IntValue(integer(value, "intValue", "intValue")?)
    } else if let Some(number) = value.get("doubleValue") {
        any_value::Value::DoubleValue(match number {
            Value::String(text) => text.parse().unwrap_or(f64::NAN),
            other => other.as_f64().unwrap_or_default(),
        })
    } else if let Some(bytes) = value.get("bytesValue") {
        let encoded = bytes.as_str().unwrap_or_default();
        any_value::Value::BytesValue(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| DecodeError("`bytesValue` must be base64".to_owned()))?,
        )
    } else if let Some(array) = value.get("arrayValue") {
        let values = list(array, "values", "values")?
            .iter()
            .map(|item| json_any(item, depth + 1))
            .collect::<Result<_, _>>()?;
        any_value::Value::ArrayValue(ArrayValue { values })
    } else if let Some(map) = value.get("kvlistValue") {
        any_value::Value::KvlistValue(KeyValueList {
            values: json_pairs(list(map, "values", "values")?, depth + 1)?,
        })
    } else {
        return Ok(AnyValue { value: None });
    };
    Ok(AnyValue { value: Some(inner) })
}

fn json_pairs(items: &[Value], depth: usize) -> Result<Vec<KeyValue>, DecodeError> {
    items
        .iter()
        .map(|item| {
            let value = match item.get("value") {
                Some(value) => Some(json_any(value, depth)?),
                None => None,
            };
            Ok(KeyValue { key: text(item, "key", "key")?, value })
        })
        .collect()
}

fn json_resource(object: &Value) -> Result<Option<Resource>, DecodeError> {
    match object.get("resource") {
        None | Some(Value::Null) => Ok(None),
        Some(resource) => Ok(Some(Resource {
            attributes: json_pairs(list(resource, "attributes", "attributes")?, 0)?,
            ..Default::default()
        })),
    }
}

fn json_scope(object: &Value) -> Result<Option<InstrumentationScope>, DecodeError> {
    match object.get("scope") {
        None | Some(Value::Null) => Ok(None),
        Some(scope) => Ok(Some(InstrumentationScope {
            name: text(scope, "name", "name")?,
            version: text(scope, "version", "version")?,
            attributes: json_pairs(list(scope, "attributes", "attributes")?, 0)?,
            ..Default::default()
        })),
    }
}

fn json_span(value: &Value) -> Result<OtlpSpan, DecodeError> {
    let events = list(value, "events", "events")?
        .iter()
        .map(|event| {
            Ok(span::Event {
                time_unix_nano: unsigned(event, "timeUnixNano", "time_unix_nano")?,
                name: text(event, "name", "name")?,
                attributes: json_pairs(list(event, "attributes", "attributes")?, 0)?,
                ..Default::default()
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    let links = list(value, "links", "links")?
        .iter()
        .map(|link| {
            Ok(span::Link {
                trace_id: hex_id(link, "traceId", "trace_id")?,
                span_id: hex_id(link, "spanId", "span_id")?,
                trace_state: text(link, "traceState", "trace_state")?,
                attributes: json_pairs(list(link, "attributes", "attributes")?, 0)?,
                ..Default::default()
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    let status = match value.get("status") {
        None | Some(Value::Null) => None,
        Some(status) => Some(Status {
            message: text(status, "message", "message")?,
            code: i32::try_from(integer(status, "code", "code")?).unwrap_or_default(),
        }),
    };
    Ok(OtlpSpan {
        trace_id: hex_id(value, "traceId", "trace_id")?,
        span_id: hex_id(value, "spanId", "span_id")?,
        parent_span_id: hex_id(value, "parentSpanId", "parent_span_id")?,
        trace_state: text(value, "traceState", "trace_state")?,
        flags: u32::try_from(integer(value, "flags", "flags")?).unwrap_or_default(),
        name: text(value, "name", "name")?,
        kind: i32::try_from(integer(value, "kind", "kind")?).unwrap_or_default(),
        start_time_unix_nano: unsigned(value, "startTimeUnixNano", "start_time_unix_nano")?,
        end_time_unix_nano: unsigned(value, "endTimeUnixNano", "end_time_unix_nano")?,
        attributes: json_pairs(list(value, "attributes", "attributes")?, 0)?,
        events,
        links,
        status,
        ..Default::default()
    })
}

fn json_traces(body: &Value) -> Result<ExportTraceServiceRequest, DecodeError> {
    let mut request = ExportTraceServiceRequest::default();
    for resource_spans in list(body, "resourceSpans", "resource_spans")? {
        let mut scopes = Vec::new();
        for scope_spans in list(resource_spans, "scopeSpans", "scope_spans")? {
            let spans =
                list(scope_spans, "spans", "spans")?.iter().map(json_span).collect::<Result<_, _>>()?;
            scopes.push(ScopeSpans { scope: json_scope(scope_spans)?, spans, ..Default::default() });
        }
        request.resource_spans.push(ResourceSpans {
            resource: json_resource(resource_spans)?,
            scope_spans: scopes,
            ..Default::default()
        });
    }
    Ok(request)
}

fn json_logs(body: &Value) -> Result<ExportLogsServiceRequest, DecodeError> {
    let mut request = ExportLogsServiceRequest::default();
    for resource_logs in list(body, "resourceLogs", "resource_logs")? {
        let mut scopes = Vec::new();
        for scope_logs in list(resource_logs, "scopeLogs", "scope_logs")? {
            let mut records = Vec::new();
            for record in list(scope_logs, "logRecords", "log_records")? {
                records.push(OtlpLog {
                    time_unix_nano: unsigned(record, "timeUnixNano", "time_unix_nano")?,
                    observed_time_unix_nano: unsigned(
                        record,
                        "observedTimeUnixNano",
                        "observed_time_unix_nano",
                    )?,
                    severity_number: i32::try_from(integer(record, "severityNumber", "severity_number")?)
                        .unwrap_or_default(),
                    severity_text: text(record, "severityText", "severity_text")?,
                    body: match record.get("body") {
                        Some(body) => Some(json_any(body, 0)?),
                        None => None,
                    },
                    attributes: json_pairs(list(record, "attributes", "attributes")?, 0)?,
                    trace_id: hex_id(record, "traceId", "trace_id")?,
                    span_id: hex_id(record, "spanId", "span_id")?,
                    ..Default::default()
                });
            }
            scopes.push(ScopeLogs {
                scope: json_scope(scope_logs)?,
                log_records: records,
                ..Default::default()
            });
        }
        request.resource_logs.push(ResourceLogs {
            resource: json_resource(resource_logs)?,
            scope_logs: scopes,
            ..Default::default()
        });
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(value) }) }
    }

    #[test]
    fn attributes_written_as_text_read_back_as_the_map_would_give_them() {
        let nested = KeyValueList {
            values: vec![
                pair("ok", any_value::Value::BoolValue(true)),
                pair("ok", any_value::Value::IntValue(2)),
            ],
        };
        let pairs = vec![
            pair("text", any_value::Value::StringValue("quote \" and \\ and ü".to_owned())),
            pair("int", any_value::Value::IntValue(-42)),
            pair("double", any_value::Value::DoubleValue(1.5)),
            pair("nan", any_value::Value::DoubleValue(f64::NAN)),
            pair("bytes", any_value::Value::BytesValue(vec![0, 255])),
            pair(
                "list",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue { value: Some(any_value::Value::IntValue(1)) },
                        AnyValue { value: None },
                    ],
                }),
            ),
            pair("map", any_value::Value::KvlistValue(nested)),
            KeyValue { key: "empty".to_owned(), value: None },
        ];
        let text = attributes_text(&pairs).unwrap();
        let parsed: Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(parsed, attributes(&pairs).unwrap());
        assert!(
            text.as_str().contains("\"int\":-42,"),
            "compact, as the search patterns expect: {}",
            text.as_str()
        );
        // Repeated keys keep the last, as the map does.
        let repeated =
            vec![pair("a", any_value::Value::IntValue(1)), pair("a", any_value::Value::IntValue(2))];
        assert_eq!(attributes_text(&repeated).unwrap().as_str(), "{\"a\":2}");
    }
}
