//! Reading YAML, TOML and JSON into a [`Node`] tree with line numbers.
//!
//! YAML: anchors and aliases are expanded, merge keys (`<<`) applied (keys
//! written in the map win over merged ones, earlier merged maps over later
//! ones), repeated keys refused, one document per file, plain scalars typed
//! by YAML 1.2's core schema. TOML: dates are kept as their RFC 3339 text.
//! JSON: must be strict JSON; repeated keys are refused too.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::tree::{Node, Value};
use crate::ConfigError;

opsdeck_core::word_enum! {
    /// A config file format (its word is the file extension).
    #[ts(rename = "ConfigFormat")]
    "config format" pub enum Format {
        /// YAML 1.2.
        Yaml = "yaml",
        /// TOML 1.0.
        Toml = "toml",
        /// JSON.
        Json = "json",
    }
}

impl Format {
    /// The format of a file, by its extension.
    pub fn from_path(path: &str) -> Result<Format, ConfigError> {
        let extension = path.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase());
        match extension.as_deref() {
            Some("yaml" | "yml") => Ok(Format::Yaml),
            Some("toml") => Ok(Format::Toml),
            Some("json") => Ok(Format::Json),
            _ => Err(ConfigError::UnknownFormat(format!(
                "{path}: unknown config format; use a .yaml, .yml, .toml or .json file"
            ))),
        }
    }
}

/// Parses `text` as `format`; `source_name` names it in errors. The top level
/// must be a map (an empty file is an empty map).
pub fn parse(text: &str, format: Format, source_name: &str) -> Result<Node, ConfigError> {
    let root = match format {
        Format::Yaml => parse_yaml(text, source_name)?,
        Format::Toml => parse_toml(text, source_name)?,
        Format::Json => {
            if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                return Err(ConfigError::Syntax {
                    source_name: source_name.to_owned(),
                    line: Some(error.line()),
                    message: format!("not valid JSON: {error}"),
                });
            }
            // Strict JSON is YAML too: reading it through the YAML reader gives
            // line numbers and catches repeated keys, which JSON readers let pass.
            parse_yaml(text, source_name)?
        }
    };
    match root.value {
        Value::Map(_) => Ok(root),
        Value::Null => Ok(Node { value: Value::Map(Vec::new()), line: root.line }),
        _ => Err(ConfigError::Syntax {
            source_name: source_name.to_owned(),
            line: root.line,
            message: "the top level must be a map of keys to values".to_owned(),
        }),
    }
}

enum Frame {
    List {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(String, Node)>,
        /// Where each key is in `entries` (repeated keys are found without a scan).
        index: HashMap<String, usize>,
        key: Option<(String, usize)>,
        merges: Vec<Node>,
        line: usize,
        anchor: usize,
    },
}

struct YamlBuilder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    error: Option<(usize, String)>,
}

impl YamlBuilder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some((line, message));
        }
    }

    /// Puts a finished node where it belongs: the open list, the open map
    /// (as key or value), or the document.
    fn place(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let line = node.line.unwrap_or(0);
        let mut failure = None;
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Map { entries, index, key, merges, .. }) => match key.take() {
                None => match &node.value {
                    Value::String(text) => *key = Some((text.clone(), line)),
                    Value::Int(_) | Value::Bool(_) | Value::Float(_) | Value::Null => {
                        *key = Some((scalar_text(&node.value), line))
                    }
                    _ => failure = Some("a key must be a plain value, not a list or map".to_owned()),
                },
                Some((name, _)) => {
                    if name == "<<" {
                        match node.value {
                            Value::Map(_) => merges.push(node),
                            Value::List(items)
                                if items.iter().all(|item| matches!(item.value, Value::Map(_))) =>
                            {
                                merges.extend(items)
                            }
                            _ => failure = Some("a merge key (<<) takes a map or a list of maps".to_owned()),
                        }
                    } else if let Some((_, first)) = index.get(&name).map(|position| &entries[*position]) {
                        failure = Some(match first.line {
                            Some(first) => {
                                format!("key {name:?} appears twice in the same map (first on line {first})")
                            }
                            None => format!("key {name:?} appears twice in the same map"),
                        });
                    } else {
                        index.insert(name.clone(), entries.len());
                        entries.push((name, node));
                    }
                }
            },
        }
        if let Some(message) = failure {
            self.fail(line, message);
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Int(number) => number.to_string(),
        Value::Float(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null => "null".to_owned(),
        Value::String(text) => text.clone(),
        _ => String::new(),
    }
}

/// Types a plain YAML scalar by the 1.2 core schema.
pub(crate) fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let integer = if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(octal) = text.strip_prefix("0o") {
        i64::from_str_radix(octal, 8).ok()
    } else if text
        .chars()
        .enumerate()
        .all(|(index, c)| c.is_ascii_digit() || (index == 0 && (c == '-' || c == '+')))
        && text.chars().any(|c| c.is_ascii_digit())
    {
        text.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(number) = integer {
        return Value::Int(number);
    }
    let looks_numeric =
        text.chars().next().is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
            && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
            && text.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        if let Ok(number) = text.parse::<f64>() {
            return Value::Float(number);
        }
    }
    Value::String(text.to_owned())
}

impl MarkedEventReceiver for YamlBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let as_string =
                    style != TScalarStyle::Plain || tag.as_ref().is_some_and(|tag| tag.suffix == "str");
                let value = if as_string { Value::String(text) } else { plain_scalar(&text) };
                self.place(Node { value, line: Some(line) }, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.place(Node { line: Some(line), ..node }, 0),
                None => self.fail(line, "an alias (*name) refers to no anchor defined before it".to_owned()),
            },
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::List { items: Vec::new(), line, anchor });
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    index: HashMap::new(),
                    key: None,
                    merges: Vec::new(),
                    line,
                    anchor,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::List { items, line, anchor }) = self.stack.pop() {
                    self.place(Node { value: Value::List(items), line: Some(line) }, anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { mut entries, mut index, merges, line, anchor, .. }) =
                    self.stack.pop()
                {
                    // Keys written here win; among merged maps, the earlier wins.
                    for merged in merges {
                        if let Value::Map(merged_entries) = merged.value {
                            for (name, node) in merged_entries {
                                if !index.contains_key(&name) {
                                    index.insert(name.clone(), entries.len());
                                    entries.push((name, node));
                                }
                            }
                        }
                    }
                    self.place(Node { value: Value::Map(entries), line: Some(line) }, anchor);
                }
            }
            _ => {}
        }
    }
}

fn parse_yaml(text: &str, source_name: &str) -> Result<Node, ConfigError> {
    let mut builder =
        YamlBuilder { stack: Vec::new(), anchors: HashMap::new(), documents: Vec::new(), error: None };
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
        return Err(ConfigError::Syntax {
            source_name: source_name.to_owned(),
            line: Some(error.marker().line()),
            message: error.info().to_owned(),
        });
    }
    if let Some((line, message)) = builder.error {
        return Err(ConfigError::Syntax { source_name: source_name.to_owned(), line: Some(line), message });
    }
    match builder.documents.len() {
        0 => Ok(Node::empty_map()),
        1 => Ok(builder.documents.remove(0)),
        count => Err(ConfigError::Syntax {
            source_name: source_name.to_owned(),
            line: None,
            message: format!("{count} YAML documents (---); a config file holds one"),
        }),
    }
}

fn parse_toml(text: &str, source_name: &str) -> Result<Node, ConfigError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let document = toml_edit::Document::parse(text).map_err(|error| ConfigError::Syntax {
        source_name: source_name.to_owned(),
        line: error.span().map(|span| line_of(span.start)),
        message: error.message().to_owned(),
    })?;
    let root = document
        .as_item()
        .as_table()
        .map(|table| toml_table(table, &line_of))
        .unwrap_or_else(Node::empty_map);
    Ok(root)
}

fn toml_table(table: &toml_edit::Table, line_of: &dyn Fn(usize) -> usize) -> Node {
    let mut entries = Vec::new();
    for (name, item) in table.iter() {
        let line = table.get_key_value(name).and_then(|(key, _)| key.span()).map(|span| line_of(span.start));
        let mut node = toml_item(item, line_of);
        node.line = line.or(node.line);
        entries.push((name.to_owned(), node));
    }
    Node { value: Value::Map(entries), line: table.span().map(|span| line_of(span.start)) }
}

fn toml_item(item: &toml_edit::Item, line_of: &dyn Fn(usize) -> usize) -> Node {
    match item {
        toml_edit::Item::None => Node::new(Value::Null),
        toml_edit::Item::Value(value) => toml_value(value, line_of),
        toml_edit::Item::Table(table) => toml_table(table, line_of),
        toml_edit::Item::ArrayOfTables(tables) => {
            Node::new(Value::List(tables.iter().map(|table| toml_table(table, line_of)).collect()))
        }
    }
}

fn toml_value(value: &toml_edit::Value, line_of: &dyn Fn(usize) -> usize) -> Node {
    let line = value.span().map(|span| line_of(span.start));
    let value = match value {
        toml_edit::Value::String(text) => Value::String(text.value().clone()),
        toml_edit::Value::Integer(number) => Value::Int(*number.value()),
        toml_edit::Value::Float(number) => Value::Float(*number.value()),
        toml_edit::Value::Boolean(flag) => Value::Bool(*flag.value()),
        toml_edit::Value::Datetime(time) => Value::String(time.value().to_string()),
        toml_edit::Value::Array(items) => {
            Value::List(items.iter().map(|item| toml_value(item, line_of)).collect())
        }
        toml_edit::Value::InlineTable(table) => Value::Map(
            table
                .iter()
                .map(|(name, item)| {
                    let mut node = toml_value(item, line_of);
                    node.line = table
                        .get_key_value(name)
                        .and_then(|(key, _)| key.span())
                        .map(|span| line_of(span.start))
                        .or(node.line);
                    (name.to_owned(), node)
                })
                .collect(),
        ),
    };
    Node { value, line }
}
