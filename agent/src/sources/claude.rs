//! Claude Code: `<root>/projects/<enc-cwd>/<sessionId>.jsonl`, subagent
//! transcripts in `<sessionId>/subagents/agent-<id>.jsonl` (and the older
//! flat `agent-<id>.jsonl`), where root is each `CLAUDE_CONFIG_DIR` entry
//! (comma-separated) or else `~/.claude` and `$XDG_CONFIG_HOME/claude`.
//!
//! Parsing: one JSON record per line. Conversation records (`user`,
//! `assistant`, `system`) become messages; one API response written as
//! several lines sharing `message.id` is merged into one message; repeated
//! lines (same `uuid`) are dropped, except that a later copy with text
//! replaces an earlier empty one; `progress` records, which copy subagent
//! messages that `subagents/*.jsonl` already hold, are skipped; titles come
//! from `custom-title` > `ai-title` > `summary`. A file of only `summary`
//! records (left by compaction) is no session. The project is the records'
//! `cwd`, never the encoded folder name. Unknown record types are kept raw.
//! Also owns the Anthropic content-block mapping Cline/Roo reuse.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{str_field, Clock, ParseOutput};
use crate::discovery::{file_name, walk_files, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::jsonl::{read_jsonl_file, JsonlOptions};
use crate::model::{
    Assistant, Message, ProjectRef, RawRecord, Role, Session, ToolCall, ToolResult,
};
use crate::text::{clean, image_marker, join_nonempty, render_value};
use crate::time::Timestamp;

/// Roots holding a `projects/` folder.
pub fn roots(env: &DiscoveryEnv) -> Vec<PathBuf> {
    if let Some(dirs) = env.var("CLAUDE_CONFIG_DIR") {
        // Claude Code honours one dir; ccusage (and users) use a list.
        return dirs
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    vec![
        env.home.join(".claude"),
        env.xdg_config_home().join("claude"),
    ]
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for root in roots(env) {
        // projects/<enc>/<id>.jsonl (depth 1) and
        // projects/<enc>/<id>/subagents/agent-*.jsonl (depth 3)
        let files = walk_files(&root.join("projects"), 3, &mut |p| {
            file_name(p).ends_with(".jsonl")
        });
        out.extend(
            files
                .into_iter()
                .map(|p| SourceFile::new(Assistant::ClaudeCode, SourceKind::ClaudeJsonl, p)),
        );
    }
    crate::discovery::dedup(out)
}

/// Text, thinking, tool calls and results of an Anthropic `content` value
/// (a string or a list of blocks).
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub text: Vec<String>,
    pub thinking: Vec<String>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_results: Vec<ToolResult>,
}

pub(crate) fn content_parts(content: &Value) -> Parts {
    let mut parts = Parts::default();
    match content {
        Value::String(s) => parts.text.push(clean(s)),
        Value::Array(blocks) => {
            for b in blocks {
                block_into(b, &mut parts);
            }
        }
        _ => {}
    }
    parts
}

fn block_into(b: &Value, parts: &mut Parts) {
    let Some(map) = b.as_object() else {
        if let Some(s) = b.as_str() {
            parts.text.push(clean(s));
        }
        return;
    };
    match str_field(b, "type").unwrap_or("") {
        "text" => {
            if let Some(t) = str_field(b, "text") {
                parts.text.push(clean(t));
            }
        }
        "thinking" => {
            // The signature is opaque and never kept.
            if let Some(t) = str_field(b, "thinking") {
                parts.thinking.push(clean(t));
            }
        }
        "redacted_thinking" => {}
        "tool_use" | "server_tool_use" | "mcp_tool_use" => parts.tool_calls.push(ToolCall {
            id: str_field(b, "id").unwrap_or("").to_string(),
            name: str_field(b, "name").unwrap_or("").to_string(),
            input_text: b.get("input").map(render_value).unwrap_or_default(),
        }),
        "tool_result" | "mcp_tool_result" | "web_search_tool_result" => {
            let text = match b.get("content") {
                Some(Value::String(s)) => clean(s),
                Some(Value::Array(items)) => {
                    let mut inner = Parts::default();
                    for i in items {
                        block_into(i, &mut inner);
                    }
                    join_nonempty(inner.text)
                }
                Some(other) => render_value(other),
                None => String::new(),
            };
            parts.tool_results.push(ToolResult {
                call_id: str_field(b, "tool_use_id").unwrap_or("").to_string(),
                text,
                is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
            });
        }
        _ => {
            if let Some(marker) = image_marker(map) {
                parts.text.push(marker);
            } else if let Some(t) = str_field(b, "text") {
                parts.text.push(clean(t));
            }
        }
    }
}

const IGNORED_KINDS: &[&str] = &[
    "file-history-snapshot",
    "queue-operation",
    "last-prompt",
    "progress",
];

struct State {
    session: Session,
    clock: Clock,
    /// Each record uuid seen, with the message it went into.
    seen_uuids: HashMap<String, usize>,
    /// The uuid of the record being handled, and the message of an earlier
    /// empty copy of it that this one replaces.
    pending_uuid: Option<String>,
    pending_replace: Option<usize>,
    by_api_id: HashMap<String, usize>,
    first_offset: Vec<u64>,
    custom_title: Option<String>,
    ai_title: Option<String>,
    summary: Option<String>,
    models: Vec<String>,
}

/// Parses a Claude Code transcript from `from_offset` (see `ParseOutput`).
pub fn parse(path: &Path, from_offset: u64) -> Result<ParseOutput, SourceError> {
    let (id, parent) = session_ids(path);
    let mut session = Session::new(Assistant::ClaudeCode, id, path.to_path_buf());
    if let Some(parent) = parent {
        session
            .metadata
            .insert("parent_session_id".into(), Value::String(parent));
    }
    let mut st = State {
        session,
        clock: Clock::new(None, path),
        seen_uuids: HashMap::new(),
        pending_uuid: None,
        pending_replace: None,
        by_api_id: HashMap::new(),
        first_offset: Vec::new(),
        custom_title: None,
        ai_title: None,
        summary: None,
        models: Vec::new(),
    };
    let mut unknown = 0u64;
    let mut wrong_shape = 0u64;
    let outcome =
        read_jsonl_file(
            path,
            from_offset,
            JsonlOptions::default(),
            |rec| match handle_record(&mut st, rec.value, rec.offset) {
                Handled::Ok => {}
                Handled::Unknown => unknown += 1,
                Handled::WrongShape => wrong_shape += 1,
            },
        )?;
    let mut stats = outcome.stats;
    stats.unknown_kinds += unknown;
    stats.skipped_corrupt += wrong_shape;

    // Hold back a trailing assistant response: more lines of it may follow.
    let mut next_offset = outcome.end_offset;
    if let (Some(last), Some(off)) = (st.session.messages.last(), st.first_offset.last()) {
        if last.role == Role::Assistant {
            next_offset = next_offset.min(*off);
        }
    }
    let mut session = st.session;
    session.title = st.custom_title.or(st.ai_title).or(st.summary);
    session.started_at = session
        .messages
        .iter()
        .find(|m| !m.timestamp_estimated)
        .map(|m| m.timestamp);
    if !st.models.is_empty() {
        session
            .metadata
            .insert("models".into(), Value::from(st.models));
    }
    session.messages.retain(|m| !m.is_empty());
    // A file of only `summary` records (what compaction leaves behind, each
    // pointing at another session) is no session of its own.
    let sessions = if from_offset == 0 && session.messages.is_empty() {
        Vec::new()
    } else {
        vec![session]
    };
    Ok(ParseOutput {
        sessions,
        stats,
        next_offset,
    })
}

/// Session id from the file layout: `<id>.jsonl`, or `<parent>/agent-<x>`
/// for `<parent>/subagents/agent-<x>.jsonl`.
fn session_ids(path: &Path) -> (String, Option<String>) {
    let stem = super::file_stem(path);
    let parent_dir = path.parent();
    if parent_dir.map(file_name) == Some("subagents") {
        if let Some(parent_id) = parent_dir.and_then(Path::parent).map(file_name) {
            return (format!("{parent_id}/{stem}"), Some(parent_id.to_string()));
        }
    }
    (stem, None)
}

enum Handled {
    Ok,
    Unknown,
    WrongShape,
}

fn handle_record(st: &mut State, rec: Value, offset: u64) -> Handled {
    let kind = str_field(&rec, "type").unwrap_or("").to_string();
    match kind.as_str() {
        "user" | "assistant" | "system" => conversation(st, &rec, &kind, offset),
        "summary" => {
            if let Some(s) = str_field(&rec, "summary") {
                st.summary = Some(s.to_string());
            }
            Handled::Ok
        }
        "ai-title" => {
            if let Some(s) = ["aiTitle", "title", "summary"]
                .iter()
                .find_map(|k| str_field(&rec, k))
            {
                st.ai_title = Some(s.to_string());
            }
            Handled::Ok
        }
        "custom-title" => {
            if let Some(s) = ["customTitle", "title"]
                .iter()
                .find_map(|k| str_field(&rec, k))
            {
                st.custom_title = Some(s.to_string());
            }
            Handled::Ok
        }
        k if IGNORED_KINDS.contains(&k) => Handled::Ok,
        "attachment" => {
            // Known but not conversation text; kept raw for the scanner.
            st.session.unknown_records.push(RawRecord {
                kind,
                offset: Some(offset),
                value: rec,
            });
            Handled::Ok
        }
        _ => {
            st.session.unknown_records.push(RawRecord {
                kind: if kind.is_empty() { "?".into() } else { kind },
                offset: Some(offset),
                value: rec,
            });
            Handled::Unknown
        }
    }
}

fn conversation(st: &mut State, rec: &Value, kind: &str, offset: u64) -> Handled {
    st.pending_replace = None;
    st.pending_uuid = None;
    if let Some(uuid) = str_field(rec, "uuid") {
        if let Some(&idx) = st.seen_uuids.get(uuid) {
            // A replayed line is dropped; but when the first copy carried
            // nothing (written before its text was), the later copy's text
            // replaces it instead of being lost.
            match st.session.messages.get(idx) {
                Some(m) if m.is_empty() => st.pending_replace = Some(idx),
                _ => return Handled::Ok,
            }
        }
        st.pending_uuid = Some(uuid.to_string());
    }
    if st.session.project.is_none() {
        st.session.project = str_field(rec, "cwd").and_then(ProjectRef::from_recorded);
    }
    for (field, key) in [
        ("version", "version"),
        ("gitBranch", "git_branch"),
        ("agentId", "agent_id"),
    ] {
        if let Some(v) = str_field(rec, field) {
            st.session
                .metadata
                .entry(key.into())
                .or_insert_with(|| Value::String(v.to_string()));
        }
    }
    if let Some(sid) = str_field(rec, "sessionId") {
        st.session
            .metadata
            .entry("recorded_session_id".into())
            .or_insert_with(|| Value::String(sid.to_string()));
    }
    let recorded = rec.get("timestamp").and_then(Timestamp::from_json);
    let uuid = str_field(rec, "uuid").unwrap_or("").to_string();

    if kind == "system" {
        let text = match rec.get("content") {
            Some(Value::String(s)) => clean(s),
            Some(v) => render_value(v),
            None => return Handled::Ok,
        };
        let (timestamp, est) = st.clock.stamp(recorded);
        let subtype = str_field(rec, "subtype").unwrap_or("");
        push(
            st,
            offset,
            Message {
                id: uuid,
                role: Role::System,
                timestamp,
                timestamp_estimated: est,
                text,
                thinking: None,
                tool_calls: Vec::new(),
                tool_results: Vec::new(),
                raw_kind: if subtype.is_empty() {
                    "system".into()
                } else {
                    format!("system/{subtype}")
                },
            },
        );
        return Handled::Ok;
    }

    let Some(msg) = rec.get("message").filter(|m| m.is_object()) else {
        return Handled::WrongShape;
    };
    let Some(content) = msg.get("content") else {
        return Handled::WrongShape;
    };
    if !content.is_string() && !content.is_array() {
        return Handled::WrongShape;
    }
    let parts = content_parts(content);
    if let Some(model) = str_field(msg, "model") {
        if !st.models.iter().any(|m| m == model) && model != "<synthetic>" {
            st.models.push(model.to_string());
        }
    }

    if kind == "assistant" {
        // One API response = several lines with the same message.id.
        let api_id = str_field(msg, "id").map(|id| {
            format!(
                "{id}{}",
                str_field(rec, "requestId")
                    .map(|r| format!("@{r}"))
                    .unwrap_or_default()
            )
        });
        if let Some(idx) = api_id.as_ref().and_then(|k| st.by_api_id.get(k)).copied() {
            if let Some(existing) = st.session.messages.get_mut(idx) {
                merge_into(existing, parts);
                if let Some(uuid) = st.pending_uuid.take() {
                    st.seen_uuids.insert(uuid, idx);
                }
                return Handled::Ok;
            }
        }
        let (timestamp, est) = st.clock.stamp(recorded);
        let id = str_field(msg, "id").map(str::to_string).unwrap_or(uuid);
        let mut m = empty_message(id, Role::Assistant, timestamp, est, "assistant");
        merge_into(&mut m, parts);
        push(st, offset, m);
        if let Some(k) = api_id {
            st.by_api_id.insert(k, st.session.messages.len() - 1);
        }
        return Handled::Ok;
    }

    // user: prompts, tool results, images
    let (timestamp, est) = st.clock.stamp(recorded);
    let only_results =
        parts.text.iter().all(|t| t.trim().is_empty()) && !parts.tool_results.is_empty();
    let role = if only_results { Role::Tool } else { Role::User };
    let mut m = empty_message(
        uuid,
        role,
        timestamp,
        est,
        if only_results {
            "user/tool_result"
        } else {
            "user"
        },
    );
    merge_into(&mut m, parts);
    push(st, offset, m);
    Handled::Ok
}

fn empty_message(id: String, role: Role, timestamp: Timestamp, est: bool, kind: &str) -> Message {
    Message {
        id,
        role,
        timestamp,
        timestamp_estimated: est,
        text: String::new(),
        thinking: None,
        tool_calls: Vec::new(),
        tool_results: Vec::new(),
        raw_kind: kind.to_string(),
    }
}

fn push(st: &mut State, offset: u64, m: Message) {
    let idx = match st.pending_replace.take() {
        Some(idx) if idx < st.session.messages.len() => {
            st.session.messages[idx] = m;
            idx
        }
        _ => {
            st.session.messages.push(m);
            st.first_offset.push(offset);
            st.session.messages.len() - 1
        }
    };
    if let Some(uuid) = st.pending_uuid.take() {
        st.seen_uuids.insert(uuid, idx);
    }
}

/// Appends parts to a message, skipping blocks it already has (a split
/// record rewritten with the same block must not double it).
pub(crate) fn merge_into(m: &mut Message, parts: Parts) {
    for t in parts.text {
        if t.trim().is_empty() || m.text.contains(t.as_str()) {
            continue;
        }
        if !m.text.is_empty() {
            m.text.push_str("\n\n");
        }
        m.text.push_str(&t);
    }
    for t in parts.thinking {
        if t.trim().is_empty() {
            continue;
        }
        let th = m.thinking.get_or_insert_with(String::new);
        if th.contains(t.as_str()) {
            continue;
        }
        if !th.is_empty() {
            th.push_str("\n\n");
        }
        th.push_str(&t);
    }
    for c in parts.tool_calls {
        if !m
            .tool_calls
            .iter()
            .any(|x| x.id == c.id && x.name == c.name && x.input_text == c.input_text)
        {
            m.tool_calls.push(c);
        }
    }
    for r in parts.tool_results {
        if !m.tool_results.contains(&r) {
            m.tool_results.push(r);
        }
    }
}
