//! `mantra audit merge`: one organisation-level report from the per-machine
//! JSON reports an MDM or SIEM collected, with no server: the machines and
//! their users, compliance per control across the fleet, and the secrets
//! exposed in AI sessions grouped by fingerprint — the same secret leaked
//! on three laptops is one incident with three machines.
//!
//! Inputs are read as JSON values by field name, not as the typed report:
//! a report from an older Mantra (same `schema_version`, fewer fields)
//! merges, one from a newer schema is refused with the version it needs.
//! Fingerprints match across machines only when every machine fingerprints
//! under the organisation's `fingerprint_key`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::Value;

use super::model::SCHEMA_VERSION;

/// Version of the fleet report's shape.
pub const FLEET_SCHEMA_VERSION: u32 = 1;

/// The organisation-level report.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub schema_version: u32,
    pub kind: &'static str,
    pub generated_at: String,
    pub totals: Totals,
    pub machines: Vec<Machine>,
    pub controls: Vec<ControlRollup>,
    pub incidents: Vec<Incident>,
    /// Reports left out, and why (an older report of a machine that has a
    /// newer one in the set).
    pub superseded: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub machines: usize,
    pub compliant: usize,
    pub users: usize,
    pub findings: u64,
    /// Distinct exposed secrets across the fleet.
    pub incidents: usize,
    /// Incidents that reached a commit or push on some machine.
    pub incidents_in_git: usize,
}

/// One machine, from its newest report.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub hostname: String,
    pub user: Option<String>,
    pub os: String,
    pub mantra_version: String,
    pub generated_at: String,
    pub period_since: Option<String>,
    pub period_until: String,
    pub compliant: bool,
    pub failing_controls: Vec<String>,
    pub findings: u64,
    pub exposed_secrets: u64,
    /// The report file it came from.
    pub source: String,
}

/// One control across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRollup {
    pub control: String,
    pub title: String,
    pub pass: usize,
    pub warning: usize,
    pub fail: usize,
    pub failing_machines: Vec<String>,
}

/// One exposed secret, across every machine that holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub fingerprint: String,
    pub rule_id: String,
    pub preview: String,
    pub machines: Vec<String>,
    pub users: Vec<String>,
    pub sessions: usize,
    pub first_seen: String,
    pub last_seen: String,
    pub blocked: u64,
    pub bypassed: u64,
    /// A bypass let it into a commit or push somewhere.
    pub reached_git: bool,
}

/// The value at `path` in a report, when there is one of that name.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |node, key| node.get(key))
}

fn opt_text(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path).and_then(Value::as_str).map(str::to_owned)
}

fn text(v: &Value, path: &[&str]) -> String {
    opt_text(v, path).unwrap_or_default()
}

fn number(v: &Value, path: &[&str]) -> u64 {
    at(v, path).and_then(Value::as_u64).unwrap_or(0)
}

fn items<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Merges `(file, report)` pairs; `now` is the fleet report's time.
pub fn merge(reports: &[(String, Value)], now: String) -> Result<FleetReport> {
    if reports.is_empty() {
        bail!("no report to merge");
    }
    for (file, r) in reports {
        let version = r.get("schema_version").and_then(Value::as_u64);
        match version {
            Some(v) if v > u64::from(SCHEMA_VERSION) => bail!(
                "{file}: written by a newer Mantra (report schema {v}, this one reads up to \
                 {SCHEMA_VERSION}): merge with that version or a newer one"
            ),
            Some(v) if v >= 1 && r.get("host").is_some_and(Value::is_object) => {}
            _ => bail!(
                "{file}: not a Mantra audit report (run `mantra audit --format json` on the machine)"
            ),
        }
    }
    // The newest report of each machine and user counts; the others are
    // named as superseded (an MDM collects the same file every day).
    let mut newest: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, (_, r)) in reports.iter().enumerate() {
        let key = (text(r, &["host", "hostname"]), text(r, &["host", "user"]));
        let replace = match newest.get(&key) {
            Some(&j) => text(r, &["generated_at"]) > text(&reports[j].1, &["generated_at"]),
            None => true,
        };
        if replace {
            newest.insert(key, i);
        }
    }
    let kept: BTreeSet<usize> = newest.values().copied().collect();
    let superseded = reports
        .iter()
        .enumerate()
        .filter(|(i, _)| !kept.contains(i))
        .map(|(_, (file, _))| file.clone())
        .collect();

    let mut machines = Vec::new();
    let mut controls: BTreeMap<String, ControlRollup> = BTreeMap::new();
    let mut incidents: BTreeMap<String, Incident> = BTreeMap::new();
    let mut users = BTreeSet::new();
    let mut totals = Totals::default();
    for &i in &kept {
        let (file, r) = &reports[i];
        let hostname = text(r, &["host", "hostname"]);
        let user = opt_text(r, &["host", "user"]);
        if let Some(u) = &user {
            users.insert(u.clone());
        }
        let mut failing = Vec::new();
        for c in items(r, &["checks"]) {
            let control = text(c, &["control"]);
            let status = text(c, &["status"]);
            let roll = controls
                .entry(control.clone())
                .or_insert_with(|| ControlRollup {
                    control: control.clone(),
                    title: text(c, &["title"]),
                    pass: 0,
                    warning: 0,
                    fail: 0,
                    failing_machines: Vec::new(),
                });
            match status.as_str() {
                "pass" => roll.pass += 1,
                "warning" => roll.warning += 1,
                _ => {
                    roll.fail += 1;
                    roll.failing_machines.push(hostname.clone());
                    failing.push(control);
                }
            }
        }
        for e in items(r, &["exposures", "items"]) {
            let fingerprint = text(e, &["fingerprint"]);
            let first = text(e, &["first_seen"]);
            let last = text(e, &["last_seen"]);
            let incident = incidents
                .entry(fingerprint.clone())
                .or_insert_with(|| Incident {
                    fingerprint,
                    rule_id: text(e, &["rule_id"]),
                    preview: text(e, &["preview"]),
                    machines: Vec::new(),
                    users: Vec::new(),
                    sessions: 0,
                    first_seen: first.clone(),
                    last_seen: last.clone(),
                    blocked: 0,
                    bypassed: 0,
                    reached_git: false,
                });
            incident.machines.push(hostname.clone());
            if let Some(u) = &user {
                incident.users.push(u.clone());
            }
            incident.sessions += items(e, &["sessions"]).len();
            if first < incident.first_seen {
                incident.first_seen = first;
            }
            if last > incident.last_seen {
                incident.last_seen = last;
            }
            incident.blocked += number(e, &["blocked"]);
            incident.bypassed += number(e, &["bypassed"]);
            incident.reached_git |= number(e, &["bypassed"]) > 0;
        }
        let findings = number(r, &["findings", "total"]);
        totals.findings += findings;
        let compliant = failing.is_empty();
        totals.compliant += usize::from(compliant);
        machines.push(Machine {
            hostname,
            user,
            os: text(r, &["host", "os"]),
            mantra_version: text(r, &["host", "mantra_version"]),
            generated_at: text(r, &["generated_at"]),
            period_since: opt_text(r, &["period", "since"]),
            period_until: text(r, &["period", "until"]),
            compliant,
            failing_controls: failing,
            findings,
            exposed_secrets: number(r, &["exposures", "secrets"]),
            source: file.clone(),
        });
    }
    machines.sort_by(|a, b| (&a.hostname, &a.user).cmp(&(&b.hostname, &b.user)));
    let mut incidents: Vec<Incident> = incidents.into_values().collect();
    for i in &mut incidents {
        i.machines.sort();
        i.machines.dedup();
        i.users.sort();
        i.users.dedup();
    }
    // The widest spread first: a secret on many machines is the bigger
    // incident.
    incidents.sort_by(|a, b| {
        (b.machines.len(), &b.last_seen, &a.fingerprint).cmp(&(
            a.machines.len(),
            &a.last_seen,
            &b.fingerprint,
        ))
    });
    totals.machines = machines.len();
    totals.users = users.len();
    totals.incidents = incidents.len();
    totals.incidents_in_git = incidents.iter().filter(|i| i.reached_git).count();
    Ok(FleetReport {
        schema_version: FLEET_SCHEMA_VERSION,
        kind: "fleet",
        generated_at: now,
        totals,
        machines,
        controls: controls.into_values().collect(),
        incidents,
        superseded,
    })
}

/// `--format csv`: one row per machine (the fleet table); the incidents
/// and controls are in the JSON and HTML forms.
pub fn render_csv(f: &FleetReport) -> String {
    let mut out = String::new();
    super::csv::push_row(
        &mut out,
        [
            "host",
            "user",
            "os",
            "mantra_version",
            "report_time",
            "compliant",
            "failing_controls",
            "findings",
            "exposed_secrets",
        ]
        .iter()
        .map(|s| (*s).to_string()),
    );
    for m in &f.machines {
        super::csv::push_row(
            &mut out,
            [
                m.hostname.clone(),
                m.user.clone().unwrap_or_default(),
                m.os.clone(),
                m.mantra_version.clone(),
                m.generated_at.clone(),
                m.compliant.to_string(),
                m.failing_controls.join(" "),
                m.findings.to_string(),
                m.exposed_secrets.to_string(),
            ]
            .into_iter(),
        );
    }
    out
}

/// `--format html`: one self-contained page, every string escaped.
pub fn render_html(f: &FleetReport) -> String {
    use super::html::{escape, table, CSS};
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Mantra fleet report</title><style>{CSS}</style></head><body>\
         <h1>Mantra fleet report</h1><p class=\"muted\">{} machine(s), {} compliant; \
         {} exposed secret(s) across the fleet, {} of them in git. Generated {}.</p>",
        f.totals.machines,
        f.totals.compliant,
        f.totals.incidents,
        f.totals.incidents_in_git,
        escape(&f.generated_at)
    );
    out.push_str("<h2>Compliance per control</h2>");
    out.push_str(&table(
        &[
            "control",
            "title",
            "pass",
            "warning",
            "fail",
            "failing machines",
        ],
        f.controls.iter().map(|c| {
            vec![
                escape(&c.control),
                escape(&c.title),
                c.pass.to_string(),
                c.warning.to_string(),
                format!(
                    "<span class=\"{}\">{}</span>",
                    if c.fail > 0 { "fail" } else { "pass" },
                    c.fail
                ),
                escape(&c.failing_machines.join(", ")),
            ]
        }),
    ));
    out.push_str("<h2>Secrets exposed in AI sessions</h2>");
    out.push_str(&table(
        &[
            "rule",
            "secret (redacted)",
            "fingerprint",
            "machines",
            "users",
            "sessions",
            "last seen",
            "in git",
        ],
        f.incidents.iter().map(|i| {
            vec![
                escape(&i.rule_id),
                format!("<code>{}</code>", escape(&i.preview)),
                format!(
                    "<code>{}</code>",
                    escape(i.fingerprint.get(..16).unwrap_or(&i.fingerprint))
                ),
                escape(&i.machines.join(", ")),
                escape(&i.users.join(", ")),
                i.sessions.to_string(),
                escape(&i.last_seen),
                if i.reached_git {
                    "<span class=\"fail\">yes</span>".into()
                } else {
                    "no".into()
                },
            ]
        }),
    ));
    out.push_str("<h2>Machines</h2>");
    out.push_str(&table(
        &[
            "host",
            "user",
            "os",
            "version",
            "report",
            "compliant",
            "failing",
            "findings",
            "exposed",
        ],
        f.machines.iter().map(|m| {
            vec![
                escape(&m.hostname),
                escape(m.user.as_deref().unwrap_or("-")),
                escape(&m.os),
                escape(&m.mantra_version),
                escape(&m.generated_at),
                if m.compliant {
                    "<span class=\"pass\">yes</span>".into()
                } else {
                    "<span class=\"fail\">no</span>".into()
                },
                escape(&m.failing_controls.join(", ")),
                m.findings.to_string(),
                m.exposed_secrets.to_string(),
            ]
        }),
    ));
    if !f.superseded.is_empty() {
        out.push_str("<h2>Superseded reports</h2><p>");
        out.push_str(&escape(&f.superseded.join(", ")));
        out.push_str("</p>");
    }
    out.push_str("</body></html>\n");
    out
}
