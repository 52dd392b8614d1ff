//! JSON Schema checks of the effective config, each violation pointing at
//! the key, and the layer, file and line that set it; and coercion of
//! environment-variable strings to the types the schema names.

use jsonschema::Validator;

use crate::layers::Effective;
use crate::tree::{Node, Value};
use crate::ConfigError;

/// A compiled JSON Schema.
pub struct Schema {
    json: serde_json::Value,
    validator: Validator,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = if self.path.is_empty() { "(top level)" } else { &self.path };
        match (&self.source, self.line) {
            (Some(source), Some(line)) => write!(f, "{key} ({source}, line {line}): {}", self.message),
            (Some(source), None) => write!(f, "{key} ({source}): {}", self.message),
            _ => write!(f, "{key}: {}", self.message),
        }
    }
}

/// One place the config breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS, schemars::JsonSchema)]
pub struct Violation {
    /// The dotted key (empty for the top level).
    pub path: String,
    /// What is wrong, in the schema's terms.
    pub message: String,
    /// The layer and source that set the value, when known.
    pub source: Option<String>,
    /// The layer that set it (`defaults`, `committed`, `local`, `env`), when known.
    pub layer: Option<String>,
    /// The line in that source, when known.
    #[ts(type = "number | null")]
    pub line: Option<usize>,
}

impl Schema {
    /// Compiles a schema written in JSON.
    pub fn parse(text: &str) -> Result<Schema, ConfigError> {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|error| ConfigError::InvalidSchema(format!("not JSON ({error})")))?;
        Schema::from_json(json)
    }

    /// Compiles a schema given as a JSON value.
    pub fn from_json(json: serde_json::Value) -> Result<Schema, ConfigError> {
        let validator = jsonschema::validator_for(&json)
            .map_err(|error| ConfigError::InvalidSchema(error.to_string()))?;
        Ok(Schema { json, validator })
    }

    /// Every violation of the effective config, in the order the validator finds them.
    pub fn check(&self, effective: &Effective) -> Vec<Violation> {
        let instance = effective.root.to_json();
        self.validator
            .iter_errors(&instance)
            .map(|error| {
                let path = error
                    .instance_path()
                    .as_str()
                    .trim_start_matches('/')
                    .split('/')
                    .filter(|part| !part.is_empty())
                    .map(|part| part.replace("~1", "/").replace("~0", "~"))
                    .collect::<Vec<_>>()
                    .join(".");
                // The key itself, or the first key below it (a map's missing field).
                let origin = effective.provenance.get(&path).or_else(|| {
                    let prefix = format!("{path}.");
                    effective
                        .provenance
                        .iter()
                        .find(|(key, _)| path.is_empty() || key.starts_with(&prefix))
                        .map(|(_, origin)| origin)
                });
                Violation {
                    message: error.to_string(),
                    source: origin.map(|origin| format!("{} ({})", origin.layer, origin.source)),
                    layer: origin.map(|origin| origin.layer.clone()),
                    line: origin.and_then(|origin| origin.line),
                    path,
                }
            })
            .collect()
    }

    /// The defaults layer: every `default` the schema gives under `properties`.
    pub fn defaults(&self) -> Node {
        defaults_of(&self.json).unwrap_or_else(Node::empty_map)
    }

    /// The JSON type the schema names at dotted `path` (`integer`, `number`,
    /// `boolean`, `array`, `object`, `string`), following `properties`.
    pub fn type_at(&self, path: &str) -> Option<String> {
        let mut node = &self.json;
        for part in path.split('.') {
            node = node.get("properties")?.get(part)?;
        }
        match node.get("type")? {
            serde_json::Value::String(kind) => Some(kind.clone()),
            serde_json::Value::Array(kinds) => {
                kinds.iter().filter_map(|kind| kind.as_str()).find(|kind| *kind != "null").map(str::to_owned)
            }
            _ => None,
        }
    }

    /// Turns the env layer's strings into the types the schema names;
    /// `variable_of` gives the variable behind a dotted path, for errors.
    pub fn coerce_env(
        &self,
        layer: &mut Node,
        variable_of: &dyn Fn(&str) -> String,
    ) -> Result<(), ConfigError> {
        coerce(self, layer, String::new(), variable_of)
    }
}

fn coerce(
    schema: &Schema,
    node: &mut Node,
    path: String,
    variable_of: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    match &mut node.value {
        Value::Map(entries) => {
            for (key, child) in entries.iter_mut() {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                coerce(schema, child, child_path, variable_of)?;
            }
            Ok(())
        }
        Value::String(text) => {
            let Some(expected) = schema.type_at(&path) else { return Ok(()) };
            let wrong = || ConfigError::EnvType {
                variable: variable_of(&path),
                value: text.clone(),
                path: path.clone(),
                expected: match expected.as_str() {
                    "integer" => "an integer".to_owned(),
                    "number" => "a number".to_owned(),
                    "boolean" => "true or false".to_owned(),
                    "array" => "a JSON array".to_owned(),
                    "object" => "a JSON object".to_owned(),
                    other => other.to_owned(),
                },
            };
            let trimmed = text.trim();
            let value = match expected.as_str() {
                "integer" => Value::Int(trimmed.parse().map_err(|_| wrong())?),
                "number" => Value::Float(trimmed.parse().map_err(|_| wrong())?),
                "boolean" => match trimmed.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Value::Bool(true),
                    "false" | "0" | "no" | "off" => Value::Bool(false),
                    _ => return Err(wrong()),
                },
                "array" | "object" => {
                    let json: serde_json::Value = serde_json::from_str(trimmed).map_err(|_| wrong())?;
                    let matches = if expected == "array" { json.is_array() } else { json.is_object() };
                    if !matches {
                        return Err(wrong());
                    }
                    from_json(&json)
                }
                _ => return Ok(()),
            };
            node.value = value;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => {
            number.as_i64().map(Value::Int).unwrap_or_else(|| Value::Float(number.as_f64().unwrap_or(0.0)))
        }
        serde_json::Value::String(text) => Value::String(text.clone()),
        serde_json::Value::Array(items) => {
            Value::List(items.iter().map(|item| Node::new(from_json(item))).collect())
        }
        serde_json::Value::Object(map) => {
            Value::Map(map.iter().map(|(key, item)| (key.clone(), Node::new(from_json(item)))).collect())
        }
    }
}

fn defaults_of(schema: &serde_json::Value) -> Option<Node> {
    if let Some(properties) = schema.get("properties").and_then(|properties| properties.as_object()) {
        let entries: Vec<(String, Node)> = properties
            .iter()
            .filter_map(|(key, property)| defaults_of(property).map(|node| (key.clone(), node)))
            .collect();
        if !entries.is_empty() {
            return Some(Node::new(Value::Map(entries)));
        }
    }
    schema.get("default").map(|value| Node::new(from_json(value)))
}
