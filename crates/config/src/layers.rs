//! Merging layers into the effective config, remembering for every key the
//! layer that set it and the values it overrode.
//!
//! Later layers win. Maps merge key by key; any other value (a list
//! included) replaces what an earlier layer had at that key.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::tree::{Node, Value};

/// One layer: a name (`defaults`, `committed`, `local`, `env`), where it came
/// from (a file name, `SHOP_*` variables) and its tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The layer's name.
    pub name: String,
    /// Where its values came from.
    pub source: String,
    /// Its tree (a map).
    pub root: Node,
}

/// Who set one key of the effective config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// The layer that set the value in effect.
    pub layer: String,
    /// Its source (file name, variable name).
    pub source: String,
    /// The line in that source, when known.
    pub line: Option<usize>,
    /// Values earlier layers gave this key, earliest first: (layer, value).
    pub overridden: Vec<(String, serde_json::Value)>,
}

/// The merged config and where each of its values came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    /// The merged tree.
    pub root: Node,
    /// For every leaf (dotted path): who set it.
    pub provenance: BTreeMap<String, Provenance>,
}

/// Merges `layers` in order (later wins).
pub fn effective(layers: &[Layer]) -> Effective {
    let mut root = Node::empty_map();
    let mut provenance: BTreeMap<String, Provenance> = BTreeMap::new();
    for layer in layers {
        for (path, node) in layer.root.leaves() {
            let overridden = match provenance.remove(&path) {
                Some(mut earlier) => {
                    let previous = root.at(&path).map(Node::to_json).unwrap_or(serde_json::Value::Null);
                    earlier.overridden.push((earlier.layer.clone(), previous));
                    earlier.overridden
                }
                None => Vec::new(),
            };
            // A leaf replacing a map (or a map replacing a leaf) drops what was below.
            let prefix = format!("{path}.");
            provenance.retain(|key, _| !key.starts_with(&prefix) && !path.starts_with(&format!("{key}.")));
            provenance.insert(
                path.clone(),
                Provenance {
                    layer: layer.name.clone(),
                    source: layer.source.clone(),
                    line: node.line,
                    overridden,
                },
            );
            set_path(&mut root, &path, node.clone());
        }
    }
    Effective { root, provenance }
}

/// Sets `value` at dotted `path`, making maps on the way (replacing non-maps).
fn set_path(root: &mut Node, path: &str, value: Node) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (index, part) in parts.iter().enumerate() {
        if !matches!(node.value, Value::Map(_)) {
            node.value = Value::Map(Vec::new());
        }
        let Value::Map(entries) = &mut node.value else { return };
        let position = match entries.iter().position(|(key, _)| key == part) {
            Some(position) => position,
            None => {
                entries.push(((*part).to_owned(), Node::empty_map()));
                entries.len() - 1
            }
        };
        if index == parts.len() - 1 {
            entries[position].1 = value;
            return;
        }
        node = &mut entries[position].1;
    }
}

/// One key that differs between two configs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The dotted key.
    pub key: String,
    /// `added`, `removed` or `changed`.
    pub kind: String,
    /// The value before (`null` when added).
    pub before: serde_json::Value,
    /// The value after (`null` when removed).
    pub after: serde_json::Value,
}

/// The keys that differ between `before` and `after`, by dotted key.
pub fn diff(before: &Node, after: &Node) -> Vec<Change> {
    let old: BTreeMap<String, serde_json::Value> =
        before.leaves().into_iter().map(|(key, node)| (key, node.to_json())).collect();
    let new: BTreeMap<String, serde_json::Value> =
        after.leaves().into_iter().map(|(key, node)| (key, node.to_json())).collect();
    let mut changes = Vec::new();
    for (key, value) in &old {
        match new.get(key) {
            None => changes.push(Change {
                key: key.clone(),
                kind: "removed".to_owned(),
                before: value.clone(),
                after: serde_json::Value::Null,
            }),
            Some(other) if other != value => changes.push(Change {
                key: key.clone(),
                kind: "changed".to_owned(),
                before: value.clone(),
                after: other.clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, value) in &new {
        if !old.contains_key(key) {
            changes.push(Change {
                key: key.clone(),
                kind: "added".to_owned(),
                before: serde_json::Value::Null,
                after: value.clone(),
            });
        }
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    changes
}
