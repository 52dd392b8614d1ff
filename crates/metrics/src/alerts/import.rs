//! Prometheus rule files (`groups: [{name, interval, rules: [{alert, expr,
//! for, labels, annotations}]}]`) read as OpsDeck groups and rules.
//!
//! A rule's `severity` label becomes its severity (`critical` → P1, see
//! [`Severity::from_label`]); a rule without one is P3, and the report says
//! so. Recording rules (`record:`) are not imported — OpsDeck evaluates
//! expressions when asked — and the report names each one, so a rule that
//! reads a recorded series can be rewritten with its expression.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;
use yaml_rust2::{Yaml, YamlLoader};

use super::{duration_seconds, AlertGroup, AlertRule, Severity};

/// A rule file, read.
#[derive(Debug, Clone, Default)]
pub struct RuleFile {
    /// Its groups with their rules, in file order.
    pub groups: Vec<(AlertGroup, Vec<AlertRule>)>,
    /// What was left out or assumed, one line each.
    pub notes: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, JsonSchema, TS)]
pub struct RuleImportReport {
    /// Groups written.
    pub groups: Vec<String>,
    /// Rules written, as `group/rule (P1)`.
    pub rules: Vec<String>,
    /// What was left out or assumed.
    pub notes: Vec<String>,
}

/// Reads a Prometheus rule file. Every problem names where it is (group,
/// rule) and what to write instead; a file with any problem imports
/// nothing.
pub fn read_rule_file(text: &str) -> Result<RuleFile, String> {
    let documents =
        YamlLoader::load_from_str(text).map_err(|error| format!("the file is not YAML: {error}"))?;
    let Some(document) = documents.first() else {
        return Err("the file is empty; a rule file starts with `groups:`".into());
    };
    let groups = match &document["groups"] {
        Yaml::Array(groups) => groups,
        Yaml::BadValue => return Err("the file has no `groups:` list, as Prometheus rule files do".into()),
        _ => return Err("`groups` must be a list of groups".into()),
    };
    let mut file = RuleFile::default();
    let mut names = std::collections::HashSet::new();
    for (index, group) in groups.iter().enumerate() {
        let name =
            group["name"].as_str().ok_or_else(|| format!("group {} has no `name`", index + 1))?.to_owned();
        if !names.insert(name.clone()) {
            return Err(format!("group `{name}` is in the file twice"));
        }
        let mut alert_group = AlertGroup::named(&name);
        if let Some(interval) = group["interval"].as_str() {
            alert_group.interval_seconds =
                duration_seconds(interval).map_err(|error| format!("group `{name}`: interval {error}"))?;
        }
        alert_group.check()?;
        let rules = match &group["rules"] {
            Yaml::Array(rules) => rules.as_slice(),
            Yaml::BadValue | Yaml::Null => &[],
            _ => return Err(format!("group `{name}`: `rules` must be a list")),
        };
        let mut read = Vec::new();
        for (position, rule) in rules.iter().enumerate() {
            if let Some(record) = rule["record"].as_str() {
                file.notes.push(format!(
                    "group `{name}`: recording rule `{record}` was not imported (OpsDeck evaluates expressions \
                     when asked; use its expression where `{record}` is read)"
                ));
                continue;
            }
            let alert = rule["alert"]
                .as_str()
                .ok_or_else(|| {
                    format!("group `{name}`, rule {}: neither `alert:` nor `record:`", position + 1)
                })?
                .to_owned();
            let expr = match &rule["expr"] {
                Yaml::String(text) => text.clone(),
                Yaml::Integer(number) => number.to_string(),
                Yaml::Real(number) => number.clone(),
                _ => return Err(format!("group `{name}`, rule `{alert}`: no `expr`")),
            };
            let for_seconds = match rule["for"].as_str() {
                Some(text) => duration_seconds(text)
                    .map_err(|error| format!("group `{name}`, rule `{alert}`: for {error}"))?,
                None => 0.0,
            };
            let mut labels = string_map(&rule["labels"])
                .map_err(|error| format!("group `{name}`, rule `{alert}`: labels {error}"))?;
            let annotations = string_map(&rule["annotations"])
                .map_err(|error| format!("group `{name}`, rule `{alert}`: annotations {error}"))?;
            let severity = match labels.remove("severity") {
                Some(word) => Severity::from_label(&word).ok_or_else(|| {
                    format!(
                        "group `{name}`, rule `{alert}`: severity `{word}` is not one OpsDeck knows; use P1–P4 \
                         or critical, error, warning, info"
                    )
                })?,
                None => {
                    file.notes.push(format!("group `{name}`, rule `{alert}` has no severity label: it is P3"));
                    Severity::P3
                }
            };
            labels.remove("alertname");
            let rule = AlertRule {
                group: name.clone(),
                name: alert,
                expr,
                for_seconds,
                severity,
                labels,
                annotations,
            };
            rule.check().map_err(|error| format!("group `{name}`: {error}"))?;
            if read.iter().any(|other: &AlertRule| other.name == rule.name) {
                return Err(format!(
                    "group `{name}` has two alerts named `{}`; OpsDeck keeps one rule per name in a group \
                     (merge their expressions with `or`)",
                    rule.name
                ));
            }
            read.push(rule);
        }
        file.groups.push((alert_group, read));
    }
    Ok(file)
}

fn string_map(value: &Yaml) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    match value {
        Yaml::BadValue | Yaml::Null => {}
        Yaml::Hash(entries) => {
            for (key, value) in entries {
                let key = key.as_str().ok_or("must have text names")?;
                let value = match value {
                    Yaml::String(text) => text.clone(),
                    Yaml::Integer(number) => number.to_string(),
                    Yaml::Real(number) => number.clone(),
                    Yaml::Boolean(flag) => flag.to_string(),
                    _ => return Err(format!("`{key}` must be text")),
                };
                map.insert(key.to_owned(), value);
            }
        }
        _ => return Err("must be a map of names to text".into()),
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
groups:
  - name: shop
    interval: 30s
    rules:
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
      - alert: HighErrorRate
        expr: sum by (service) (rate(errors_total[5m])) > 1
        for: 10m
        labels:
          severity: critical
          team: web
        annotations:
          summary: "{{ $labels.service }} fails {{ $value | humanize }}/s"
      - alert: Down
        expr: up == 0
"#;

    #[test]
    fn a_prometheus_rule_file_is_read_with_notes() {
        let file = read_rule_file(FILE).unwrap();
        assert_eq!(file.groups.len(), 1);
        let (group, rules) = &file.groups[0];
        assert_eq!(group.name, "shop");
        assert_eq!(group.interval_seconds, 30.0);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].severity, Severity::P1);
        assert_eq!(rules[0].for_seconds, 600.0);
        assert_eq!(rules[0].labels.get("team").map(String::as_str), Some("web"));
        assert!(!rules[0].labels.contains_key("severity"));
        assert_eq!(rules[1].severity, Severity::P3);
        assert!(file.notes.iter().any(|note| note.contains("job:errors:rate5m")));
        assert!(file.notes.iter().any(|note| note.contains("`Down` has no severity")));
    }

    #[test]
    fn a_bad_file_says_where() {
        assert!(read_rule_file("groups: [").unwrap_err().contains("not YAML"));
        assert!(read_rule_file("rules: []").unwrap_err().contains("no `groups:`"));
        let bad_expr = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n";
        let error = read_rule_file(bad_expr).unwrap_err();
        assert!(error.contains("group `g`") && error.contains("rule `A`"), "{error}");
        let bad_for =
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n";
        assert!(read_rule_file(bad_for).unwrap_err().contains("for `soon` is not a duration"));
        let bad_severity =
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels: {severity: meh}\n";
        assert!(read_rule_file(bad_severity).unwrap_err().contains("severity `meh`"));
    }
}
