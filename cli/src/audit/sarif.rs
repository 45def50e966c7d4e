//! `--format sarif`: the period's findings as SARIF 2.1.0, through the same
//! writer as `mantra scan`. Each finding is rebuilt from its store row: rule,
//! severity, redacted preview and fingerprint; its location is the session
//! file it was read from (the store keeps no line numbers, so the region is
//! the file's first line).

use mantra_detect::finding::{Finding, ViewKind};
use mantra_detect::{RuleSet, Severity};

use super::model::AuditReport;

pub fn render(report: &AuditReport, rules: &RuleSet) -> String {
    let findings: Vec<Finding> = report
        .findings
        .items
        .iter()
        .map(|f| Finding {
            rule_id: f.rule_id.clone(),
            rule_name: rules
                .get(&f.rule_id)
                .map_or_else(|| f.rule_id.clone(), |r| r.def.name.clone()),
            // A severity this build does not know is reported as medium.
            severity: f.severity.parse().unwrap_or(Severity::Medium),
            path: f.source.clone(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            offset: 0,
            length: 0,
            redacted: f.preview.clone(),
            fingerprint: f.fingerprint.clone(),
            view: ViewKind::Raw,
            secret: None,
        })
        .collect();
    mantra_detect::report::to_sarif(&findings, rules, &report.host.mantra_version)
}
