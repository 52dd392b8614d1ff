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
}

pub(crate) async fn run(deck: &std::sync::Arc<Deck>, args: ServeArgs) -> Result<ExitCode, DeckError> {
    let config = SchedulerConfig { lease: Duration::from_secs(args.job_lease), ..SchedulerConfig::default() };
    deck.start_background(config).await?;
    eprintln!("opsdeck serve: running on {} (Ctrl+C to stop)", deck.data_dir().path().display());
    wait_for_stop_signal().await;
    eprintln!("opsdeck serve: stopping; running jobs are asked to finish");
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
