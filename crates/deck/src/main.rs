//! The `opsdeck` command line: a thin adapter over [`opsdeck::Deck`].
//!
//! Parsing lives in `cli/mod.rs`, one module per command group next to it.
//! Exit codes follow the CLI contract: 0 success, 1 findings or a failed
//! verification, 2 a usage or input error (with a message naming what was wrong).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
