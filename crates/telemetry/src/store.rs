//! Spans and log records in the store: written in batches (one transaction
//! per batch, a re-sent span replacing the earlier copy), read back as
//! trace summaries, whole traces and log lines.

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{Store, StoreKind};
use serde::Serialize;
use sqlx::migrate::Migrator;
use ts_rs::TS;

use crate::model::{JsonText, LogRecord, MetricPoint, Span};
use crate::TelemetryError;

/// This crate's migrations for the store's backend (versions 4000–4999).
pub fn migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// Rows one INSERT statement carries (SQLite allows 32,766 bound values;
/// the widest row binds 20).
/// Rows one pruning statement deletes at most (see `Telemetry::delete_through`).
const PRUNE_ROWS_PER_STATEMENT: i64 = 5_000;

/// Trace summaries one pruning transaction recomputes at most.
const PRUNE_TRACES_PER_TRANSACTION: usize = 500;

const ROWS_PER_STATEMENT: usize = 400;

/// What a stored row costs beyond its text (numbers, row and index overhead), for size retention.
const FIXED_ROW_BYTES: usize = 120;

/// `rows` groups of `width` placeholders: `(?, ?), (?, ?)` on SQLite,
/// `($1, $2), ($3, $4)` on PostgreSQL. SQLite looks numbered parameters up
/// by name, one search per parameter, which made a 400-row insert ten
/// times slower than the same rows bound in order.
fn placeholders(kind: StoreKind, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match kind {
                StoreKind::Sqlite => sql.push('?'),
                StoreKind::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * width + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// A service and the operations its spans have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ServiceOperations {
    /// The service.
    pub service: String,
    /// Its operations, by name.
    pub operations: Vec<String>,
}

/// One metric as received: its name, kind, unit and service, with how many points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MetricSeries {
    /// The instrument's name.
    pub name: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: String,
    /// Its unit.
    pub unit: String,
    /// The service that sent it.
    pub service: String,
    /// Points stored.
    #[ts(type = "number")]
    pub points: i64,
    /// The newest point's time, Unix ns.
    #[ts(type = "number")]
    pub latest_unix_nano: i64,
}

/// The most rows one query returns.
pub const MAX_LIMIT: i64 = 1000;

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

fn like_escape(text: &str) -> String {
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

/// What to list log records by; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this service's records.
    pub service: Option<String>,
    /// Only records at least this severe (OTLP numbers: 9 info, 13 warn, 17 error).
    pub min_severity: Option<i32>,
    /// Only records whose body contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only records of this trace.
    pub trace_id: Option<String>,
    /// Records at or after (Unix ns).
    pub since_unix_nano: Option<i64>,
    /// Records before (Unix ns): the next page starts at the last record's time.
    pub until_unix_nano: Option<i64>,
    /// The most records (capped at [`MAX_LIMIT`]), newest first.
    pub limit: i64,
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

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct Pruned {
    /// Spans removed.
    #[ts(type = "number")]
    pub spans: i64,
    /// Log records removed.
    #[ts(type = "number")]
    pub logs: i64,
    /// Metric data points removed.
    #[ts(type = "number")]
    pub metric_points: i64,
}

impl Pruned {
    fn add(&mut self, table: Table, removed: i64) {
        match table {
            Table::Spans => self.spans += removed,
            Table::Logs => self.logs += removed,
            Table::MetricPoints => self.metric_points += removed,
        }
    }
}

/// The tables retention prunes, each by its own time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Spans,
    Logs,
    MetricPoints,
}

impl Table {
    const ALL: [Table; 3] = [Table::Spans, Table::Logs, Table::MetricPoints];

    fn name(self) -> &'static str {
        match self {
            Table::Spans => "telemetry_spans",
            Table::Logs => "telemetry_logs",
            Table::MetricPoints => "telemetry_metric_points",
        }
    }

    fn time(self) -> &'static str {
        match self {
            Table::Spans => "start_unix_nano",
            Table::Logs | Table::MetricPoints => "time_unix_nano",
        }
    }
}

/// How much telemetry to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Retention {
    /// Keep this many days.
    pub max_age_days: i64,
    /// Keep at most this many spans (the oldest go first).
    pub max_spans: i64,
    /// Keep at most this many log records (the oldest go first).
    pub max_logs: i64,
    /// Keep at most this many bytes of spans, logs and metric points
    /// together (the oldest records go first, whatever their kind).
    pub max_bytes: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age_days: 7,
            max_spans: 5_000_000,
            max_logs: 5_000_000,
            max_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// The spans and logs of the store.
#[derive(Clone)]
pub struct Telemetry {
    store: Store,
}

impl Telemetry {
    /// The telemetry kept in `store`.
    pub fn new(store: Store) -> Telemetry {
        Telemetry { store }
    }

    /// Stores spans in one transaction; a span already stored (same trace
    /// and span id, e.g. a retried export) is replaced. Rows go in
    /// multi-row statements (a few hundred spans each).
    pub async fn insert_spans(&self, spans: &[Span]) -> Result<(), TelemetryError> {
        // One transaction holds every effect, so waiting out other writers
        // and trying again is safe.
        self.store.retrying(|| self.insert_spans_once(spans)).await
    }

    async fn insert_spans_once(&self, spans: &[Span]) -> Result<(), TelemetryError> {
        const COLUMNS: &str = "trace_id, span_id, parent_span_id, service, name, kind, start_unix_nano, \
             end_unix_nano, duration_nano, status_code, status_message, trace_state, flags, attributes, resource, \
             scope, events, links, size_bytes, received_at_unix_ms";
        const WIDTH: usize = 20;
        let now = now_unix_ms();
        // One statement may not touch a row twice: a span sent twice in the
        // same batch keeps its last copy.
        let mut latest = std::collections::HashMap::with_capacity(spans.len());
        for (index, span) in spans.iter().enumerate() {
            latest.insert((span.trace_id.as_str(), span.span_id.as_str()), index);
        }
        let mut unique: Vec<&Span> = Vec::with_capacity(latest.len());
        for (index, span) in spans.iter().enumerate() {
            if latest.get(&(span.trace_id.as_str(), span.span_id.as_str())) == Some(&index) {
                unique.push(span);
            }
        }
        const UPSERT: &str = "ON CONFLICT (trace_id, span_id) DO UPDATE SET \
             parent_span_id = excluded.parent_span_id, service = excluded.service, name = excluded.name, \
             kind = excluded.kind, start_unix_nano = excluded.start_unix_nano, \
             end_unix_nano = excluded.end_unix_nano, duration_nano = excluded.duration_nano, \
             status_code = excluded.status_code, status_message = excluded.status_message, \
             trace_state = excluded.trace_state, flags = excluded.flags, attributes = excluded.attributes, \
             resource = excluded.resource, scope = excluded.scope, events = excluded.events, \
             links = excluded.links, size_bytes = excluded.size_bytes, \
             received_at_unix_ms = excluded.received_at_unix_ms";
        let mut transaction = self.store.begin_write().await?;
        if self.store.kind() == StoreKind::Sqlite {
            // Checkpoint the write-ahead log every ~40 MB instead of every
            // 4 MB: the writer pays each checkpoint's copy and sync in line.
            sqlx::query("PRAGMA wal_autocheckpoint = 10000").execute(&mut *transaction).await?;
            // Spans arrive in random trace-id order: their key's index is
            // written all over, so keep more of it in memory than the 2 MB default.
            sqlx::query("PRAGMA cache_size = -65536").execute(&mut *transaction).await?;
        }
        // (Binding one JSON array of rows that SQLite unpacks with json_each
        // was tried: slower, as every `->>` walks the row again.)
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO telemetry_spans ({COLUMNS}) VALUES {} {UPSERT}",
                placeholders(self.store.kind(), chunk.len(), WIDTH)
            );
            let mut query = sqlx::query(&sql);
            for span in chunk {
                query = query
                    .bind(span.trace_id.as_str())
                    .bind(span.span_id.as_str())
                    .bind(span.parent_span_id.as_str())
                    .bind(span.service.as_str())
                    .bind(span.name.as_str())
                    .bind(span.kind)
                    .bind(span.start_unix_nano)
                    .bind(span.end_unix_nano)
                    .bind(span.duration_nano())
                    .bind(span.status_code)
                    .bind(span.status_message.as_str())
                    .bind(span.trace_state.as_str())
                    .bind(span.flags)
                    .bind(span.attributes.as_str())
                    .bind(span.resource.as_str())
                    .bind(span.scope.as_str())
                    .bind(span.events.as_str())
                    .bind(span.links.as_str())
                    .bind(span_size(span))
                    .bind(now);
            }
            query.execute(&mut *transaction).await?;
        }
        let mut traces: Vec<&str> = unique.iter().map(|span| span.trace_id.as_str()).collect();
        traces.sort_unstable();
        traces.dedup();
        self.summarize_traces(&mut transaction, &unique, &traces).await?;
        // The batch's operations, each with the newest time it was seen.
        let mut operations: std::collections::HashMap<(&str, &str), i64> = std::collections::HashMap::new();
        for span in &unique {
            let seen =
                operations.entry((span.service.as_str(), span.name.as_str())).or_insert(span.start_unix_nano);
            *seen = (*seen).max(span.start_unix_nano);
        }
        let operations: Vec<((&str, &str), i64)> = operations.into_iter().collect();
        for chunk in operations.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO telemetry_operations (service, name, last_seen_unix_nano) VALUES {} \
                 ON CONFLICT (service, name) DO UPDATE SET last_seen_unix_nano = \
                 CASE WHEN excluded.last_seen_unix_nano > telemetry_operations.last_seen_unix_nano \
                 THEN excluded.last_seen_unix_nano ELSE telemetry_operations.last_seen_unix_nano END",
                placeholders(self.store.kind(), chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for ((service, name), seen) in chunk {
                query = query.bind(*service).bind(*name).bind(*seen);
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Keeps the summary rows of the traces a batch of spans touched. A
    /// trace seen for the first time has all its spans in this batch, so its
    /// summary is computed here; one seen before is recomputed from the
    /// store (its other spans are there). Most batches carry whole traces,
    /// which makes this the cheap path.
    async fn summarize_traces(
        &self,
        connection: &mut sqlx::AnyConnection,
        spans: &[&Span],
        traces: &[&str],
    ) -> Result<(), TelemetryError> {
        let kind = self.store.kind();
        let mut known = std::collections::HashSet::new();
        for chunk in traces.chunks(500) {
            let sql = format!(
                "SELECT trace_id FROM telemetry_traces WHERE trace_id IN {}",
                placeholders(kind, 1, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for trace in chunk {
                query = query.bind(*trace);
            }
            known.extend(query.fetch_all(&mut *connection).await?);
        }
        let seen_before: Vec<&str> = traces.iter().copied().filter(|trace| known.contains(*trace)).collect();
        refresh_trace_summaries(connection, kind, &seen_before, false).await?;

        // New traces: (start, end, spans, errors, root's sort key, root service, root operation).
        type Summary<'a> = (i64, i64, i64, i64, (bool, i64), &'a str, &'a str);
        let mut new: std::collections::HashMap<&str, Summary> = std::collections::HashMap::new();
        for span in spans.iter().filter(|span| !known.contains(&span.trace_id)) {
            // The root: the span without a parent, else the earliest.
            let root_key = (!span.parent_span_id.is_empty(), span.start_unix_nano);
            let entry = new.entry(span.trace_id.as_str()).or_insert((
                span.start_unix_nano,
                span.end_unix_nano,
                0,
                0,
                root_key,
                span.service.as_str(),
                span.name.as_str(),
            ));
            entry.0 = entry.0.min(span.start_unix_nano);
            entry.1 = entry.1.max(span.end_unix_nano);
            entry.2 += 1;
            entry.3 += i64::from(span.status_code == 2);
            if root_key < entry.4 {
                entry.4 = root_key;
                entry.5 = span.service.as_str();
                entry.6 = span.name.as_str();
            }
        }
        let rows: Vec<(&str, Summary)> = new.into_iter().collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO telemetry_traces (trace_id, start_unix_nano, end_unix_nano, duration_nano, span_count, \
                 error_count, root_service, root_operation) VALUES {}",
                placeholders(kind, chunk.len(), 8)
            );
            let mut query = sqlx::query(&sql);
            for (trace, (start, end, count, errors, _, service, operation)) in chunk {
                query = query
                    .bind(*trace)
                    .bind(*start)
                    .bind(*end)
                    .bind(end - start)
                    .bind(*count)
                    .bind(*errors)
                    .bind(*service)
                    .bind(*operation);
            }
            query.execute(&mut *connection).await?;
        }
        Ok(())
    }

    /// Stores log records in one transaction.
    pub async fn insert_logs(&self, logs: &[LogRecord]) -> Result<(), TelemetryError> {
        // One transaction holds every effect, so waiting out other writers
        // and trying again is safe.
        self.store.retrying(|| self.insert_logs_once(logs)).await
    }

    async fn insert_logs_once(&self, logs: &[LogRecord]) -> Result<(), TelemetryError> {
        const COLUMNS: &str = "time_unix_nano, observed_unix_nano, severity_number, severity_text, body, \
             service, trace_id, span_id, attributes, resource, scope, size_bytes, received_at_unix_ms";
        const WIDTH: usize = 13;
        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        for chunk in logs.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO telemetry_logs ({COLUMNS}) VALUES {}",
                placeholders(self.store.kind(), chunk.len(), WIDTH)
            );
            let mut query = sqlx::query(&sql);
            for log in chunk {
                let (attributes, resource, scope) =
                    (log.attributes.to_string(), log.resource.to_string(), log.scope.to_string());
                let size = log.severity_text.len()
                    + log.body.len()
                    + log.service.len()
                    + log.trace_id.len()
                    + log.span_id.len()
                    + attributes.len()
                    + resource.len()
                    + scope.len()
                    + FIXED_ROW_BYTES;
                query = query
                    .bind(log.time_unix_nano)
                    .bind(log.observed_unix_nano)
                    .bind(log.severity_number)
                    .bind(log.severity_text.clone())
                    .bind(log.body.clone())
                    .bind(log.service.clone())
                    .bind(log.trace_id.clone())
                    .bind(log.span_id.clone())
                    .bind(attributes)
                    .bind(resource)
                    .bind(scope)
                    .bind(size as i64)
                    .bind(now);
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Stores metric data points in one transaction.
    pub async fn insert_metric_points(&self, points: &[MetricPoint]) -> Result<(), TelemetryError> {
        // One transaction holds every effect, so waiting out other writers
        // and trying again is safe.
        self.store.retrying(|| self.insert_metric_points_once(points)).await
    }

    async fn insert_metric_points_once(&self, points: &[MetricPoint]) -> Result<(), TelemetryError> {
        const COLUMNS: &str =
            "service, name, description, unit, kind, start_unix_nano, time_unix_nano, value, \
             data, attributes, resource, scope, size_bytes, received_at_unix_ms";
        const WIDTH: usize = 14;
        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        for chunk in points.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO telemetry_metric_points ({COLUMNS}) VALUES {}",
                placeholders(self.store.kind(), chunk.len(), WIDTH)
            );
            let mut query = sqlx::query(&sql);
            for point in chunk {
                let (data, attributes) = (point.data.to_string(), point.attributes.to_string());
                let (resource, scope) = (point.resource.to_string(), point.scope.to_string());
                let size = point.service.len()
                    + point.name.len()
                    + point.description.len()
                    + point.unit.len()
                    + point.kind.len()
                    + data.len()
                    + attributes.len()
                    + resource.len()
                    + scope.len()
                    + FIXED_ROW_BYTES;
                query = query
                    .bind(point.service.clone())
                    .bind(point.name.clone())
                    .bind(point.description.clone())
                    .bind(point.unit.clone())
                    .bind(point.kind.clone())
                    .bind(point.start_unix_nano)
                    .bind(point.time_unix_nano)
                    .bind(point.value)
                    .bind(data)
                    .bind(attributes)
                    .bind(resource)
                    .bind(scope)
                    .bind(size as i64)
                    .bind(now);
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

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

    /// Metric data points, newest first: of one metric and/or service when given.
    pub async fn metric_points(
        &self,
        name: Option<&str>,
        service: Option<&str>,
        since_unix_nano: i64,
        limit: i64,
    ) -> Result<Vec<MetricPoint>, TelemetryError> {
        let limit = if limit <= 0 { 100 } else { limit.min(MAX_LIMIT) };
        let rows = sqlx::query(
            "SELECT service, name, description, unit, kind, start_unix_nano, time_unix_nano, value, data, \
             attributes, resource, scope FROM telemetry_metric_points \
             WHERE ($1 IS NULL OR name = $1) AND ($2 IS NULL OR service = $2) AND time_unix_nano >= $3 \
             ORDER BY time_unix_nano DESC, id DESC LIMIT $4",
        )
        .bind(name)
        .bind(service)
        .bind(since_unix_nano)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(metric_point_of_row).collect()
    }

    /// Metric series received since `since_unix_nano`: name, kind, unit,
    /// service, how many points and the latest time (what the metrics pages
    /// start from).
    pub async fn metric_series(&self, since_unix_nano: i64) -> Result<Vec<MetricSeries>, TelemetryError> {
        let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, kind, unit, service, COUNT(*), MAX(time_unix_nano) FROM telemetry_metric_points \
             WHERE time_unix_nano >= $1 GROUP BY name, kind, unit, service ORDER BY name, service LIMIT 1000",
        )
        .bind(since_unix_nano)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, kind, unit, service, points, latest_unix_nano)| MetricSeries {
                name,
                kind,
                unit,
                service,
                points,
                latest_unix_nano,
            })
            .collect())
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

    /// Removes what `retention` no longer keeps: everything older than its
    /// age, then the oldest beyond its counts.
    pub async fn prune(&self, retention: &Retention, now_unix_nano: i64) -> Result<Pruned, TelemetryError> {
        let cutoff = now_unix_nano - retention.max_age_days.max(0) * 86_400 * 1_000_000_000;
        let mut pruned = Pruned::default();
        for table in Table::ALL {
            let removed = self.delete_through(table, cutoff.saturating_sub(1)).await?;
            pruned.add(table, removed);
        }
        // By count: the time of the newest record past the limit marks what goes.
        for (table, limit) in [(Table::Spans, retention.max_spans), (Table::Logs, retention.max_logs)] {
            let threshold: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT {time} FROM {name} ORDER BY {time} DESC LIMIT 1 OFFSET $1",
                time = table.time(),
                name = table.name()
            ))
            .bind(limit.max(0))
            .fetch_optional(self.store.pool())
            .await?;
            if let Some(threshold) = threshold {
                let removed = self.delete_through(table, threshold).await?;
                pruned.add(table, removed);
            }
        }
        self.prune_to_size(retention.max_bytes, &mut pruned).await?;
        if pruned.spans > 0 {
            self.refresh_pruned_traces().await?;
        }
        Ok(pruned)
    }

    /// Spans go oldest first, so the traces that lost spans are those whose
    /// summary starts before the oldest span left: their summaries are
    /// recomputed (or removed, when nothing is left).
    async fn refresh_pruned_traces(&self) -> Result<(), TelemetryError> {
        let oldest_left: Option<i64> = sqlx::query_scalar("SELECT MIN(start_unix_nano) FROM telemetry_spans")
            .fetch_one(self.store.pool())
            .await?;
        let Some(oldest_left) = oldest_left else {
            sqlx::query("DELETE FROM telemetry_traces").execute(self.store.pool()).await?;
            sqlx::query("DELETE FROM telemetry_operations").execute(self.store.pool()).await?;
            return Ok(());
        };
        sqlx::query("DELETE FROM telemetry_operations WHERE last_seen_unix_nano < $1")
            .bind(oldest_left)
            .execute(self.store.pool())
            .await?;
        let touched: Vec<String> =
            sqlx::query_scalar("SELECT trace_id FROM telemetry_traces WHERE start_unix_nano < $1")
                .bind(oldest_left)
                .fetch_all(self.store.pool())
                .await?;
        // A few hundred traces a transaction, so the write lock is held briefly.
        let ids: Vec<&str> = touched.iter().map(String::as_str).collect();
        for chunk in ids.chunks(PRUNE_TRACES_PER_TRANSACTION) {
            let mut transaction = self.store.begin_write().await?;
            refresh_trace_summaries(&mut transaction, self.store.kind(), chunk, true).await?;
            transaction.commit().await?;
        }
        Ok(())
    }

    /// Deletes the records of `table` up to and including time `last`, in
    /// statements of at most [`PRUNE_ROWS_PER_STATEMENT`] rows each: one huge
    /// delete would hold the store's write lock for seconds, and every other
    /// process (a CLI setting a secret) would wait that long.
    async fn delete_through(&self, table: Table, last: i64) -> Result<i64, TelemetryError> {
        let mut removed = 0;
        loop {
            // The time of the oldest records that fill one statement, if
            // more than that are due; otherwise everything due goes at once.
            let step: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT {time} FROM {name} WHERE {time} <= $1 ORDER BY {time} LIMIT 1 OFFSET $2",
                time = table.time(),
                name = table.name()
            ))
            .bind(last)
            .bind(PRUNE_ROWS_PER_STATEMENT - 1)
            .fetch_optional(self.store.pool())
            .await?;
            let through = step.unwrap_or(last);
            removed += sqlx::query(&format!("DELETE FROM {} WHERE {} <= $1", table.name(), table.time()))
                .bind(through)
                .execute(self.store.pool())
                .await?
                .rows_affected() as i64;
            if through >= last {
                return Ok(removed);
            }
        }
    }

    /// Bytes kept per kind of record (as counted when they were stored).
    pub async fn stored_bytes(&self) -> Result<i64, TelemetryError> {
        let mut total = 0;
        for table in Table::ALL {
            let bytes: Option<i64> =
                sqlx::query_scalar(&format!("SELECT CAST(SUM(size_bytes) AS BIGINT) FROM {}", table.name()))
                    .fetch_one(self.store.pool())
                    .await?;
            total += bytes.unwrap_or(0);
        }
        Ok(total)
    }

    /// Removes the oldest records, whichever kind they are, until what is
    /// kept takes at most `max_bytes`.
    async fn prune_to_size(&self, max_bytes: i64, pruned: &mut Pruned) -> Result<(), TelemetryError> {
        // Each round removes at most one chunk; the bound keeps a store
        // that keeps growing from holding the job forever.
        for _ in 0..1000 {
            let excess = self.stored_bytes().await? - max_bytes.max(0);
            if excess <= 0 {
                return Ok(());
            }
            // The oldest records of every kind, merged by time: everything up
            // to the time where enough is freed goes, whatever its kind.
            let mut candidates: Vec<(i64, i64)> = Vec::new();
            for table in Table::ALL {
                let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                    "SELECT {time}, size_bytes FROM {name} ORDER BY {time} LIMIT 5000",
                    time = table.time(),
                    name = table.name()
                ))
                .fetch_all(self.store.pool())
                .await?;
                candidates.extend(rows);
            }
            candidates.sort_unstable();
            let mut freed = 0;
            let mut threshold = None;
            for (time, size) in candidates {
                freed += size.max(1);
                threshold = Some(time);
                if freed >= excess {
                    break;
                }
            }
            let Some(threshold) = threshold else { return Ok(()) };
            for table in Table::ALL {
                let removed =
                    sqlx::query(&format!("DELETE FROM {} WHERE {} <= $1", table.name(), table.time()))
                        .bind(threshold)
                        .execute(self.store.pool())
                        .await?
                        .rows_affected() as i64;
                pruned.add(table, removed);
            }
        }
        Ok(())
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

    /// Log records matching `query`, newest first.
    pub async fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>, TelemetryError> {
        let limit = if query.limit <= 0 { 100 } else { query.limit.min(MAX_LIMIT) };
        let pattern = query.text.as_ref().map(|text| format!("%{}%", like_escape(&text.to_lowercase())));
        let rows = sqlx::query(
            "SELECT time_unix_nano, observed_unix_nano, severity_number, severity_text, body, service, trace_id, \
             span_id, attributes, resource, scope FROM telemetry_logs \
             WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR severity_number >= $2) \
             AND ($3 IS NULL OR LOWER(body) LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR trace_id = $4) \
             AND ($5 IS NULL OR time_unix_nano >= $5) AND ($7 IS NULL OR time_unix_nano < $7) \
             ORDER BY time_unix_nano DESC, id DESC LIMIT $6",
        )
        .bind(query.service.as_deref())
        .bind(query.min_severity)
        .bind(pattern)
        .bind(query.trace_id.as_ref().map(|id| id.trim().to_ascii_lowercase()))
        .bind(query.since_unix_nano)
        .bind(limit)
        .bind(query.until_unix_nano)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(log_of_row).collect()
    }

    /// Log records of a trace, by time.
    pub async fn trace_logs(&self, trace_id: &str) -> Result<Vec<LogRecord>, TelemetryError> {
        let rows = sqlx::query(
            "SELECT time_unix_nano, observed_unix_nano, severity_number, severity_text, body, service, trace_id, \
             span_id, attributes, resource, scope FROM telemetry_logs WHERE trace_id = $1 \
             ORDER BY time_unix_nano, id LIMIT 10000",
        )
        .bind(trace_id.trim().to_ascii_lowercase())
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(log_of_row).collect()
    }
}

/// A JSON column (attributes, resource, scope, events, links) as a value.
/// The bytes a span takes in the store, as retention counts them.
fn span_size(span: &Span) -> i64 {
    (span.trace_id.len()
        + span.span_id.len()
        + span.parent_span_id.len()
        + span.service.len()
        + span.name.len()
        + span.status_message.len()
        + span.trace_state.len()
        + span.attributes.as_str().len()
        + span.resource.as_str().len()
        + span.scope.as_str().len()
        + span.events.as_str().len()
        + span.links.as_str().len()
        + FIXED_ROW_BYTES) as i64
}

/// Recomputes the summary rows of `traces` from their spans; after pruning
/// (`pruned`), a trace with no spans left loses its row.
async fn refresh_trace_summaries(
    connection: &mut sqlx::AnyConnection,
    kind: StoreKind,
    traces: &[&str],
    pruned: bool,
) -> Result<(), TelemetryError> {
    for chunk in traces.chunks(500) {
        let list = placeholders(kind, 1, chunk.len());
        let sql = format!(
            "INSERT INTO telemetry_traces (trace_id, start_unix_nano, end_unix_nano, duration_nano, span_count, \
             error_count, root_service, root_operation) \
             SELECT trace_id, MIN(start_unix_nano), MAX(end_unix_nano), MAX(end_unix_nano) - MIN(start_unix_nano), \
             COUNT(*), SUM(CASE WHEN status_code = 2 THEN 1 ELSE 0 END), MIN(root_service), MIN(root_operation) \
             FROM (SELECT trace_id, start_unix_nano, end_unix_nano, status_code, \
               FIRST_VALUE(service) OVER root AS root_service, FIRST_VALUE(name) OVER root AS root_operation \
               FROM telemetry_spans WHERE trace_id IN {list} \
               WINDOW root AS (PARTITION BY trace_id ORDER BY CASE WHEN parent_span_id = '' THEN 0 ELSE 1 END, \
               start_unix_nano ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) spans \
             GROUP BY trace_id \
             ON CONFLICT (trace_id) DO UPDATE SET start_unix_nano = excluded.start_unix_nano, \
             end_unix_nano = excluded.end_unix_nano, duration_nano = excluded.duration_nano, \
             span_count = excluded.span_count, error_count = excluded.error_count, \
             root_service = excluded.root_service, root_operation = excluded.root_operation"
        );
        let mut query = sqlx::query(&sql);
        for trace in chunk {
            query = query.bind(trace.to_string());
        }
        query.execute(&mut *connection).await?;
        if !pruned {
            continue;
        }
        let sql = format!(
            "DELETE FROM telemetry_traces WHERE trace_id IN {list} AND NOT EXISTS \
             (SELECT 1 FROM telemetry_spans s WHERE s.trace_id = telemetry_traces.trace_id)"
        );
        let mut query = sqlx::query(&sql);
        for trace in chunk {
            query = query.bind(trace.to_string());
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

fn json_column(row: &sqlx::any::AnyRow, index: usize) -> Result<serde_json::Value, TelemetryError> {
    use sqlx::Row;
    let text: String = row.try_get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
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

fn log_of_row(row: &sqlx::any::AnyRow) -> Result<LogRecord, TelemetryError> {
    use sqlx::Row;
    let json = |index: usize| json_column(row, index);
    Ok(LogRecord {
        time_unix_nano: row.try_get(0)?,
        observed_unix_nano: row.try_get(1)?,
        severity_number: row.try_get(2)?,
        severity_text: row.try_get(3)?,
        body: row.try_get(4)?,
        service: row.try_get(5)?,
        trace_id: row.try_get(6)?,
        span_id: row.try_get(7)?,
        attributes: json(8)?,
        resource: json(9)?,
        scope: json(10)?,
    })
}

fn metric_point_of_row(row: &sqlx::any::AnyRow) -> Result<MetricPoint, TelemetryError> {
    use sqlx::Row;
    let json = |index: usize| json_column(row, index);
    Ok(MetricPoint {
        service: row.try_get(0)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        unit: row.try_get(3)?,
        kind: row.try_get(4)?,
        start_unix_nano: row.try_get(5)?,
        time_unix_nano: row.try_get(6)?,
        value: row.try_get(7)?,
        data: json(8)?,
        attributes: json(9)?,
        resource: json(10)?,
        scope: json(11)?,
    })
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
