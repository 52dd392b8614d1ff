//! A command of the Scanning page that only means something on this
//! desktop: opening a finding's file at its line in the person's editor.
//!
//! The file is taken from the findings store, never from the page, and it
//! must be a regular, non-executable file inside its remembered target (the
//! store is shared: a finding written there by someone else must not make
//! the app open, or run, anything else). The editor is `OPSDECK_EDITOR`
//! (a program and its arguments, given `FILE:LINE:COLUMN`, as `code -g` or
//! `zed` take it), else VS Code's `code -g` when it is installed, else the
//! desktop's default application for the file (`xdg-open FILE`). It runs
//! without any secret of ours in its environment.

use std::path::{Path, PathBuf};

use opsdeck::scan::findings::FindingsQuery;
use tauri::State;

use crate::{AppState, CommandError};

fn refused(message: String) -> CommandError {
    CommandError { code: "open_finding".into(), message }
}

/// Opens the finding `fingerprint` of `target` in the editor; returns what
/// it ran.
#[tauri::command]
pub async fn open_finding(
    state: State<'_, AppState>,
    target: String,
    fingerprint: String,
) -> Result<String, CommandError> {
    let deck = state.deck()?;
    let targets = deck.scan_targets().await?;
    let Some(remembered) = targets.iter().find(|candidate| candidate.settings.path == target) else {
        return Err(refused(format!("{target} is not a remembered scan target")));
    };
    let query = FindingsQuery { target: Some(target.clone()), state: None };
    let findings = deck.scan_findings(&query).await?;
    let Some(stored) = findings.iter().find(|stored| stored.finding.fingerprint == fingerprint) else {
        return Err(refused(format!("{target} has no finding {fingerprint}; scan it again")));
    };
    let finding = &stored.finding;
    let file =
        checked_file(Path::new(&remembered.settings.path), Path::new(&finding.path)).map_err(|why| {
            let hint = finding.commit.as_ref().map_or(String::new(), |commit| {
                format!(" (it was found in commit {})", &commit.id[..commit.id.len().min(12)])
            });
            refused(format!("{} cannot be opened: {why}{hint}", finding.path))
        })?;
    let place = format!("{}:{}:{}", file.display(), finding.line, finding.column);
    let (program, args) = editor_command(&file, &place);
    let mut command = tokio::process::Command::new(&program);
    command.args(&args).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
    opsdeck_core::child_process::without_our_secrets(&mut command);
    command.spawn().map_err(|error| {
        refused(format!("the editor `{program}` could not be started: {error}; set OPSDECK_EDITOR"))
    })?;
    Ok(format!("{program} {}", args.join(" ")))
}

/// `file` resolved, if it is a regular, non-executable file inside `root`.
fn checked_file(root: &Path, file: &Path) -> Result<PathBuf, String> {
    let metadata =
        std::fs::symlink_metadata(file).map_err(|error| format!("it is not there any more ({error})"))?;
    if !metadata.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    use std::os::unix::fs::PermissionsExt as _;
    if metadata.permissions().mode() & 0o111 != 0 {
        return Err("it is executable, and is not opened from here".to_owned());
    }
    let root = std::fs::canonicalize(root).map_err(|error| format!("its folder cannot be read ({error})"))?;
    let resolved = std::fs::canonicalize(file).map_err(|error| format!("it cannot be read ({error})"))?;
    if !resolved.starts_with(&root) {
        return Err(format!("it is outside {}", root.display()));
    }
    Ok(resolved)
}

/// The editor to run and its arguments.
fn editor_command(file: &Path, place: &str) -> (String, Vec<String>) {
    if let Some(configured) = std::env::var("OPSDECK_EDITOR").ok().filter(|text| !text.trim().is_empty()) {
        let mut words = configured.split_whitespace().map(str::to_owned);
        let program = words.next().unwrap_or_default();
        let mut args: Vec<String> = words.collect();
        args.push(place.to_owned());
        return (program, args);
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|folder| folder.join(name).is_file()))
    };
    if on_path("code") {
        return ("code".to_owned(), vec!["-g".to_owned(), place.to_owned()]);
    }
    ("xdg-open".to_owned(), vec![file.display().to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_file_inside_the_target_is_opened() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shop");
        std::fs::create_dir_all(&root).unwrap();
        let file = root.join("app.env");
        std::fs::write(&file, "TOKEN=x\n").unwrap();
        assert_eq!(checked_file(&root, &file).unwrap(), std::fs::canonicalize(&file).unwrap());

        let outside = dir.path().join("other.env");
        std::fs::write(&outside, "x").unwrap();
        assert!(checked_file(&root, &outside).unwrap_err().contains("outside"));
        let through_link = root.join("link.env");
        std::os::unix::fs::symlink(&outside, &through_link).unwrap();
        assert!(checked_file(&root, &through_link).unwrap_err().contains("not a regular file"));
        let script = root.join("deploy.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(checked_file(&root, &script).unwrap_err().contains("executable"));
        assert!(checked_file(&root, &root.join("gone.env")).unwrap_err().contains("not there"));
    }

    #[test]
    fn the_editor_is_given_the_file_line_and_column() {
        let (program, args) = editor_command(Path::new("/src/a.env"), "/src/a.env:3:7");
        // Without OPSDECK_EDITOR: VS Code when installed, else the desktop's opener.
        if program == "code" {
            assert_eq!(args, ["-g", "/src/a.env:3:7"]);
        } else if program == "xdg-open" {
            assert_eq!(args, ["/src/a.env"]);
        } else {
            assert_eq!(args.last().map(String::as_str), Some("/src/a.env:3:7"), "{program}");
        }
    }
}
