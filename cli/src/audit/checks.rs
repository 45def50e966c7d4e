//! The report's compliance checks: each a stable control id and a
//! pass / warning / fail verdict, decided from the gathered sections. They
//! become OCSF Compliance Findings and the "Checks" table of the HTML.

use mantra_policy::source::Level;
use mantra_policy::Effective;

use super::model::{AuditReport, CheckStatus, ComplianceCheck};
use super::trail;

/// Every check, in a stable order.
pub fn evaluate(report: &AuditReport, eff: &Effective) -> Vec<ComplianceCheck> {
    vec![
        policy_loaded(eff),
        hooks_installed(report),
        no_exposed_secret_bypassed(report),
        store_encrypted(report),
        network_decided(eff),
        retention_applied(report),
        event_log_intact(report),
        event_log_chained(report),
        event_log_mirrored(report),
    ]
}

fn check(control: &str, title: &str, status: CheckStatus, detail: String) -> ComplianceCheck {
    ComplianceCheck {
        control: control.into(),
        title: title.into(),
        status,
        detail,
    }
}

fn policy_loaded(eff: &Effective) -> ComplianceCheck {
    let r = &eff.report;
    let (status, detail) = if !r.errors.is_empty() {
        (
            CheckStatus::Fail,
            format!(
                "{} policy source(s) could not be read; restrictive values applied",
                r.errors.len()
            ),
        )
    } else if !r.invalid.is_empty() || !r.unknown.is_empty() {
        (
            CheckStatus::Warning,
            format!(
                "{} invalid value(s), {} unknown key(s)",
                r.invalid.len(),
                r.unknown.len()
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("{} source(s) read without problems", r.sources.len()),
        )
    };
    check("MANTRA-POLICY-01", "Policy loaded", status, detail)
}

fn hooks_installed(report: &AuditReport) -> ComplianceCheck {
    let h = &report.hooks;
    let (status, detail) = if h.covered {
        (
            CheckStatus::Pass,
            format!(
                "required hooks ({}) installed at global or system scope",
                h.required.join(", ")
            ),
        )
    } else {
        let found: Vec<String> = h
            .scopes
            .iter()
            .map(|s| match &s.hooks_path {
                None => format!("{}: core.hooksPath not set", s.scope),
                Some(p) => {
                    let states: Vec<String> = s
                        .hooks
                        .iter()
                        .map(|x| format!("{} {}", x.name, x.state))
                        .collect();
                    format!("{}: {p} ({})", s.scope, states.join(", "))
                }
            })
            .collect();
        (
            CheckStatus::Fail,
            format!(
                "required hooks ({}) not installed at global or system scope; {}",
                h.required.join(", "),
                found.join("; ")
            ),
        )
    };
    check(
        "MANTRA-HOOKS-01",
        "Git hooks installed organisation-wide",
        status,
        detail,
    )
}

fn no_exposed_secret_bypassed(report: &AuditReport) -> ComplianceCheck {
    let g = &report.git;
    let (status, detail) = if g.bypasses_of_exposed > 0 {
        (
            CheckStatus::Fail,
            format!(
                "{} bypass(es) let a secret exposed in an AI session into git",
                g.bypasses_of_exposed
            ),
        )
    } else if g.bypasses > 0 {
        (
            CheckStatus::Warning,
            format!(
                "{} bypass(es), {} with secrets; none exposed in a session",
                g.bypasses, g.bypasses_with_secrets
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("no bypass; {} commit(s) or push(es) blocked", g.blocks),
        )
    };
    check(
        "MANTRA-HOOKS-02",
        "No exposed secret let into git",
        status,
        detail,
    )
}

fn store_encrypted(report: &AuditReport) -> ComplianceCheck {
    let detail = if report.store.present {
        "the session store is an encrypted SQLCipher database".to_string()
    } else {
        "no session store yet (nothing indexed on this machine)".to_string()
    };
    check(
        "MANTRA-STORE-01",
        "Session store encrypted",
        CheckStatus::Pass,
        detail,
    )
}

fn network_decided(eff: &Effective) -> ComplianceCheck {
    let p = &eff.policy;
    let mandatory = eff
        .report
        .row("network.enabled")
        .is_some_and(|r| r.level == Level::Mandatory);
    let state = format!(
        "network.enabled={}, updates.enabled={}, crash_reports.enabled={}, telemetry={}",
        p.network.enabled, p.updates.enabled, p.crash_reports.enabled, p.telemetry
    );
    let status = if !p.network.enabled || mandatory {
        CheckStatus::Pass
    } else {
        CheckStatus::Warning
    };
    let detail = match status {
        CheckStatus::Pass if mandatory => format!("set by mandatory policy: {state}"),
        CheckStatus::Pass => format!("network off: {state}"),
        _ => format!("network allowed without a mandatory policy: {state}"),
    };
    check(
        "MANTRA-NET-01",
        "Network use decided by policy",
        status,
        detail,
    )
}

fn retention_applied(report: &AuditReport) -> ComplianceCheck {
    let r = &report.retention;
    let (status, detail) = match r.days {
        None => (
            CheckStatus::Pass,
            "no retention period: sessions are kept".to_string(),
        ),
        Some(days) if r.runs > 0 => (
            CheckStatus::Pass,
            format!(
                "{days}-day retention applied {} time(s), {} session(s) removed",
                r.runs, r.sessions_removed
            ),
        ),
        Some(days) => (
            CheckStatus::Warning,
            format!("{days}-day retention in force but no index run applied it in the period"),
        ),
    };
    check("MANTRA-RET-01", "Retention applied", status, detail)
}

fn event_log_intact(report: &AuditReport) -> ComplianceCheck {
    let l = &report.event_log;
    let (status, detail) = if l.skipped_lines > 0 {
        (
            CheckStatus::Warning,
            format!(
                "{} unreadable line(s) skipped in {}",
                l.skipped_lines, l.path
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("{} event(s) in the period", l.records),
        )
    };
    check("MANTRA-LOG-01", "Audit event log readable", status, detail)
}

fn event_log_chained(report: &AuditReport) -> ComplianceCheck {
    let v = trail::chain_verdict(&report.event_log.chain, &report.event_log.path);
    check(
        "MANTRA-LOG-02",
        "Audit event log hash chain intact",
        v.status,
        v.detail,
    )
}

fn event_log_mirrored(report: &AuditReport) -> ComplianceCheck {
    let v = trail::os_log_verdict(&report.event_log.os_log);
    check(
        "MANTRA-LOG-03",
        "Audit events mirrored to the OS log",
        v.status,
        v.detail,
    )
}
