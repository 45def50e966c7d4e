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

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mantra_agent::store::stats::Period;
use mantra_agent::DataDir;

use crate::audit::{csv, gather, html, json, ocsf, sarif};

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
pub struct AuditArgs {
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

/// Runs `mantra audit`.
pub fn run(args: &AuditArgs) -> Result<u8> {
    let effective = crate::policy_cmd::effective();
    let agent = crate::agent_cmd::config_from_policy(&effective.policy);
    let hooks = crate::hooks_cmd::hook_config(&effective.policy)?;
    let dir = DataDir::new(
        mantra_agent::data_dir().context("cannot determine the data directory; set MANTRA_HOME")?,
    );
    let now = mantra_core::time::now_ms();
    let parse = |t: &Option<String>| {
        t.as_deref()
            .map(|s| mantra_core::time::parse_time(s, now))
            .transpose()
    };
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
        effective: &effective,
        agent: &agent,
        required_hooks: hooks.required.clone(),
        dir: &dir,
        period,
        now_ms: now,
    })?;
    let text = match args.format {
        AuditFormat::Html => html::render(&report),
        AuditFormat::Json => json::render(&report)?,
        AuditFormat::Ocsf => ocsf::render(&report),
        AuditFormat::Sarif => {
            let (rules, _) = crate::engine_setup::policy_rules(&effective.policy).build();
            sarif::render(&report, &rules)
        }
        AuditFormat::Csv => csv::render(&report),
    };
    match &args.out {
        Some(path) => {
            write_report(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("mantra: wrote {}", path.display());
        }
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write the report")?,
    }
    Ok(0)
}

/// Atomic write, 0644 (see the module documentation).
fn write_report(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
