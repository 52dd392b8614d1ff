//! Reading log records: searches, and the logs of one trace.

use super::traces::like_escape;
use super::{json_column, Telemetry, MAX_LIMIT};
use crate::model::LogRecord;
use crate::TelemetryError;

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

impl Telemetry {
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
