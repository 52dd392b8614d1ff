//! Changing one key of a layer's text (`opsdeck config set`), keeping the
//! rest of the file as it was where the format allows: TOML through
//! `toml_edit` (comments and layout kept), YAML by rewriting only the line of
//! an existing scalar (else the document is written anew, without comments),
//! JSON written anew (keys in order).

use crate::parse::{parse, plain_scalar, Format};
use crate::tree::Node;
use crate::ConfigError;

/// A value as typed on the command line: JSON for lists and maps (`[1, 2]`,
/// `{"a": 1}`), a quoted string, or a plain scalar typed as YAML would.
pub fn parse_value(text: &str) -> Result<serde_json::Value, ConfigError> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|error| {
            ConfigError::Invalid(format!("{trimmed:?} is not a JSON list or map: {error}"))
        });
    }
    if trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"') {
        return serde_json::from_str(trimmed)
            .map_err(|error| ConfigError::Invalid(format!("{trimmed} is not a quoted string: {error}")));
    }
    Ok(Node::new(plain_scalar(text)).to_json())
}

/// The text of a layer with `key` (dotted) set to `value`; and whether the
/// rest of the text was kept as written.
pub fn set_value(
    content: &str,
    format: Format,
    source_name: &str,
    key: &str,
    value: &serde_json::Value,
) -> Result<(String, bool), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(ConfigError::Invalid(format!("{key:?} is not a dotted key like db.pool.size")));
    }
    match format {
        Format::Toml => set_toml(content, source_name, &parts, value).map(|text| (text, true)),
        Format::Json => {
            let mut json: serde_json::Value = if content.trim().is_empty() {
                serde_json::json!({})
            } else {
                parse(content, format, source_name)?.to_json()
            };
            set_json(&mut json, &parts, value)?;
            let mut text = serde_json::to_string_pretty(&json)
                .map_err(|error| ConfigError::Invalid(error.to_string()))?;
            text.push('\n');
            Ok((text, false))
        }
        Format::Yaml => {
            let tree = parse(content, format, source_name)?;
            if let Some(text) = yaml_in_place(content, &tree, &parts, value) {
                return Ok((text, true));
            }
            let mut json = tree.to_json();
            set_json(&mut json, &parts, value)?;
            Ok((crate::render::render(&json, crate::render::RenderFormat::Yaml, "")?, false))
        }
    }
}

fn set_json(
    json: &mut serde_json::Value,
    parts: &[&str],
    value: &serde_json::Value,
) -> Result<(), ConfigError> {
    let mut node = json;
    for (index, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = serde_json::json!({});
        }
        let map = node.as_object_mut().ok_or_else(|| ConfigError::Invalid("not a map".to_owned()))?;
        if index == parts.len() - 1 {
            map.insert((*part).to_owned(), value.clone());
            return Ok(());
        }
        node = map.entry((*part).to_owned()).or_insert_with(|| serde_json::json!({}));
    }
    Ok(())
}

/// Rewrites only the value on the line of an existing `key: scalar`.
fn yaml_in_place(content: &str, tree: &Node, parts: &[&str], value: &serde_json::Value) -> Option<String> {
    if value.is_object() || value.is_array() {
        return None;
    }
    let node = tree.at(&parts.join("."))?;
    if matches!(node.value, crate::tree::Value::Map(_) | crate::tree::Value::List(_)) {
        return None;
    }
    let line_number = node.line?;
    let last = parts.last()?;
    let lines: Vec<&str> = content.split_inclusive('\n').collect();
    let line = *lines.get(line_number - 1)?;
    // Only the simple, common shape: `  key: value   # comment`.
    let indent = line.len() - line.trim_start().len();
    let after_key = line.trim_start().strip_prefix(last)?.strip_prefix(':')?;
    if !after_key.starts_with([' ', '\t']) {
        return None;
    }
    let body = after_key.trim_end_matches(['\n', '\r']);
    let value_text = body.trim_start();
    if value_text.starts_with(['{', '[', '|', '>', '&', '*', '!']) {
        return None;
    }
    // A trailing comment stays, with the spacing before it.
    let comment = match value_text.find(" #") {
        Some(position) if !value_text[..position].contains(['"', '\'']) => {
            let start = value_text[..position].trim_end().len();
            &value_text[start..]
        }
        _ => "",
    };
    let rendered = match value {
        serde_json::Value::String(text) => serde_json::Value::String(text.clone()).to_string(),
        serde_json::Value::Null => "null".to_owned(),
        other => other.to_string(),
    };
    let ending = &line[line.trim_end_matches(['\n', '\r']).len()..];
    let new_line = format!("{}{last}: {rendered}{comment}{ending}", &line[..indent]);
    let mut out = String::with_capacity(content.len() + rendered.len());
    for (index, original) in lines.iter().enumerate() {
        out.push_str(if index == line_number - 1 { &new_line } else { original });
    }
    Some(out)
}

fn set_toml(
    content: &str,
    source_name: &str,
    parts: &[&str],
    value: &serde_json::Value,
) -> Result<String, ConfigError> {
    let mut document: toml_edit::DocumentMut =
        content.parse().map_err(|error: toml_edit::TomlError| ConfigError::Syntax {
            source_name: source_name.to_owned(),
            line: None,
            message: error.message().to_owned(),
        })?;
    let mut table: &mut dyn toml_edit::TableLike = document.as_table_mut();
    for part in &parts[..parts.len() - 1] {
        let entry = table.entry(part).or_insert(toml_edit::table());
        table = entry.as_table_like_mut().ok_or_else(|| {
            ConfigError::Invalid(format!("{part} holds a value, not a table; set a key beside it instead"))
        })?;
    }
    let last = parts[parts.len() - 1];
    table.insert(last, toml_edit::Item::Value(toml_value(value, last)?));
    Ok(document.to_string())
}

fn toml_value(value: &serde_json::Value, key: &str) -> Result<toml_edit::Value, ConfigError> {
    Ok(match value {
        serde_json::Value::Null => {
            return Err(ConfigError::Invalid(format!("TOML has no null; remove {key} or give it a value")))
        }
        serde_json::Value::Bool(flag) => (*flag).into(),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => integer.into(),
            None => number.as_f64().unwrap_or(0.0).into(),
        },
        serde_json::Value::String(text) => text.as_str().into(),
        serde_json::Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(toml_value(item, key)?);
            }
            toml_edit::Value::Array(array)
        }
        serde_json::Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (name, item) in map {
                table.insert(name, toml_value(item, name)?);
            }
            toml_edit::Value::InlineTable(table)
        }
    })
}
