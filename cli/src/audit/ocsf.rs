//! `--format ocsf`: JSON Lines of OCSF 1.3.0 events for a SIEM.
//!
//! - Compliance Finding (class 2003) for each compliance check of the report
//!   (hooks coverage, policy, encryption, network, retention, event log).
//! - Data Security Finding (class 2006) for each finding in a session and
//!   for each secret exposed in sessions, with whether git blocked it
//!   (`action_id` 2 Denied) or a bypass let it through (1 Allowed).
//!
//! Every event carries the base attributes OCSF requires: `category_uid`
//! (2, Findings), `class_uid`, `activity_id` (1, Create), `type_uid`
//! (`class_uid * 100 + activity_id`), `severity_id`, `time` (ms since the
//! epoch), `metadata` (schema `version`, `product`) and `finding_info`
//! (`uid`, `title`). Mantra's own fields (fingerprint, redacted preview)
//! are under `unmapped`.

use mantra_agent::Timestamp;
use serde_json::{json, Value};

use super::model::{AuditReport, CheckStatus, ComplianceCheck, ExposedSecret};
use mantra_agent::store::stats::FindingRecord;

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.3.0";

const CATEGORY_FINDINGS: u32 = 2;
const COMPLIANCE_FINDING: u32 = 2003;
const DATA_SECURITY_FINDING: u32 = 2006;
const ACTIVITY_CREATE: u32 = 1;
const ACTION_ALLOWED: u32 = 1;
const ACTION_DENIED: u32 = 2;

/// One event per line. Each event is serialised as soon as it is built, so
/// a large period does not hold every event as a JSON tree at once.
pub fn render(report: &AuditReport) -> String {
    let now = ms(&report.generated_at);
    let mut out = String::new();
    let mut push = |event: Value| {
        out.push_str(&event.to_string());
        out.push('\n');
    };
    for c in &report.checks {
        push(compliance_finding(report, c, now));
    }
    for f in &report.findings.items {
        push(session_finding(report, f));
    }
    for e in &report.exposures.items {
        push(exposure_finding(report, e));
    }
    out
}

fn ms(rfc3339: &str) -> i64 {
    Timestamp::parse_iso(rfc3339).map_or(0, Timestamp::millis)
}

/// OCSF `severity_id`: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
fn severity_id(severity: &str) -> (u32, &'static str) {
    match severity {
        "critical" => (5, "Critical"),
        "high" => (4, "High"),
        "medium" => (3, "Medium"),
        "low" => (2, "Low"),
        _ => (1, "Informational"),
    }
}

/// The attributes every event shares.
fn base(
    report: &AuditReport,
    class_uid: u32,
    class_name: &str,
    time: i64,
    severity: &str,
) -> Value {
    let (sev_id, sev_name) = severity_id(severity);
    let mut event = json!({
        "category_uid": CATEGORY_FINDINGS,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": class_uid * 100 + ACTIVITY_CREATE,
        "type_name": format!("{class_name}: Create"),
        "time": time,
        "severity_id": sev_id,
        "severity": sev_name,
        "status_id": 1,
        "status": "New",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "Mantra",
                "vendor_name": "Mantra",
                "version": report.host.mantra_version,
            },
            "log_name": "mantra-audit",
        },
        "device": {
            "hostname": report.host.hostname,
            "type_id": 0,
            "os": {"name": report.host.os, "type_id": os_type_id(&report.host.os)},
        },
    });
    if let Some(user) = &report.host.user {
        event["actor"] = json!({"user": {"name": user}});
    }
    event
}

/// OCSF `os.type_id`: 100 Windows, 200 Linux, 300 macOS, 0 Unknown.
fn os_type_id(os: &str) -> u32 {
    match os {
        "windows" => 100,
        "linux" => 200,
        "macos" => 300,
        _ => 0,
    }
}

fn compliance_finding(report: &AuditReport, c: &ComplianceCheck, now: i64) -> Value {
    let (status_id, status, severity) = match c.status {
        CheckStatus::Pass => (1, "Pass", "info"),
        CheckStatus::Warning => (2, "Warning", "medium"),
        CheckStatus::Fail => (3, "Fail", "high"),
    };
    let mut e = base(
        report,
        COMPLIANCE_FINDING,
        "Compliance Finding",
        now,
        severity,
    );
    e["finding_info"] = json!({
        "uid": format!("mantra-{}-{}", c.control.to_ascii_lowercase(), report.host.hostname),
        "title": c.title,
        "desc": c.detail,
        "types": ["Mantra compliance check"],
    });
    e["compliance"] = json!({
        "control": c.control,
        "standards": ["Mantra Org Policy"],
        "status_id": status_id,
        "status": status,
        "status_detail": c.detail,
    });
    e["message"] = json!(format!("{}: {status}", c.title));
    if c.control == "MANTRA-LOG-02" {
        // The head to compare with the copy the SIEM collected from the OS log.
        e["unmapped"] = json!({ "event_log_chain": report.event_log.chain });
    }
    e
}

fn session_finding(report: &AuditReport, f: &FindingRecord) -> Value {
    let time = ms(&f.time);
    let mut e = base(
        report,
        DATA_SECURITY_FINDING,
        "Data Security Finding",
        time,
        &f.severity,
    );
    e["action_id"] = json!(ACTION_ALLOWED);
    e["action"] = json!("Allowed");
    e["finding_info"] = json!({
        "uid": format!("mantra-finding-{}-{}", f.session_id, f.fingerprint),
        "title": format!("{} secret in an AI assistant session", f.rule_id),
        "desc": format!("{} ({}) in a {} session: {}", f.rule_id, f.severity, f.assistant, f.preview),
        "types": ["Secret in AI session"],
        "first_seen_time": time,
        "data_sources": [f.assistant],
    });
    e["resources"] = json!([
        {"type": "ai_session", "uid": f.session_id, "name": f.project},
        {"type": "file", "name": f.source},
    ]);
    e["message"] = json!(format!(
        "{} secret found in a {} session",
        f.rule_id, f.assistant
    ));
    e["unmapped"] = json!({
        "rule_id": f.rule_id,
        "fingerprint": f.fingerprint,
        "redacted_preview": f.preview,
        "project": f.project,
    });
    e
}

fn exposure_finding(report: &AuditReport, x: &ExposedSecret) -> Value {
    let last = ms(&x.record.last_seen);
    // Without the rule's severity at hand, an exposure counts as high: it
    // is a live secret an AI provider has seen.
    let severity = if x.bypassed > 0 { "critical" } else { "high" };
    let mut e = base(
        report,
        DATA_SECURITY_FINDING,
        "Data Security Finding",
        last,
        severity,
    );
    let (action_id, action) = if x.bypassed > 0 {
        (ACTION_ALLOWED, "Allowed")
    } else if x.blocked > 0 {
        (ACTION_DENIED, "Denied")
    } else {
        (ACTION_ALLOWED, "Allowed")
    };
    e["action_id"] = json!(action_id);
    e["action"] = json!(action);
    e["finding_info"] = json!({
        "uid": format!("mantra-exposure-{}", x.record.fingerprint),
        "title": format!("{} secret exposed in {} AI session(s)", x.record.rule_id, x.record.sessions.len()),
        "desc": format!(
            "{}: blocked by git hooks {} time(s), let through by bypass {} time(s)",
            x.record.preview, x.blocked, x.bypassed
        ),
        "types": ["Secret exposed in AI session"],
        "first_seen_time": ms(&x.record.first_seen),
        "last_seen_time": last,
    });
    e["resources"] = json!(x
        .record
        .sessions
        .iter()
        .map(|s| json!({"type": "ai_session", "uid": s}))
        .collect::<Vec<_>>());
    e["message"] = json!(format!(
        "secret exposed in AI sessions; reached git: {}",
        x.bypassed > 0
    ));
    e["unmapped"] = json!({
        "rule_id": x.record.rule_id,
        "fingerprint": x.record.fingerprint,
        "redacted_preview": x.record.preview,
        "git_blocks": x.blocked,
        "git_bypasses": x.bypassed,
    });
    e
}
