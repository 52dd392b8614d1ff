//! What a scan needs from git, through the `git` command (the user's own,
//! with their configuration, and without any secret of ours in its
//! environment): a repository's staged files, read from the index in one
//! `git cat-file --batch`, and where its pre-commit hook goes.

use std::path::{Path, PathBuf};

use opsdeck_scan::ScanError;
use tokio::io::AsyncWriteExt;

/// `git ARGS` in `dir`; its standard output, or what git said.
async fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, ScanError> {
    let mut command = tokio::process::Command::new("git");
    command.arg("-C").arg(dir).args(args).stdin(std::process::Stdio::null());
    opsdeck_core::child_process::without_our_secrets(&mut command);
    let output = command
        .output()
        .await
        .map_err(|error| ScanError::Input(format!("git could not be run (is it installed?): {error}")))?;
    if !output.status.success() {
        return Err(ScanError::Input(format!(
            "git {} in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// The top folder of the repository holding `dir`.
pub(crate) async fn repository_root(dir: &Path) -> Result<PathBuf, ScanError> {
    let root = git(dir, &["rev-parse", "--show-toplevel"])
        .await
        .map_err(|_| ScanError::Input(format!("{} is not inside a git repository", dir.display())))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&root).trim()))
}

/// The files staged for the next commit (added, copied, modified or
/// renamed), each with its path below `root` and its staged contents.
pub(crate) async fn staged_files(root: &Path) -> Result<Vec<(String, Vec<u8>)>, ScanError> {
    let names = git(root, &["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"]).await?;
    let names: Vec<String> = names
        .split(|byte| *byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        // `cat-file --batch` reads one name a line.
        .filter(|name| !name.contains('\n'))
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut command = tokio::process::Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    opsdeck_core::child_process::without_our_secrets(&mut command);
    let mut child = command
        .spawn()
        .map_err(|error| ScanError::Input(format!("git could not be run (is it installed?): {error}")))?;
    let mut input =
        child.stdin.take().ok_or_else(|| ScanError::Input("git's input could not be opened".to_owned()))?;
    let request: String = names.iter().map(|name| format!(":{name}\n")).collect();
    // Written while git's answer is read, so neither side waits on a full pipe.
    let writer = tokio::spawn(async move {
        let written = input.write_all(request.as_bytes()).await;
        drop(input);
        written
    });
    let output = child
        .wait_with_output()
        .await
        .map_err(|error| ScanError::Input(format!("git cat-file failed: {error}")))?;
    let _ = writer.await;
    if !output.status.success() {
        return Err(ScanError::Input(format!(
            "git cat-file failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    parse_batch(&names, &output.stdout)
}

/// Splits `git cat-file --batch` output into each name's contents.
fn parse_batch(names: &[String], mut output: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ScanError> {
    let cut = || ScanError::Input("git cat-file's answer was cut short".to_owned());
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let end = output.iter().position(|byte| *byte == b'\n').ok_or_else(cut)?;
        let header = String::from_utf8_lossy(&output[..end]).into_owned();
        output = &output[end + 1..];
        let mut fields = header.split(' ');
        let (Some(_object), Some(kind), Some(size)) = (fields.next(), fields.next(), fields.next()) else {
            // `<name> missing`: a submodule or a file gone from the index.
            continue;
        };
        let size: usize = size.parse().map_err(|_| cut())?;
        if output.len() < size + 1 {
            return Err(cut());
        }
        if kind == "blob" {
            files.push((name.clone(), output[..size].to_vec()));
        }
        output = &output[size + 1..];
    }
    Ok(files)
}

/// Where the repository's pre-commit hook goes (honouring `core.hooksPath`).
pub(crate) async fn pre_commit_hook_path(root: &Path) -> Result<PathBuf, ScanError> {
    let path = git(root, &["rev-parse", "--git-path", "hooks/pre-commit"]).await?;
    let path = PathBuf::from(String::from_utf8_lossy(&path).trim());
    Ok(if path.is_absolute() { path } else { root.join(path) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_answer_is_split_by_its_sizes() {
        let names = vec!["a.txt".to_owned(), "sub".to_owned(), "b.env".to_owned()];
        let output = b"1111 blob 5\nhello\n:sub missing\n2222 blob 3\nx=1\n";
        let files = parse_batch(&names, output).unwrap();
        assert_eq!(files, [("a.txt".to_owned(), b"hello".to_vec()), ("b.env".to_owned(), b"x=1".to_vec())]);
        assert!(parse_batch(&names, b"1111 blob 50\nhello\n").is_err());
    }
}
