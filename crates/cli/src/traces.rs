//! `opsdeck traces …`: traces received over OTLP (the app and `opsdeck serve`
//! receive them on 127.0.0.1:4318).

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{Deck, DeckError, LogQuery};

use opsdeck::catalogue::telemetry::{
    CompareTraces, OneTrace, ServiceMap, SlowInput, TraceCompare, TraceSearch, TraceSearchOperation,
    TraceShow, TraceSlow, Window,
};

use opsdeck::catalogue::metrics::{
    DataSource, InstantQuery, Query, QueryAnswer, QueryRange, RangeQuery, ResultType, ScrapeTarget,
    SeriesList, SeriesQuery, SourceList, SourceName, SourceRemove, SourceSet, TargetList, TargetName,
    TargetRemove, TargetSet,
};

use opsdeck_metrics::series_text;

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum TracesCommand {
    /// Traces, newest first.
    List {
        /// Only traces with a span of this service.
        #[arg(long)]
        service: Option<String>,
        /// Only traces with a span of this operation.
        #[arg(long)]
        operation: Option<String>,
        /// Only traces with a span in error.
        #[arg(long = "error", alias = "errors")]
        errors: bool,
        /// Only traces that started within this many minutes.
        #[arg(long, value_name = "MINUTES")]
        since_minutes: Option<i64>,
        /// Only traces at least this long.
        #[arg(long = "min-duration", alias = "min-duration-ms", value_name = "MS")]
        min_duration_ms: Option<f64>,
        /// Only traces at most this long.
        #[arg(long = "max-duration", alias = "max-duration-ms", value_name = "MS")]
        max_duration_ms: Option<f64>,
        /// Only traces with a span whose attribute KEY has VALUE (text, number or boolean).
        #[arg(long = "attr", alias = "attribute", value_name = "KEY=VALUE")]
        attribute: Option<String>,
        /// Only traces that started before this Unix time in nanoseconds: the
        /// next page starts at the last listed trace's `start_unix_nano`.
        #[arg(long, value_name = "UNIX_NANO")]
        before: Option<i64>,
        /// The most traces (at most 1000).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Traces slower than most of their kind: above the percentile of their
    /// root operation's durations (operations with at least 5 traces).
    Slow {
        /// The percentile to beat.
        #[arg(long, default_value_t = 95.0)]
        percentile: f64,
        /// Over the last this many minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        since_minutes: i64,
        /// The most traces.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Compare two traces span by span: added, removed, slower, faster.
    Compare {
        /// The earlier (baseline) trace.
        before: String,
        /// The trace to compare with it.
        after: String,
    },
    /// The service map: which service calls which, how often, how often in
    /// error, and how fast (p50/p95 of the called spans).
    Map {
        /// Over the last this many minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        since_minutes: i64,
    },
    /// Remove old telemetry now (the app and `opsdeck serve` do it every 10
    /// minutes, keeping 7 days, at most 5,000,000 spans and log records and
    /// at most 2 GiB in all).
    Prune {
        /// Keep this many days.
        #[arg(long, default_value_t = 7)]
        max_age_days: i64,
        /// Keep at most this many spans (the oldest go first).
        #[arg(long, default_value_t = 5_000_000)]
        max_spans: i64,
        /// Keep at most this many log records (the oldest go first).
        #[arg(long, default_value_t = 5_000_000)]
        max_logs: i64,
        /// Keep at most this many megabytes of spans, logs and metric points
        /// together (the oldest records go first, whatever their kind).
        #[arg(long, default_value_t = 2048)]
        max_megabytes: i64,
    },
    /// One trace: its spans as a tree (`*` marks the critical path), and its logs.
    Show {
        /// The trace id (32 hex digits).
        trace_id: String,
        /// Print only the critical path: the stretches of work that decided the trace's end.
        #[arg(long)]
        critical_path: bool,
    },
}

/// The Unix time, in nanoseconds, `minutes` ago (options like `--since-minutes`).
fn minutes_ago(minutes: i64) -> i64 {
    opsdeck_core::clock::now_unix_ms() * 1_000_000 - minutes.max(0) * 60 * 1_000_000_000
}

fn millis(nanos: i64) -> String {
    format!("{:.2} ms", nanos as f64 / 1e6)
}

pub(crate) async fn run(deck: &Deck, command: TracesCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        TracesCommand::List {
            service,
            operation,
            errors,
            since_minutes,
            min_duration_ms,
            max_duration_ms,
            attribute,
            before,
            limit,
        } => {
            let (attribute_key, attribute_value) = match attribute {
                None => (None, None),
                Some(pair) => match pair.split_once('=') {
                    Some((key, value)) if !key.trim().is_empty() => {
                        (Some(key.to_owned()), Some(value.to_owned()))
                    }
                    _ => {
                        return Err(super::input_error(format!(
                            "--attr takes KEY=VALUE (like http.route=/checkout), not `{pair}`"
                        )))
                    }
                },
            };
            let search = TraceSearch {
                service,
                operation,
                errors_only: Some(errors),
                min_duration_ms,
                max_duration_ms,
                since_minutes,
                since_unix_ms: None,
                until_unix_nano: before,
                attribute_key,
                attribute_value,
                limit: Some(limit),
            };
            let traces = super::operation::<TraceSearchOperation>(deck, search).await?;
            output.print(&traces, |traces| {
                if traces.is_empty() {
                    return "no traces match; send OTLP to 127.0.0.1:4318 while the app or `opsdeck serve` runs\n"
                        .to_owned();
                }
                traces.iter().fold(String::new(), |mut text, trace| {
                    let _ = writeln!(
                        text,
                        "{}  {:>10}  {:>4} spans{}  {} {}",
                        trace.trace_id,
                        millis(trace.duration_nano),
                        trace.span_count,
                        if trace.error { format!(" ({} errors)", trace.error_count) } else { String::new() },
                        trace.root_service,
                        trace.root_operation
                    );
                    text
                })
            });
        }
        TracesCommand::Slow { percentile, since_minutes, limit } => {
            let input = SlowInput {
                since_minutes: Some(since_minutes),
                since_unix_ms: None,
                percentile: Some(percentile),
                limit: Some(limit),
            };
            let slow = operation::<TraceSlow>(deck, input).await?;
            output.print(&slow, |slow| {
                if slow.is_empty() {
                    return format!("no trace is slower than the p{percentile} of its operation\n");
                }
                slow.iter().fold(String::new(), |mut text, trace| {
                    let _ = writeln!(
                        text,
                        "{}  {} {}  {} (p{percentile} {}, {} traces)",
                        trace.trace_id,
                        trace.service,
                        trace.name,
                        millis(trace.duration_nano),
                        millis(trace.threshold_nano),
                        trace.samples
                    );
                    text
                })
            });
        }
        TracesCommand::Compare { before, after } => {
            let changes = operation::<TraceCompare>(deck, CompareTraces { before, after }).await?;
            output.print(&changes, |changes| {
                changes.iter().filter(|change| change.change != "same").fold(
                    String::new(),
                    |mut text, change| {
                        let show = |nanos: Option<i64>| nanos.map_or_else(|| "—".to_owned(), millis);
                        let _ = writeln!(
                            text,
                            "{:<8} {} {} #{}  {} -> {}",
                            change.change,
                            change.service,
                            change.name,
                            change.occurrence + 1,
                            show(change.before_nano),
                            show(change.after_nano)
                        );
                        text
                    },
                ) + if changes.iter().all(|change| change.change == "same") {
                    "the traces match span for span\n"
                } else {
                    ""
                }
            });
        }
        TracesCommand::Map { since_minutes } => {
            let window = Window { since_minutes: Some(since_minutes), since_unix_ms: None };
            let edges = operation::<ServiceMap>(deck, window).await?;
            output.print(&edges, |edges| {
                if edges.is_empty() {
                    return format!("no calls between services in the last {since_minutes} minutes\n");
                }
                edges.iter().fold(String::new(), |mut text, edge| {
                    let _ = writeln!(
                        text,
                        "{} -> {}  {} calls  {:.1}% errors  p50 {}  p95 {}",
                        edge.from,
                        edge.to,
                        edge.calls,
                        edge.error_rate * 100.0,
                        millis(edge.p50_nano),
                        millis(edge.p95_nano)
                    );
                    text
                })
            });
        }
        TracesCommand::Prune { max_age_days, max_spans, max_logs, max_megabytes } => {
            let max_bytes = max_megabytes.saturating_mul(1024 * 1024);
            let retention = opsdeck::Retention { max_age_days, max_spans, max_logs, max_bytes };
            let pruned = deck.telemetry().prune(&retention).await?;
            output.print(&pruned, |pruned| {
                format!(
                    "removed {} spans, {} log records and {} metric points\n",
                    pruned.spans, pruned.logs, pruned.metric_points
                )
            });
        }
        TracesCommand::Show { trace_id, critical_path: true } => {
            let detail = operation::<TraceShow>(deck, OneTrace { trace_id }).await?;
            output.print(&detail.critical_path_segments, |path| {
                let total: i64 =
                    path.iter().map(|segment| segment.end_unix_nano - segment.start_unix_nano).sum();
                path.iter().fold(String::new(), |mut text, segment| {
                    let length = segment.end_unix_nano - segment.start_unix_nano;
                    let share = if total > 0 { length as f64 * 100.0 / total as f64 } else { 0.0 };
                    let _ = writeln!(
                        text,
                        "{:>10} {:>5.1}%  {} {}",
                        millis(length),
                        share,
                        segment.service,
                        segment.name
                    );
                    text
                })
            });
        }
        TracesCommand::Show { trace_id, critical_path: false } => {
            let detail = operation::<TraceShow>(deck, OneTrace { trace_id }).await?;
            output.print(&detail, |detail| {
                let on_path: std::collections::HashSet<&str> =
                    detail.critical_path.iter().map(String::as_str).collect();
                let start = detail.spans.iter().map(|span| span.start_unix_nano).min().unwrap_or_default();
                let mut text = String::new();
                // Depth-first from the roots (spans whose parent is not stored count as roots).
                let ids: std::collections::HashSet<&str> =
                    detail.spans.iter().map(|span| span.span_id.as_str()).collect();
                let mut stack: Vec<(usize, &opsdeck::Span)> = detail
                    .spans
                    .iter()
                    .filter(|span| {
                        span.parent_span_id.is_empty() || !ids.contains(span.parent_span_id.as_str())
                    })
                    .rev()
                    .map(|span| (0, span))
                    .collect();
                while let Some((depth, span)) = stack.pop() {
                    let _ = writeln!(
                        text,
                        "{}{:indent$}{} {}  +{} {}{}",
                        if on_path.contains(span.span_id.as_str()) { "* " } else { "  " },
                        "",
                        span.service,
                        span.name,
                        millis(span.start_unix_nano - start),
                        millis(span.duration_nano()),
                        if span.status_code == 2 {
                            format!("  ERROR {}", span.status_message)
                        } else {
                            String::new()
                        },
                        indent = depth * 2
                    );
                    let children =
                        detail.spans.iter().filter(|child| child.parent_span_id == span.span_id).rev();
                    stack.extend(children.map(|child| (depth + 1, child)));
                }
                for log in &detail.logs {
                    let _ = writeln!(text, "log  {} {}  {}", log.service, log.severity_text, log.body);
                }
                text
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `opsdeck logs`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogsArgs {
    /// Only this service's records.
    #[arg(long)]
    service: Option<String>,
    /// Only records at least this severe: trace, debug, info, warn, error, fatal (or 1–24).
    #[arg(long)]
    severity: Option<String>,
    /// Only records whose body contains this text (case-insensitive).
    #[arg(long)]
    grep: Option<String>,
    /// Only records of this trace.
    #[arg(long)]
    trace: Option<String>,
    /// Only records from the last this many minutes.
    #[arg(long, value_name = "MINUTES")]
    since_minutes: Option<i64>,
    /// Only records before this Unix time in nanoseconds: the next page
    /// starts at the last listed record's `time_unix_nano`.
    #[arg(long, value_name = "UNIX_NANO")]
    before: Option<i64>,
    /// The most records (at most 1000), newest first.
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

/// OTLP's severity numbers: the first of each range.
fn severity_number(text: &str) -> Result<i32, DeckError> {
    let number = match text.trim().to_ascii_lowercase().as_str() {
        "trace" => 1,
        "debug" => 5,
        "info" => 9,
        "warn" | "warning" => 13,
        "error" => 17,
        "fatal" => 21,
        other => other.parse::<i32>().ok().filter(|number| (1..=24).contains(number)).ok_or_else(|| {
            super::input_error(format!(
                "--severity takes trace, debug, info, warn, error, fatal or a number 1–24, not `{text}`"
            ))
        })?,
    };
    Ok(number)
}

pub(crate) async fn logs(deck: &Deck, args: LogsArgs, output: Output) -> Result<ExitCode, DeckError> {
    let query = LogQuery {
        service: args.service,
        min_severity: args.severity.as_deref().map(severity_number).transpose()?,
        text: args.grep,
        trace_id: args.trace,
        since_unix_nano: args.since_minutes.map(minutes_ago),
        until_unix_nano: args.before,
        limit: args.limit,
    };
    let records = deck.telemetry().logs(&query).await?;
    output.print(&records, |records| {
        if records.is_empty() {
            return "no log records match\n".to_owned();
        }
        records.iter().fold(String::new(), |mut text, record| {
            let _ = writeln!(
                text,
                "{} {:<5} {}  {}{}",
                record.time_unix_nano,
                record.severity_text,
                record.service,
                record.body,
                if record.trace_id.is_empty() {
                    String::new()
                } else {
                    format!("  trace {}", record.trace_id)
                }
            );
            text
        })
    });
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `opsdeck demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The OTLP/HTTP endpoint (the app and `opsdeck serve` receive on this one).
    #[arg(long, default_value = "http://127.0.0.1:4318")]
    endpoint: String,
    /// How many traces to send (spread over the last few seconds); with
    /// `--duration`, how many each second.
    #[arg(long)]
    traces: Option<u32>,
    /// Keep sending for this many seconds, as live traffic (20 traces a second unless `--traces`).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
}

pub(crate) async fn demo(deck: &Deck, args: DemoArgs, output: Output) -> Result<ExitCode, DeckError> {
    // The catalogue's `telemetry.demo` rule (1 to 2000 traces at a time) holds here too.
    let asked = opsdeck::catalogue::telemetry::DemoInput { traces: args.traces };
    let shown = crate::progress::Progress::start(&format!("sending demo traffic to {}", args.endpoint));
    let report = match args.duration {
        None => deck.telemetry().demo(&args.endpoint, asked.traces()?).await?,
        Some(seconds) => {
            let per_second = if args.traces.is_some() { asked.traces()? } else { 20 };
            let started = std::time::Instant::now();
            let mut total =
                opsdeck::DemoReport { endpoint: args.endpoint.clone(), traces: 0, spans: 0, logs: 0 };
            let mut second = 0;
            while second < seconds {
                let sent = deck.telemetry().demo(&args.endpoint, per_second).await?;
                total.traces += sent.traces;
                total.spans += sent.spans;
                total.logs += sent.logs;
                second += 1;
                shown.step(&format!("sent {} traces, {second} of {seconds} s", total.traces));
                let next = started + std::time::Duration::from_secs(second);
                tokio::time::sleep_until(next.into()).await;
            }
            total
        }
    };
    drop(shown);
    output.print(&report, |report| {
        format!(
            "sent {} traces ({} spans, {} log records) of a simulated shop to {}; `opsdeck traces list` shows them\n",
            report.traces, report.spans, report.logs, report.endpoint
        )
    });
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub(crate) enum MetricsCommand {
    /// The metrics received: name, kind, unit, service and how many points.
    List {
        /// Over the last this many minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        since_minutes: i64,
    },
    /// Data points, newest first.
    Points {
        /// Only this metric.
        #[arg(long)]
        name: Option<String>,
        /// Only this service's.
        #[arg(long)]
        service: Option<String>,
        /// Over the last this many minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        since_minutes: i64,
        /// The most points (at most 1000).
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Series matching a PromQL selector, as Prometheus names them, with
    /// their latest value (`opsdeck metrics series 'up{job="shop"}'`).
    Series {
        /// The selector: a metric name and/or labels in braces.
        selector: String,
        /// Only series with a sample in the last this many minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        since_minutes: i64,
    },
    /// Evaluates a PromQL expression now, or with `--range` at every step
    /// of the last minutes (`opsdeck metrics query 'sum by (job) (rate(x[5m]))'`).
    Query {
        /// The PromQL expression.
        query: String,
        /// When to evaluate it: RFC 3339, Unix seconds, or now-1h (default now).
        #[arg(long, value_name = "TIME", conflicts_with = "range")]
        time: Option<String>,
        /// Evaluate over the last this many minutes instead of now.
        #[arg(long, value_name = "MINUTES")]
        range: Option<i64>,
        /// Seconds between points of a `--range` query (default: about 250 points).
        #[arg(long, value_name = "SECONDS", requires = "range")]
        step: Option<f64>,
        /// Ask this remote Prometheus data source instead (`metrics source list`).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
    },
    /// Dashboards: the generated ones (red, opsdeck) and the saved ones.
    Dashboards,
    /// One dashboard: show, export, import, history, rm.
    Dashboard {
        #[command(subcommand)]
        command: crate::dashboards::DashboardCommand,
    },
    /// Draws a dashboard or a query as PNG or SVG
    /// (`opsdeck metrics render red --var service=shop -o red.png`).
    Render(crate::dashboards::RenderArgs),
    /// Evaluates a PromQL expression at every step from --start to --end, as
    /// Prometheus' /api/v1/query_range (`--json` prints its document).
    QueryRange {
        /// The PromQL expression.
        query: String,
        /// The first evaluation: RFC 3339, Unix seconds, or now-1h.
        #[arg(long, value_name = "TIME")]
        start: String,
        /// The last one (default now).
        #[arg(long, value_name = "TIME", default_value = "now")]
        end: String,
        /// Between evaluations: seconds or 1m30s.
        #[arg(long, value_name = "STEP")]
        step: String,
        /// Ask this remote Prometheus data source instead (`metrics source list`).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
    },
    /// How long series are kept: shows the retention, or changes what is
    /// given (`opsdeck metrics retention --keep-days 30 --max-megabytes 512`).
    Retention {
        /// Days kept at full resolution; older samples keep one per 5 minutes.
        #[arg(long, value_name = "DAYS")]
        full_resolution_days: Option<i64>,
        /// Days kept at all.
        #[arg(long, value_name = "DAYS")]
        keep_days: Option<i64>,
        /// Megabytes of samples kept at most (the oldest go first).
        #[arg(long, value_name = "MB")]
        max_megabytes: Option<i64>,
    },
    /// Remote Prometheus servers that queries and panels can read from.
    Source {
        #[command(subcommand)]
        command: SourceCommand,
    },
    /// Prometheus scrape targets: endpoints read on a schedule
    /// (`opsdeck metrics target set node http://127.0.0.1:9100/metrics --every 15`).
    #[command(alias = "targets")]
    Target {
        #[command(subcommand)]
        command: TargetCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SourceCommand {
    /// Adds or changes a source (`opsdeck metrics source set prod http://prometheus.internal:9090`).
    #[command(alias = "add")]
    Set {
        /// Its name (`--source NAME`, a panel's source).
        name: String,
        /// The base URL of its query API.
        url: String,
        /// A bearer token, as a vault reference (opsdeck://VAULT/NAME).
        #[arg(long, value_name = "REFERENCE")]
        bearer_token: Option<String>,
    },
    /// The sources.
    List,
    /// Removes a source.
    Rm {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TargetCommand {
    /// Adds or changes a target (scraped by the app and `opsdeck serve`).
    #[command(alias = "add")]
    Set {
        /// The target's name (its series' `job` label).
        name: String,
        /// Its metrics endpoint.
        url: String,
        /// Seconds between scrapes.
        #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
        every: f64,
        /// Seconds a scrape may take (cut to the interval).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        /// A label for every series of the target (repeat: --label env=prod).
        #[arg(long = "label", value_name = "NAME=VALUE")]
        labels: Vec<String>,
        /// Keep the target's own labels where they clash with job, instance or --label.
        #[arg(long)]
        honor_labels: bool,
        /// The most samples one scrape may return.
        #[arg(long, value_name = "N")]
        sample_limit: Option<i64>,
        /// A bearer token for the endpoint, as a vault reference (opsdeck://VAULT/NAME).
        #[arg(long, value_name = "REFERENCE", conflicts_with = "basic_auth_user")]
        bearer_token: Option<String>,
        /// A user name for basic authentication (with --basic-auth-password).
        #[arg(long, value_name = "USER", requires = "basic_auth_password")]
        basic_auth_user: Option<String>,
        /// The basic authentication password, as a vault reference.
        #[arg(long, value_name = "REFERENCE", requires = "basic_auth_user")]
        basic_auth_password: Option<String>,
        /// Trust only the CA certificates in this PEM file for an https endpoint.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<std::path::PathBuf>,
    },
    /// The targets and how their last scrape went.
    List,
    /// Stops scraping a target.
    Rm {
        /// The target's name.
        name: String,
    },
}

pub(crate) async fn metrics(
    deck: &Deck,
    command: MetricsCommand,
    output: Output,
) -> Result<ExitCode, DeckError> {
    match command {
        MetricsCommand::List { since_minutes } => {
            let series = deck.telemetry().metric_series(minutes_ago(since_minutes)).await?;
            output.print(&series, |series| {
                if series.is_empty() {
                    return "no metrics received; send OTLP metrics to 127.0.0.1:4317 (gRPC) or :4318/v1/metrics\n"
                        .to_owned();
                }
                series.iter().fold(String::new(), |mut text, one| {
                    let _ = writeln!(
                        text,
                        "{}  {} {}  {}  {} points",
                        one.name,
                        one.kind,
                        if one.unit.is_empty() { "-" } else { &one.unit },
                        one.service,
                        one.points
                    );
                    text
                })
            });
        }
        MetricsCommand::Points { name, service, since_minutes, limit } => {
            let points = deck
                .telemetry()
                .metric_points(name.as_deref(), service.as_deref(), minutes_ago(since_minutes), limit)
                .await?;
            output.print(&points, |points| {
                points.iter().fold(String::new(), |mut text, point| {
                    let shown = point.value.map_or_else(|| point.data.to_string(), |value| value.to_string());
                    let _ = writeln!(
                        text,
                        "{}  {}  {} {}  {}",
                        point.time_unix_nano, point.service, point.name, point.attributes, shown
                    );
                    text
                })
            });
        }
        MetricsCommand::Series { selector, since_minutes } => {
            let input = SeriesQuery { selector, since_minutes: Some(since_minutes) };
            let series = super::operation::<SeriesList>(deck, input).await?;
            output.print(&series, |series| {
                if series.is_empty() {
                    return "No series match. OTLP metrics appear here under Prometheus names \
                            (`orders.placed` counted in `1` is orders_placed_total).\n"
                        .to_owned();
                }
                crate::table::table(
                    ["SERIES", "LAST VALUE", "AT", "SAMPLES"],
                    series.iter().map(|series| {
                        [
                            series_text(&series.labels),
                            series.last_value.to_string(),
                            crate::time::minute(series.last_unix_ms),
                            series.samples.to_string(),
                        ]
                    }),
                )
            });
        }
        MetricsCommand::Target { command } => return target(deck, command, output).await,
        MetricsCommand::Dashboards => return crate::dashboards::list(deck, output).await,
        MetricsCommand::Dashboard { command } => return crate::dashboards::run(deck, command, output).await,
        MetricsCommand::Render(args) => return crate::dashboards::render(deck, args, output).await,
        MetricsCommand::Query { query, time, range: None, source, .. } => {
            let at = time.as_deref().map(|text| when(text, "--time")).transpose()?;
            let answer = operation::<Query>(deck, InstantQuery { query, time_unix_ms: at, source }).await?;
            output.print_as(&answer, &prometheus_document(&answer), answer_text);
        }
        MetricsCommand::QueryRange { query, start, end, step, source } => {
            let input = RangeQuery {
                query,
                start_unix_ms: Some(when(&start, "--start")?),
                end_unix_ms: Some(when(&end, "--end")?),
                step_seconds: Some(
                    opsdeck::metrics::prometheus_api::parse_step(&step)
                        .map_err(|why| crate::input_error(format!("--step: {why}")))?
                        as f64
                        / 1000.0,
                ),
                source,
            };
            let answer = operation::<QueryRange>(deck, input).await?;
            output.print_as(&answer, &prometheus_document(&answer), answer_text);
        }
        MetricsCommand::Source { command } => return source(deck, command, output).await,
        MetricsCommand::Retention { full_resolution_days, keep_days, max_megabytes } => {
            use opsdeck::metrics::retention::{MetricsRetention, RetentionGet, RetentionSet};
            let mut status = operation::<RetentionGet>(deck, Default::default()).await?;
            if full_resolution_days.is_some() || keep_days.is_some() || max_megabytes.is_some() {
                let current = status.retention;
                let wanted = MetricsRetention {
                    full_resolution_days: full_resolution_days.unwrap_or(current.full_resolution_days),
                    keep_days: keep_days.unwrap_or(current.keep_days),
                    max_bytes: max_megabytes.map_or(current.max_bytes, |mb| mb.saturating_mul(1024 * 1024)),
                };
                status = operation::<RetentionSet>(deck, wanted).await?;
            }
            output.print(&status, |status| {
                let retention = &status.retention;
                format!(
                    "full resolution for {} days, then one sample per 5 minutes until {} days; at most {} MB \
                     (holding {:.1} MB)\nlast pass: {}\n",
                    retention.full_resolution_days,
                    retention.keep_days,
                    retention.max_bytes / (1024 * 1024),
                    status.stored_bytes as f64 / (1024.0 * 1024.0),
                    status.last_run.as_deref().unwrap_or("not run yet")
                )
            });
        }
        MetricsCommand::Query { query, range: Some(minutes), step, source, .. } => {
            let end = opsdeck_core::clock::now_unix_ms();
            let input = RangeQuery {
                query,
                start_unix_ms: Some(end - minutes.clamp(1, 525_600) * 60_000),
                end_unix_ms: Some(end),
                step_seconds: step,
                source,
            };
            let answer = operation::<QueryRange>(deck, input).await?;
            output.print_as(&answer, &prometheus_document(&answer), answer_text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn source(deck: &Deck, command: SourceCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        SourceCommand::Set { name, url, bearer_token } => {
            let source = operation::<SourceSet>(deck, DataSource { name, url, bearer_token }).await?;
            output.print(&source, |source| {
                format!(
                    "queries with --source {} (and panels with it as source) go to {}\n",
                    source.name, source.url
                )
            });
        }
        SourceCommand::List => {
            let sources = operation::<SourceList>(deck, Default::default()).await?;
            output.print(&sources, |sources| {
                if sources.is_empty() {
                    return "No data sources. Add a Prometheus: opsdeck metrics source set NAME URL\n"
                        .to_owned();
                }
                crate::table::table(
                    ["SOURCE", "URL", "TOKEN"],
                    sources.iter().map(|source| {
                        [
                            source.name.clone(),
                            source.url.clone(),
                            source.bearer_token.clone().unwrap_or_default(),
                        ]
                    }),
                )
            });
        }
        SourceCommand::Rm { name } => {
            operation::<SourceRemove>(deck, SourceName { name: name.clone() }).await?;
            output
                .print(&serde_json::json!({ "removed": name }), |_| format!("removed data source {name}\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn target(deck: &Deck, command: TargetCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        TargetCommand::Set {
            name,
            url,
            every,
            timeout,
            labels,
            honor_labels,
            sample_limit,
            bearer_token,
            basic_auth_user,
            basic_auth_password,
            ca_file,
        } => {
            let ca_bundle = ca_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .map_err(|error| crate::input_error(format!("--ca-file {}: {error}", path.display())))
                })
                .transpose()?;
            let mut label_map = std::collections::BTreeMap::new();
            for label in labels {
                let Some((label_name, value)) = label.split_once('=') else {
                    return Err(opsdeck_core::CoreError::InvalidInput(format!(
                        "`--label {label}` is not NAME=VALUE"
                    ))
                    .into());
                };
                label_map.insert(label_name.trim().to_owned(), value.trim().to_owned());
            }
            let input = ScrapeTarget {
                name,
                url,
                interval_seconds: Some(every),
                timeout_seconds: timeout,
                labels: label_map,
                honor_labels,
                sample_limit,
                bearer_token,
                basic_auth_username: basic_auth_user,
                basic_auth_password,
                ca_bundle,
            };
            let info = operation::<TargetSet>(deck, input).await?;
            output.print(&info, |info| {
                format!(
                    "scraping {} every {} s from {}; the app and `opsdeck serve` do the scraping\n",
                    info.target.url,
                    info.target.interval_seconds.unwrap_or(60.0),
                    crate::time::second(info.next_scrape_unix_ms)
                )
            });
        }
        TargetCommand::List => {
            let targets = operation::<TargetList>(deck, Default::default()).await?;
            output.print(&targets, |targets| {
                if targets.is_empty() {
                    return "No scrape targets. Add one: opsdeck metrics target set NAME URL --every 15\n"
                        .to_owned();
                }
                crate::table::table(
                    ["TARGET", "URL", "EVERY", "HEALTH", "LAST SCRAPE"],
                    targets.iter().map(|info| {
                        [
                            info.target.name.clone(),
                            info.target.url.clone(),
                            format!("{} s", info.target.interval_seconds.unwrap_or(60.0)),
                            info.health.clone(),
                            info.last_message.clone(),
                        ]
                    }),
                )
            });
        }
        TargetCommand::Rm { name } => {
            operation::<TargetRemove>(deck, TargetName { name: name.clone() }).await?;
            output.print(&serde_json::json!({ "removed": name }), |_| format!("stopped scraping {name}\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A time given on the command line: RFC 3339, Unix seconds, `now`, or
/// `now-1h` (a duration before now).
fn when(text: &str, flag: &str) -> Result<i64, DeckError> {
    let now = opsdeck_core::clock::now_unix_ms();
    let text = text.trim();
    if text == "now" {
        return Ok(now);
    }
    if let Some(ago) = text.strip_prefix("now-") {
        let ms = opsdeck_metrics::promql::parse_duration(ago).map_err(|_| {
            crate::input_error(format!("{flag} {text}: `{ago}` is not a duration like 15m or 1h"))
        })?;
        return Ok(now - ms);
    }
    opsdeck::metrics::prometheus_api::parse_time(text)
        .map_err(|why| crate::input_error(format!("{flag}: {why}")))
}

/// The document Prometheus' `/api/v1/query` and `/api/v1/query_range`
/// answer with, so scripts written for Prometheus read `--json` as is.
fn prometheus_document(answer: &QueryAnswer) -> serde_json::Value {
    // Whole seconds as integers, as Prometheus writes them.
    let point = |point: &opsdeck::catalogue::metrics::AnswerPoint| {
        let t = point.t_unix_ms;
        let seconds =
            if t % 1000 == 0 { serde_json::json!(t / 1000) } else { serde_json::json!(t as f64 / 1000.0) };
        serde_json::json!([seconds, point.value])
    };
    let (kind, result) = match answer.result_type {
        ResultType::Scalar | ResultType::String => (
            if answer.result_type == ResultType::Scalar { "scalar" } else { "string" },
            answer.series.first().and_then(|series| series.points.first()).map(point).unwrap_or_default(),
        ),
        ResultType::Vector => (
            "vector",
            answer
                .series
                .iter()
                .map(|series| {
                    serde_json::json!({ "metric": series.labels, "value": series.points.first().map(point) })
                })
                .collect(),
        ),
        ResultType::Matrix => (
            "matrix",
            answer
                .series
                .iter()
                .map(|series| {
                    serde_json::json!({ "metric": series.labels, "values": series.points.iter().map(point).collect::<Vec<_>>() })
                })
                .collect(),
        ),
    };
    serde_json::json!({ "status": "success", "data": { "resultType": kind, "result": result } })
}

/// A query's answer as a table: each series with its value (an instant
/// query) or its point count, last, lowest and highest value (a range).
fn answer_text(answer: &QueryAnswer) -> String {
    if answer.series.is_empty() {
        return "No series: nothing matched at that time (a series is seen for 5 minutes after its last sample).\n"
            .to_owned();
    }
    match answer.result_type {
        ResultType::Scalar | ResultType::String | ResultType::Vector => crate::table::table(
            ["SERIES", "VALUE"],
            answer.series.iter().map(|series| {
                [series_text(&series.labels), series.points.last().map_or(String::new(), |p| p.value.clone())]
            }),
        ),
        ResultType::Matrix => crate::table::table(
            ["SERIES", "POINTS", "LAST", "MIN", "MAX"],
            answer.series.iter().map(|series| {
                let values: Vec<f64> = series.points.iter().filter_map(|p| p.value.parse().ok()).collect();
                let min = values.iter().copied().fold(f64::INFINITY, f64::min);
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                [
                    series_text(&series.labels),
                    series.points.len().to_string(),
                    series.points.last().map_or(String::new(), |p| p.value.clone()),
                    min.to_string(),
                    max.to_string(),
                ]
            }),
        ),
    }
}
