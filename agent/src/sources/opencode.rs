//! opencode: `${XDG_DATA_HOME:-~/.local/share}/opencode/opencode.db` (or
//! `opencode-<channel>.db`; SQLite in WAL mode, opened read-only) and the
//! older JSON tree `storage/{session,message,part}/…` in the same folder.
//!
//! Parsing: `session` rows (directory = project, title), `message` rows
//! (`data` JSON: role, time) and their `part` rows (`data` JSON: text,
//! reasoning, tool call with state input/output, file…) in creation order.
//! Step markers, snapshots and patches are not text and are skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::sqlite::{map_err, open_read_only, value_json};
use super::{str_field, Clock, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{
    Assistant, Message, ParseStats, ProjectRef, Role, Session, ToolCall, ToolResult,
};
use crate::text::{blob_marker, clean, render_value};
use crate::time::Timestamp;

pub fn data_dir(env: &DiscoveryEnv) -> PathBuf {
    env.xdg_data_home().join("opencode")
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let dir = data_dir(env);
    let mut out: Vec<SourceFile> = read_dir_sorted(&dir)
        .into_iter()
        .filter(|p| {
            let n = file_name(p);
            n.starts_with("opencode") && n.ends_with(".db")
        })
        .map(|p| SourceFile::new(Assistant::Opencode, SourceKind::OpencodeDb, p))
        .collect();
    let storage = dir.join("storage");
    if storage.join("session").is_dir() {
        out.push(SourceFile::new(
            Assistant::Opencode,
            SourceKind::OpencodeStorage,
            storage,
        ));
    }
    out
}

/// Parses every session of an opencode database.
pub fn parse_db(path: &Path) -> Result<ParseOutput, SourceError> {
    let db = open_read_only(path)?;
    let conn = &db.conn;
    let mut stats = ParseStats::default();
    let q = |sql: &str| conn.prepare(sql).map_err(|e| map_err(path, e));
    let mut sess_stmt = q("SELECT id, directory, title, parent_id, time_created, version FROM session ORDER BY time_created, id")?;
    let mut msg_stmt = q("SELECT id, time_created, data FROM message WHERE session_id = ?1 ORDER BY time_created, id")?;
    let mut part_stmt = q("SELECT data FROM part WHERE message_id = ?1 ORDER BY id")?;
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<Row> = sess_stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .and_then(Iterator::collect)
        .map_err(|e| map_err(path, e))?;
    let mut sessions = Vec::new();
    for (id, dir, title, parent, created, version) in rows {
        stats.records += 1;
        let mut s = Session::new(Assistant::Opencode, id.clone(), path.to_path_buf());
        s.project = dir.as_deref().and_then(ProjectRef::from_recorded);
        s.title = title;
        s.started_at = created.map(Timestamp::from_millis);
        if let Some(p) = parent {
            s.metadata
                .insert("parent_session_id".into(), Value::String(p));
        }
        if let Some(v) = version {
            s.metadata.insert("version".into(), Value::String(v));
        }
        let msgs: Vec<(String, Option<i64>, Option<Value>)> = msg_stmt
            .query_map([&id], |r| {
                Ok((r.get(0)?, r.get(1)?, value_json(r.get_ref(2)?)))
            })
            .and_then(Iterator::collect)
            .map_err(|e| map_err(path, e))?;
        let mut clock = Clock::new(s.started_at, path);
        for (mid, created, data) in msgs {
            stats.records += 1;
            let Some(data) = data else {
                stats.skipped_corrupt += 1;
                continue;
            };
            let parts: Vec<Option<Value>> = part_stmt
                .query_map([&mid], |r| {
                    value_json(r.get_ref(0)?).map_or(Ok(None), |v| Ok(Some(v)))
                })
                .and_then(Iterator::collect)
                .map_err(|e| map_err(path, e))?;
            stats.records += parts.len() as u64;
            stats.skipped_corrupt += parts.iter().filter(|p| p.is_none()).count() as u64;
            let parts: Vec<Value> = parts.into_iter().flatten().collect();
            let m = message(&mid, &data, created, &parts, &mut clock);
            if !m.is_empty() {
                s.messages.push(m);
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

fn message(
    id: &str,
    data: &Value,
    row_created: Option<i64>,
    parts: &[Value],
    clock: &mut Clock,
) -> Message {
    let role = match str_field(data, "role") {
        Some("assistant") => Role::Assistant,
        Some("system") => Role::System,
        _ => Role::User,
    };
    let recorded = data
        .get("time")
        .and_then(|t| t.get("created"))
        .and_then(Timestamp::from_json)
        .or(row_created.map(Timestamp::from_millis));
    let (timestamp, est) = clock.stamp(recorded);
    let mut m = Message {
        id: id.to_string(),
        role,
        timestamp,
        timestamp_estimated: est,
        text: String::new(),
        thinking: None,
        tool_calls: Vec::new(),
        tool_results: Vec::new(),
        raw_kind: format!("message/{}", str_field(data, "role").unwrap_or("?")),
    };
    let mut texts = Vec::new();
    let mut thoughts = Vec::new();
    for p in parts {
        match str_field(p, "type").unwrap_or("") {
            "text" => {
                if let Some(t) = str_field(p, "text") {
                    texts.push(clean(t));
                }
            }
            "reasoning" => {
                if let Some(t) = str_field(p, "text") {
                    thoughts.push(clean(t));
                }
            }
            "tool" => {
                let call_id = str_field(p, "callID").unwrap_or("").to_string();
                let state = p.get("state").unwrap_or(&Value::Null);
                m.tool_calls.push(ToolCall {
                    id: call_id.clone(),
                    name: str_field(p, "tool").unwrap_or("").to_string(),
                    input_text: state.get("input").map(render_value).unwrap_or_default(),
                });
                let status = str_field(state, "status").unwrap_or("");
                if let Some(out) = state.get("output").or_else(|| state.get("error")) {
                    m.tool_results.push(ToolResult {
                        call_id,
                        text: render_value(out),
                        is_error: status == "error",
                    });
                }
            }
            "file" => {
                let mime = str_field(p, "mime");
                let url = str_field(p, "url").unwrap_or("");
                let name = str_field(p, "filename").unwrap_or("");
                texts.push(if url.starts_with("data:") {
                    blob_marker("file", mime, url.len())
                } else {
                    format!("[file: {name}]")
                });
            }
            _ => {}
        }
    }
    m.text = crate::text::join_nonempty(texts);
    let th = crate::text::join_nonempty(thoughts);
    m.thinking = (!th.is_empty()).then_some(th);
    m
}

/// Parses the older JSON storage tree rooted at `storage`.
pub fn parse_storage(storage: &Path) -> Result<ParseOutput, SourceError> {
    let mut stats = ParseStats::default();
    let mut sessions = Vec::new();
    let json_files = |dir: &Path| -> Vec<PathBuf> {
        read_dir_sorted(dir)
            .into_iter()
            .filter(|p| file_name(p).ends_with(".json"))
            .collect()
    };
    let mut session_files = Vec::new();
    for project in read_dir_sorted(&storage.join("session")) {
        session_files.extend(json_files(&project));
    }
    for sf in session_files {
        stats.records += 1;
        let Ok(sv) = super::read_json_file(&sf) else {
            stats.skipped_corrupt += 1;
            continue;
        };
        let Some(id) = str_field(&sv, "id").map(str::to_string) else {
            stats.skipped_corrupt += 1;
            continue;
        };
        let mut s = Session::new(Assistant::Opencode, id.clone(), sf.clone());
        s.project = str_field(&sv, "directory").and_then(ProjectRef::from_recorded);
        s.title = str_field(&sv, "title").map(str::to_string);
        s.started_at = sv
            .get("time")
            .and_then(|t| t.get("created"))
            .and_then(Timestamp::from_json);
        if let Some(p) = str_field(&sv, "parentID") {
            s.metadata
                .insert("parent_session_id".into(), Value::String(p.to_string()));
        }
        let mut msgs: Vec<(Option<Timestamp>, String, Value)> = Vec::new();
        for mf in json_files(&storage.join("message").join(&id)) {
            stats.records += 1;
            match super::read_json_file(&mf) {
                Ok(mv) => {
                    let mid = str_field(&mv, "id")
                        .map(str::to_string)
                        .unwrap_or_else(|| super::file_stem(&mf));
                    let t = mv
                        .get("time")
                        .and_then(|t| t.get("created"))
                        .and_then(Timestamp::from_json);
                    msgs.push((t, mid, mv));
                }
                Err(_) => stats.skipped_corrupt += 1,
            }
        }
        msgs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut clock = Clock::new(s.started_at, &sf);
        let mut by_id: HashMap<String, Vec<Value>> = HashMap::new();
        for (_, mid, _) in &msgs {
            let mut parts = Vec::new();
            for pf in json_files(&storage.join("part").join(mid)) {
                stats.records += 1;
                match super::read_json_file(&pf) {
                    Ok(v) => parts.push(v),
                    Err(_) => stats.skipped_corrupt += 1,
                }
            }
            by_id.insert(mid.clone(), parts);
        }
        for (t, mid, mv) in &msgs {
            let parts = by_id.remove(mid).unwrap_or_default();
            let m = message(mid, mv, t.map(Timestamp::millis), &parts, &mut clock);
            if !m.is_empty() {
                s.messages.push(m);
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
