//! `opsdeck jobs …`: the scheduler's jobs from the command line.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use opsdeck::{Deck, DeckError, Schedule};

use opsdeck::catalogue::jobs::{
    JobList, JobRemove, JobRunNow, JobRuns, JobRunsInput, JobSetPaused, NamedJob, PauseInput,
};
use opsdeck::catalogue::Nothing;

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum JobsCommand {
    /// List jobs with their next run and last outcome.
    List,
    /// Show a job's latest attempts, newest first.
    Runs {
        /// The job's name.
        name: String,
        /// How many attempts to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Make a job due now (a running `opsdeck serve` or app picks it up).
    Run {
        /// The job's name.
        name: String,
    },
    /// Stop running a job until it is resumed.
    Pause {
        /// The job's name.
        name: String,
    },
    /// Run a paused job again on its schedule.
    Resume {
        /// The job's name.
        name: String,
    },
    /// Add (or change) a job that runs a shell command on a schedule.
    #[command(group(clap::ArgGroup::new("when").required(true).args(["every", "cron", "once"])))]
    Add {
        /// A name for the job.
        name: String,
        /// How often: a number with s, m, h or d (e.g. 30s, 15m, 6h, 1d).
        #[arg(long, value_parser = parse_interval)]
        every: Option<Duration>,
        /// A cron expression in local time, e.g. "0 3 * * *" (03:00 daily).
        #[arg(long)]
        cron: Option<String>,
        /// Run once, as soon as possible.
        #[arg(long)]
        once: bool,
        /// The command, run with `sh -c`; exit code 0 means success.
        #[arg(long)]
        command: String,
        /// Let every host sharing the store run it (by default only this host does).
        #[arg(long)]
        run_anywhere: bool,
    },
    /// Delete a job and its history.
    Rm {
        /// The job's name.
        name: String,
    },
}

/// Parses `30s`, `15m`, `6h`, `1d` (at least one second).
pub(crate) fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| format!("`{text}` is not an interval like 30s, 15m, 6h or 1d"))?;
    let seconds = match unit {
        "s" | "" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => return Err(format!("unknown unit `{unit}` in `{text}`; use s, m, h or d")),
    };
    if seconds == 0 {
        return Err("the interval must be at least 1s".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

pub(crate) async fn run(deck: &Deck, command: JobsCommand, output: Output) -> Result<ExitCode, DeckError> {
    match command {
        JobsCommand::List => {
            let jobs = operation::<JobList>(deck, Nothing {}).await?;
            output.print(&jobs, |jobs| {
                if jobs.is_empty() {
                    return "No jobs yet. `opsdeck serve` (or the app) adds the built-in ones; `opsdeck jobs add` adds yours.\n".to_owned();
                }
                crate::table::table(
                    ["NAME", "KIND", "SCHEDULE", "STATE", "LAST RUN"],
                    jobs.iter().map(|job| {
                        let state = if job.completed_at_unix_ms.is_some() {
                            "done"
                        } else if job.paused {
                            "paused"
                        } else if job.running_on.is_some() {
                            "running"
                        } else {
                            "scheduled"
                        };
                        let last = job.last_run.as_ref().map_or("never run", |run| run.outcome.as_str());
                        [job.name.clone(), job.kind.clone(), job.schedule.clone(), state.to_owned(), last.to_owned()]
                    }),
                )
            });
        }
        JobsCommand::Runs { name, limit } => {
            let runs =
                operation::<JobRuns>(deck, JobRunsInput { name: name.clone(), limit: Some(limit) }).await?;
            output.print(&runs, |runs| {
                let mut text = String::new();
                for run in runs {
                    let _ = writeln!(
                        text,
                        "#{:<6} due {} attempt {} {:<10} {}",
                        run.id, run.due_at_unix_ms, run.attempt, run.outcome, run.message
                    );
                }
                if text.is_empty() {
                    text = format!("`{name}` has not run yet.\n");
                }
                text
            });
        }
        JobsCommand::Run { name } => {
            operation::<JobRunNow>(deck, NamedJob { name: name.clone() }).await?;
            eprintln!("`{name}` is due now");
        }
        JobsCommand::Pause { name } => {
            operation::<JobSetPaused>(deck, PauseInput { name: name.clone(), paused: true }).await?;
            eprintln!("`{name}` is paused");
        }
        JobsCommand::Resume { name } => {
            operation::<JobSetPaused>(deck, PauseInput { name: name.clone(), paused: false }).await?;
            eprintln!("`{name}` is resumed");
        }
        JobsCommand::Add { name, every, cron, once, command, run_anywhere } => {
            let schedule = match (every, cron) {
                (Some(every), _) => Schedule::Every(every),
                (None, Some(cron)) => Schedule::Cron(cron),
                (None, None) if once => Schedule::Once,
                (None, None) => unreachable!("clap requires one of --every, --cron, --once"),
            };
            let described = schedule.describe();
            deck.jobs().add_command(&super::cli_caller()?, &name, schedule, &command, run_anywhere).await?;
            let hosts = if run_anywhere {
                "on any host sharing the store".to_owned()
            } else {
                format!("on this host ({})", opsdeck_core::definitions::this_host())
            };
            eprintln!("`{name}` runs {described}, {hosts}");
        }
        JobsCommand::Rm { name } => {
            operation::<JobRemove>(deck, NamedJob { name: name.clone() }).await?;
            eprintln!("`{name}` was removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units_and_reject_nonsense() {
        assert_eq!(parse_interval("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_interval("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_interval("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5w").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
