//! `mantra search`: full-text search over the indexed sessions; secrets
//! are shown redacted.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use clap::Args;
use mantra_agent::store::query::Highlight;
use mantra_agent::store::OpenMode;

use crate::agent_store;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Words to find (all must occur; `word*` matches a prefix).
    #[arg(required = true)]
    query: Vec<String>,
    /// Only this project (path or unique name).
    #[arg(long, value_name = "P")]
    project: Option<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long)]
    json: bool,
}

pub fn run(settings: &Settings, a: SearchArgs) -> Result<u8> {
    let mut store = agent_store::open(settings, OpenMode::Existing)?;
    let project_id =
        agent_store::project_scope(&store, settings, a.project.as_deref(), a.all_projects)?;
    let tty = std::io::stdout().is_terminal() && !a.json;
    let hl = if tty {
        Highlight {
            open: "\x1b[1;33m".into(),
            close: "\x1b[0m".into(),
        }
    } else {
        Highlight {
            open: "«".into(),
            close: "»".into(),
        }
    };
    let query = a.query.join(" ");
    let hits = store.search(&query, project_id, a.limit, &hl)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&hits)?)?;
        return Ok(0);
    }
    if hits.is_empty() {
        eprintln!("mantra: no matches");
        return Ok(0);
    }
    for h in hits {
        writeln!(
            out,
            "{}  {}  {}  {}  ({})",
            h.timestamp,
            h.assistant,
            h.session,
            h.project.as_deref().unwrap_or("-"),
            h.role
        )?;
        let snippet: String = h.snippet.replace(['\n', '\r'], " ");
        writeln!(out, "    {snippet}")?;
    }
    Ok(0)
}
