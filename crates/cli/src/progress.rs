//! Progress on stderr for work that takes a while (issuance, renewal,
//! probes, imports, demo traffic): a spinner with the current step when
//! stderr is a terminal (indicatif), plain `… step` lines when it is not, so
//! logs and CI output keep every step and stdout stays the result alone.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// One piece of long work in progress; cleared when dropped.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts showing `message`.
    pub(crate) fn start(message: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            eprintln!("… {message}");
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// Shows the next step.
    pub(crate) fn step(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_owned()),
            None => eprintln!("… {message}"),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
