//! `mantra delete`: remove sessions from the store by project, time or id.
//! It lists what it will remove and asks first (or takes `--yes`);
//! `--dry-run` only lists. A deletion is recorded in the compliance event
//! log, the store is compacted so the data is gone from the file, and the
//! exposure list the git hooks read follows.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Result};
use clap::Args;
use mantra_agent::model::Assistant;
use mantra_agent::store::delete::DeleteScope;
use mantra_agent::store::query::{SessionFilter, SessionRow};
use mantra_agent::store::OpenMode;
use mantra_core::audit_log::{AuditEvent, DeleteTarget};
use mantra_core::time::Timestamp;

use crate::agent_store;
use crate::settings::Settings;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).multiple(false)))]
pub struct DeleteArgs {
    /// Delete every session of this project (path or unique name).
    #[arg(long, value_name = "P", group = "scope")]
    project: Option<String>,
    /// Delete sessions whose last activity is before T (RFC 3339, or 30d ago…).
    #[arg(long, value_name = "T", group = "scope")]
    before: Option<String>,
    /// Delete one session (an id, a unique prefix, or `codex:ID`).
    #[arg(long, value_name = "ID", group = "scope")]
    session: Option<String>,
    /// With --session: look the id up among this assistant's sessions only.
    #[arg(long, value_name = "NAME", requires = "session", value_parser = agent_store::parse_assistant)]
    assistant: Option<Assistant>,
    /// List what would be deleted, and delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, conflicts_with = "dry_run")]
    yes: bool,
}

pub fn run(settings: &Settings, a: DeleteArgs) -> Result<u8> {
    let before = a
        .before
        .as_deref()
        .map(|t| settings.parse_time(t))
        .transpose()?;
    let mut store = agent_store::open(settings, OpenMode::Existing)?;
    let (scope, target, filter) = if let Some(p) = &a.project {
        let project = store.resolve_project(p)?;
        (
            DeleteScope::Project(project.id),
            DeleteTarget::Project(project.path),
            SessionFilter {
                project_id: Some(project.id),
                ..SessionFilter::default()
            },
        )
    } else if let Some(before) = before {
        (
            DeleteScope::Before(before),
            DeleteTarget::Before(Timestamp(before).to_rfc3339()),
            SessionFilter {
                before: Some(before),
                ..SessionFilter::default()
            },
        )
    } else if let Some(id) = &a.session {
        let session = agent_store::find_session(&store, id, a.assistant, None)?;
        (
            DeleteScope::Session(session.rowid),
            DeleteTarget::Session(session.id),
            SessionFilter {
                rowid: Some(session.rowid),
                ..SessionFilter::default()
            },
        )
    } else {
        bail!("give --project, --before or --session");
    };
    let doomed = store.list_sessions(&filter)?;
    if doomed.is_empty() {
        eprintln!("mantra: no session matches; nothing was deleted");
        return Ok(0);
    }
    if a.dry_run {
        print_sessions(&mut std::io::stdout().lock(), &doomed)?;
        eprintln!(
            "mantra: dry run: {} session(s) would be deleted",
            doomed.len()
        );
        return Ok(0);
    }
    if !a.yes && !confirm(&doomed)? {
        eprintln!("mantra: nothing was deleted");
        return Ok(2);
    }
    let n = store.delete(&scope)?;
    agent_store::record_event(
        settings,
        AuditEvent::Delete {
            target,
            sessions: n,
        },
    );
    store.compact()?;
    agent_store::write_exposures(&store, settings)?;
    tracing::info!(sessions = n, "sessions deleted");
    eprintln!("mantra: deleted {n} session(s); the store was compacted");
    Ok(0)
}

/// Lists the sessions on stderr and asks on the terminal. Without a
/// terminal there is nobody to ask: that is an error, not a yes.
fn confirm(doomed: &[SessionRow]) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "delete needs confirmation: run it in a terminal, or pass --yes \
             (--dry-run lists what would be deleted)"
        );
    }
    let mut err = std::io::stderr().lock();
    print_sessions(&mut err, doomed)?;
    write!(err, "Delete these {} session(s)? [y/N] ", doomed.len())?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// One line per session: last activity, messages, the assistant-qualified
/// id, project.
fn print_sessions(out: &mut dyn Write, sessions: &[SessionRow]) -> std::io::Result<()> {
    for s in sessions {
        writeln!(
            out,
            "{:<24} {:>5} msg  {}:{}  {}",
            s.last_at
                .as_deref()
                .or(s.started_at.as_deref())
                .unwrap_or("-"),
            s.messages,
            s.assistant,
            s.id,
            s.project.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(())
}
