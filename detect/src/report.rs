//! Machine-readable reports of findings: JSON, JSON Lines and SARIF 2.1.0.
//!
//! These live in the engine crate, not the CLI, because the agent's audit
//! reports and the git hooks emit the same formats.

use serde_json::{json, Value};

use crate::finding::Finding;
use crate::rule::Severity;
use crate::ruleset::RuleSet;

/// A JSON array of findings.
pub fn to_json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// One JSON object per line.
pub fn to_jsonl(findings: &[Finding]) -> String {
    findings
        .iter()
        .filter_map(|f| serde_json::to_string(f).ok())
        .map(|line| line + "\n")
        .collect()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning ranks security alerts by this 0–10 score.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Percent-encodes a path into a relative URI reference.
fn path_to_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A SARIF 2.1.0 log, as GitHub code scanning accepts it. Every rule of
/// `rules` is described; results refer to them by index.
pub fn to_sarif(findings: &[Finding], rules: &RuleSet, tool_version: &str) -> String {
    let rule_list: Vec<Value> = rules
        .rules()
        .iter()
        .map(|r| {
            let d = &r.def;
            let mut rule = json!({
                "id": d.id,
                "name": d.name,
                "shortDescription": {"text": d.name},
                "fullDescription": {"text": format!("{} found: a credential that must not be stored or shared in clear.", d.name)},
                "defaultConfiguration": {"level": sarif_level(d.severity)},
                "properties": {
                    "tags": ["security", "secret"],
                    "security-severity": security_severity(d.severity),
                    "precision": if d.generic { "medium" } else { "high" },
                },
            });
            if let Some(uri) = d.references.first() {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rules.rules().iter().position(|r| r.def.id == f.rule_id);
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{} ({}): {}", f.rule_name, f.severity, f.redacted)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": path_to_uri(&f.path)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column + 1,
                        },
                    },
                }],
                "partialFingerprints": {"mantraSecret/v1": f.fingerprint},
                "properties": {"redacted": f.redacted, "severity": f.severity.as_str()},
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mantra",
                "semanticVersion": tool_version,
                "informationUri": "https://example.invalid/gonewx/mantra",
                "rules": rule_list,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(path_to_uri("./a b/c.json"), "a%20b/c.json");
        assert_eq!(path_to_uri(r"dir\file#1"), "dir/file%231");
    }
}
