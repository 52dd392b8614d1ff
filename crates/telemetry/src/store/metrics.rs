//! Reading metric points and the series they form.

use serde::Serialize;
use ts_rs::TS;

use super::{json_column, Telemetry, MAX_LIMIT};
use crate::model::MetricPoint;
use crate::TelemetryError;

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

impl Telemetry {
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
}
