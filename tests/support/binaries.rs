//! Building and finding the workspace's own binaries.
//!
//! This test crate is a separate package, so cargo does not hand it the path of
//! the `opsdeck` binary; it builds the binary itself (once per test process)
//! so that a test never runs a stale build.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one level below the workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Runs `cargo build` for one binary and returns its path.
pub fn build_binary(package: &str, binary: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", package, "--bin", binary])
        .status()
        .unwrap_or_else(|error| panic!("could not run cargo build for {binary}: {error}"));
    assert!(status.success(), "cargo build -p {package} --bin {binary} failed");
    let path = target_dir().join("debug").join(binary);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// The freshly built `opsdeck` command line.
pub fn opsdeck_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_binary("opsdeck-cli", "opsdeck")).clone()
}

/// A `Command` for the `opsdeck` binary with a clean OpsDeck environment.
pub fn opsdeck_command() -> Command {
    let mut command = Command::new(opsdeck_binary());
    for variable in ["OPSDECK_DATA_DIR", "OPSDECK_DATABASE_URL", "OPSDECK_PASSPHRASE", "OPSDECK_LOG"] {
        command.env_remove(variable);
    }
    command
}
