//! Telemetry in the deck: the OTLP receiver started with the background work
//! (the app and `opsdeck serve`), and the trace queries the CLI and pages use.

pub mod operations;

use std::sync::Arc;

use opsdeck_telemetry::{
    receiver, LogQuery, LogRecord, PathSegment, Pruned, Retention, ServiceEdge, Span, TraceQuery,
    TraceSummary, Writer,
};
use serde::Serialize;
use ts_rs::TS;

use crate::{Deck, DeckError};

/// A deck's telemetry: `deck.telemetry()`.
#[derive(Clone, Copy)]
pub struct Telemetry<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// Where the OTLP/HTTP receiver listens (`127.0.0.1:4318` unless set; `off` for none).
pub const OTLP_HTTP_ENV: &str = "OPSDECK_OTLP_HTTP";

/// Where the OTLP/gRPC receiver listens (`127.0.0.1:4317` unless set; `off` for none).
pub const OTLP_GRPC_ENV: &str = "OPSDECK_OTLP_GRPC";

/// Where the OTLP receivers listen; `None` turns one off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpAddresses {
    /// gRPC (`127.0.0.1:4317` by default).
    pub grpc: Option<String>,
    /// HTTP (`127.0.0.1:4318` by default).
    pub http: Option<String>,
}

impl OtlpAddresses {
    /// Read from `OPSDECK_OTLP_GRPC` and `OPSDECK_OTLP_HTTP` (`off` for none).
    pub fn from_env() -> OtlpAddresses {
        let read = |variable: &str, default: &str| {
            address_setting(&std::env::var(variable).unwrap_or_else(|_| default.to_owned()))
        };
        OtlpAddresses {
            grpc: read(OTLP_GRPC_ENV, "127.0.0.1:4317"),
            http: read(OTLP_HTTP_ENV, "127.0.0.1:4318"),
        }
    }
}

/// An address setting: `off` (or nothing) turns the receiver off.
pub fn address_setting(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && !text.eq_ignore_ascii_case("off")).then(|| text.to_owned())
}

/// The API key OTLP senders must present (none: any sender that reaches the port).
pub const OTLP_API_KEY_ENV: &str = "OPSDECK_OTLP_API_KEY";

/// Says so when a receiver listens beyond this machine: without an API key,
/// anyone who reaches the port can fill the store or forge spans.
fn warn_beyond_loopback(address: &str, has_key: bool) {
    let local = address
        .parse::<std::net::SocketAddr>()
        .map(|address| address.ip().is_loopback())
        .unwrap_or_else(|_| address.starts_with("localhost:"));
    if local {
        return;
    }
    if has_key {
        tracing::warn!(%address, "an OTLP receiver listens beyond this machine; senders must present the API key");
    } else {
        tracing::warn!(
            %address,
            "an OTLP receiver listens beyond this machine WITHOUT an API key: anyone who reaches it can write \
             telemetry; set {OTLP_API_KEY_ENV} (senders then send it as x-opsdeck-api-key or Authorization: Bearer)"
        );
    }
}

/// Binds one receiver; `None` when it is off or the address cannot be taken (logged).
async fn bind_receiver(address: Option<&str>, what: &str) -> Option<tokio::net::TcpListener> {
    let address = address?;
    match receiver::bind(address).await {
        Ok(listener) => {
            tracing::info!(address = %address, "{what} receiver listening");
            Some(listener)
        }
        Err(error) => {
            tracing::warn!(error = %error, "{what} is not received by this process");
            None
        }
    }
}

/// The job that prunes telemetry (every 10 minutes; its payload is the retention).
pub const RETENTION_JOB: &str = "telemetry-retention";
const RETENTION_JOB_KIND: &str = "telemetry.prune";

/// Telemetry's job: pruning what is older than the retention (built in).
pub(crate) async fn register_jobs(
    deck: &Deck,
    kinds: &mut crate::jobs::JobKinds<'_>,
) -> Result<(), DeckError> {
    let retention = opsdeck_core::scheduler::JobSpec {
        name: RETENTION_JOB.to_owned(),
        kind: RETENTION_JOB_KIND.to_owned(),
        schedule: opsdeck_core::scheduler::Schedule::Every(std::time::Duration::from_secs(600)),
        payload: serde_json::to_value(Retention::default()).unwrap_or_else(|_| serde_json::json!({})),
    };
    opsdeck_core::scheduler::Scheduler::ensure_job(&deck.store, &retention).await?;
    kinds.register(RETENTION_JOB_KIND, |deck, job| async move {
        deck.telemetry().run_retention_job(&job.payload).await
    });
    Ok(())
}

/// What the telemetry area publishes on the deck's event bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TelemetryEvent {
    /// The telemetry writer stored records (announced at most four times a
    /// second while busy; the counts cover everything since the last one).
    TelemetryStored {
        /// Spans stored.
        #[ts(type = "number")]
        spans: i64,
        /// Log records stored.
        #[ts(type = "number")]
        logs: i64,
        /// Metric data points stored.
        #[ts(type = "number")]
        metric_points: i64,
    },
}

/// Records the writer may hold before receivers answer "retry later".
const WRITER_CAPACITY: usize = 100_000;

/// A trace with every span and the logs tied to it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct TraceDetail {
    /// The trace id.
    pub trace_id: String,
    /// Its spans by start time.
    pub spans: Vec<Span>,
    /// Log records carrying its trace id, by time.
    pub logs: Vec<LogRecord>,
    /// The chain of work that decided when the trace ended, in time order.
    pub critical_path_segments: Vec<PathSegment>,
    /// The spans on the critical path, in time order, each once (the CLI's `critical_path`).
    pub critical_path: Vec<String>,
    /// Each span's own time (not waiting on children), nanoseconds, by span id.
    #[ts(type = "Record<string, number>")]
    pub self_time_nano: std::collections::BTreeMap<String, i64>,
}

/// Telemetry at a glance (the Overview's card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct TelemetrySummary {
    /// Where OTLP/gRPC is received, when on.
    pub grpc: Option<String>,
    /// Where OTLP/HTTP is received, when on.
    pub http: Option<String>,
    /// Traces that started in the last hour.
    #[ts(type = "number")]
    pub traces_last_hour: i64,
    /// Of those, traces with a span in error.
    #[ts(type = "number")]
    pub error_traces_last_hour: i64,
}

/// What `opsdeck demo` sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct DemoReport {
    /// Where to.
    pub endpoint: String,
    /// Traces sent.
    #[ts(type = "number")]
    pub traces: i64,
    /// Spans sent.
    #[ts(type = "number")]
    pub spans: i64,
    /// Log records sent.
    #[ts(type = "number")]
    pub logs: i64,
}

impl Deck {
    /// Starts the OTLP receivers (gRPC and HTTP) and their writer, unless
    /// turned off. A port already in use (another OpsDeck receiving) is
    /// reported, not fatal.
    pub(crate) async fn start_telemetry(self: &Arc<Self>) {
        let addresses = self.telemetry().otlp_addresses();
        let grpc = bind_receiver(addresses.grpc.as_deref(), "OTLP/gRPC").await;
        let http = bind_receiver(addresses.http.as_deref(), "OTLP/HTTP").await;
        if grpc.is_none() && http.is_none() {
            return;
        }
        let events = self.events.clone();
        let counters = self.self_counters.clone();
        let announce: opsdeck_telemetry::writer::OnStored = Arc::new(move |stored| {
            use std::sync::atomic::Ordering::Relaxed;
            counters.spans.fetch_add(stored.spans.max(0) as u64, Relaxed);
            counters.logs.fetch_add(stored.logs.max(0) as u64, Relaxed);
            counters.metric_points.fetch_add(stored.metric_points.max(0) as u64, Relaxed);
            events.publish_area(&TelemetryEvent::TelemetryStored {
                spans: stored.spans,
                logs: stored.logs,
                metric_points: stored.metric_points,
            });
        });
        // Started before the writer, so it stops after it (shutdown goes
        // newest first) and stores the writer's last points.
        let on_metric_points = crate::metrics::start_ingest(self);
        let on_spans = crate::metrics::start_span_metrics(self);
        let hooks = opsdeck_telemetry::writer::WriterHooks {
            on_stored: Some(announce),
            on_metric_points: Some(on_metric_points),
            on_spans: Some(on_spans),
        };
        let (writer, writer_task) = Writer::start_with(self.telemetry.clone(), WRITER_CAPACITY, hooks);
        let gate = opsdeck_telemetry::gate::Gate::new(std::env::var(OTLP_API_KEY_ENV).ok());
        for address in [addresses.grpc.as_deref(), addresses.http.as_deref()].into_iter().flatten() {
            warn_beyond_loopback(address, gate.requires_key());
        }
        // Shutdown goes newest first: the receivers stop (dropping their
        // writer handles), then this waits for the writer to store what was queued.
        self.tasks.spawn("otlp-writer", move |_stop| async move {
            if let Err(error) = writer_task.await {
                tracing::error!(error = %error, "the telemetry writer stopped abnormally");
            }
        });
        if let Some(listener) = grpc {
            let (writer, gate) = (writer.clone(), gate.clone());
            self.tasks.spawn("otlp-grpc-receiver", move |stop| async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = opsdeck_telemetry::grpc::serve(listener, writer, gate) => {}
                }
            });
        }
        if let Some(listener) = http {
            self.tasks.spawn("otlp-http-receiver", move |stop| async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = receiver::serve(listener, writer, gate) => {}
                }
            });
        }
    }
}

impl Telemetry<'_> {
    /// Sends `traces` traces of simulated shop traffic (and their logs) to an
    /// OTLP/HTTP endpoint (`http://127.0.0.1:4318`), 50 traces a request.
    pub async fn demo(self, endpoint: &str, traces: usize) -> Result<DemoReport, DeckError> {
        use prost::Message as _;
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let now =
            u64::try_from(opsdeck_core::clock::now_unix_ms()).unwrap_or_default().saturating_mul(1_000_000);
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|error| opsdeck_core::CoreError::Random(error.to_string()))?;
        let mut report = DemoReport { endpoint: endpoint.clone(), traces: 0, spans: 0, logs: 0 };
        let mut left = traces;
        while left > 0 {
            let batch = left.min(50);
            let ends_at = now.saturating_sub((left - batch) as u64 * 50_000_000);
            let (spans, logs) =
                opsdeck_telemetry::demo::shop_traffic(batch, u64::from_le_bytes(seed) ^ left as u64, ends_at);
            report.spans += spans
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len() as i64)
                .sum::<i64>();
            report.logs += logs
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len() as i64)
                .sum::<i64>();
            for (path, body) in [("v1/traces", spans.encode_to_vec()), ("v1/logs", logs.encode_to_vec())] {
                let url = format!("{endpoint}/{path}");
                let request = opsdeck_core::http::OutboundRequest::post(url.clone(), body)
                    .header("Content-Type", "application/x-protobuf")
                    // A re-sent export replaces the same spans: safe to retry.
                    .idempotency_key(&format!("demo-{}-{left}-{path}", hex::encode(seed)));
                let response = self.deck.http.send(request).await.map_err(|error| {
                    opsdeck_telemetry::TelemetryError::Invalid(format!(
                        "cannot send demo traffic to {url}: {error} (is the app or `opsdeck serve` running?)"
                    ))
                })?;
                if response.status != 200 {
                    return Err(opsdeck_telemetry::TelemetryError::Invalid(format!(
                        "{url} answered {}: {}",
                        response.status,
                        String::from_utf8_lossy(&response.body)
                    ))
                    .into());
                }
            }
            report.traces += batch as i64;
            left -= batch;
        }
        Ok(report)
    }

    /// Where the OTLP receivers listen (or will, once the background work starts).
    pub fn otlp_addresses(self) -> OtlpAddresses {
        self.deck
            .otlp
            .lock()
            .map(|addresses| addresses.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Changes where the OTLP receivers will listen (before the background work starts).
    pub fn set_otlp_addresses(self, addresses: OtlpAddresses) {
        match self.deck.otlp.lock() {
            Ok(mut current) => *current = addresses,
            Err(poisoned) => *poisoned.into_inner() = addresses,
        }
    }

    /// Traces matching `query`, newest first.
    pub async fn traces(self, query: &TraceQuery) -> Result<Vec<TraceSummary>, DeckError> {
        Ok(self.deck.telemetry.traces(query).await?)
    }

    /// Removes the telemetry `retention` no longer keeps (oldest first).
    pub async fn prune(self, retention: &Retention) -> Result<Pruned, DeckError> {
        let now = opsdeck_core::clock::now_unix_ms().saturating_mul(1_000_000);
        Ok(self.deck.telemetry.prune(retention, now).await?)
    }

    /// The retention job's work: its payload is a [`Retention`].
    pub(crate) async fn run_retention_job(self, payload: &serde_json::Value) -> Result<String, String> {
        let retention: Retention = serde_json::from_value(payload.clone())
            .map_err(|error| format!("the job's retention settings are not readable: {error}"))?;
        let pruned = self.prune(&retention).await.map_err(|error| error.to_string())?;
        // The series store has its own retention (`metrics-retention`).
        Ok(format!(
            "removed {} spans, {} log records and {} metric points",
            pruned.spans, pruned.logs, pruned.metric_points
        ))
    }

    /// Two traces compared span by span (matched by service, operation and occurrence).
    pub async fn compare_traces(
        self,
        before: &str,
        after: &str,
    ) -> Result<Vec<opsdeck_telemetry::SpanComparison>, DeckError> {
        let before = self.deck.telemetry.trace(before).await?;
        let after = self.deck.telemetry.trace(after).await?;
        Ok(opsdeck_telemetry::compare(&before, &after))
    }

    /// Traces slower than the `percentile` of their root operation since `since_unix_nano`.
    pub async fn slow_traces(
        self,
        since_unix_nano: i64,
        percentile: f64,
        limit: i64,
    ) -> Result<Vec<opsdeck_telemetry::SlowTrace>, DeckError> {
        Ok(self.deck.telemetry.slow_traces(since_unix_nano, percentile, limit).await?)
    }

    /// Which service calls which since `since_unix_nano`, with call counts,
    /// error rates and latency percentiles.
    pub async fn service_map(self, since_unix_nano: i64) -> Result<Vec<ServiceEdge>, DeckError> {
        Ok(self.deck.telemetry.service_map(since_unix_nano).await?)
    }

    /// Log records matching `query`, newest first.
    pub async fn logs(self, query: &LogQuery) -> Result<Vec<LogRecord>, DeckError> {
        Ok(self.deck.telemetry.logs(query).await?)
    }

    /// Receivers and the last hour's traces, for the Overview.
    pub async fn summary(self) -> Result<TelemetrySummary, DeckError> {
        let hour_ago = opsdeck_core::clock::now_unix_ms().saturating_sub(3_600_000).saturating_mul(1_000_000);
        let (traces_last_hour, error_traces_last_hour) = self.deck.telemetry.trace_counts(hour_ago).await?;
        let OtlpAddresses { grpc, http } = self.otlp_addresses();
        Ok(TelemetrySummary { grpc, http, traces_last_hour, error_traces_last_hour })
    }

    /// The services seen since `since_unix_nano` with their operations.
    pub async fn services(
        self,
        since_unix_nano: i64,
    ) -> Result<Vec<opsdeck_telemetry::ServiceOperations>, DeckError> {
        Ok(self.deck.telemetry.services(since_unix_nano).await?)
    }

    /// Metric series (name, kind, unit, service) received since `since_unix_nano`.
    pub async fn metric_series(
        self,
        since_unix_nano: i64,
    ) -> Result<Vec<opsdeck_telemetry::MetricSeries>, DeckError> {
        Ok(self.deck.telemetry.metric_series(since_unix_nano).await?)
    }

    /// Metric data points, newest first.
    pub async fn metric_points(
        self,
        name: Option<&str>,
        service: Option<&str>,
        since_unix_nano: i64,
        limit: i64,
    ) -> Result<Vec<opsdeck_telemetry::MetricPoint>, DeckError> {
        Ok(self.deck.telemetry.metric_points(name, service, since_unix_nano, limit).await?)
    }

    /// One trace with its spans and logs.
    pub async fn trace(self, trace_id: &str) -> Result<TraceDetail, DeckError> {
        let spans = self.deck.telemetry.trace(trace_id).await?;
        let trace_id = spans.first().map(|span| span.trace_id.clone()).unwrap_or_default();
        let logs = self.deck.telemetry.trace_logs(&trace_id).await?;
        let critical_path_segments = opsdeck_telemetry::critical_path(&spans);
        let mut critical_path: Vec<String> = Vec::new();
        for segment in &critical_path_segments {
            if !critical_path.contains(&segment.span_id) {
                critical_path.push(segment.span_id.clone());
            }
        }
        let self_time_nano = opsdeck_telemetry::self_times(&spans).into_iter().collect();
        Ok(TraceDetail { trace_id, spans, logs, critical_path_segments, critical_path, self_time_nano })
    }
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::TraceSearchOperation>(),
        entry::<operations::TraceShow>(),
        entry::<operations::TelemetryServices>(),
        entry::<operations::ServiceMap>(),
        entry::<operations::TelemetrySummaryOperation>(),
        entry::<operations::LogSearchOperation>(),
        entry::<operations::TraceCompare>(),
        entry::<operations::TraceSlow>(),
        entry::<operations::TelemetryReceivers>(),
        entry::<operations::TelemetryDemo>(),
    ]
}
