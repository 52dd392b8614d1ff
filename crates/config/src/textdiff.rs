//! Text diffs of layers: what changed in the words a person wrote (comments
//! and layout included), beside the key-by-key diff of the merged values.

use serde::Serialize;
use ts_rs::TS;

use crate::store::StoredLayer;
use crate::Format;

/// One layer whose text differs between two points in history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct LayerChange {
    /// `committed` or `local`.
    pub layer: String,
    /// The format after the change.
    pub format: Format,
    /// The text before (empty when the layer did not exist).
    pub before: String,
    /// The text after (empty when the layer is gone).
    pub after: String,
    /// A unified diff with three lines of context, headed `a/LAYER` and `b/LAYER`.
    pub unified: String,
}

/// A unified diff of two texts (empty when they are equal).
pub fn unified(before: &str, after: &str, before_name: &str, after_name: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(before_name, after_name)
        .to_string()
}

/// The layers whose text differs between `before` and `after`, in layer order.
pub fn layer_changes(before: &[StoredLayer], after: &[StoredLayer]) -> Vec<LayerChange> {
    crate::store::LAYERS
        .iter()
        .filter_map(|layer| {
            let old = before.iter().find(|stored| stored.layer == *layer);
            let new = after.iter().find(|stored| stored.layer == *layer);
            let text = |stored: Option<&StoredLayer>| stored.map(|s| s.content.clone()).unwrap_or_default();
            let (old_text, new_text) = (text(old), text(new));
            if old_text == new_text {
                return None;
            }
            let format = new.or(old).map_or(Format::Yaml, |stored| stored.format);
            Some(LayerChange {
                layer: (*layer).to_owned(),
                format,
                unified: unified(&old_text, &new_text, &format!("a/{layer}"), &format!("b/{layer}")),
                before: old_text,
                after: new_text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unified_diff_marks_removed_and_added_lines_with_context() {
        let before = "a: 1\nb: 2\nc: 3\n";
        let after = "a: 1\nb: 20\nc: 3\n";
        let diff = unified(before, after, "a/committed", "b/committed");
        assert!(diff.starts_with("--- a/committed\n+++ b/committed\n"), "{diff}");
        assert!(diff.contains("\n-b: 2\n+b: 20\n"), "{diff}");
        assert!(diff.contains(" a: 1\n"), "{diff}");
        assert_eq!(unified(before, before, "a", "b"), "");
    }
}
