//! What the session commands share: opening the encrypted store with the
//! key policy allows, the project a query is limited to, the compliance
//! event log, and applying the retention period.

use anyhow::{bail, Context, Result};
use mantra_agent::keys::KeyProvider;
use mantra_agent::model::Assistant;
use mantra_agent::store::query::{split_qualified_id, SessionRow};
use mantra_agent::store::{OpenMode, Store};
use mantra_agent::DiscoveryEnv;
use mantra_core::audit_log::{self, AuditEvent, AuditRecord};
use mantra_core::time::Timestamp;

use crate::settings::Settings;

/// The store key provider policy allows (keychain, or the key file when
/// policy permits the fallback).
pub fn keys(settings: &Settings) -> Result<Box<dyn KeyProvider>> {
    Ok(Box::new(mantra_agent::lifecycle::system_keys(
        settings.data_dir()?,
        &settings.agent,
    )?))
}

/// Opens the store (`Create` for the commands that index).
pub fn open(settings: &Settings, mode: OpenMode) -> Result<Store> {
    let keys = keys(settings)?;
    Ok(mantra_agent::lifecycle::open_store(
        settings.data_dir()?,
        keys.as_ref(),
        mode,
    )?)
}

/// Where the assistants keep their sessions on this machine.
pub fn discovery_env() -> Result<DiscoveryEnv> {
    DiscoveryEnv::from_process().context("cannot determine the home directory (set HOME)")
}

/// The project a query is limited to: `--project`, else (under project
/// isolation) the indexed project holding the current directory, else none
/// with `--all-projects` or without isolation.
pub fn project_scope(
    store: &Store,
    settings: &Settings,
    project: Option<&str>,
    all_projects: bool,
) -> Result<Option<i64>> {
    if let Some(p) = project {
        return Ok(Some(store.resolve_project(p)?.id));
    }
    if all_projects || !settings.agent.project_isolation {
        return Ok(None);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    match store.project_containing(&cwd.to_string_lossy())? {
        Some(p) => Ok(Some(p.id)),
        None => bail!(
            "project isolation is on and {} is not inside an indexed project: \
             pass --project P, or --all-projects",
            cwd.display()
        ),
    }
}

/// Appends `event` to the compliance event log and its OS log mirror. The
/// operation it records has already happened, so a log that cannot be
/// written is a warning (a mirror that cannot be reached is `mantra
/// doctor`'s to report). Returns whether the OS log took it.
pub fn record_event(settings: &Settings, event: AuditEvent) -> bool {
    let Ok(dir) = settings.data_dir() else {
        return false;
    };
    let path = dir.audit_log();
    let record = event_record(settings, event);
    match audit_log::append(&path, &settings.os_log, &record) {
        Ok(appended) => match appended.mirrored {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!("event {} not mirrored to the OS log: {e}", appended.seq);
                false
            }
        },
        Err(e) => {
            tracing::warn!("cannot write the audit log {}: {e}", path.display());
            eprintln!(
                "mantra: warning: cannot write the audit log {}: {e}",
                path.display()
            );
            false
        }
    }
}

/// `event`, now, by this command's user.
pub fn event_record(settings: &Settings, event: AuditEvent) -> AuditRecord {
    AuditRecord {
        time: Timestamp(mantra_core::time::now_ms()).to_rfc3339(),
        user: settings.user.clone(),
        event,
    }
}

/// Deletes the sessions idle for longer than `days` and logs the run in
/// the compliance event log. Returns how many sessions went.
pub fn apply_retention(store: &mut Store, settings: &Settings, days: u32) -> Result<u64> {
    // The live clock, not the command's start: the agent runs for weeks.
    let n = store.apply_retention(days, mantra_core::time::now_ms())?;
    if n > 0 {
        tracing::info!(sessions = n, days, "retention applied");
    }
    record_event(settings, AuditEvent::Retention { days, sessions: n });
    Ok(n)
}

/// Rewrites the exposure list the git hooks read from the store.
pub fn write_exposures(store: &Store, settings: &Settings) -> Result<usize> {
    Ok(mantra_agent::lifecycle::write_exposures(
        store,
        settings.data_dir()?,
        &settings.agent.fingerprint_key,
    )?)
}

/// Parses `--assistant` (clap value parser): an assistant's machine name.
pub fn parse_assistant(name: &str) -> std::result::Result<Assistant, String> {
    Assistant::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Assistant::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown assistant (expected one of: {})", names.join(", "))
    })
}

/// Finds one session by id (exact, unique prefix, or qualified by its
/// assistant as `codex:ID`), within `assistant` and `project_id` when
/// given.
pub fn find_session(
    store: &Store,
    id: &str,
    assistant: Option<Assistant>,
    project_id: Option<i64>,
) -> Result<SessionRow> {
    let (qualified, bare) = split_qualified_id(id);
    Ok(match (assistant, qualified) {
        (Some(a), Some(q)) if a != q => bail!("session {id:?} is a {q} id, not {a}"),
        (Some(a), _) | (None, Some(a)) => store.find_session_of(bare, Some(a), project_id)?,
        (None, None) => store.find_session_of(id, None, project_id)?,
    })
}
