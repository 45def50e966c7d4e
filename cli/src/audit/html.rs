//! `--format html`: one self-contained page (inline CSS, inline SVG charts,
//! no script, no external asset) an auditor opens offline. Every string
//! from the report is escaped.

use mantra_agent::store::stats::GroupCount;

use super::model::{AuditReport, CheckStatus};
use super::svg;

pub(super) const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.pass{color:#176b2c}.warning{color:#8a5a00}.fail{color:#b00020;font-weight:bold}\
.muted{fill:#777;color:#777}.bar{fill:#4a6fa5}.sev-critical{fill:#7b001c}.sev-high{fill:#c62828}\
.sev-medium{fill:#ef8f00}.sev-low{fill:#9e9d24}.sev-info{fill:#78909c}.axis{stroke:#999}\
svg text{font-size:12px}svg .day{font-size:10px}code{font-size:12px}.kv td:first-child{font-weight:bold}";

/// Exposed secrets listed in the page (most recently seen first); a
/// machine with thousands would make it unreadable, and the other formats
/// carry all of them.
const MAX_EXPOSURE_ROWS: usize = 200;

/// HTML escaping is the share exports' (one escaper for every HTML Mantra
/// writes).
pub use mantra_agent::export::html_escape as escape;

fn opt(s: &Option<String>) -> String {
    escape(s.as_deref().unwrap_or("-"))
}

/// A table from a header and rows of already-escaped cells.
pub(super) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>");
    let mut any = false;
    for row in rows {
        any = true;
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{cell}</td>"));
        }
        out.push_str("</tr>");
    }
    if !any {
        out.push_str(&format!(
            "<tr><td colspan=\"{}\" class=\"muted\">none</td></tr>",
            header.len()
        ));
    }
    out.push_str("</table>");
    out
}

fn counts(groups: &[GroupCount], none_label: &str) -> Vec<(String, u64)> {
    groups
        .iter()
        .map(|g| (g.key.clone().unwrap_or_else(|| none_label.into()), g.count))
        .collect()
}

fn count_table(title: &str, groups: &[GroupCount], none_label: &str) -> String {
    table(
        &[title, "count"],
        counts(groups, none_label)
            .into_iter()
            .map(|(k, v)| vec![escape(&k), v.to_string()]),
    )
}

pub fn render(r: &AuditReport) -> String {
    let mut b = String::new();
    b.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    b.push_str(&format!(
        "<title>Mantra audit report — {}</title><style>{CSS}</style></head><body>",
        escape(&r.host.hostname)
    ));
    b.push_str(&format!(
        "<h1>Mantra audit report</h1><table class=\"kv\">\
         <tr><td>Host</td><td>{}</td></tr><tr><td>User</td><td>{}</td></tr>\
         <tr><td>OS</td><td>{}</td></tr><tr><td>Mantra</td><td>{}</td></tr>\
         <tr><td>Period</td><td>{} — {}</td></tr><tr><td>Generated</td><td>{}</td></tr></table>",
        escape(&r.host.hostname),
        opt(&r.host.user),
        escape(&r.host.os),
        escape(&r.host.mantra_version),
        r.period
            .since
            .as_deref()
            .map_or_else(|| "the beginning".to_string(), escape),
        escape(&r.period.until),
        escape(&r.generated_at),
    ));
    if !r.store.present {
        b.push_str("<p><strong>No session store yet</strong>: nothing has been indexed on this machine.</p>");
    }

    b.push_str("<h2>Compliance checks</h2>");
    b.push_str(&table(
        &["control", "check", "status", "detail"],
        r.checks.iter().map(|c| {
            let class = match c.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Warning => "warning",
                CheckStatus::Fail => "fail",
            };
            vec![
                escape(&c.control),
                escape(&c.title),
                format!("<span class=\"{class}\">{}</span>", c.status.as_str()),
                escape(&c.detail),
            ]
        }),
    ));

    b.push_str("<h2>Findings</h2>");
    b.push_str(&format!(
        "<p>{} finding(s) in AI sessions during the period.</p>",
        r.findings.total
    ));
    b.push_str(&svg::bar_chart(
        "Findings by severity",
        &counts(&r.findings.by_severity, "-"),
    ));
    b.push_str("<h3>Per day</h3>");
    b.push_str(&svg::day_chart(
        "Findings per day",
        &counts(&r.findings.by_day, "-"),
    ));
    b.push_str("<h3>By rule</h3>");
    b.push_str(&count_table("rule", &r.findings.by_rule, "-"));
    b.push_str("<h3>By assistant</h3>");
    b.push_str(&count_table("assistant", &r.findings.by_assistant, "-"));
    b.push_str("<h3>By project</h3>");
    b.push_str(&count_table(
        "project",
        &r.findings.by_project,
        "(no project)",
    ));

    b.push_str("<h2>Secrets exposed in AI sessions</h2>");
    b.push_str(&format!(
        "<p>{} secret(s) in {} session(s). Reached git through a bypass: <strong>{}</strong>.</p>",
        r.exposures.secrets,
        r.exposures.sessions,
        if r.git.exposed_secret_reached_git {
            "yes"
        } else {
            "no"
        }
    ));
    b.push_str(&table(
        &[
            "rule",
            "redacted",
            "fingerprint",
            "first seen",
            "last seen",
            "sessions",
            "blocked in git",
            "let through by bypass",
        ],
        r.exposures.items.iter().take(MAX_EXPOSURE_ROWS).map(|x| {
            vec![
                escape(&x.record.rule_id),
                format!("<code>{}</code>", escape(&x.record.preview)),
                format!("<code>{}</code>", escape(&x.record.fingerprint)),
                escape(&x.record.first_seen),
                escape(&x.record.last_seen),
                escape(&x.record.sessions.join(", ")),
                x.blocked.to_string(),
                x.bypassed.to_string(),
            ]
        }),
    ));

    if r.exposures.items.len() > MAX_EXPOSURE_ROWS {
        b.push_str(&format!(
            "<p class=\"muted\">The {MAX_EXPOSURE_ROWS} most recently seen of {}; \
             every one is in the json and ocsf formats.</p>",
            r.exposures.items.len()
        ));
    }

    b.push_str("<h2>Git hooks</h2>");
    b.push_str(&format!(
        "<p>{} block(s) ({} of exposed secrets); {} bypass(es) ({} with secrets, {} with exposed secrets).</p>",
        r.git.blocks,
        r.git.blocks_of_exposed,
        r.git.bypasses,
        r.git.bypasses_with_secrets,
        r.git.bypasses_of_exposed
    ));
    b.push_str(&table(
        &["scope", "core.hooksPath", "hooks"],
        r.hooks.scopes.iter().map(|s| {
            let hooks: Vec<String> = s
                .hooks
                .iter()
                .map(|h| format!("{} {}", h.name, h.state))
                .collect();
            vec![
                escape(&s.scope),
                opt(&s.hooks_path),
                escape(&hooks.join(", ")),
            ]
        }),
    ));
    b.push_str(&table(
        &[
            "time",
            "event",
            "hook",
            "repository",
            "user",
            "reason",
            "secrets",
        ],
        r.git.events.iter().map(|e| {
            let secrets: Vec<String> = e
                .secrets
                .iter()
                .map(|s| {
                    format!(
                        "{} {}:{}{}",
                        s.rule_id,
                        s.path,
                        s.line,
                        if s.exposed { " (exposed)" } else { "" }
                    )
                })
                .chain(e.transcripts.iter().map(|t| format!("transcript {t}")))
                .collect();
            vec![
                escape(&e.time),
                escape(&e.kind),
                escape(&e.hook),
                escape(&e.repo),
                opt(&e.user),
                opt(&e.reason),
                escape(&secrets.join("; ")),
            ]
        }),
    ));

    b.push_str("<h2>Sessions indexed</h2>");
    b.push_str(&format!(
        "<p>{} session(s) active in the period; {} index run(s), last {}.</p>",
        r.sessions.total,
        r.index_runs.runs,
        opt(&r.index_runs.last)
    ));
    b.push_str(&count_table("assistant", &r.sessions.by_assistant, "-"));
    b.push_str(&count_table(
        "project",
        &r.sessions.by_project,
        "(no project)",
    ));

    b.push_str("<h2>Retention, deletions and wipes</h2>");
    b.push_str(&format!(
        "<p>Retention: {}; applied {} time(s), {} session(s) removed.</p>",
        r.retention.days.map_or_else(
            || "none (sessions kept)".to_string(),
            |d| format!("{d} days")
        ),
        r.retention.runs,
        r.retention.sessions_removed
    ));
    b.push_str(&table(
        &["time", "user", "deleted", "sessions"],
        r.deletions.iter().map(|d| {
            let what = match &d.target {
                mantra_core::audit_log::DeleteTarget::Project(p) => format!("project {p}"),
                mantra_core::audit_log::DeleteTarget::Before(t) => format!("idle before {t}"),
                mantra_core::audit_log::DeleteTarget::Session(s) => format!("session {s}"),
            };
            vec![
                escape(&d.time),
                opt(&d.user),
                escape(&what),
                d.sessions.to_string(),
            ]
        }),
    ));
    b.push_str(&table(
        &["wipe time", "user", "items removed", "key removed"],
        r.wipes.iter().map(|w| {
            vec![
                escape(&w.time),
                opt(&w.user),
                w.items.to_string(),
                w.key_removed.to_string(),
            ]
        }),
    ));

    b.push_str("<h2>Policy in force</h2>");
    b.push_str(&table(
        &["source (weakest first)"],
        r.policy.sources.iter().map(|s| vec![escape(s)]),
    ));
    if !r.policy.problems.is_empty() {
        b.push_str(&table(
            &["policy problem"],
            r.policy.problems.iter().map(|p| vec![escape(p)]),
        ));
    }
    b.push_str(&table(
        &["key", "value", "level", "source", "origin"],
        r.policy.settings.iter().map(|s| {
            vec![
                escape(&s.key),
                format!("<code>{}</code>", escape(&s.value.to_string())),
                escape(&s.level),
                escape(&s.source),
                opt(&s.origin),
            ]
        }),
    ));
    let chain = &r.event_log.chain;
    b.push_str(&format!(
        "<p class=\"muted\">Event log {}: {} event(s) in the period, {} unreadable line(s); \
         hash chain {}, {} record(s), head seq {}, hash <code>{}</code>; OS log: {} ({}). \
         Report schema version {}.</p></body></html>\n",
        escape(&r.event_log.path),
        r.event_log.records,
        r.event_log.skipped_lines,
        escape(&chain.status),
        chain.records,
        chain
            .head_seq
            .map_or_else(|| "-".to_string(), |s| s.to_string()),
        escape(chain.head_hash.as_deref().unwrap_or("-")),
        escape(&r.event_log.os_log.target),
        if r.event_log.os_log.available {
            "available"
        } else {
            "unavailable"
        },
        r.schema_version
    ));
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::ExposedSecret;
    use mantra_agent::store::stats::ExposureRecord;

    #[test]
    fn a_long_exposure_list_is_cut_with_a_note() {
        let mut r = AuditReport::default();
        r.exposures.items = (0..MAX_EXPOSURE_ROWS + 50)
            .map(|i| ExposedSecret {
                record: ExposureRecord {
                    fingerprint: format!("fp{i:04}"),
                    rule_id: "aws-access-key-id".into(),
                    preview: "AKIA…".into(),
                    first_seen: String::new(),
                    last_seen: String::new(),
                    sessions: vec![],
                },
                blocked: 0,
                bypassed: 0,
            })
            .collect();
        let html = render(&r);
        assert!(html.contains("fp0199") && !html.contains("fp0200"));
        assert!(html.contains("most recently seen of 250"), "{html}");
        r.exposures.items.truncate(3);
        assert!(!render(&r).contains("most recently seen of"));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<img src=\"x\" onerror='y'>&"),
            "&lt;img src=&quot;x&quot; onerror=&#39;y&#39;&gt;&amp;"
        );
    }
}
