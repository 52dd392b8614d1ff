//! The config tree: values of every format in one shape, each node knowing
//! the line it was written on (when the format tells).

use serde::Serialize;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// The 1-based line it starts on, when known.
    pub line: Option<usize>,
}

/// A config value. Maps keep the order they were written in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// `null` / `~` / an empty YAML value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (TOML dates are kept as their RFC 3339 text).
    String(String),
    /// A list.
    List(Vec<Node>),
    /// A map of keys to nodes.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A node without a known line.
    pub fn new(value: Value) -> Node {
        Node { value, line: None }
    }

    /// An empty map.
    pub fn empty_map() -> Node {
        Node::new(Value::Map(Vec::new()))
    }

    /// The child at `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(name, _)| name == key).map(|(_, node)| node),
            _ => None,
        }
    }

    /// The node at a dotted path (`db.pool.size`).
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('.').filter(|part| !part.is_empty()).try_fold(self, |node, part| node.get(part))
    }

    /// The value as JSON (for output and schema checks).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Int(value) => serde_json::Value::from(*value),
            Value::Float(value) => serde_json::Number::from_f64(*value)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(value.to_string())),
            Value::String(value) => serde_json::Value::String(value.clone()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => serde_json::Value::Object(
                entries.iter().map(|(key, node)| (key.clone(), node.to_json())).collect(),
            ),
        }
    }

    /// Every leaf (non-map value, lists included) with its dotted path.
    pub fn leaves(&self) -> Vec<(String, &Node)> {
        let mut out = Vec::new();
        collect_leaves(self, String::new(), &mut out);
        out
    }
}

fn collect_leaves<'a>(node: &'a Node, prefix: String, out: &mut Vec<(String, &'a Node)>) {
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => {
            for (key, child) in entries {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                collect_leaves(child, path, out);
            }
        }
        _ if !prefix.is_empty() => out.push((prefix, node)),
        _ => {}
    }
}
