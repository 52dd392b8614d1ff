//! Reading traces: counts, services, searches over the per-trace
//! summaries, whole traces, the service map and the slowest traces.

use opsdeck_core::StoreKind;
use serde::Serialize;
use ts_rs::TS;

use super::{Telemetry, MAX_LIMIT};
use crate::model::{JsonText, Span};
use crate::TelemetryError;

/// A service and the operations its spans have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ServiceOperations {
    /// The service.
    pub service: String,
    /// Its operations, by name.
    pub operations: Vec<String>,
}

/// One trace in a list (the CLI's `traces list` shape).
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct TraceSummary {
    /// 32 hex digits.
    pub trace_id: String,
    /// The root span's service (the earliest span's, when the root is missing).
    pub root_service: String,
    /// The root span's operation.
    pub root_operation: String,
    /// The earliest start, Unix nanoseconds.
    #[ts(type = "number")]
    pub start_unix_nano: i64,
    /// From the earliest start to the latest end, nanoseconds.
    #[ts(type = "number")]
    pub duration_nano: i64,
    /// The same in milliseconds.
    pub duration_ms: f64,
    /// How many spans are stored.
    #[ts(type = "number")]
    pub span_count: i64,
    /// How many of them have status error.
    #[ts(type = "number")]
    pub error_count: i64,
    /// Whether any span is in error.
    pub error: bool,
}

/// What to list traces by; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceQuery {
    /// A service that has a span in the trace.
    pub service: Option<String>,
    /// An operation that is a span in the trace.
    pub operation: Option<String>,
    /// Traces starting at or after (Unix ns).
    pub since_unix_nano: Option<i64>,
    /// Traces starting before (Unix ns).
    pub until_unix_nano: Option<i64>,
    /// Only traces with a span in error.
    pub errors_only: bool,
    /// Only traces at least this long (ns).
    pub min_duration_nano: Option<i64>,
    /// Only traces at most this long (ns).
    pub max_duration_nano: Option<i64>,
    /// Only traces with a span whose attribute `key` has this value (as
    /// text, number or boolean).
    pub attribute: Option<(String, String)>,
    /// The most traces (capped at [`MAX_LIMIT`]).
    pub limit: i64,
}

pub(super) fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// LIKE patterns that find `"key":value` in a stored attribute object,
/// whether the value was sent as text or as a number or boolean, and not
/// as a prefix of a longer value.
fn attribute_patterns(key: &str, value: &str) -> [String; 4] {
    let key = serde_json::Value::String(key.to_owned()).to_string();
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    let plain = serde_json::from_str::<serde_json::Value>(value)
        .ok()
        .filter(|parsed| parsed.is_number() || parsed.is_boolean())
        .map_or_else(|| quoted.clone(), |parsed| parsed.to_string());
    [
        format!("%{}%", like_escape(&format!("{key}:{quoted},"))),
        format!("%{}%", like_escape(&format!("{key}:{quoted}}}"))),
        format!("%{}%", like_escape(&format!("{key}:{plain},"))),
        format!("%{}%", like_escape(&format!("{key}:{plain}}}"))),
    ]
}

/// Calls from one service to another, as the service map shows them.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct ServiceEdge {
    /// The calling service (the parent span's).
    pub from: String,
    /// The called service (the child span's).
    pub to: String,
    /// How many calls.
    #[ts(type = "number")]
    pub calls: i64,
    /// How many ended in error.
    #[ts(type = "number")]
    pub errors: i64,
    /// Errors / calls.
    pub error_rate: f64,
    /// Median duration of the called spans, ns.
    #[ts(type = "number")]
    pub p50_nano: i64,
    /// 95th percentile, ns.
    #[ts(type = "number")]
    pub p95_nano: i64,
}

/// A trace slower than most of its kind.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct SlowTrace {
    /// The trace.
    pub trace_id: String,
    /// Its root's service.
    pub service: String,
    /// Its root's operation.
    pub name: String,
    /// How long its root took, ns.
    #[ts(type = "number")]
    pub duration_nano: i64,
    /// The percentile of that operation's root durations it exceeds, ns.
    #[ts(type = "number")]
    pub threshold_nano: i64,
    /// How many traces of the operation were measured.
    #[ts(type = "number")]
    pub samples: i64,
}

/// The value below which `share` of the sorted `values` lie (nearest rank).
pub fn percentile(sorted: &[i64], share: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (share * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The spans of the JSON array of arrays [`Telemetry::trace`] selects.
fn spans_of_packed(trace_id: &str, text: &str) -> Result<Vec<Span>, TelemetryError> {
    type Packed = (
        String,
        String,
        String,
        String,
        i32,
        i64,
        i64,
        i32,
        String,
        String,
        i64,
        JsonText,
        JsonText,
        JsonText,
        JsonText,
        JsonText,
    );
    let packed: Vec<Packed> = serde_json::from_str(text).map_err(|error| {
        TelemetryError::Invalid(format!("the stored spans of trace {trace_id} are unreadable: {error}"))
    })?;
    Ok(packed
        .into_iter()
        .map(
            |(
                span_id,
                parent_span_id,
                service,
                name,
                kind,
                start_unix_nano,
                end_unix_nano,
                status_code,
                status_message,
                trace_state,
                flags,
                attributes,
                resource,
                scope,
                events,
                links,
            )| Span {
                trace_id: trace_id.to_owned(),
                span_id,
                parent_span_id,
                service,
                name,
                kind,
                start_unix_nano,
                end_unix_nano,
                status_code,
                status: crate::model::SpanStatus::from_code(status_code),
                status_message,
                trace_state,
                flags,
                attributes,
                resource,
                scope,
                events,
                links,
            },
        )
        .collect())
}

impl Telemetry {
    /// How many traces started since `since_unix_nano`, and how many of them have an error.
    pub async fn trace_counts(&self, since_unix_nano: i64) -> Result<(i64, i64), TelemetryError> {
        let (traces, errors): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN error_count > 0 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM telemetry_traces WHERE start_unix_nano >= $1",
        )
        .bind(since_unix_nano)
        .fetch_one(self.store.pool())
        .await?;
        Ok((traces, errors.unwrap_or(0)))
    }

    /// The services seen since `since_unix_nano`, each with its operations
    /// (for the search form), by name.
    pub async fn services(&self, since_unix_nano: i64) -> Result<Vec<ServiceOperations>, TelemetryError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT service, name FROM telemetry_operations WHERE last_seen_unix_nano >= $1 \
             ORDER BY service, name LIMIT 5000",
        )
        .bind(since_unix_nano)
        .fetch_all(self.store.pool())
        .await?;
        let mut services: Vec<ServiceOperations> = Vec::new();
        for (service, operation) in rows {
            match services.last_mut() {
                Some(last) if last.service == service => last.operations.push(operation),
                _ => services.push(ServiceOperations { service, operations: vec![operation] }),
            }
        }
        Ok(services)
    }

    /// Traces matching `query`, newest first.
    pub async fn traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, TelemetryError> {
        let limit = if query.limit <= 0 { 50 } else { query.limit.min(MAX_LIMIT) };
        let patterns = query.attribute.as_ref().map(|(key, value)| attribute_patterns(key, value));
        // Newest traces first through the summaries' start index; a filter
        // on service, operation or attribute asks for one span of the trace
        // matching all three (looked up by the trace's key).
        let span_filter = query.service.is_some() || query.operation.is_some() || patterns.is_some();
        let rows: Vec<(String, i64, i64, i64, i64, String, String)> = sqlx::query_as(
            "SELECT t.trace_id, t.start_unix_nano, t.end_unix_nano, t.span_count, t.error_count, \
             t.root_service, t.root_operation FROM telemetry_traces t \
             WHERE ($3 IS NULL OR t.start_unix_nano >= $3) AND ($4 IS NULL OR t.start_unix_nano < $4) \
             AND ($5 = 0 OR t.error_count > 0) \
             AND ($10 IS NULL OR t.duration_nano >= $10) AND ($11 IS NULL OR t.duration_nano <= $11) \
             AND ($13 = 0 OR EXISTS (SELECT 1 FROM telemetry_spans s WHERE s.trace_id = t.trace_id \
               AND ($1 IS NULL OR s.service = $1) AND ($2 IS NULL OR s.name = $2) \
               AND ($6 IS NULL OR s.attributes LIKE $6 ESCAPE '\\' OR s.attributes LIKE $7 ESCAPE '\\' \
                    OR s.attributes LIKE $8 ESCAPE '\\' OR s.attributes LIKE $9 ESCAPE '\\'))) \
             ORDER BY t.start_unix_nano DESC, t.trace_id DESC LIMIT $12",
        )
        .bind(query.service.as_deref())
        .bind(query.operation.as_deref())
        .bind(query.since_unix_nano)
        .bind(query.until_unix_nano)
        .bind(i64::from(query.errors_only))
        .bind(patterns.as_ref().map(|p| p[0].clone()))
        .bind(patterns.as_ref().map(|p| p[1].clone()))
        .bind(patterns.as_ref().map(|p| p[2].clone()))
        .bind(patterns.as_ref().map(|p| p[3].clone()))
        .bind(query.min_duration_nano)
        .bind(query.max_duration_nano)
        .bind(limit)
        .bind(i64::from(span_filter))
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(trace_id, started, ended, spans, errors, service, name)| {
                let duration_nano = (ended - started).max(0);
                TraceSummary {
                    trace_id,
                    root_service: service,
                    root_operation: name,
                    start_unix_nano: started,
                    duration_nano,
                    duration_ms: duration_nano as f64 / 1e6,
                    span_count: spans,
                    error_count: errors,
                    error: errors > 0,
                }
            })
            .collect())
    }

    /// Every span of a trace, by start time.
    pub async fn trace(&self, trace_id: &str) -> Result<Vec<Span>, TelemetryError> {
        let trace_id = trace_id.trim().to_ascii_lowercase();
        if trace_id.len() != 32 || !trace_id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(TelemetryError::Invalid(format!(
                "{trace_id:?} is not a trace id (32 hex digits); `opsdeck traces list` shows them"
            )));
        }
        // Each span comes back as one JSON array built by the database: one
        // value per row instead of seventeen (the generic driver's cost is
        // per value — a 10,000-span trace loads about three times faster).
        // The stored JSON columns are spliced in as they are (they were
        // written as JSON by this crate); text columns are quoted.
        let packed = match self.store.kind() {
            StoreKind::Sqlite => {
                "'[' || json_quote(span_id) || ',' || json_quote(parent_span_id) || ',' || json_quote(service) \
                 || ',' || json_quote(name) || ',' || kind || ',' || start_unix_nano || ',' || end_unix_nano \
                 || ',' || status_code || ',' || json_quote(status_message) || ',' || json_quote(trace_state) \
                 || ',' || flags || ',' || attributes || ',' || resource || ',' || scope || ',' || events \
                 || ',' || links || ']'"
            }
            StoreKind::Postgres => {
                "'[' || to_json(span_id)::text || ',' || to_json(parent_span_id)::text || ',' \
                 || to_json(service)::text || ',' || to_json(name)::text || ',' || kind::text || ',' \
                 || start_unix_nano::text || ',' || end_unix_nano::text || ',' || status_code::text || ',' \
                 || to_json(status_message)::text || ',' || to_json(trace_state)::text || ',' || flags::text \
                 || ',' || attributes || ',' || resource || ',' || scope || ',' || events || ',' || links || ']'"
            }
        };
        // …and the whole trace as one value: the generic driver's cost is per
        // row as well.
        let joined: Option<String> = sqlx::query_scalar(&format!(
            "SELECT '[' || {aggregate} || ']' FROM telemetry_spans WHERE trace_id = $1",
            aggregate = match self.store.kind() {
                StoreKind::Sqlite => format!("group_concat({packed}, ',')"),
                StoreKind::Postgres => format!("string_agg({packed}, ',')"),
            }
        ))
        .bind(&trace_id)
        .fetch_one(self.store.pool())
        .await?;
        let Some(joined) = joined else {
            return Err(TelemetryError::UnknownTrace { trace_id });
        };
        let mut spans = spans_of_packed(&trace_id, &joined)?;
        spans.sort_by(|a, b| (a.start_unix_nano, &a.span_id).cmp(&(b.start_unix_nano, &b.span_id)));
        Ok(spans)
    }

    /// Which service calls which since `since_unix_nano`: a span whose parent
    /// belongs to another service is a call from that service. The most
    /// recent 50,000 calls are counted (each one is a lookup of its parent;
    /// that bounds the map's time on a large store).
    pub async fn service_map(&self, since_unix_nano: i64) -> Result<Vec<ServiceEdge>, TelemetryError> {
        let rows: Vec<(String, String, i64, i32)> = sqlx::query_as(
            "SELECT p.service, c.service, c.duration_nano, c.status_code FROM telemetry_spans c \
             JOIN telemetry_spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id \
             WHERE c.start_unix_nano >= $1 AND p.service <> c.service \
             ORDER BY c.start_unix_nano DESC LIMIT 50000",
        )
        .bind(since_unix_nano)
        .fetch_all(self.store.pool())
        .await?;
        let mut edges: std::collections::BTreeMap<(String, String), (i64, Vec<i64>)> = Default::default();
        for (from, to, duration, status) in rows {
            let entry = edges.entry((from, to)).or_default();
            entry.0 += i64::from(status == 2);
            entry.1.push(duration);
        }
        Ok(edges
            .into_iter()
            .map(|((from, to), (errors, mut durations))| {
                durations.sort_unstable();
                let calls = durations.len() as i64;
                ServiceEdge {
                    from,
                    to,
                    calls,
                    errors,
                    error_rate: if calls > 0 { errors as f64 / calls as f64 } else { 0.0 },
                    p50_nano: percentile(&durations, 0.5),
                    p95_nano: percentile(&durations, 0.95),
                }
            })
            .collect())
    }

    /// Traces whose root took longer than the `percentile` of its operation's
    /// roots since `since_unix_nano` (operations with at least 5 traces),
    /// the most over their threshold first.
    pub async fn slow_traces(
        &self,
        since_unix_nano: i64,
        percentile_wanted: f64,
        limit: i64,
    ) -> Result<Vec<SlowTrace>, TelemetryError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT trace_id, root_service, root_operation, duration_nano FROM telemetry_traces \
             WHERE start_unix_nano >= $1 ORDER BY start_unix_nano DESC LIMIT 1000000",
        )
        .bind(since_unix_nano)
        .fetch_all(self.store.pool())
        .await?;
        let mut by_operation: std::collections::BTreeMap<(String, String), Vec<(String, i64)>> =
            Default::default();
        for (trace_id, service, name, duration) in rows {
            by_operation.entry((service, name)).or_default().push((trace_id, duration));
        }
        let share = (percentile_wanted / 100.0).clamp(0.0, 1.0);
        let mut slow = Vec::new();
        for ((service, name), traces) in by_operation {
            if traces.len() < 5 {
                continue;
            }
            let mut durations: Vec<i64> = traces.iter().map(|(_, duration)| *duration).collect();
            durations.sort_unstable();
            let threshold = percentile(&durations, share);
            for (trace_id, duration) in traces.into_iter().filter(|(_, duration)| *duration > threshold) {
                slow.push(SlowTrace {
                    trace_id,
                    service: service.clone(),
                    name: name.clone(),
                    duration_nano: duration,
                    threshold_nano: threshold,
                    samples: durations.len() as i64,
                });
            }
        }
        slow.sort_by(|a, b| {
            let over = |t: &SlowTrace| t.duration_nano as f64 / t.threshold_nano.max(1) as f64;
            over(b).total_cmp(&over(a))
        });
        slow.truncate(if limit <= 0 { 50 } else { limit.min(MAX_LIMIT) } as usize);
        Ok(slow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(
            (percentile(&values, 0.5), percentile(&values, 0.95), percentile(&values, 1.0)),
            (50, 95, 100)
        );
        assert_eq!(percentile(&[7], 0.95), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn attribute_patterns_match_text_numbers_and_booleans_whole() {
        let [text_more, text_last, plain_more, plain_last] = attribute_patterns("rows", "42");
        assert_eq!(text_more, "%\"rows\":\"42\",%");
        assert_eq!(text_last, "%\"rows\":\"42\"}%");
        assert_eq!((plain_more.as_str(), plain_last.as_str()), ("%\"rows\":42,%", "%\"rows\":42}%"));
        assert_eq!(attribute_patterns("a_b", "x%")[0], "%\"a\\_b\":\"x\\%\",%");
    }
}
