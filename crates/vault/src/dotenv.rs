//! Reading `.env` files: one reader for `secret import` and `opsdeck run
//! --env-file`, so a file means the same to both.

use zeroize::Zeroizing;

use crate::VaultError;

/// One `NAME=value` line.
pub struct DotenvEntry {
    /// Its line number (1-based), for messages.
    pub line: usize,
    /// The name.
    pub name: String,
    /// The value, unquoted and unescaped.
    pub value: Zeroizing<String>,
}

fn invalid(message: String) -> VaultError {
    VaultError::Invalid(message)
}

/// Parses a `.env` file: `NAME=value` lines, optional `export `, `#`
/// comments, blank lines, values in double quotes (with `\n`, `\"`, `\\`
/// escapes), single quotes (literal) or bare (trimmed; ` #` starts a comment).
pub fn parse_dotenv(text: &str) -> Result<Vec<DotenvEntry>, VaultError> {
    let mut entries: Vec<DotenvEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
        let Some((name, rest)) = line.split_once('=') else {
            return Err(invalid(format!("line {number}: expected NAME=value")));
        };
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "line {number}: `{name}` is not a name (NAME=value, no spaces in NAME)"
            )));
        }
        let rest = rest.trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = Zeroizing::new(String::new());
            let mut chars = quoted.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some(other) => value.push(other),
                        None => break,
                    },
                    other => value.push(other),
                }
            }
            let trailing = chars.as_str().trim();
            if !closed {
                return Err(invalid(format!(
                    "line {number}: the double quote after {name}= is never closed"
                )));
            }
            if !(trailing.is_empty() || trailing.starts_with('#')) {
                return Err(invalid(format!("line {number}: unexpected text after the closing quote")));
            }
            value
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            let Some((value, trailing)) = quoted.split_once('\'') else {
                return Err(invalid(format!(
                    "line {number}: the single quote after {name}= is never closed"
                )));
            };
            let trailing = trailing.trim();
            if !(trailing.is_empty() || trailing.starts_with('#')) {
                return Err(invalid(format!("line {number}: unexpected text after the closing quote")));
            }
            Zeroizing::new(value.to_owned())
        } else {
            let bare = rest.split(" #").next().unwrap_or_default().trim();
            Zeroizing::new(bare.to_owned())
        };
        if entries.iter().any(|seen| seen.name == name) {
            return Err(invalid(format!("line {number}: {name} is set twice")));
        }
        entries.push(DotenvEntry { line: number, name: name.to_owned(), value });
    }
    Ok(entries)
}
