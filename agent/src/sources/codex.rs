//! OpenAI Codex CLI: `${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/
//! rollout-*.jsonl` (also `.jsonl.zst`, where a plain copy wins, and very old
//! single-object `rollout-*.json`), plus flat `archived_sessions/`.
//!
//! Parsing: `{timestamp,type,payload}` lines. `session_meta` gives the id
//! and cwd (the project); `response_item`s are the conversation (messages,
//! reasoning summaries, function/custom/shell calls and their outputs, whose
//! JSON-in-JSON `arguments`/`output` strings are decoded into readable
//! text); `event_msg` copies of the same turns are skipped; `compacted`
//! summaries become system messages; unknown kinds are kept raw. Titles come
//! from `session_index.jsonl` (newest entry wins).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{file_stem, str_field, Clock, ParseOutput};
use crate::discovery::{
    file_name, read_dir_sorted, walk_files, DiscoveryEnv, SourceFile, SourceKind,
};
use crate::error::SourceError;
use crate::jsonl::{read_jsonl, read_jsonl_file, JsonlOptions};
use crate::model::{
    Assistant, Message, ParseStats, ProjectRef, RawRecord, Role, Session, ToolCall, ToolResult,
};
use crate::text::{clean, decode_nested_json, image_marker, join_nonempty, render_value};
use crate::time::Timestamp;

pub fn home(env: &DiscoveryEnv) -> PathBuf {
    env.var("CODEX_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| env.home.join(".codex"))
}

fn kind_of(p: &Path) -> Option<SourceKind> {
    let n = file_name(p);
    if !n.starts_with("rollout-") {
        return None;
    }
    if n.ends_with(".jsonl") {
        Some(SourceKind::CodexJsonl)
    } else if n.ends_with(".jsonl.zst") {
        Some(SourceKind::CodexJsonlZst)
    } else if n.ends_with(".json") {
        Some(SourceKind::CodexJson)
    } else {
        None
    }
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let root = home(env);
    let mut files = walk_files(&root.join("sessions"), 4, &mut |p| kind_of(p).is_some());
    files.extend(
        read_dir_sorted(&root.join("archived_sessions"))
            .into_iter()
            .filter(|p| kind_of(p).is_some()),
    );
    let mut out = Vec::new();
    for p in &files {
        let Some(kind) = kind_of(p) else { continue };
        if kind == SourceKind::CodexJsonlZst {
            // When both exist the plain rollout is the live one.
            let plain = p.with_extension("");
            if files.contains(&plain) {
                continue;
            }
        }
        out.push(SourceFile::new(Assistant::Codex, kind, p.clone()));
    }
    out
}

struct State {
    session: Session,
    clock: Clock,
    stats_extra: ParseStats,
    last_offset: Option<(u64, u32)>,
    models: Vec<String>,
}

impl State {
    fn new(path: &Path) -> State {
        State {
            session: Session::new(
                Assistant::Codex,
                session_id_from_name(path),
                path.to_path_buf(),
            ),
            clock: Clock::new(None, path),
            stats_extra: ParseStats::default(),
            last_offset: None,
            models: Vec::new(),
        }
    }

    fn next_id(&mut self, offset: u64) -> String {
        // Items carry no ids; the byte offset in an append-only file is stable.
        let n = match self.last_offset {
            Some((o, n)) if o == offset => n + 1,
            _ => 0,
        };
        self.last_offset = Some((offset, n));
        if n == 0 {
            format!("@{offset}")
        } else {
            format!("@{offset}.{n}")
        }
    }

    fn finish(mut self, stats: ParseStats, next_offset: u64) -> ParseOutput {
        let mut stats = stats;
        stats.add(&self.stats_extra);
        if !self.models.is_empty() {
            self.session
                .metadata
                .insert("models".into(), Value::from(self.models));
        }
        if self.session.started_at.is_none() {
            self.session.started_at = self
                .session
                .messages
                .iter()
                .find(|m| !m.timestamp_estimated)
                .map(|m| m.timestamp);
        }
        if self.session.title.is_none() {
            self.session.title = index_title(&self.session.source_path, &self.session.id);
        }
        self.session.messages.retain(|m| !m.is_empty());
        ParseOutput {
            sessions: vec![self.session],
            stats,
            next_offset,
        }
    }
}

/// `rollout-2025-09-18T00-16-27-<uuid>.jsonl` → `<uuid>` (the last 5 dash
/// groups), used until `session_meta` is read.
fn session_id_from_name(path: &Path) -> String {
    let stem = file_stem(path);
    let groups: Vec<&str> = stem.split('-').collect();
    if groups.len() >= 5 {
        groups[groups.len() - 5..].join("-")
    } else {
        stem
    }
}

/// Parses a live rollout from `from_offset`. When resuming, the first line
/// (`session_meta`) is read too, so the session keeps its id and project.
pub fn parse_jsonl(path: &Path, from_offset: u64) -> Result<ParseOutput, SourceError> {
    let mut st = State::new(path);
    if from_offset > 0 {
        read_header(path, &mut st)?;
    }
    let outcome = read_jsonl_file(path, from_offset, JsonlOptions::default(), |rec| {
        handle(&mut st, rec.value, rec.offset);
    })?;
    Ok(st.finish(outcome.stats, outcome.end_offset))
}

fn read_header(path: &Path, st: &mut State) -> Result<(), SourceError> {
    let file = mantra_core::fsio::open_file(path)?;
    let mut first = Vec::new();
    // A session_meta line is small; cap so a pathological file cannot balloon.
    BufReader::new(file.take(16 * 1024 * 1024))
        .read_until(b'\n', &mut first)
        .map_err(|e| SourceError::io(path, e))?;
    if let Ok(v) = serde_json::from_slice::<Value>(&first) {
        if str_field(&v, "type") == Some("session_meta") {
            if let Some(p) = v.get("payload") {
                session_meta(st, p, v.get("timestamp"));
            }
        }
    }
    Ok(())
}

/// Parses a compressed (finished) rollout. A damaged stream keeps what was
/// decoded before the damage and counts one corrupt record.
pub fn parse_zst(path: &Path) -> Result<ParseOutput, SourceError> {
    let file = mantra_core::fsio::open_file(path)?;
    let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| SourceError::io(path, e))?;
    let mut st = State::new(path);
    let opts = JsonlOptions {
        eof_is_final: true,
        ..JsonlOptions::default()
    };
    let mut last_end = 0;
    let result = read_jsonl(BufReader::new(decoder), 0, opts, |rec| {
        last_end = rec.end_offset;
        handle(&mut st, rec.value, rec.offset);
    });
    match result {
        Ok(o) => Ok(st.finish(o.stats, o.end_offset)),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "zstd stream damaged; keeping decoded part");
            let stats = ParseStats {
                skipped_corrupt: 1,
                ..ParseStats::default()
            };
            Ok(st.finish(stats, last_end))
        }
    }
}

/// Very old `rollout-*.json`: `{session:{id,timestamp,…}, items:[…]}`.
pub fn parse_legacy_json(path: &Path) -> Result<ParseOutput, SourceError> {
    let v = super::read_json_file(path)?;
    let mut st = State::new(path);
    let mut stats = ParseStats::default();
    if let Some(s) = v.get("session") {
        session_meta(&mut st, s, s.get("timestamp"));
    }
    st.clock = Clock::new(st.session.started_at, path);
    if let Some(items) = v.get("items").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            stats.records += 1;
            response_item(&mut st, item, None, i as u64);
        }
    } else {
        stats.skipped_corrupt += 1;
    }
    Ok(st.finish(stats, 0))
}

fn session_meta(st: &mut State, p: &Value, ts: Option<&Value>) {
    if let Some(id) = str_field(p, "id") {
        st.session.id = id.to_string();
    }
    if let Some(cwd) = str_field(p, "cwd") {
        st.session.project = ProjectRef::from_recorded(cwd);
    }
    st.session.started_at = p
        .get("timestamp")
        .or(ts)
        .and_then(Timestamp::from_json)
        .or(st.session.started_at);
    for k in ["originator", "cli_version", "source", "model_provider"] {
        if let Some(v) = p.get(k).filter(|v| !v.is_null()) {
            st.session.metadata.insert(k.to_string(), v.clone());
        }
    }
    if let Some(g) = p.get("git").filter(|g| g.is_object()) {
        st.session.metadata.insert("git".into(), g.clone());
    }
}

fn handle(st: &mut State, rec: Value, offset: u64) {
    let ts = rec.get("timestamp").and_then(Timestamp::from_json);
    let kind = str_field(&rec, "type").unwrap_or("").to_string();
    let payload = rec.get("payload").unwrap_or(&Value::Null);
    match kind.as_str() {
        "session_meta" => session_meta(st, payload, rec.get("timestamp")),
        "turn_context" => {
            if st.session.project.is_none() {
                st.session.project = str_field(payload, "cwd").and_then(ProjectRef::from_recorded);
            }
            if let Some(m) = str_field(payload, "model") {
                if !st.models.iter().any(|x| x == m) {
                    st.models.push(m.to_string());
                }
            }
        }
        "response_item" => {
            if !payload.is_object() {
                st.stats_extra.skipped_corrupt += 1;
                return;
            }
            response_item(st, payload, ts, offset);
        }
        "event_msg" => {
            // user_message/agent_message/agent_reasoning duplicate the
            // response items; token_count is cumulative, keep the latest.
            if str_field(payload, "type") == Some("token_count") {
                if let Some(u) = payload.get("info").and_then(|i| i.get("total_token_usage")) {
                    st.session
                        .metadata
                        .insert("total_token_usage".into(), u.clone());
                }
            }
        }
        "compacted" => {
            let text = str_field(payload, "message").map(clean).unwrap_or_default();
            let (timestamp, est) = st.clock.stamp(ts);
            let id = st.next_id(offset);
            st.session.messages.push(Message::new(
                id,
                Role::System,
                timestamp,
                est,
                text,
                "compacted",
            ));
        }
        _ => {
            st.stats_extra.unknown_kinds += 1;
            st.session.unknown_records.push(RawRecord {
                kind: if kind.is_empty() { "?".into() } else { kind },
                offset: Some(offset),
                value: rec,
            });
        }
    }
}

fn response_item(st: &mut State, p: &Value, ts: Option<Timestamp>, offset: u64) {
    let ty = str_field(p, "type").unwrap_or("").to_string();
    let raw_kind = format!("response_item/{ty}");
    let (timestamp, est) = st.clock.stamp(ts);
    match ty.as_str() {
        "message" => {
            let text = match p.get("content") {
                Some(Value::Array(items)) => join_nonempty(items.iter().map(|c| {
                    if let Some(t) = str_field(c, "text") {
                        clean(t)
                    } else {
                        c.as_object().and_then(image_marker).unwrap_or_default()
                    }
                })),
                Some(Value::String(s)) => clean(s),
                _ => String::new(),
            };
            let role = match str_field(p, "role").unwrap_or("") {
                "assistant" => Role::Assistant,
                "system" | "developer" => Role::System,
                // Harness-injected context arrives as "user" messages.
                _ if is_injected_context(&text) => Role::System,
                _ => Role::User,
            };
            let id = st.next_id(offset);
            st.session
                .messages
                .push(Message::new(id, role, timestamp, est, text, &raw_kind));
        }
        "reasoning" => {
            let mut pieces = Vec::new();
            for k in ["summary", "content"] {
                if let Some(items) = p.get(k).and_then(Value::as_array) {
                    pieces.extend(items.iter().filter_map(|i| str_field(i, "text")).map(clean));
                }
            }
            // encrypted_content is opaque and never kept.
            let id = st.next_id(offset);
            let mut m = Message::new(
                id,
                Role::Assistant,
                timestamp,
                est,
                String::new(),
                &raw_kind,
            );
            let thinking = join_nonempty(pieces);
            m.thinking = (!thinking.is_empty()).then_some(thinking);
            st.session.messages.push(m);
        }
        "function_call" | "custom_tool_call" | "local_shell_call" | "web_search_call"
        | "tool_search_call" => {
            let input = p
                .get("arguments")
                .or_else(|| p.get("input"))
                .or_else(|| p.get("action"))
                .map(render_value)
                .unwrap_or_default();
            let name = str_field(p, "name").unwrap_or(match ty.as_str() {
                "local_shell_call" => "local_shell",
                "web_search_call" => "web_search",
                _ => "",
            });
            let id = st.next_id(offset);
            let mut m = Message::new(
                id,
                Role::Assistant,
                timestamp,
                est,
                String::new(),
                &raw_kind,
            );
            m.tool_calls.push(ToolCall {
                id: str_field(p, "call_id")
                    .or_else(|| str_field(p, "id"))
                    .unwrap_or("")
                    .to_string(),
                name: name.to_string(),
                input_text: input,
            });
            st.session.messages.push(m);
        }
        "function_call_output" | "custom_tool_call_output" | "tool_search_output" => {
            let (text, is_error) = tool_output(p.get("output").unwrap_or(&Value::Null));
            let id = st.next_id(offset);
            let mut m = Message::new(id, Role::Tool, timestamp, est, String::new(), &raw_kind);
            m.tool_results.push(ToolResult {
                call_id: str_field(p, "call_id").unwrap_or("").to_string(),
                text,
                is_error,
            });
            st.session.messages.push(m);
        }
        _ => {
            st.stats_extra.unknown_kinds += 1;
            st.session.unknown_records.push(RawRecord {
                kind: raw_kind,
                offset: Some(offset),
                value: p.clone(),
            });
        }
    }
}

fn is_injected_context(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("<environment_context>")
        || t.starts_with("<user_instructions>")
        || t.starts_with("# AGENTS.md instructions")
}

/// A function-call output: often a JSON string `{"output":…,"metadata":
/// {"exit_code":…}}`; sometimes plain text or a structured object.
fn tool_output(out: &Value) -> (String, bool) {
    let decoded;
    let v = match out {
        Value::String(s) => match decode_nested_json(s) {
            Some(inner) => {
                decoded = inner;
                &decoded
            }
            None => return (clean(s), false),
        },
        other => other,
    };
    let exit_code = v
        .get("metadata")
        .and_then(|m| m.get("exit_code"))
        .and_then(Value::as_i64);
    let failed = exit_code.is_some_and(|c| c != 0)
        || v.get("success").and_then(Value::as_bool) == Some(false);
    let text = match v.get("output").or_else(|| v.get("content")) {
        Some(Value::String(s)) => clean(s),
        Some(other) => render_value(other),
        None => render_value(v),
    };
    (text, failed)
}

/// Thread name from `<CODEX_HOME>/session_index.jsonl`, newest entry wins.
fn index_title(source: &Path, id: &str) -> Option<String> {
    let home = source
        .ancestors()
        .find(|a| a.join("session_index.jsonl").is_file())?;
    let index = home.join("session_index.jsonl");
    let mut best: Option<(Option<Timestamp>, String)> = None;
    let _ = read_jsonl_file(&index, 0, JsonlOptions::default(), |rec| {
        if str_field(&rec.value, "id") != Some(id) {
            return;
        }
        let Some(name) = str_field(&rec.value, "thread_name") else {
            return;
        };
        let at = rec.value.get("updated_at").and_then(Timestamp::from_json);
        // Append-only: a later line wins unless its time is older.
        if best.as_ref().is_none_or(|(b, _)| at >= *b) {
            best = Some((at, name.to_string()));
        }
    });
    best.map(|(_, n)| n)
}
