//! `opsdeck run` and `opsdeck inject`: secrets into a process or a file.

use std::path::{Path, PathBuf};

use super::input_error;
use std::process::ExitCode;

use opsdeck::{Deck, DeckError};

/// Arguments of `opsdeck run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// NAME=VALUE for the command's environment; a VALUE of the form
    /// opsdeck://VAULT/SECRET[#N] is replaced by the secret's value. Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// A file of NAME=VALUE lines (like .env), references allowed as values.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// A config environment, PROJECT/ENV: its effective config as
    /// PREFIX_A__B variables, secret references resolved now. `--env-file`
    /// and `--env` are applied after it (they win).
    #[arg(long, value_name = "PROJECT/ENV")]
    config: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

/// Arguments of `opsdeck inject`.
#[derive(Debug, clap::Args)]
pub(crate) struct InjectArgs {
    /// The template: `{{ opsdeck://VAULT/NAME }}` placeholders are replaced.
    #[arg(short = 'i', long = "input", value_name = "TEMPLATE")]
    input: PathBuf,
    /// Where to write the result (mode 0600, replaced atomically).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// Replace OUT even when OpsDeck did not write it, or it changed since.
    #[arg(long)]
    force: bool,
}

/// An environment variable name as `run` accepts it: letters, digits and `_`.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn split_assignment(text: &str, origin: &str) -> Result<(String, String), DeckError> {
    let (name, value) = text
        .split_once('=')
        .filter(|(name, _)| is_variable_name(name.trim()))
        .ok_or_else(|| input_error(format!("{origin}: `{text}` is not NAME=VALUE")))?;
    let value = value.trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|rest| rest.strip_suffix('\'')))
        .unwrap_or(value);
    Ok((name.trim().to_owned(), unquoted.to_owned()))
}

/// Reads `--env-file` with the same `.env` reader `secret import` uses;
/// names must be environment variable names.
fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, DeckError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| input_error(format!("cannot read the env file {}: {error}", path.display())))?;
    let entries = opsdeck_vault::dotenv::parse_dotenv(&text)
        .map_err(|error| input_error(format!("{}: {error}", path.display())))?;
    entries
        .into_iter()
        .map(|entry| {
            if !is_variable_name(&entry.name) {
                return Err(input_error(format!(
                    "{} line {}: `{}` is not an environment variable name (letters, digits, _)",
                    path.display(),
                    entry.line,
                    entry.name
                )));
            }
            Ok((entry.name, entry.value.to_string()))
        })
        .collect()
}

pub(crate) async fn run(deck: &Deck, args: RunArgs) -> Result<ExitCode, DeckError> {
    let mut variables = match &args.env_file {
        Some(path) => read_env_file(path)?,
        None => Vec::new(),
    };
    for assignment in &args.env {
        variables.push(split_assignment(assignment, "--env")?);
    }
    let caller = super::cli_caller()?;
    // Every reference is resolved (and each reveal audited) before the command starts.
    let mut resolved = match &args.config {
        Some(target) => {
            let (project, env) = target
                .split_once('/')
                .filter(|(project, env)| !project.is_empty() && !env.is_empty())
                .ok_or_else(|| {
                    input_error(format!("--config takes PROJECT/ENV (like shop/prod), not `{target}`"))
                })?;
            deck.configs().environment(&caller, project, env).await?
        }
        None => Vec::new(),
    };
    resolved.extend(deck.vaults().resolve_environment(&caller, &variables).await?);
    let (program, arguments) =
        args.command.split_first().ok_or_else(|| input_error("no command given after --".into()))?;
    let mut command = tokio::process::Command::new(program);
    // The user's environment, without the variables that unlock the deck.
    opsdeck_core::child_process::without_our_secrets(&mut command);
    let mut child = command
        .args(arguments)
        .envs(resolved.iter().map(|(name, value)| (name.as_str(), value.as_str())))
        .spawn()
        .map_err(|error| input_error(format!("cannot start `{program}`: {error}")))?;
    drop(resolved);
    let status = wait_forwarding_signals(&mut child)
        .await
        .map_err(|error| input_error(format!("waiting for `{program}`: {error}")))?;
    Ok(exit_code_of(status))
}

#[cfg(unix)]
async fn wait_forwarding_signals(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    loop {
        let name = tokio::select! {
            status = child.wait() => return status,
            _ = interrupt.recv() => "INT",
            _ = terminate.recv() => "TERM",
            _ = hangup.recv() => "HUP",
        };
        // Pass the signal on; the command decides how to end, and its exit code is ours.
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status();
        }
    }
}

#[cfg(not(unix))]
async fn wait_forwarding_signals(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    child.wait().await
}

fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    ExitCode::from(1)
}

pub(crate) async fn inject(deck: &Deck, args: InjectArgs) -> Result<ExitCode, DeckError> {
    let template = std::fs::read_to_string(&args.input).map_err(|error| {
        input_error(format!("cannot read the template {}: {error}", args.input.display()))
    })?;
    let rendered = deck.vaults().render_template(&super::cli_caller()?, &template).await?;
    deck.write_private_output(&args.output, rendered.as_bytes(), args.force).await?;
    eprintln!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
