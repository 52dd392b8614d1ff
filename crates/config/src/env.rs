//! The environment-variable layer: `PREFIX_{GROUP}__{FIELD}` sets
//! `group.field` (double underscores nest; names are lower-cased), so with
//! prefix `SHOP`, `SHOP_DB__POOL__SIZE=20` sets `db.pool.size`. Values stay
//! strings here; the schema coerces them to the types it names.

use crate::tree::{Node, Value};

/// A project's default prefix: its name upper-cased, with every character
/// other than a letter or digit as `_` (`shop-api` → `SHOP_API`).
pub fn default_prefix(project: &str) -> String {
    project.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// The layer the variables starting with `PREFIX_` make, and the names used.
pub fn env_layer(prefix: &str, variables: impl IntoIterator<Item = (String, String)>) -> (Node, Vec<String>) {
    let start = format!("{prefix}_");
    let mut root = Node::empty_map();
    let mut used = Vec::new();
    let mut variables: Vec<(String, String)> = variables
        .into_iter()
        .filter(|(name, _)| name.starts_with(&start) && name.len() > start.len())
        .collect();
    variables.sort();
    for (name, value) in variables {
        let path: Vec<String> = name[start.len()..].split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            continue;
        }
        insert(&mut root, &path, Node::new(Value::String(value)));
        used.push(name);
    }
    (root, used)
}

fn insert(node: &mut Node, path: &[String], value: Node) {
    if !matches!(node.value, Value::Map(_)) {
        node.value = Value::Map(Vec::new());
    }
    let Value::Map(entries) = &mut node.value else { return };
    let position = match entries.iter().position(|(key, _)| *key == path[0]) {
        Some(position) => position,
        None => {
            entries.push((path[0].clone(), Node::empty_map()));
            entries.len() - 1
        }
    };
    if path.len() == 1 {
        entries[position].1 = value;
    } else {
        insert(&mut entries[position].1, &path[1..], value);
    }
}
