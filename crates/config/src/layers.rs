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
    // The value in effect at each leaf so far: what a later layer overrides.
    let mut values: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for layer in layers {
        for (path, node) in layer.root.leaves() {
            let overridden = match provenance.remove(&path) {
                Some(mut earlier) => {
                    let previous = values.remove(&path).unwrap_or(serde_json::Value::Null);
                    earlier.overridden.push((earlier.layer.clone(), previous));
                    earlier.overridden
                }
                None => Vec::new(),
            };
            forget_shadowed(&mut provenance, &mut values, &path);
            values.insert(path.clone(), node.to_json());
            provenance.insert(
                path,
                Provenance {
                    layer: layer.name.clone(),
                    source: layer.source.clone(),
                    line: node.line,
                    overridden,
                },
            );
        }
        if matches!(&layer.root.value, Value::Map(entries) if !entries.is_empty()) {
            merge_into(&mut root, &layer.root);
        }
    }
    Effective { root, provenance }
}

/// A leaf replacing a map (or a map replacing a leaf) drops what was below
/// (or above) it: the keys under `path.`, and `path`'s ancestors.
fn forget_shadowed(
    provenance: &mut BTreeMap<String, Provenance>,
    values: &mut BTreeMap<String, serde_json::Value>,
    path: &str,
) {
    let prefix = format!("{path}.");
    let below: Vec<String> = provenance
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(key, _)| key.clone())
        .collect();
    let above = path.match_indices('.').map(|(dot, _)| path[..dot].to_owned());
    for key in below.into_iter().chain(above) {
        provenance.remove(&key);
        values.remove(&key);
    }
}

/// Merges `layer` into `target`: maps key by key (one index per map, so a
/// large map merges in linear time), anything else replaced.
fn merge_into(target: &mut Node, layer: &Node) {
    match (&mut target.value, &layer.value) {
        (Value::Map(entries), Value::Map(incoming)) if !incoming.is_empty() => {
            let mut index: std::collections::HashMap<String, usize> =
                entries.iter().enumerate().map(|(position, (key, _))| (key.clone(), position)).collect();
            for (key, child) in incoming {
                match index.get(key) {
                    Some(&position) => merge_into(&mut entries[position].1, child),
                    None => {
                        index.insert(key.clone(), entries.len());
                        entries.push((key.clone(), child.clone()));
                    }
                }
            }
        }
        _ => *target = layer.clone(),
    }
}

/// One key that differs between two configs.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS, schemars::JsonSchema)]
pub struct Change {
    /// The dotted key.
    pub key: String,
    /// `added`, `removed` or `changed`.
    pub kind: String,
    /// The value before (`null` when added).
    #[ts(type = "unknown")]
    pub before: serde_json::Value,
    /// The value after (`null` when removed).
    #[ts(type = "unknown")]
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
