//! Retention: pruning by age and by the store's size, a trace at a time,
//! in bounded transactions so writers are never held up for long.

use serde::Serialize;
use ts_rs::TS;

use super::write::refresh_trace_summaries;
use super::Telemetry;
use crate::TelemetryError;

/// Rows one pruning statement deletes at most (see `Telemetry::delete_through`).
const PRUNE_ROWS_PER_STATEMENT: i64 = 5_000;

/// Trace summaries one pruning transaction recomputes at most.
const PRUNE_TRACES_PER_TRANSACTION: usize = 500;

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

impl Telemetry {
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
}
