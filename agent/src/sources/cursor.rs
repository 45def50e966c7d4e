//! Cursor (IDE ≥ 0.40 "split" layout): `<UserData>/User/globalStorage/
//! state.vscdb` (macOS `~/Library/Application Support/Cursor`, Linux
//! `~/.config/Cursor`, Windows `%APPDATA%\Cursor`).
//!
//! Parsing: `cursorDiskKV` rows `composerData:<id>` (one session each,
//! ordered by `fullConversationHeadersOnly`, or the older inline
//! `conversation[]`) and `bubbleId:<composer>:<bubble>` (messages). The
//! project comes from the workspace DBs (`workspaceStorage/<hash>/
//! state.vscdb` key `composer.composerData` links composers to the folder in
//! the sibling `workspace.json`), else from a bubble's `workspaceUris`.
//! Databases are opened read-only; a locked one is a clear, transient error.
//! Not handled: pre-0.40 `workbench.panel.aichat…chatdata` chats and the
//! separate Cursor CLI store (`~/.cursor/chats`).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::OptionalExtension;
use serde_json::Value;

use super::sqlite::{has_table, map_err, open_read_only, value_json};
use super::{str_field, Clock, ParseOutput};
use crate::discovery::{read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{
    Assistant, Message, ParseStats, ProjectRef, Role, Session, ToolCall, ToolResult,
};
use crate::text::{clean, render_value};
use crate::time::Timestamp;

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let db = env
        .app_data()
        .join("Cursor")
        .join("User")
        .join("globalStorage")
        .join("state.vscdb");
    if db.is_file() {
        vec![SourceFile::new(Assistant::Cursor, SourceKind::CursorDb, db)]
    } else {
        Vec::new()
    }
}

/// Parses the global database at `path` (and the workspace databases beside
/// it for project resolution).
pub fn parse(path: &Path) -> Result<ParseOutput, SourceError> {
    let db = open_read_only(path)?;
    let conn = &db.conn;
    let mut stats = ParseStats::default();
    let mut sessions = Vec::new();
    // A database without the table holds no chats (a fresh install):
    // an empty result that may replace. One that cannot be read is an
    // error, and what was indexed from it stays.
    if !has_table(conn, "cursorDiskKV").map_err(|e| map_err(path, e))? {
        return Ok(ParseOutput {
            sessions,
            stats,
            next_offset: 0,
        });
    }
    let projects = workspace_projects(path);
    let mut composers: Vec<(String, Option<Value>)> = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT key, value FROM cursorDiskKV WHERE key LIKE 'composerData:%' ORDER BY key",
            )
            .map_err(|e| map_err(path, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, value_json(r.get_ref(1)?)))
            })
            .map_err(|e| map_err(path, e))?;
        for row in rows {
            composers.push(row.map_err(|e| map_err(path, e))?);
        }
    }
    let mut bubble_stmt = conn
        .prepare("SELECT value FROM cursorDiskKV WHERE key = ?1")
        .map_err(|e| map_err(path, e))?;
    for (key, value) in composers {
        stats.records += 1;
        let Some(data) = value.filter(Value::is_object) else {
            stats.skipped_corrupt += 1;
            continue;
        };
        let id = str_field(&data, "composerId")
            .map(str::to_string)
            .unwrap_or_else(|| key.trim_start_matches("composerData:").to_string());
        let mut s = Session::new(Assistant::Cursor, id.clone(), path.to_path_buf());
        s.title = str_field(&data, "name").map(str::to_string);
        s.started_at = data.get("createdAt").and_then(Timestamp::from_json);
        s.project = projects.get(&id).cloned();
        for k in ["_v", "status", "unifiedMode", "lastUpdatedAt"] {
            if let Some(v) = data.get(k).filter(|v| !v.is_null()) {
                s.metadata
                    .insert(k.trim_start_matches('_').to_string(), v.clone());
            }
        }
        let mut clock = Clock::new(s.started_at, path);
        let bubbles: Vec<Value> = if let Some(headers) = data
            .get("fullConversationHeadersOnly")
            .and_then(Value::as_array)
        {
            let mut out = Vec::new();
            for h in headers {
                let Some(bid) = str_field(h, "bubbleId") else {
                    stats.skipped_corrupt += 1;
                    continue;
                };
                let v: Option<Option<Value>> = bubble_stmt
                    .query_row([format!("bubbleId:{id}:{bid}")], |r| {
                        Ok(value_json(r.get_ref(0)?))
                    })
                    .optional()
                    .map_err(|e| map_err(path, e))?;
                match v.flatten() {
                    Some(b) => out.push(b),
                    // Header without bubble: Cursor prunes old bubbles.
                    None => stats.skipped_corrupt += 1,
                }
            }
            out
        } else {
            data.get("conversation")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for b in &bubbles {
            stats.records += 1;
            if s.project.is_none() {
                s.project = b
                    .get("workspaceUris")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .and_then(ProjectRef::from_recorded);
            }
            match bubble(b, &mut clock) {
                Some(m) if !m.is_empty() => s.messages.push(m),
                Some(_) => {}
                None => stats.skipped_corrupt += 1,
            }
        }
        sessions.push(s);
    }
    Ok(ParseOutput {
        sessions,
        stats,
        next_offset: 0,
    })
}

fn bubble(b: &Value, clock: &mut Clock) -> Option<Message> {
    let role = match b.get("type").and_then(Value::as_i64)? {
        1 => Role::User,
        2 => Role::Assistant,
        _ => Role::System,
    };
    let (timestamp, est) = clock.stamp(b.get("createdAt").and_then(Timestamp::from_json));
    let thinking = b
        .get("thinking")
        .and_then(|t| t.as_str().or_else(|| str_field(t, "text")))
        .map(clean)
        .filter(|t| !t.is_empty());
    let mut tool_calls = Vec::new();
    let mut tool_results = Vec::new();
    if let Some(t) = b.get("toolFormerData").filter(|t| t.is_object()) {
        let id = str_field(t, "toolCallId").unwrap_or("").to_string();
        let input = t
            .get("rawArgs")
            .or_else(|| t.get("params"))
            .map(render_value)
            .unwrap_or_default();
        tool_calls.push(ToolCall {
            id: id.clone(),
            name: str_field(t, "name").unwrap_or("").to_string(),
            input_text: input,
        });
        if let Some(r) = t.get("result").filter(|r| !r.is_null()) {
            tool_results.push(ToolResult {
                call_id: id,
                text: render_value(r),
                is_error: str_field(t, "status") == Some("error"),
            });
        }
    }
    Some(Message {
        id: str_field(b, "bubbleId").unwrap_or("").to_string(),
        role,
        timestamp,
        timestamp_estimated: est,
        text: str_field(b, "text").map(clean).unwrap_or_default(),
        thinking,
        tool_calls,
        tool_results,
        raw_kind: format!(
            "bubble/{}",
            b.get("type").and_then(Value::as_i64).unwrap_or(0)
        ),
    })
}

/// composerId → project, from every `workspaceStorage/<hash>/` beside the
/// global storage. A workspace DB that is locked or broken is skipped.
fn workspace_projects(global_db: &Path) -> HashMap<String, ProjectRef> {
    let mut map = HashMap::new();
    let Some(user) = global_db.parent().and_then(Path::parent) else {
        return map;
    };
    for ws in read_dir_sorted(&user.join("workspaceStorage")) {
        let Some(project) = workspace_folder(&ws) else {
            continue;
        };
        let db_path = ws.join("state.vscdb");
        let Ok(db) = open_read_only(&db_path) else {
            continue;
        };
        let value: Option<Value> = db
            .conn
            .query_row(
                "SELECT value FROM ItemTable WHERE key = 'composer.composerData'",
                [],
                |r| Ok(value_json(r.get_ref(0)?)),
            )
            .ok()
            .flatten();
        for c in value
            .as_ref()
            .and_then(|v| v.get("allComposers"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = str_field(c, "composerId") {
                map.insert(id.to_string(), project.clone());
            }
        }
    }
    map
}

/// The folder (or `.code-workspace` file) a VS Code-family workspace
/// storage folder belongs to, from its `workspace.json`.
pub(crate) fn workspace_folder(ws_dir: &Path) -> Option<ProjectRef> {
    let v = super::read_json_file(&ws_dir.join("workspace.json")).ok()?;
    let uri = str_field(&v, "folder").or_else(|| str_field(&v, "workspace"))?;
    ProjectRef::from_recorded(uri)
}
