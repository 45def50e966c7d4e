//! Gemini CLI: `~/.gemini/tmp/<projectId>/chats/session-*.jsonl` (current)
//! or `.json` (before Apr 2026), subagent sessions in
//! `chats/<parentSessionId>/<sessionId>.jsonl` (or `.json`). `GEMINI_CLI_HOME` replaces
//! the home directory when set.
//!
//! Parsing: the JSONL form is a log to replay — a metadata first line,
//! message records (a re-appended `id` replaces the earlier copy), `$set`
//! (metadata; with `messages` a checkpoint replacing them all) and
//! `$rewindTo` (drop that message and everything after). It is therefore
//! re-parsed whole (`ResumeMode::Reparse`). The project is resolved through
//! `~/.gemini/projects.json` (path → slug) or the `.project_root` marker,
//! never from the folder name; legacy sha256 folders stay unresolved.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{file_stem, str_field, Clock, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::jsonl::{read_jsonl_file, JsonlOptions};
use crate::model::{
    Assistant, Message, ParseStats, ProjectRef, RawRecord, Role, Session, ToolCall, ToolResult,
};
use crate::text::{clean, image_marker, join_nonempty, render_value};
use crate::time::Timestamp;

pub fn root(env: &DiscoveryEnv) -> PathBuf {
    env.var("GEMINI_CLI_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| env.home.clone())
        .join(".gemini")
}

fn kind_of(p: &Path) -> Option<SourceKind> {
    let n = file_name(p);
    if n.ends_with(".jsonl") {
        Some(SourceKind::GeminiJsonl)
    } else if n.starts_with("session-") && n.ends_with(".json") {
        Some(SourceKind::GeminiJson)
    } else {
        None
    }
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for project in read_dir_sorted(&root(env).join("tmp")) {
        let chats = project.join("chats");
        for p in read_dir_sorted(&chats) {
            if p.is_dir() {
                // Subagent sessions of one parent session, in either form
                // (`.jsonl`, or `.json` as saved by older versions).
                for sub in read_dir_sorted(&p) {
                    let kind = match file_name(&sub) {
                        n if n.ends_with(".jsonl") => SourceKind::GeminiJsonl,
                        n if n.ends_with(".json") => SourceKind::GeminiJson,
                        _ => continue,
                    };
                    out.push(SourceFile::new(Assistant::GeminiCli, kind, sub));
                }
            } else if let Some(k) = kind_of(&p) {
                out.push(SourceFile::new(Assistant::GeminiCli, k, p));
            }
        }
    }
    out
}

/// Resolves the project of a `tmp/<projectId>/chats/…` file.
fn resolve_project(path: &Path) -> Option<ProjectRef> {
    let chats = path.ancestors().find(|a| file_name(a) == "chats")?;
    let project_dir = chats.parent()?;
    if let Ok(root) =
        mantra_core::fsio::read_to_string(&project_dir.join(".project_root"), 64 * 1024)
    {
        if let Some(p) = ProjectRef::from_recorded(root.trim()) {
            return Some(p);
        }
    }
    let slug = file_name(project_dir);
    let gemini = project_dir.parent()?.parent()?;
    let registry = super::read_json_file(&gemini.join("projects.json")).ok()?;
    registry
        .get("projects")?
        .as_object()?
        .iter()
        .find(|(_, v)| v.as_str() == Some(slug))
        .and_then(|(k, _)| ProjectRef::from_recorded(k))
}

/// Messages being replayed: order plus id → position.
#[derive(Default)]
struct Replay {
    msgs: Vec<Value>,
    pos: HashMap<String, usize>,
}

impl Replay {
    fn upsert(&mut self, v: Value) {
        let id = str_field(&v, "id").unwrap_or("").to_string();
        match self.pos.get(&id) {
            Some(&i) if !id.is_empty() => self.msgs[i] = v,
            _ => {
                self.pos.insert(id, self.msgs.len());
                self.msgs.push(v);
            }
        }
    }

    fn replace_all(&mut self, msgs: &[Value]) {
        *self = Replay::default();
        for m in msgs {
            self.upsert(m.clone());
        }
    }

    fn rewind_to(&mut self, id: &str) {
        if let Some(&i) = self.pos.get(id) {
            self.msgs.truncate(i);
            self.pos.retain(|_, p| *p < i);
        }
    }
}

/// Parses the JSONL log (always whole: rewinds and checkpoints rewrite history).
pub fn parse_jsonl(path: &Path) -> Result<ParseOutput, SourceError> {
    let mut meta = serde_json::Map::new();
    let mut replay = Replay::default();
    let mut unknown = Vec::new();
    let mut wrong = 0u64;
    let outcome = read_jsonl_file(path, 0, JsonlOptions::default(), |rec| {
        let v = rec.value;
        if let Some(set) = v.get("$set") {
            let Some(set) = set.as_object() else {
                wrong += 1;
                return;
            };
            for (k, val) in set {
                if k == "messages" {
                    if let Some(list) = val.as_array() {
                        replay.replace_all(list);
                    }
                } else {
                    meta.insert(k.clone(), val.clone());
                }
            }
        } else if let Some(target) = v.get("$rewindTo") {
            match target.as_str() {
                Some(id) => replay.rewind_to(id),
                None => wrong += 1,
            }
        } else if v.get("id").is_some() && v.get("type").is_some() {
            replay.upsert(v);
        } else if v.get("sessionId").is_some() {
            if let Some(obj) = v.as_object() {
                for (k, val) in obj {
                    meta.insert(k.clone(), val.clone());
                }
            }
        } else {
            unknown.push(RawRecord {
                kind: "?".into(),
                offset: Some(rec.offset),
                value: v,
            });
        }
    })?;
    let mut stats = outcome.stats;
    stats.skipped_corrupt += wrong;
    stats.unknown_kinds += unknown.len() as u64;
    let mut session = build(path, &Value::Object(meta), &replay.msgs, &mut stats);
    session.unknown_records = unknown;
    Ok(ParseOutput {
        sessions: vec![session],
        stats,
        next_offset: outcome.end_offset,
    })
}

/// Parses a legacy single-object `ConversationRecord` file.
pub fn parse_json(path: &Path) -> Result<ParseOutput, SourceError> {
    let v = super::read_json_file(path)?;
    let mut stats = ParseStats::default();
    let empty = Vec::new();
    let msgs = match v.get("messages") {
        Some(Value::Array(a)) => a,
        _ => {
            stats.skipped_corrupt += 1;
            &empty
        }
    };
    let session = build(path, &v, msgs, &mut stats);
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(ParseOutput {
        sessions: vec![session],
        stats,
        next_offset: len,
    })
}

fn build(path: &Path, meta: &Value, msgs: &[Value], stats: &mut ParseStats) -> Session {
    let id = str_field(meta, "sessionId")
        .map(str::to_string)
        .unwrap_or_else(|| file_stem(path));
    let mut s = Session::new(Assistant::GeminiCli, id, path.to_path_buf());
    s.project = resolve_project(path);
    s.title = str_field(meta, "summary").map(str::to_string);
    s.started_at = meta.get("startTime").and_then(Timestamp::from_json);
    for (k, key) in [
        ("projectHash", "project_hash"),
        ("kind", "kind"),
        ("lastUpdated", "last_updated"),
    ] {
        if let Some(v) = meta.get(k).filter(|v| !v.is_null()) {
            s.metadata.insert(key.into(), v.clone());
        }
    }
    if let Some(parent) = path
        .parent()
        .filter(|p| file_name(p) != "chats")
        .map(file_name)
    {
        s.metadata.insert(
            "parent_session_id".into(),
            Value::String(parent.to_string()),
        );
    }
    let mut clock = Clock::new(s.started_at, path);
    for m in msgs {
        stats.records += 1;
        match message(m, &mut clock) {
            Some(msg) if !msg.is_empty() => s.messages.push(msg),
            Some(_) => {}
            None => stats.skipped_corrupt += 1,
        }
    }
    s
}

fn parts_text(content: &Value) -> String {
    match content {
        Value::String(s) => clean(s),
        Value::Array(parts) => join_nonempty(parts.iter().map(|p| {
            if let Some(t) = str_field(p, "text") {
                clean(t)
            } else if let Some(m) = p.as_object().and_then(image_marker) {
                m
            } else if let Some(fr) = p.get("functionResponse") {
                fr.get("response").map(render_value).unwrap_or_default()
            } else if let Some(fc) = p.get("functionCall") {
                render_value(fc)
            } else {
                String::new()
            }
        })),
        _ => String::new(),
    }
}

fn message(m: &Value, clock: &mut Clock) -> Option<Message> {
    m.as_object()?;
    let ty = str_field(m, "type")?;
    let role = match ty {
        "user" => Role::User,
        "gemini" | "model" => Role::Assistant,
        _ => Role::System, // info, error, warning
    };
    let (timestamp, est) = clock.stamp(m.get("timestamp").and_then(Timestamp::from_json));
    let text = m.get("content").map(parts_text).unwrap_or_default();
    let thinking = m.get("thoughts").and_then(Value::as_array).map(|ts| {
        join_nonempty(ts.iter().map(|t| {
            let subject = str_field(t, "subject").unwrap_or("");
            let desc = str_field(t, "description").unwrap_or("");
            clean(&format!("{subject}: {desc}"))
        }))
    });
    let mut tool_calls = Vec::new();
    let mut tool_results = Vec::new();
    for c in m
        .get("toolCalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = str_field(c, "id").unwrap_or("").to_string();
        tool_calls.push(ToolCall {
            id: id.clone(),
            name: str_field(c, "name").unwrap_or("").to_string(),
            input_text: c.get("args").map(render_value).unwrap_or_default(),
        });
        if let Some(result) = c.get("result").filter(|r| !r.is_null()) {
            tool_results.push(ToolResult {
                call_id: id,
                text: parts_text(result),
                is_error: matches!(str_field(c, "status"), Some("error") | Some("cancelled")),
            });
        }
    }
    Some(Message {
        id: str_field(m, "id").unwrap_or("").to_string(),
        role,
        timestamp,
        timestamp_estimated: est,
        text,
        thinking: thinking.filter(|t| !t.is_empty()),
        tool_calls,
        tool_results,
        raw_kind: ty.to_string(),
    })
}
