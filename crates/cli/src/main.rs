//! The `opsdeck` command line: a thin adapter over [`opsdeck::Deck`] and its
//! catalogue of operations, in its own crate so the library the app links
//! carries no argument parser.
//!
//! Parsing lives here, one module per command group next to it; `call.rs`
//! reaches every catalogue operation by name. Exit codes follow the CLI
//! contract: 0 success, 1 findings or a failed verification, 2 a usage or
//! input error (with a message naming what was wrong).

mod alerts;
mod api;
mod audit;
mod call;
mod cert;
mod config;
mod dashboards;
mod generated_docs;
mod inject;
mod jobs;
mod notify;
mod progress;
mod scan;
mod secret;
mod serve;
mod status;
mod table;
mod time;
mod traces;
mod vault;
mod words;

/// mimalloc: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opsdeck::{Deck, DeckError, DeckOptions, DATA_DIR_ENV};
use serde::Serialize;

/// OpsDeck: secrets, certificates, configs, telemetry and rate limits in one local control room.
#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about)]
struct Cli {
    /// Directory where OpsDeck keeps its data (default: the platform's data dir).
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// Read the passphrase for keys kept without a keychain from the first line
    /// of stdin (instead of OPSDECK_PASSPHRASE).
    #[arg(long, global = true)]
    passphrase_stdin: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the data dir, the store and its schema version.
    Status,
    /// Vaults: make and list them; members, key slots, export and import.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Secrets in vaults: set, get, list, edit, history, rotate, rollback, import, rm.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Run a command with secrets in its environment.
    Run(inject::RunArgs),
    /// Render a template's `{{ opsdeck://VAULT/NAME }}` placeholders into a file (mode 0600).
    Inject(inject::InjectArgs),
    /// Read and verify the tamper-evident audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Scheduled jobs: list, history, run now, pause, add, remove.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Signed webhook notifications: targets, test sends, the delivery log.
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
    /// Certificates: inventory, probes, ACME issuance and renewal.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Configs: layers with provenance, schema checks, history, rollback.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Traces received over OTLP: list and show.
    #[command(subcommand)]
    Traces(traces::TracesCommand),
    /// Log records received over OTLP, newest first.
    Logs(traces::LogsArgs),
    /// Metric data points received over OTLP (kept for the metrics pages).
    #[command(subcommand)]
    Metrics(traces::MetricsCommand),
    /// Alerts: rules over metrics (P1–P4), what fires, silences.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Send realistic OTLP traffic (a small simulated shop) to a receiver.
    Demo(traces::DemoArgs),
    /// Find hardcoded secrets in files and folders (exit 1 when any are found).
    Scan(scan::ScanArgs),
    /// Run the deck's background work headless (scheduler) until stopped.
    Serve(serve::ServeArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish,
    /// powershell), e.g. `opsdeck completions bash > /etc/bash_completion.d/opsdeck`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `opsdeck man > /usr/local/share/man/man1/opsdeck.1`.
    Man,
    /// Run any operation of the catalogue by name, with its input as
    /// NAME=VALUE fields or --input JSON (`opsdeck call --list` lists them).
    Call(call::CallArgs),
    /// The local HTTP API's tokens.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// Serve MCP over stdin/stdout for a model client, acting as you; secret
    /// values are never revealed unless --allow-reveal.
    Mcp {
        /// Offer the tools that reveal secret values (each reveal audited).
        #[arg(long)]
        allow_reveal: bool,
    },
}

/// How a command's result is printed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Output {
    Text,
    Json,
}

impl Output {
    /// Prints `value` as one JSON document, or `text` for people.
    pub(crate) fn print<T: Serialize>(self, value: &T, text: impl FnOnce(&T) -> String) {
        match self {
            Output::Json => match serde_json::to_string_pretty(value) {
                Ok(json) => println!("{json}"),
                Err(error) => eprintln!("error: could not encode the result as JSON: {error}"),
            },
            Output::Text => print!("{}", text(value)),
        }
    }

    /// Like [`Output::print`], with `json` (another shape of the same
    /// answer, such as Prometheus' document) printed for `--json`.
    pub(crate) fn print_as<T>(self, value: &T, json: &serde_json::Value, text: impl FnOnce(&T) -> String) {
        match self {
            Output::Json => match serde_json::to_string_pretty(json) {
                Ok(json) => println!("{json}"),
                Err(error) => eprintln!("error: could not encode the result as JSON: {error}"),
            },
            Output::Text => print!("{}", text(value)),
        }
    }
}

/// Parses the arguments, runs the command and returns the process exit code.
fn main() -> ExitCode {
    opsdeck_core::child_process::refuse_inspection();
    let cli = Cli::parse();
    let output = if cli.json { Output::Json } else { Output::Text };
    // These two describe the command line itself and never open a data dir.
    let Cli { data_dir, json: _, passphrase_stdin, command } = cli;
    let command = match command {
        Command::Completions { shell } => return generated_docs::completions(shell),
        Command::Man => return generated_docs::man_page(),
        command => command,
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    if !matches!(command, Command::Serve(_)) {
        // One-shot commands do one thing at a time: two connections are plenty.
        opsdeck_core::store::limit_connections(2);
    }
    let mut options = DeckOptions { data_dir, ..DeckOptions::from_env() };
    if passphrase_stdin {
        match read_passphrase_from_stdin() {
            Ok(passphrase) => options.keys.passphrase = Some(passphrase),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        }
    }
    let result = runtime.block_on(async move {
        let deck = std::sync::Arc::new(Deck::open(options).await?);
        let _logs = opsdeck::init_logging(Some(deck.data_dir().path()));
        let result = match command {
            Command::Status => status::run(&deck, output).await,
            Command::Audit(command) => audit::run(&deck, command, output).await,
            Command::Vault(command) => vault::run_vault(&deck, command, output).await,
            Command::Run(args) => inject::run(&deck, args).await,
            Command::Inject(args) => inject::inject(&deck, args).await,
            Command::Secret(command) => secret::run(&deck, command, output).await,
            Command::Jobs(command) => jobs::run(&deck, command, output).await,
            Command::Notify(command) => notify::run(&deck, command, output).await,
            Command::Cert(command) => cert::run(&deck, command, output).await,
            Command::Config(command) => config::run(&deck, command, output).await,
            Command::Traces(command) => traces::run(&deck, command, output).await,
            Command::Logs(args) => traces::logs(&deck, args, output).await,
            Command::Metrics(command) => traces::metrics(&deck, command, output).await,
            Command::Alerts(command) => alerts::run(&deck, command, output).await,
            Command::Demo(args) => traces::demo(&deck, args, output).await,
            Command::Scan(args) => scan::run(&deck, args, output).await,
            Command::Serve(args) => serve::run(&deck, args).await,
            Command::Api(command) => api::run(&deck, command, output).await,
            Command::Call(args) => call::run(&deck, args, output).await,
            // Answered above, before the deck opens.
            Command::Completions { .. } | Command::Man => Ok(ExitCode::SUCCESS),
            Command::Mcp { allow_reveal } => {
                let caller = opsdeck::Caller::local_user_or_assumed("mcp").map_err(DeckError::from);
                match caller {
                    Ok(caller) => opsdeck::mcp::serve_stdio(deck.clone(), caller, allow_reveal)
                        .await
                        .map(|()| ExitCode::SUCCESS),
                    Err(error) => Err(error),
                }
            }
        };
        deck.shutdown().await;
        result
    });
    match result {
        Ok(code) => code,
        Err(error) => report_error(&error, output),
    }
}

/// What an import stored, for people.
pub(crate) fn import_summary(report: &opsdeck::ImportReport) -> String {
    format!(
        "imported {} secrets into {}: {}\n",
        report.imported.len(),
        report.vault,
        report.imported.join(", ")
    )
}

/// An input error with `message` (exit code 2).
/// Who runs this command: the OS user (or, for the superuser only, the
/// identity `OPSDECK_ACT_AS` names, audited as assumed).
/// Runs catalogue operation `O` as the command line's caller: a command
/// builds the operation's input from its flags and presents its output;
/// the rules are the operation's, the same for the app, the API and MCP.
pub(crate) async fn operation<O: opsdeck::catalogue::Operation>(
    deck: &Deck,
    input: O::Input,
) -> Result<O::Output, DeckError> {
    O::run(deck, &cli_caller()?, input).await
}

pub(crate) fn cli_caller() -> Result<opsdeck::Caller, DeckError> {
    Ok(opsdeck::Caller::local_user_or_assumed("cli")?)
}

/// The text of `file`, or of standard input for `-` (an import's input).
pub(crate) fn read_file_or_stdin(file: &std::path::Path) -> Result<String, DeckError> {
    if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|error| input_error(format!("standard input could not be read: {error}")))
    } else {
        std::fs::read_to_string(file)
            .map_err(|error| input_error(format!("{} could not be read: {error}", file.display())))
    }
}

pub(crate) fn input_error(message: String) -> DeckError {
    opsdeck::VaultError::Invalid(message).into()
}

/// The first line of stdin, without its line ending, in a buffer wiped after use.
pub(crate) fn read_passphrase_from_stdin() -> Result<zeroize::Zeroizing<String>, String> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|error| format!("could not read the passphrase from stdin: {error}"))?;
    let passphrase = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if passphrase.is_empty() {
        return Err("--passphrase-stdin was given but stdin had no passphrase; pipe it in, e.g. `pass show opsdeck | opsdeck --passphrase-stdin …`".to_owned());
    }
    Ok(passphrase)
}

/// Prints an error (to stderr, and as JSON on stdout with `--json`) and returns its exit code.
fn report_error(error: &DeckError, output: Output) -> ExitCode {
    eprintln!("error: {error}");
    if let Some(hint) = hint_for(error.code()) {
        eprintln!("hint: {hint}");
    }
    if let Output::Json = output {
        let document = serde_json::json!({ "error": { "code": error.code(), "message": error.to_string() } });
        println!("{document}");
    }
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// What to type next, for errors whose fix is a command: the deck's messages
/// are read in the app, the API and MCP too, so they name no command; the
/// CLI adds the command here.
fn hint_for(code: &str) -> Option<&'static str> {
    match code {
        "value_not_generated" => Some("set the new value with `opsdeck secret set VAULT/NAME --value-stdin`"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
