//! Writing: spans, log records and metric points in batches, one
//! transaction per batch, a re-sent span replacing the earlier copy, and
//! the per-trace summaries kept beside the spans.

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::StoreKind;

use super::{placeholders, Telemetry, FIXED_ROW_BYTES, ROWS_PER_STATEMENT};
use crate::model::{LogRecord, MetricPoint, Span};
use crate::TelemetryError;

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
pub(super) async fn refresh_trace_summaries(
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

impl Telemetry {
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
}
