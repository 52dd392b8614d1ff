//! Findings as SARIF 2.1.0, the format GitHub code scanning (and most
//! code-review tools) take: one run, a rule per rule that found something,
//! a result per finding with its place (the path relative to the scanned
//! folder), the secret redacted in the message, and the finding's
//! fingerprint as a partial fingerprint so a tool follows it across commits.

use serde_json::{json, Value};

/// A finding as SARIF needs it.
#[derive(Debug, Clone)]
pub struct SarifFinding<'a> {
    /// The rule's id.
    pub rule: &'a str,
    /// What the rule finds.
    pub description: &'a str,
    /// The path relative to the scanned folder, `/`-separated.
    pub path: &'a str,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// The secret, redacted.
    pub redacted: &'a str,
    /// The finding's fingerprint.
    pub fingerprint: &'a str,
}

/// The SARIF document for `findings`, made by `version` of OpsDeck.
pub fn document(findings: &[SarifFinding<'_>], version: &str) -> Value {
    let mut rules: Vec<(&str, &str)> = Vec::new();
    for finding in findings {
        if !rules.iter().any(|(id, _)| *id == finding.rule) {
            rules.push((finding.rule, finding.description));
        }
    }
    let rule_objects: Vec<Value> = rules
        .iter()
        .map(|(id, description)| {
            json!({
                "id": id,
                "name": rule_name(id),
                "shortDescription": { "text": description },
                "fullDescription": { "text": format!("{description}: a secret committed in code or configuration. Rotate it, then remove it from the file and its history.") },
                "help": { "text": "Rotate the secret at its provider (anyone who read the repository may hold it), keep the new value in a vault and read it at run time (`opsdeck run`, `opsdeck inject`), then remove it from the file. A finding that is not a secret can be marked with an `opsdeck:allow` comment on its line or kept in a baseline (`--baseline FILE --update-baseline`)." },
                "defaultConfiguration": { "level": "error" },
                "properties": { "tags": ["security", "secret"], "precision": "high", "security-severity": "8.0" }
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let index = rules.iter().position(|(id, _)| *id == finding.rule).unwrap_or(0);
            json!({
                "ruleId": finding.rule,
                "ruleIndex": index,
                "level": "error",
                "message": { "text": format!("{}: {}", finding.description, finding.redacted) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": finding.path, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": finding.line.max(1), "startColumn": finding.column.max(1) }
                    }
                }],
                "partialFingerprints": { "opsdeckFindingFingerprint/v1": finding.fingerprint }
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "OpsDeck",
                    "semanticVersion": version,
                    "informationUri": "https://example.invalid/opsdeck",
                    "rules": rule_objects
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": results
        }]
    })
}

/// A rule id as SARIF's `name` (`github-pat` → `GithubPat`).
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_has_what_code_scanning_reads() {
        let findings = [
            SarifFinding {
                rule: "github-pat",
                description: "GitHub personal access token (classic)",
                path: "src/app.py",
                line: 3,
                column: 11,
                redacted: "ghp_…(40 chars)",
                fingerprint: "0123",
            },
            SarifFinding {
                rule: "aws-access-key-id",
                description: "AWS access key ID",
                path: "config/prod.yaml",
                line: 4,
                column: 11,
                redacted: "AKIA…(20 chars)",
                fingerprint: "4567",
            },
            SarifFinding {
                rule: "github-pat",
                description: "GitHub personal access token (classic)",
                path: "src/other.py",
                line: 1,
                column: 1,
                redacted: "ghp_…(40 chars)",
                fingerprint: "89ab",
            },
        ];
        let document = document(&findings, "0.1.0");
        assert_eq!(document["version"], "2.1.0");
        let run = &document["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "OpsDeck");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2, "one rule object per rule");
        assert_eq!(rules[0]["name"], "GithubPat");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[2]["ruleIndex"], 0);
        assert_eq!(results[1]["ruleIndex"], 1);
        let location = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "src/app.py");
        assert_eq!(location["region"]["startLine"], 3);
        assert_eq!(results[0]["message"]["text"], "GitHub personal access token (classic): ghp_…(40 chars)");
        assert_eq!(results[0]["partialFingerprints"]["opsdeckFindingFingerprint/v1"], "0123");
    }
}
