//! Continue: `~/.continue/sessions/<sessionId>.json` (`CONTINUE_GLOBAL_DIR`
//! replaces `~/.continue`), with the index `sessions.json` beside them.
//!
//! Parsing: `history[].message` (role, string or part-list content, tool
//! calls) plus each item's `contextItems` (attached file contents, kept in
//! the text because they are what was sent). The format has no per-message
//! times: every message carries the session's `dateCreated` from the index
//! (or the file mtime), flagged estimated. Project = `workspaceDirectory`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{file_stem, str_field, Clock, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{
    Assistant, Message, ParseStats, ProjectRef, Role, Session, ToolCall, ToolResult,
};
use crate::text::{clean, image_marker, join_nonempty, render_value};
use crate::time::Timestamp;

pub fn root(env: &DiscoveryEnv) -> PathBuf {
    env.var("CONTINUE_GLOBAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env.home.join(".continue"))
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    read_dir_sorted(&root(env).join("sessions"))
        .into_iter()
        .filter(|p| {
            let n = file_name(p);
            n.ends_with(".json") && n != "sessions.json"
        })
        .map(|p| SourceFile::new(Assistant::Continue, SourceKind::ContinueJson, p))
        .collect()
}

pub fn parse(path: &Path) -> Result<ParseOutput, SourceError> {
    let v = super::read_json_file(path)?;
    let mut stats = ParseStats::default();
    let id = str_field(&v, "sessionId")
        .map(str::to_string)
        .unwrap_or_else(|| file_stem(path));
    let mut s = Session::new(Assistant::Continue, id.clone(), path.to_path_buf());
    s.title = str_field(&v, "title").map(str::to_string);
    s.project = str_field(&v, "workspaceDirectory").and_then(ProjectRef::from_recorded);
    s.started_at = index_date(path, &id);
    for k in ["mode", "usage"] {
        if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
            s.metadata.insert(k.into(), x.clone());
        }
    }
    let mut clock = Clock::new(s.started_at, path);
    for (n, item) in v
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        stats.records += 1;
        let Some(msg) = item.get("message").filter(|m| m.is_object()) else {
            stats.skipped_corrupt += 1;
            continue;
        };
        let role = match str_field(msg, "role") {
            Some("assistant") | Some("thinking") => Role::Assistant,
            Some("system") => Role::System,
            Some("tool") => Role::Tool,
            _ => Role::User,
        };
        let (ts, _) = clock.stamp(None);
        let mut text = content_text(msg.get("content"));
        let mut ctx = Vec::new();
        for c in item
            .get("contextItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(body) = str_field(c, "content") {
                ctx.push(format!(
                    "[context: {}]\n{}",
                    str_field(c, "name").unwrap_or(""),
                    clean(body)
                ));
            }
        }
        if !ctx.is_empty() {
            text = join_nonempty(std::iter::once(text).chain(ctx));
        }
        let mut m = Message {
            id: format!("{id}#{n}"),
            role,
            timestamp: ts,
            timestamp_estimated: true,
            text,
            thinking: None,
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            raw_kind: str_field(msg, "role").unwrap_or("?").to_string(),
        };
        if str_field(msg, "role") == Some("thinking") {
            m.thinking = Some(std::mem::take(&mut m.text));
        }
        for c in msg
            .get("toolCalls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let f = c.get("function").unwrap_or(&Value::Null);
            m.tool_calls.push(ToolCall {
                id: str_field(c, "id").unwrap_or("").to_string(),
                name: str_field(f, "name").unwrap_or("").to_string(),
                input_text: f.get("arguments").map(render_value).unwrap_or_default(),
            });
        }
        tool_call_states(item, &mut m);
        if role == Role::Tool {
            m.tool_results.push(ToolResult {
                call_id: str_field(msg, "toolCallId").unwrap_or("").to_string(),
                text: std::mem::take(&mut m.text),
                is_error: false,
            });
        }
        if !m.is_empty() {
            s.messages.push(m);
        }
    }
    Ok(ParseOutput {
        sessions: vec![s],
        stats,
        next_offset: 0,
    })
}

/// What Continue records of each tool call beside the message: the
/// arguments after processing (`processedArgs`: a file's whole contents for
/// `create_new_file`, an edit's new text). They hold what the model wrote
/// to disk, secrets included, where the message may carry only the raw
/// call. (The call's output is the next `tool` message's, already read.)
fn tool_call_states(item: &Value, m: &mut Message) {
    let states = item
        .get("toolCallStates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(item.get("toolCallState").filter(|s| s.is_object()));
    for state in states {
        let call_id = str_field(state, "toolCallId").unwrap_or("").to_string();
        if let Some(args) = state.get("processedArgs").filter(|a| !a.is_null()) {
            let text = render_value(args);
            match m.tool_calls.iter_mut().find(|c| c.id == call_id) {
                Some(call) if call.input_text.contains(&text) => {}
                Some(call) => call.input_text = join_nonempty([call.input_text.clone(), text]),
                None => m.tool_calls.push(ToolCall {
                    id: call_id.clone(),
                    name: state
                        .get("toolCall")
                        .and_then(|c| c.get("function"))
                        .and_then(|f| str_field(f, "name"))
                        .unwrap_or("")
                        .to_string(),
                    input_text: text,
                }),
            }
        }
    }
}

fn content_text(c: Option<&Value>) -> String {
    match c {
        Some(Value::String(s)) => clean(s),
        Some(Value::Array(parts)) => join_nonempty(parts.iter().map(|p| {
            if let Some(t) = str_field(p, "text") {
                clean(t)
            } else if let Some(url) = p.get("imageUrl").and_then(|u| str_field(u, "url")) {
                crate::text::scrub_blobs(url).into_owned()
            } else {
                p.as_object().and_then(image_marker).unwrap_or_default()
            }
        })),
        _ => String::new(),
    }
}

/// `dateCreated` of the session in `sessions.json` (epoch ms, as a string
/// or number, or an ISO string).
fn index_date(path: &Path, id: &str) -> Option<Timestamp> {
    let index = super::read_json_file(&path.parent()?.join("sessions.json")).ok()?;
    index
        .as_array()?
        .iter()
        .find(|e| str_field(e, "sessionId") == Some(id))
        .and_then(|e| e.get("dateCreated"))
        .and_then(Timestamp::from_json)
}
