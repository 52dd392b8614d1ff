//! OpsDeck's own logs.
//!
//! Two outputs: plain text on stderr for the person at the terminal (warnings
//! and errors unless `OPSDECK_LOG` asks for more), and JSON lines in
//! `<data dir>/logs/opsdeck.YYYY-MM-DD.log` (info and up, rotated daily, the
//! last 14 days kept) for tools. Every line logged inside a user action
//! carries that action's `correlation_id` and `actor` (see [`Caller::span`]).
//! Secret values are never logged: types holding them redact their `Debug`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Where log files go inside the data dir.
pub const LOG_DIR: &str = "logs";

/// Keeps the file writer alive; dropping it flushes what is buffered. Hold it
/// until the process ends.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// Sends logs to stderr and, when `data_dir` is given, to the JSON log file
/// there. Only the first call in a process takes effect.
pub fn init_logging(data_dir: Option<&Path>) -> LogGuard {
    // Without OPSDECK_LOG, a plain level filter is all the terminal needs.
    let terminal = match EnvFilter::try_from_env("OPSDECK_LOG") {
        Ok(filter) => {
            tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter).boxed()
        }
        // Warnings, except sqlx's "slow statement" notes: a statement waiting
        // for another process's lock is expected, and the error the user
        // gets if it waits too long says so in our words (the JSON log file
        // keeps those notes).
        Err(_) => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(EnvFilter::new("warn,sqlx=error"))
            .boxed(),
    };

    let (file_layer, guard) = match data_dir.map(open_log_file) {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_filter = EnvFilter::try_from_env("OPSDECK_FILE_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,reqwest=warn"));
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(writer)
                .with_filter(file_filter);
            (Some(layer), Some(guard))
        }
        Some(Err(error)) => {
            eprintln!(
                "warning: OpsDeck's log file cannot be written ({error}); logging to the terminal only"
            );
            (None, None)
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry().with(terminal).with(file_layer).try_init();
    LogGuard { _file: guard }
}

fn open_log_file(data_dir: &Path) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    std::fs::create_dir_all(data_dir.join(LOG_DIR)).map_err(|error| error.to_string())?;
    tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("opsdeck")
        .filename_suffix("log")
        .max_log_files(14)
        .build(data_dir.join(LOG_DIR))
        .map_err(|error| error.to_string())
}
