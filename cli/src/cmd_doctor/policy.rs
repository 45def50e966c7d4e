//! `policy`: the effective policy, where it comes from, and whether every
//! source could be read and every value was valid.
//!
//! An unreadable administrator source (fail-closed applied) and an invalid
//! value from an administrator source fail: what is in force is not what
//! the administrator wrote. Unknown keys and problems of the user's own
//! configuration warn.

use std::collections::BTreeMap;

use mantra_policy::{Level, SourceKind};

use super::{Check, Context};

const ID: &str = "policy";
const FIX_ADMIN: &str =
    "fix the policy source named above (`mantra policy show` lists every problem; \
     `mantra policy validate FILE` checks a file before deploying it)";

pub fn check(ctx: &Context) -> Check {
    let report = &ctx.effective.report;
    let from = sources_with_keys(report);
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    for e in &report.errors {
        if e.fail_closed {
            fails.push(format!(
                "unreadable mandatory source {} ({}); restrictive values applied",
                e.origin, e.message
            ));
        } else {
            warns.push(format!("unreadable {} ({})", e.origin, e.message));
        }
    }
    for i in &report.invalid {
        let msg = format!("invalid {} at {}: {}", i.key, i.origin, i.reason);
        if i.source.is_admin() {
            fails.push(msg);
        } else {
            warns.push(msg);
        }
    }
    for u in &report.unknown {
        warns.push(format!("unknown key {} at {} (ignored)", u.key, u.origin));
    }
    if !fails.is_empty() {
        let mut all = fails;
        all.extend(warns);
        return Check::fail(ID, all.join("; "), FIX_ADMIN);
    }
    if !warns.is_empty() {
        return Check::warn(
            ID,
            format!("{from}; {}", warns.join("; ")),
            "correct or remove the keys named above (`mantra policy show` lists them)",
        );
    }
    Check::ok(ID, from)
}

/// "3 key(s) from /etc/mantra/policy.yaml (policy_file, mandatory), …" or
/// "built-in defaults only".
fn sources_with_keys(report: &mantra_policy::Report) -> String {
    let mut by_origin: BTreeMap<(String, SourceKind), (usize, Level)> = BTreeMap::new();
    for row in report.rows.iter().filter(|r| r.level != Level::Default) {
        let origin = row.origin.as_deref().unwrap_or("?");
        let entry = by_origin
            .entry((strip_line(origin).to_string(), row.source))
            .or_insert((0, row.level));
        entry.0 += 1;
        entry.1 = entry.1.max(row.level);
    }
    if by_origin.is_empty() {
        return "built-in defaults only (no policy source sets a key)".to_string();
    }
    let parts: Vec<String> = by_origin
        .iter()
        .map(|((origin, kind), (n, level))| {
            format!("{n} key(s) from {origin} ({kind}, {})", level.as_str())
        })
        .collect();
    format!("effective policy loaded: {}", parts.join(", "))
}

/// `/etc/mantra/policy.yaml:3` → `/etc/mantra/policy.yaml`.
fn strip_line(origin: &str) -> &str {
    match origin.rsplit_once(':') {
        Some((path, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => path,
        _ => origin,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_line;

    #[test]
    fn origins_lose_their_line_number() {
        assert_eq!(
            strip_line("/etc/mantra/policy.yaml:12"),
            "/etc/mantra/policy.yaml"
        );
        assert_eq!(
            strip_line(r"C:\ProgramData\Mantra\policy.yaml"),
            r"C:\ProgramData\Mantra\policy.yaml"
        );
        assert_eq!(
            strip_line("HKLM\\Software\\Policies\\Mantra"),
            "HKLM\\Software\\Policies\\Mantra"
        );
    }
}
