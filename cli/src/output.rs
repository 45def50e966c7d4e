//! The human-readable output of a scan.

use std::fmt::Write;
use std::time::Duration;

use mantra_detect::{EngineKind, Finding};

use crate::scanning::ScanResult;

/// One block per finding: location, rule, redacted value, fingerprint.
pub fn human(findings: &[Finding], show_secrets: bool) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {} [{}] {}",
            f.path, f.line, f.column, f.severity, f.rule_id, f.rule_name
        );
        let _ = writeln!(out, "    secret:      {}", f.redacted);
        if show_secrets {
            if let Some(secret) = &f.secret {
                let _ = writeln!(out, "    in clear:    {secret}");
            }
        }
        let _ = writeln!(out, "    fingerprint: {}", f.fingerprint);
    }
    out
}

/// The closing line on stderr.
pub fn summary(result: &ScanResult, elapsed: Duration, engine: EngineKind) {
    let mb = result.bytes as f64 / 1e6;
    let secs = elapsed.as_secs_f64().max(1e-6);
    let mut tail = String::new();
    if result.binary > 0 {
        tail.push_str(&format!(
            ", {} binary file(s) scanned with the high-confidence rules only",
            result.binary
        ));
    }
    if result.skipped > 0 {
        tail.push_str(&format!(
            ", {} file(s) skipped (excluded path or over the size limit)",
            result.skipped
        ));
    }
    if result.errors > 0 {
        tail.push_str(&format!(", {} file(s) could not be scanned", result.errors));
    }
    // Files with findings and files scanned are two numbers: "3 findings in
    // 57 files" would hide that all three are in one file.
    let with_findings = result
        .findings
        .iter()
        .map(|f| f.path.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "mantra: {} finding(s) in {} of {} file(s) scanned, {:.1} MB in {:.2} s ({:.0} MB/s, {} engine){tail}",
        result.findings.len(),
        with_findings,
        result.files,
        mb,
        secs,
        mb / secs,
        engine.name(),
    );
}
