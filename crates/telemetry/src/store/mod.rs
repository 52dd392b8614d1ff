//! Spans, log records and metric points in the store: written in batches
//! (`write`), read back as trace summaries and whole traces (`traces`), log
//! lines (`logs`) and metric series (`metrics`), and pruned by age and size
//! (`retention`). This file holds what they share: the `Telemetry` handle
//! and the helpers for multi-row statements.

mod logs;
mod metrics;
mod retention;
mod traces;
mod write;

pub use logs::LogQuery;
pub use metrics::MetricSeries;
pub use retention::{Pruned, Retention};
pub use traces::{percentile, ServiceEdge, ServiceOperations, SlowTrace, TraceQuery, TraceSummary};

use opsdeck_core::{Store, StoreKind};
use sqlx::migrate::Migrator;

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

/// The most rows one query returns.
pub const MAX_LIMIT: i64 = 1000;

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
}

fn json_column(row: &sqlx::any::AnyRow, index: usize) -> Result<serde_json::Value, TelemetryError> {
    use sqlx::Row;
    let text: String = row.try_get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}
