//! Shell completions and the man page, generated from the same clap
//! definitions that parse the arguments, so they never drift from them.
//! Neither opens the data dir.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// Writes `shell`'s completion script for `opsdeck` to stdout.
pub(crate) fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    // Into memory first: a closed stdout (`| head`) is an error to report,
    // not a panic inside the generator.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "opsdeck", &mut script);
    write_out(&script, "the completion script")
}

fn write_out(bytes: &[u8], what: &str) -> ExitCode {
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): nothing more to say.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: could not write {what}: {error}");
            ExitCode::from(2)
        }
    }
}

/// Writes the man page (roff, section 1) to stdout: the command, its global
/// options and every subcommand with its own options.
pub(crate) fn man_page() -> ExitCode {
    let command = Cli::command();
    let mut page = Vec::new();
    let rendered = clap_mangen::Man::new(command.clone()).render(&mut page).and_then(|()| {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            write_subcommand(&mut page, "opsdeck", sub)?;
        }
        Ok(())
    });
    match rendered {
        Ok(()) => write_out(&page, "the man page"),
        Err(error) => {
            eprintln!("error: could not render the man page: {error}");
            ExitCode::from(2)
        }
    }
}

/// A section for one subcommand (and, inside it, its subcommands).
fn write_subcommand(page: &mut Vec<u8>, parent: &str, command: &clap::Command) -> std::io::Result<()> {
    let name = format!("{parent} {}", command.get_name());
    writeln!(page, ".SH \"{}\"", name.to_uppercase())?;
    let mut section = Vec::new();
    let man = clap_mangen::Man::new(command.clone().bin_name(name.clone()));
    man.render_synopsis_section(&mut section)?;
    man.render_description_section(&mut section)?;
    if command.get_arguments().any(|argument| !argument.is_hide_set()) {
        man.render_options_section(&mut section)?;
    }
    // Each part opens with its own `.SH`; nest them as subsections.
    let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
    page.extend_from_slice(text.as_bytes());
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_subcommand(page, &name, sub)?;
    }
    Ok(())
}
