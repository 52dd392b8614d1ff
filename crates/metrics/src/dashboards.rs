//! Dashboards: panels of PromQL queries on a 12-column grid, with variables
//! (`$service`) taken from label values, kept in the store with every saved
//! version (history, and rollback by saving an old version again).
//!
//! Two dashboards are generated rather than stored, so they are there with
//! no setup and follow what OpsDeck learns: [`red_dashboard`] (request rate,
//! errors and duration of every traced service, from the span metrics) and
//! [`opsdeck_dashboard`] (OpsDeck's own scrapes and alerts). Saving one under
//! another name makes an editable copy.

use opsdeck_core::audit::AuditScope;
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::promql::Query;
use crate::store::MetricsError;

opsdeck_core::word_enum! {
    /// How a panel shows its query.
    "panel kind" pub enum PanelKind {
        /// Lines over time (uPlot in the app).
        TimeSeries = "timeseries",
        /// The latest value, large, with a sparkline.
        Stat = "stat",
        /// The latest value on a dial between `min` and `max`.
        Gauge = "gauge",
        /// The latest value of each series as bars.
        Bar = "bar",
        /// The latest value of each series in a table.
        Table = "table",
        /// A histogram's buckets over time (`…_bucket` series by `le`).
        Heatmap = "heatmap",
    }
}

/// A variable: a `$name` in panel queries, chosen from a label's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Its name, used as `$name` in queries.
    pub name: String,
    /// The label whose values it offers (`service_name`).
    pub label: String,
    /// Only values of series matching this selector (`traces_span_metrics_calls_total`).
    #[serde(default)]
    pub selector: String,
}

/// A panel on the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Its title.
    pub title: String,
    /// How it shows its query.
    pub kind: PanelKind,
    /// The PromQL query (`$name` for variables).
    pub expr: String,
    /// The unit of its values (`s`, `bytes`, `percentunit`, `reqps`, or any word).
    #[serde(default)]
    pub unit: String,
    /// Column (0–11).
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Width in columns (1–12).
    pub w: u32,
    /// Height in rows (1–12).
    pub h: u32,
    /// A gauge's lowest value (default 0).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub min: Option<f64>,
    /// A gauge's highest value (default 1, or 100 for percent).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub max: Option<f64>,
    /// A remote Prometheus data source that answers the query (default this deck).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub source: Option<String>,
}

/// A dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// Its name (in its route: `#/metrics/NAME`): letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Its variables.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// The time range it opens on, in minutes (default 60).
    #[serde(default = "default_range")]
    #[ts(type = "number")]
    pub range_minutes: i64,
    /// Its panels.
    pub panels: Vec<Panel>,
}

fn default_range() -> i64 {
    60
}

impl Dashboard {
    /// What is wrong with it, if anything: its name, each panel's place
    /// and query (parsed with each variable standing for a value).
    pub fn check(&self) -> Result<(), String> {
        crate::check_name("dashboard", &self.name, "-_.")?;
        if generated(&self.name).is_some() {
            return Err(format!(
                "`{}` is a generated dashboard; save your copy under another name",
                self.name
            ));
        }
        if self.title.trim().is_empty() {
            return Err("a dashboard needs a title".into());
        }
        if !(1..=525_600).contains(&self.range_minutes) {
            return Err(format!(
                "a range of {} minutes is not between 1 minute and a year",
                self.range_minutes
            ));
        }
        for variable in &self.variables {
            let valid = variable.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && variable.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid || variable.label.is_empty() {
                return Err(format!(
                    "variable `{}` needs a name of letters, digits and _ and a label to take values from",
                    variable.name
                ));
            }
            if !variable.selector.trim().is_empty() {
                crate::parse_selector(&variable.selector)
                    .map_err(|error| format!("variable `{}`: {error}", variable.name))?;
            }
        }
        if self.panels.len() > 50 {
            return Err(format!("{} panels is more than a dashboard can show well (50)", self.panels.len()));
        }
        let stand_ins: Vec<(String, String)> =
            self.variables.iter().map(|variable| (variable.name.clone(), "value".to_owned())).collect();
        for (index, panel) in self.panels.iter().enumerate() {
            let which = if panel.title.is_empty() {
                format!("panel {}", index + 1)
            } else {
                format!("panel `{}`", panel.title)
            };
            if !(1..=12).contains(&panel.w) || !(1..=12).contains(&panel.h) || panel.x + panel.w > 12 {
                return Err(format!(
                    "{which}: a panel sits within 12 columns (x {} + w {} ≤ 12) and is 1 to 12 rows high",
                    panel.x, panel.w
                ));
            }
            // A remote source's query is the remote server's to judge.
            if panel.source.as_deref().is_none_or(str::is_empty) {
                Query::parse(&expand(&panel.expr, &stand_ins))
                    .map_err(|error| format!("{which}: {error}"))?;
            }
        }
        Ok(())
    }
}

/// `expr` with each `$name` (or `${name}`) replaced by its value; longer
/// names first, so `$service_name` is not read as `$service` + `_name`.
pub fn expand(expr: &str, values: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = values.iter().collect();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut text = expr.to_owned();
    for (name, value) in sorted {
        // A value goes inside quotes in a label matcher: escape what would end them.
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        text = text.replace(&format!("${{{name}}}"), &escaped).replace(&format!("${name}"), &escaped);
    }
    text
}

/// The generated dashboards, in the order they are listed.
pub fn generated_dashboards() -> Vec<Dashboard> {
    vec![red_dashboard(), opsdeck_dashboard()]
}

/// The generated dashboard of `name`, if it is one.
pub fn generated(name: &str) -> Option<Dashboard> {
    generated_dashboards().into_iter().find(|dashboard| dashboard.name == name)
}

fn panel(title: &str, kind: PanelKind, expr: &str, unit: &str, place: (u32, u32, u32, u32)) -> Panel {
    Panel {
        title: title.to_owned(),
        kind,
        expr: expr.to_owned(),
        unit: unit.to_owned(),
        x: place.0,
        y: place.1,
        w: place.2,
        h: place.3,
        min: None,
        max: None,
        source: None,
    }
}

/// Request rate, errors and duration of a traced service (`$service`), from
/// the metrics OpsDeck derives from spans.
pub fn red_dashboard() -> Dashboard {
    let server = r#"service_name="$service", span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER""#;
    let calls = format!("traces_span_metrics_calls_total{{{server}}}");
    let errors = format!("traces_span_metrics_calls_total{{{server}, status_code=\"STATUS_CODE_ERROR\"}}");
    let buckets = format!("traces_span_metrics_duration_seconds_bucket{{{server}}}");
    let mut error_ratio = panel(
        "Errors",
        PanelKind::Gauge,
        &format!("(sum(rate({errors}[5m])) or vector(0)) / sum(rate({calls}[5m]))"),
        "percentunit",
        (4, 0, 4, 3),
    );
    error_ratio.max = Some(1.0);
    Dashboard {
        name: "red".to_owned(),
        title: "Service RED".to_owned(),
        description: "Rate, errors and duration of a traced service's requests, derived from its spans.".to_owned(),
        variables: vec![Variable {
            name: "service".to_owned(),
            label: "service_name".to_owned(),
            selector: "traces_span_metrics_calls_total".to_owned(),
        }],
        range_minutes: 60,
        panels: vec![
            panel("Requests", PanelKind::Stat, &format!("sum(rate({calls}[5m]))"), "reqps", (0, 0, 4, 3)),
            error_ratio,
            panel(
                "p95 duration",
                PanelKind::Stat,
                &format!("histogram_quantile(0.95, sum by (le) (rate({buckets}[5m])))"),
                "s",
                (8, 0, 4, 3),
            ),
            panel(
                "Requests by operation",
                PanelKind::TimeSeries,
                &format!("sum by (span_name) (rate({calls}[5m]))"),
                "reqps",
                (0, 3, 6, 5),
            ),
            panel(
                "Error ratio by operation",
                PanelKind::TimeSeries,
                &format!("sum by (span_name) (rate({errors}[5m])) / sum by (span_name) (rate({calls}[5m]))"),
                "percentunit",
                (6, 3, 6, 5),
            ),
            panel(
                "Duration p50 / p95 / p99",
                PanelKind::TimeSeries,
                &format!(
                    "label_replace(histogram_quantile(0.5, sum by (le) (rate({buckets}[5m]))), \"quantile\", \"p50\", \"\", \"\") \
                     or label_replace(histogram_quantile(0.95, sum by (le) (rate({buckets}[5m]))), \"quantile\", \"p95\", \"\", \"\") \
                     or label_replace(histogram_quantile(0.99, sum by (le) (rate({buckets}[5m]))), \"quantile\", \"p99\", \"\", \"\")"
                ),
                "s",
                (0, 8, 6, 5),
            ),
            panel(
                "Duration distribution",
                PanelKind::Heatmap,
                &format!("sum by (le) (rate({buckets}[5m]))"),
                "s",
                (6, 8, 6, 5),
            ),
            panel(
                "Slowest operations (p95)",
                PanelKind::Bar,
                &format!("topk(10, histogram_quantile(0.95, sum by (le, span_name) (rate({buckets}[5m]))))"),
                "s",
                (0, 13, 12, 4),
            ),
        ],
    }
}

/// OpsDeck itself: scrape targets' health, what alerts fire, spans taken in.
pub fn opsdeck_dashboard() -> Dashboard {
    Dashboard {
        name: "opsdeck".to_owned(),
        title: "OpsDeck".to_owned(),
        description: "This deck's own work: what it takes in, how big its store is, what waits, and the \
                      health of its scrapes and alerts."
            .to_owned(),
        variables: Vec::new(),
        range_minutes: 60,
        panels: vec![
            panel(
                "Alerts firing",
                PanelKind::Stat,
                r#"count(ALERTS{alertstate="firing"}) or vector(0)"#,
                "",
                (0, 0, 2, 3),
            ),
            panel("Targets up", PanelKind::Stat, "sum(up) or vector(0)", "", (2, 0, 2, 3)),
            panel("Targets down", PanelKind::Stat, "count(up == 0) or vector(0)", "", (4, 0, 2, 3)),
            panel("Store size", PanelKind::Stat, "max(opsdeck_store_bytes)", "bytes", (6, 0, 2, 3)),
            panel("Series", PanelKind::Stat, "max(opsdeck_series)", "", (8, 0, 2, 3)),
            panel(
                "Spans taken in",
                PanelKind::Stat,
                "sum(rate(traces_span_metrics_calls_total[5m])) or vector(0)",
                "reqps",
                (10, 0, 2, 3),
            ),
            panel(
                "Telemetry stored",
                PanelKind::TimeSeries,
                "sum by (signal) (rate(opsdeck_telemetry_records_stored_total[5m]))",
                "reqps",
                (0, 3, 6, 5),
            ),
            panel(
                "Samples appended",
                PanelKind::TimeSeries,
                "sum by (instance) (rate(opsdeck_series_samples_appended_total[5m]))",
                "reqps",
                (6, 3, 6, 5),
            ),
            panel("Jobs overdue", PanelKind::TimeSeries, "max(opsdeck_jobs_overdue)", "", (0, 8, 3, 5)),
            panel(
                "Webhooks queued",
                PanelKind::TimeSeries,
                "max(opsdeck_webhook_deliveries_queued)",
                "",
                (3, 8, 3, 5),
            ),
            panel(
                "Series data",
                PanelKind::TimeSeries,
                "max(opsdeck_series_store_bytes)",
                "bytes",
                (6, 8, 6, 5),
            ),
            panel("Scrape health", PanelKind::TimeSeries, "up", "", (0, 13, 6, 5)),
            panel("Scrape duration", PanelKind::TimeSeries, "scrape_duration_seconds", "s", (6, 13, 6, 5)),
            panel(
                "Alerts by severity",
                PanelKind::TimeSeries,
                r#"count by (severity) (ALERTS{alertstate="firing"})"#,
                "",
                (0, 18, 6, 5),
            ),
            panel("Samples per scrape", PanelKind::Table, "scrape_samples_scraped", "", (6, 18, 6, 5)),
        ],
    }
}

/// A dashboard's saved versions, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct DashboardVersion {
    /// The dashboard's name.
    pub name: String,
    /// 1 for the first save.
    #[ts(type = "number")]
    pub version: i64,
    /// Who saved it.
    pub saved_by: String,
    /// When, Unix ms.
    #[ts(type = "number")]
    pub saved_at_unix_ms: i64,
    /// Its title then.
    pub title: String,
    /// Its panels then.
    #[ts(type = "number")]
    pub panels: i64,
}

/// A dashboard as listed.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct DashboardSummary {
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// How many panels.
    #[ts(type = "number")]
    pub panels: i64,
    /// Generated by OpsDeck (read-only; save a copy to change it).
    pub generated: bool,
    /// Its latest version (0 for a generated one).
    #[ts(type = "number")]
    pub version: i64,
    /// Who saved the latest version.
    pub saved_by: String,
    /// When, Unix ms (0 for a generated one).
    #[ts(type = "number")]
    pub saved_at_unix_ms: i64,
}

/// Saves `dashboard` as its next version; returns the version.
pub async fn save(store: &Store, dashboard: &Dashboard, audit: &AuditScope<'_>) -> Result<i64, MetricsError> {
    dashboard.check().map_err(MetricsError::Invalid)?;
    let definition =
        serde_json::to_string(dashboard).map_err(|error| MetricsError::Invalid(error.to_string()))?;
    let mut transaction = store.begin_write().await?;
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM metric_dashboards WHERE name = $1")
        .bind(&dashboard.name)
        .fetch_one(&mut *transaction)
        .await?;
    let version = last.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO metric_dashboards (name, version, definition, saved_by, saved_at_unix_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&dashboard.name)
    .bind(version)
    .bind(&definition)
    .bind(audit.actor())
    .bind(now_unix_ms())
    .execute(&mut *transaction)
    .await?;
    audit
        .append(&mut transaction, serde_json::json!({ "version": version, "panels": dashboard.panels.len() }))
        .await?;
    transaction.commit().await?;
    Ok(version)
}

/// A stored dashboard: its latest version, or the one asked for.
pub async fn load(store: &Store, name: &str, version: Option<i64>) -> Result<(Dashboard, i64), MetricsError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT definition, version FROM metric_dashboards WHERE name = $1 AND ($2 = 0 OR version = $2) \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(name)
    .bind(version.unwrap_or(0))
    .fetch_optional(store.pool())
    .await?;
    let Some((definition, version)) = row else {
        return Err(MetricsError::Invalid(match version {
            Some(version) => format!("dashboard `{name}` has no version {version}"),
            None => format!("there is no dashboard `{name}`; `opsdeck metrics dashboards` lists them"),
        }));
    };
    let dashboard = serde_json::from_str(&definition).map_err(|error| {
        MetricsError::Invalid(format!("dashboard `{name}` version {version} is unreadable ({error})"))
    })?;
    Ok((dashboard, version))
}

/// Every stored dashboard's latest version.
pub async fn list(store: &Store) -> Result<Vec<DashboardSummary>, MetricsError> {
    let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT d.name, d.definition, d.version, d.saved_by, d.saved_at_unix_ms FROM metric_dashboards d \
         WHERE d.version = (SELECT MAX(version) FROM metric_dashboards WHERE name = d.name) ORDER BY d.name",
    )
    .fetch_all(store.pool())
    .await?;
    let mut summaries = Vec::new();
    for (name, definition, version, saved_by, saved_at_unix_ms) in rows {
        let Ok(dashboard) = serde_json::from_str::<Dashboard>(&definition) else {
            return Err(MetricsError::Invalid(format!("dashboard `{name}` version {version} is unreadable")));
        };
        summaries.push(DashboardSummary {
            name,
            title: dashboard.title,
            description: dashboard.description,
            panels: dashboard.panels.len() as i64,
            generated: false,
            version,
            saved_by,
            saved_at_unix_ms,
        });
    }
    Ok(summaries)
}

/// A dashboard's versions, newest first.
pub async fn history(store: &Store, name: &str) -> Result<Vec<DashboardVersion>, MetricsError> {
    let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT definition, version, saved_by, saved_at_unix_ms FROM metric_dashboards WHERE name = $1 \
         ORDER BY version DESC",
    )
    .bind(name)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(definition, version, saved_by, saved_at_unix_ms)| {
            let dashboard = serde_json::from_str::<Dashboard>(&definition).ok();
            DashboardVersion {
                name: name.to_owned(),
                version,
                saved_by,
                saved_at_unix_ms,
                title: dashboard.as_ref().map_or_else(|| "(unreadable)".to_owned(), |d| d.title.clone()),
                panels: dashboard.map_or(0, |d| d.panels.len() as i64),
            }
        })
        .collect())
}

/// Removes a dashboard with all its versions; returns how many.
pub async fn remove(store: &Store, name: &str, audit: &AuditScope<'_>) -> Result<u64, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM metric_dashboards WHERE name = $1")
        .bind(name)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(MetricsError::Invalid(format!("there is no dashboard `{name}`")));
    }
    audit.append(&mut transaction, serde_json::json!({ "versions": removed })).await?;
    transaction.commit().await?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_dashboards_are_valid_once_copied() {
        for mut dashboard in generated_dashboards() {
            assert!(dashboard.check().unwrap_err().contains("generated"));
            dashboard.name.push_str("-copy");
            dashboard.check().unwrap();
        }
    }

    #[test]
    fn variables_are_expanded_longest_first_and_escaped() {
        let values =
            vec![("service".to_owned(), "sh\"op".to_owned()), ("service_name".to_owned(), "x".to_owned())];
        assert_eq!(
            expand(r#"up{a="$service", b="$service_name", c="${service}"}"#, &values),
            r#"up{a="sh\"op", b="x", c="sh\"op"}"#
        );
    }

    #[test]
    fn a_bad_panel_is_named() {
        let mut dashboard = red_dashboard();
        dashboard.name = "mine".into();
        dashboard.panels[1].expr = "sum(rate(x[5m])".into();
        let error = dashboard.check().unwrap_err();
        assert!(error.contains("panel `Errors`") && error.contains("not valid PromQL"), "{error}");
        dashboard.panels[1].expr = "up".into();
        dashboard.panels[1].x = 10;
        assert!(dashboard.check().unwrap_err().contains("12 columns"));
    }
}
