//! `opsdeck serve`: the deck's background work, headless, until SIGINT/SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use opsdeck::{Deck, DeckError, SchedulerConfig};

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Seconds a job's lease lasts without renewal: how soon another process
    /// takes over the jobs of one that died.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    job_lease: u64,
    /// Where the OTLP/gRPC receiver listens (`off` for none; default
    /// `OPSDECK_OTLP_GRPC`, else 127.0.0.1:4317).
    #[arg(long, value_name = "ADDR")]
    otlp_grpc: Option<String>,
    /// Where the OTLP/HTTP receiver listens (`off` for none; default
    /// `OPSDECK_OTLP_HTTP`, else 127.0.0.1:4318).
    #[arg(long, value_name = "ADDR")]
    otlp_http: Option<String>,
    /// Serve the HTTP API (every request needs a token from `opsdeck api
    /// token create`) on this address, e.g. 127.0.0.1:4380; off by default.
    #[arg(long, value_name = "ADDR")]
    api: Option<std::net::SocketAddr>,
    /// Serve Prometheus' query API (`/api/v1/query`, `query_range`,
    /// `series`, `labels`) on this address, e.g. 127.0.0.1:9091, for Grafana
    /// and other Prometheus clients; off by default. On loopback no token is
    /// needed; beyond it every request needs one.
    #[arg(long, value_name = "ADDR")]
    prometheus_api: Option<std::net::SocketAddr>,
}

pub(crate) async fn run(deck: &std::sync::Arc<Deck>, args: ServeArgs) -> Result<ExitCode, DeckError> {
    let config = SchedulerConfig { lease: Duration::from_secs(args.job_lease), ..SchedulerConfig::default() };
    let mut otlp = deck.telemetry().otlp_addresses();
    if let Some(grpc) = &args.otlp_grpc {
        otlp.grpc = opsdeck::address_setting(grpc);
    }
    if let Some(http) = &args.otlp_http {
        otlp.http = opsdeck::address_setting(http);
    }
    deck.telemetry().set_otlp_addresses(otlp.clone());
    deck.start_background(config).await?;
    let shown = |address: &Option<String>| address.clone().unwrap_or_else(|| "off".to_owned());
    eprintln!("opsdeck serve: OTLP gRPC {}, HTTP {}", shown(&otlp.grpc), shown(&otlp.http));
    let stop_api = tokio_util::sync::CancellationToken::new();
    let api = match args.api {
        Some(address) => {
            let (bound, task) = opsdeck::http_api::serve(deck.clone(), address, stop_api.clone()).await?;
            eprintln!("opsdeck serve: HTTP API on http://{bound} (OpenAPI at /openapi.json)");
            Some(task)
        }
        None => None,
    };
    let prometheus_api = match args.prometheus_api {
        Some(address) => {
            let (bound, task) =
                opsdeck::metrics::prometheus_api::serve(deck.clone(), address, stop_api.clone()).await?;
            eprintln!("opsdeck serve: Prometheus query API on http://{bound}/api/v1/query");
            Some(task)
        }
        None => None,
    };
    eprintln!("opsdeck serve: running on {} (Ctrl+C to stop)", deck.data_dir().path().display());
    wait_for_stop_signal().await;
    eprintln!("opsdeck serve: stopping; running jobs are asked to finish");
    stop_api.cancel();
    for task in [api, prometheus_api].into_iter().flatten() {
        if let Err(error) = task.await {
            tracing::warn!(%error, "an HTTP listener did not stop cleanly");
        }
    }
    // The caller shuts the deck down: tasks first, newest first, then the store.
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
