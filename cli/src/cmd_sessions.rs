//! `mantra sessions list|show`: the indexed sessions, and one session's
//! messages with every secret redacted.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use mantra_agent::model::Assistant;
use mantra_agent::store::query::SessionFilter;
use mantra_agent::store::OpenMode;

use crate::agent_store;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// List sessions, most recent first.
    List(ListArgs),
    /// Show one session's messages (redacted).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Only this project (path or unique name).
    #[arg(long, value_name = "P")]
    project: Option<String>,
    /// Only sessions active since T (RFC 3339 date/time, or 30m, 12h, 7d, 4w ago).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Only this assistant's sessions (claude-code, codex, cursor, …).
    #[arg(long, value_name = "NAME", value_parser = agent_store::parse_assistant)]
    assistant: Option<Assistant>,
    /// At most this many sessions.
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Session id: the assistant's, a unique prefix, or qualified by the
    /// assistant (`codex:ID`) when two assistants share it.
    id: String,
    /// Look the session up among this assistant's sessions only.
    #[arg(long, value_name = "NAME", value_parser = agent_store::parse_assistant)]
    assistant: Option<Assistant>,
    /// Look the session up in this project only.
    #[arg(long, value_name = "P")]
    project: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(settings: &Settings, cmd: SessionsCmd) -> Result<u8> {
    match cmd {
        SessionsCmd::List(a) => list(settings, a),
        SessionsCmd::Show(a) => show(settings, a),
    }
}

fn list(settings: &Settings, a: ListArgs) -> Result<u8> {
    let since = a
        .since
        .as_deref()
        .map(|s| settings.parse_time(s))
        .transpose()?;
    let store = agent_store::open(settings, OpenMode::Existing)?;
    let project_id =
        agent_store::project_scope(&store, settings, a.project.as_deref(), a.all_projects)?;
    let rows = store.list_sessions(&SessionFilter {
        project_id,
        since,
        assistant: a.assistant,
        limit: a.limit,
        ..SessionFilter::default()
    })?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(0);
    }
    if rows.is_empty() {
        eprintln!("mantra: no sessions");
        return Ok(0);
    }
    writeln!(
        out,
        "{:<24} {:<12} {:>5} {:>7}  {:<36}  PROJECT / TITLE",
        "LAST ACTIVITY", "ASSISTANT", "MSGS", "SECRETS", "ID"
    )?;
    for r in rows {
        let when = r
            .last_at
            .as_deref()
            .or(r.started_at.as_deref())
            .unwrap_or("-");
        let title: String = r
            .title
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(60)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(
            out,
            "{:<24} {:<12} {:>5} {:>7}  {:<36}  {}{}{}",
            when,
            r.assistant,
            r.messages,
            r.findings,
            r.id,
            r.project.as_deref().unwrap_or("-"),
            if title.is_empty() { "" } else { " — " },
            title
        )?;
    }
    Ok(0)
}

fn show(settings: &Settings, a: ShowArgs) -> Result<u8> {
    let store = agent_store::open(settings, OpenMode::Existing)?;
    let project_id =
        agent_store::project_scope(&store, settings, a.project.as_deref(), a.all_projects)?;
    let s = agent_store::find_session(&store, &a.id, a.assistant, project_id)?;
    let messages = store.session_messages(s.rowid)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        let doc = serde_json::json!({ "session": s, "messages": messages });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    writeln!(out, "session   {} ({})", s.id, s.assistant)?;
    writeln!(out, "project   {}", s.project.as_deref().unwrap_or("-"))?;
    if let Some(t) = &s.title {
        writeln!(out, "title     {t}")?;
    }
    writeln!(
        out,
        "time      {} .. {}",
        s.started_at.as_deref().unwrap_or("-"),
        s.last_at.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "messages  {}   secrets found: {}",
        s.messages, s.findings
    )?;
    writeln!(out, "source    {}", s.source)?;
    for m in messages {
        writeln!(
            out,
            "\n── {} · {}{}",
            m.role,
            m.timestamp,
            if m.timestamp_estimated {
                " (estimated)"
            } else {
                ""
            }
        )?;
        writeln!(out, "{}", m.text)?;
        for f in &m.findings {
            writeln!(out, "   ! {} [{}] {}", f.rule_id, f.severity, f.preview)?;
        }
    }
    Ok(0)
}
