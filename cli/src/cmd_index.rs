//! `mantra index`: index every discovered AI session into the encrypted
//! store, list the exposed secrets for the git hooks, and record the run in
//! the compliance event log.

use anyhow::Result;
use clap::Args;
use mantra_agent::index::{IndexEvent, IndexOptions, IndexReport};
use mantra_agent::store::OpenMode;
use mantra_core::audit_log::AuditEvent;

use crate::agent_store;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Print the run's report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Worker threads for parsing and scanning (default: one per core, at most 4).
    #[arg(long, default_value_t = 0, hide = true)]
    threads: usize,
}

pub fn run(settings: &Settings, a: IndexArgs) -> Result<u8> {
    // First: from here on a stop request ends the run at a safe point.
    let cancel = crate::interrupt::install(
        crate::interrupt::INTERRUPTED,
        crate::interrupt::INTERACTIVE_GRACE,
        || {},
    )?;
    let env = agent_store::discovery_env()?;
    let mut store = agent_store::open(settings, OpenMode::Create)?;
    let scanner = settings.agent_scanner()?;
    let sources = mantra_agent::discover_all(&env);
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} indexing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let report = mantra_agent::index::index_sources(
        &mut store,
        &scanner,
        &settings.agent,
        &sources,
        &IndexOptions {
            threads: a.threads,
            ..IndexOptions::default()
        },
        &cancel,
        &mut |ev| match ev {
            IndexEvent::Planned { bytes, .. } => bar.set_length(bytes),
            IndexEvent::Done { bytes } => bar.inc(bytes),
        },
    )?;
    bar.finish_and_clear();
    if let Some(days) = settings.agent.retention_days {
        agent_store::apply_retention(&mut store, settings, days)?;
    }
    let exposed = agent_store::write_exposures(&store, settings)?;
    let elapsed = started.elapsed();
    agent_store::record_event(
        settings,
        AuditEvent::Index {
            files_seen: report.sources_seen,
            files_indexed: report.sources_indexed,
            files_failed: report.sources_failed,
            messages: report.messages,
            findings: report.findings,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        },
    );
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&report, exposed, elapsed))?
        );
    } else {
        print_report(&report, exposed, elapsed);
    }
    Ok(index_exit_code(&report))
}

/// `mantra index` exits 130 when interrupted, 2 when a source could not be
/// read (the others are indexed, and the failures listed above), else 0.
fn index_exit_code(report: &IndexReport) -> u8 {
    if report.cancelled {
        crate::interrupt::INTERRUPTED
    } else if report.sources_failed > 0 {
        2
    } else {
        0
    }
}

fn report_json(r: &IndexReport, exposed: usize, elapsed: std::time::Duration) -> serde_json::Value {
    serde_json::json!({
        "sources_seen": r.sources_seen,
        "sources_indexed": r.sources_indexed,
        "sources_unchanged": r.sources_unchanged,
        "sources_failed": r.sources_failed,
        "bytes": r.bytes,
        "sessions": r.sessions,
        "messages": r.messages,
        "findings": r.findings,
        "exposed_secrets": exposed,
        "skipped_corrupt_records": r.parse.skipped_corrupt,
        "seconds": elapsed.as_secs_f64(),
        "cancelled": r.cancelled,
        "errors": r.errors.iter().map(|(p, e)| serde_json::json!({"path": p, "error": e})).collect::<Vec<_>>(),
    })
}

fn print_report(r: &IndexReport, exposed: usize, elapsed: std::time::Duration) {
    let secs = elapsed.as_secs_f64().max(1e-6);
    eprintln!(
        "mantra: indexed {} of {} source(s) ({:.1} MB in {:.2} s, {:.0} MB/s), {} unchanged; \
         {} message(s), {} finding(s); {} exposed secret(s) listed{}",
        r.sources_indexed,
        r.sources_seen,
        r.bytes as f64 / 1e6,
        secs,
        r.bytes as f64 / 1e6 / secs,
        r.sources_unchanged,
        r.messages,
        r.findings,
        exposed,
        if r.sources_failed > 0 {
            format!("; {} source(s) could not be read", r.sources_failed)
        } else {
            String::new()
        }
    );
    for (p, e) in r.errors.iter().take(10) {
        eprintln!("mantra: warning: {}: {e}", p.display());
    }
    if r.errors.len() > 10 {
        eprintln!(
            "mantra: warning: {} more source(s) could not be read (--json lists them all)",
            r.errors.len() - 10
        );
    }
    if r.cancelled {
        eprintln!("mantra: interrupted; the next run resumes from the last committed batch");
    }
}
