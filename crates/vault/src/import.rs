//! Files of secrets to import, read into (name, value) pairs: a `.env`
//! file (through the one `.env` reader) or a JSON object. Every name is
//! checked as a secret name and a file with no entry is refused, so an
//! import stores all of a file or nothing.

use zeroize::Zeroizing;

use crate::types::check_name;
use crate::VaultError;

fn invalid(message: String) -> VaultError {
    VaultError::Invalid(message)
}

/// Reads a `.env` file of secrets to import: the vault crate's `.env`
/// reader (the one `opsdeck run --env-file` uses too), then each name
/// checked as a secret name, and at least one entry.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, VaultError> {
    let entries = crate::dotenv::parse_dotenv(text)?;
    if entries.is_empty() {
        return Err(invalid("the file has no NAME=value lines".into()));
    }
    entries
        .into_iter()
        .map(|entry| {
            check_name("secret", &entry.name)
                .map_err(|error| invalid(format!("line {}: {error}", entry.line)))?;
            Ok((entry.name, entry.value))
        })
        .collect()
}

/// Parses a JSON object of names to string values: `{"NAME": "value", …}`.
pub fn parse_json_secrets(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, VaultError> {
    let document: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| invalid(format!("the file is not valid JSON: {error}")))?;
    let serde_json::Value::Object(object) = document else {
        return Err(invalid(
            "expected a JSON object of names to string values, e.g. {\"API_KEY\": \"…\"}".into(),
        ));
    };
    let mut entries = Vec::with_capacity(object.len());
    for (name, value) in object {
        check_name("secret", &name).map_err(|error| invalid(format!("key `{name}`: {error}")))?;
        let serde_json::Value::String(value) = value else {
            return Err(invalid(format!("key `{name}`: the value must be a string")));
        };
        entries.push((name, Zeroizing::new(value)));
    }
    if entries.is_empty() {
        return Err(invalid("the JSON object is empty".into()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_files_parse_as_people_write_them() {
        let text = "# comment\nexport API_KEY=abc123\nDB_URL = \"postgres://u:p@h/db\" # main\nQUOTED='a b # c'\nMULTI=\"line1\\nline2\"\nBARE=value # note\n\n";
        let entries = parse_dotenv(text).unwrap();
        let get = |name: &str| entries.iter().find(|(n, _)| n == name).unwrap().1.as_str().to_owned();
        assert_eq!(get("API_KEY"), "abc123");
        assert_eq!(get("DB_URL"), "postgres://u:p@h/db");
        assert_eq!(get("QUOTED"), "a b # c");
        assert_eq!(get("MULTI"), "line1\nline2");
        assert_eq!(get("BARE"), "value");
    }

    #[test]
    fn bad_dotenv_lines_are_named() {
        let error = parse_dotenv("A=1\nthis is not an assignment\n").unwrap_err().to_string();
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(parse_dotenv("A=\"open\n").unwrap_err().to_string().contains("never closed"));
        assert!(parse_dotenv("A=1\nA=2\n").unwrap_err().to_string().contains("set twice"));
        assert!(parse_dotenv("BAD NAME=1\n").unwrap_err().to_string().contains("line 1"));
        assert!(parse_dotenv("# only comments\n").is_err());
    }

    #[test]
    fn json_imports_take_an_object_of_strings() {
        assert_eq!(parse_json_secrets(r#"{"A": "1", "B": "2"}"#).unwrap().len(), 2);
        assert!(parse_json_secrets(r#"{"A": 1}"#).unwrap_err().to_string().contains("key `A`"));
        assert!(parse_json_secrets("[1,2]").is_err());
        assert!(parse_json_secrets("{\"A\": \"1\"").unwrap_err().to_string().contains("not valid JSON"));
    }
}
