//! Writing an effective config out as YAML, TOML, JSON or `.env` lines.
//!
//! Secret references (`opsdeck://VAULT/NAME`) are strings here; the deck
//! resolves them just before rendering, never in storage or history.

use crate::ConfigError;

/// An output format of `config render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    /// YAML (strings always quoted, so nothing changes type on the way back).
    Yaml,
    /// TOML (no nulls: a null is an error naming the key).
    Toml,
    /// JSON, pretty.
    Json,
    /// `PREFIX_A__B=value` lines, as the env layer reads them.
    Env,
}

impl RenderFormat {
    /// Reads `yaml`, `toml`, `json` or `env`.
    pub fn parse(text: &str) -> Result<RenderFormat, ConfigError> {
        match text {
            "yaml" | "yml" => Ok(RenderFormat::Yaml),
            "toml" => Ok(RenderFormat::Toml),
            "json" => Ok(RenderFormat::Json),
            "env" => Ok(RenderFormat::Env),
            other => {
                Err(ConfigError::Invalid(format!("unknown format {other:?}; use yaml, toml, json or env")))
            }
        }
    }
}

/// Writes `value` (the effective config as JSON) in `format`; `prefix` names
/// the variables of the `env` format.
pub fn render(value: &serde_json::Value, format: RenderFormat, prefix: &str) -> Result<String, ConfigError> {
    match format {
        RenderFormat::Json => serde_json::to_string_pretty(value)
            .map(|mut text| {
                text.push('\n');
                text
            })
            .map_err(|error| ConfigError::Invalid(error.to_string())),
        RenderFormat::Yaml => {
            let mut out = String::new();
            yaml(value, 0, &mut out);
            Ok(out)
        }
        RenderFormat::Toml => {
            if let Some(path) = null_path(value, String::new()) {
                return Err(ConfigError::Invalid(format!(
                    "{path} is null, which TOML cannot write; render as yaml or json"
                )));
            }
            toml::to_string_pretty(value)
                .map_err(|error| ConfigError::Invalid(format!("cannot write TOML: {error}")))
        }
        RenderFormat::Env => {
            let mut lines = Vec::new();
            env_lines(value, prefix, &mut lines);
            Ok(lines.into_iter().map(|line| line + "\n").collect())
        }
    }
}

fn null_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::Null => Some(if path.is_empty() { "the config".to_owned() } else { path }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, child)| {
            null_path(child, if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
        }),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, child)| null_path(child, format!("{path}[{index}]")))
        }
        _ => None,
    }
}

fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !matches!(key, "true" | "false" | "null" | "~" | "yes" | "no")
        && key.parse::<f64>().is_err();
    if plain {
        key.to_owned()
    } else {
        serde_json::Value::String(key.to_owned()).to_string()
    }
}

fn yaml_scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => serde_json::Value::String(text.clone()).to_string(),
        serde_json::Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

fn yaml(value: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match value {
        serde_json::Value::Object(map) if map.is_empty() => out.push_str(&format!("{pad}{{}}\n")),
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match child {
                    serde_json::Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", yaml_key(key)));
                        yaml(child, indent + 1, out);
                    }
                    serde_json::Value::Array(items) if !items.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", yaml_key(key)));
                        yaml(child, indent + 1, out);
                    }
                    serde_json::Value::Array(_) => out.push_str(&format!("{pad}{}: []\n", yaml_key(key))),
                    serde_json::Value::Object(_) => out.push_str(&format!("{pad}{}: {{}}\n", yaml_key(key))),
                    scalar => out.push_str(&format!("{pad}{}: {}\n", yaml_key(key), yaml_scalar(scalar))),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                match item {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        // Containers in lists are written in flow style (JSON is YAML).
                        out.push_str(&format!("{pad}- {item}\n"));
                    }
                    scalar => out.push_str(&format!("{pad}- {}\n", yaml_scalar(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

/// `PREFIX_TOP__NESTED__KEY=value`: one `_` after the prefix, `__` below.
fn env_lines(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in env_pairs(value, prefix) {
        out.push(if value.is_empty() { format!("{name}=") } else { format!("{name}={}", quote_env(&value)) });
    }
}

/// The effective config as environment variables, `PREFIX_A__B` = value
/// (strings as they are, null as empty, lists and other values as JSON) —
/// what `config render --format env` writes and `opsdeck run --config` sets.
pub fn env_pairs(value: &serde_json::Value, prefix: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    collect_env(value, prefix.to_owned(), true, &mut pairs);
    pairs
}

fn collect_env(value: &serde_json::Value, name: String, top: bool, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let part: String = key
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
                    .collect();
                let separator = if top { "_" } else { "__" };
                let next = if name.is_empty() { part } else { format!("{name}{separator}{part}") };
                collect_env(child, next, false, out);
            }
        }
        serde_json::Value::String(text) => out.push((name, text.clone())),
        serde_json::Value::Null => out.push((name, String::new())),
        other => out.push((name, other.to_string())),
    }
}

fn quote_env(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@,+".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
