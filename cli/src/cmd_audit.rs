//! `mantra audit`: a compliance report for a period, in the format an
//! auditor, a SIEM or a code-scanning tool reads.
//!
//! Exit codes: 0 the report was written (also on a machine with no store
//! yet: the report says so); 2 it could not be (wrong key, unreadable
//! store, bad arguments).
//!
//! `--out` files are written atomically (temporary file, then rename) with
//! mode 0644: a report holds no secret and no message text, and the log
//! forwarders that ship it to a SIEM often run as another user.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mantra_agent::store::stats::Period;

use crate::audit::{csv, fleet, gather, html, json, ocsf, sarif};
use crate::out_file::{self, Access};
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// One self-contained page with charts.
    Html,
    /// The report model (`schema_version` 1).
    Json,
    /// JSON Lines of OCSF 1.3.0 Compliance and Data Security Findings.
    Ocsf,
    /// SARIF 2.1.0 of the findings.
    Sarif,
    /// One row per finding.
    Csv,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    merge: Option<AuditSub>,
    /// Start of the period (RFC 3339 date/time, or 30m, 12h, 7d, 4w ago);
    /// default: everything recorded.
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// End of the period (same forms); default: now.
    #[arg(long, value_name = "T")]
    until: Option<String>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Json)]
    format: AuditFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditSub {
    /// One organisation-level report from the machines' JSON reports (what
    /// an MDM or SIEM collected): compliance per control, and each secret
    /// exposed on several machines as one incident.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `mantra audit --format json`.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// html, json or csv (one row per machine).
    #[arg(long, value_enum, default_value_t = FleetFormat::Json)]
    format: FleetFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    Html,
    Json,
    Csv,
}

/// The largest report read: a machine's JSON report with every finding of
/// a long period is a few megabytes.
const REPORT_LIMIT: u64 = 256 * 1024 * 1024;

/// Runs `mantra audit merge`.
fn merge(settings: &Settings, args: &MergeArgs) -> Result<u8> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = mantra_core::fsio::read_to_string(path, REPORT_LIMIT)
            .with_context(|| format!("cannot read {name}"))?;
        let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .with_context(|| {
                format!("{name}: not JSON (a report from `mantra audit --format json`)")
            })?;
        reports.push((name, value));
    }
    let now = mantra_core::time::Timestamp(settings.started_ms).to_rfc3339();
    let fleet = fleet::merge(&reports, now)?;
    let text = match args.format {
        FleetFormat::Json => serde_json::to_string_pretty(&fleet)? + "\n",
        FleetFormat::Csv => fleet::render_csv(&fleet),
        FleetFormat::Html => fleet::render_html(&fleet),
    };
    out_file::write_output(args.out.as_deref(), text.as_bytes(), Access::Everyone)?;
    for file in &fleet.superseded {
        eprintln!(
            "mantra: {file}: an older report of a machine with a newer one in the set; left out"
        );
    }
    if let Some(path) = &args.out {
        eprintln!(
            "mantra: wrote {} ({} machine(s), {} incident(s))",
            path.display(),
            fleet.totals.machines,
            fleet.totals.incidents
        );
    }
    Ok(0)
}

/// Runs `mantra audit`.
pub fn run(settings: &Settings, args: &AuditArgs) -> Result<u8> {
    if let Some(AuditSub::Merge(m)) = &args.merge {
        return merge(settings, m);
    }
    let hooks = settings.hook_config()?;
    let dir = settings.data_dir()?;
    let now = settings.started_ms;
    let parse = |t: &Option<String>| t.as_deref().map(|s| settings.parse_time(s)).transpose();
    let period = Period {
        since: parse(&args.since)?,
        until: Some(parse(&args.until)?.unwrap_or(now)),
    };
    if let (Some(since), Some(until)) = (period.since, period.until) {
        if since > until {
            anyhow::bail!(
                "--since ({}) is later than --until ({}): the period is empty",
                args.since.as_deref().unwrap_or_default(),
                args.until.as_deref().unwrap_or("now")
            );
        }
    }
    let report = gather::gather(&gather::Inputs {
        effective: &settings.effective,
        agent: &settings.agent,
        required_hooks: hooks.required.clone(),
        dir,
        period,
        now_ms: now,
        user: settings.user.clone(),
        os_log: &settings.os_log,
    })?;
    let text = match args.format {
        AuditFormat::Html => html::render(&report),
        AuditFormat::Json => json::render(&report)?,
        AuditFormat::Ocsf => ocsf::render(&report),
        AuditFormat::Sarif => sarif::render(&report, settings.rules().as_ref()),
        AuditFormat::Csv => csv::render(&report),
    };
    out_file::write_output(args.out.as_deref(), text.as_bytes(), Access::Everyone)?;
    if let Some(path) = &args.out {
        eprintln!("mantra: wrote {}", path.display());
    }
    Ok(0)
}
