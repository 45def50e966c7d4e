//! `--format csv`: one row per finding, RFC 4180 (CRLF line ends, fields
//! with commas, quotes or line breaks quoted, quotes doubled). Each row
//! names the machine and the user, so the files of a fleet concatenate into
//! one table.

use super::model::AuditReport;

const HEADER: [&str; 10] = [
    "host",
    "user",
    "day",
    "assistant",
    "project",
    "rule",
    "severity",
    "fingerprint",
    "redacted_preview",
    "session_id",
];

/// The findings of the report as CSV with a header row.
pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().map(|s| (*s).to_string()));
    for f in &report.findings.items {
        let day = f.time.get(..10).unwrap_or(&f.time).to_string();
        push_row(
            &mut out,
            [
                report.host.hostname.clone(),
                report.host.user.clone().unwrap_or_default(),
                day,
                f.assistant.clone(),
                f.project.clone().unwrap_or_default(),
                f.rule_id.clone(),
                f.severity.clone(),
                f.fingerprint.clone(),
                f.preview.clone(),
                f.session_id.clone(),
            ]
            .into_iter(),
        );
    }
    out
}

pub(super) fn push_row(out: &mut String, fields: impl Iterator<Item = String>) {
    let cells: Vec<String> = fields.map(|f| field(&defuse_formula(f))).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// Quotes a field when RFC 4180 requires it.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-`, `@` (or a tab or
/// carriage return before one) as a formula; a leading `'` keeps it text
/// (OWASP "CSV injection").
fn defuse_formula(value: String) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(defuse_formula("=cmd()".into()), "'=cmd()");
        assert_eq!(defuse_formula("/work/app".into()), "/work/app");
    }
}
