//! GitHub Copilot Chat in VS Code (also Insiders, VSCodium, VS Code
//! Server): `<UserData>/User/workspaceStorage/<id>/chatSessions/<session>.json`
//! (older full `ISerializableChatData`) or `.jsonl` (current object-mutation
//! log), and `User/globalStorage/emptyWindowChatSessions/` for chats without
//! a folder.
//!
//! Parsing: the `.jsonl` log is replayed (`kind` 0 set state, 1 set at path,
//! 2 push with truncation at `i`, 3 delete) into the same state the `.json`
//! holds, so it is re-parsed whole. Each request becomes a user message and
//! its `response[]` an assistant message (markdown parts, tool invocations,
//! text edits). The project is the `workspace.json` folder of the workspace
//! storage; `response[]` item shapes are partly inferred (see the notes).

use std::path::Path;

use serde_json::Value;

use super::{file_stem, str_field, Clock, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::jsonl::{read_jsonl_file, JsonlOptions};
use crate::model::{Assistant, Message, ParseStats, Role, Session, ToolCall, ToolResult};
use crate::text::{clean, join_nonempty, render_value};
use crate::time::Timestamp;

const PRODUCTS: &[&str] = &["Code", "Code - Insiders", "VSCodium"];

fn kind_of(p: &Path) -> Option<SourceKind> {
    let n = file_name(p);
    if n.ends_with(".jsonl") {
        Some(SourceKind::CopilotJsonl)
    } else if n.ends_with(".json") {
        Some(SourceKind::CopilotJson)
    } else {
        None
    }
}

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for user in env.vscode_user_dirs(PRODUCTS) {
        let mut dirs: Vec<_> = read_dir_sorted(&user.join("workspaceStorage"))
            .into_iter()
            .map(|ws| ws.join("chatSessions"))
            .collect();
        dirs.push(user.join("globalStorage").join("emptyWindowChatSessions"));
        for dir in dirs {
            for p in read_dir_sorted(&dir) {
                if let Some(k) = kind_of(&p) {
                    out.push(SourceFile::new(Assistant::CopilotChat, k, p));
                }
            }
        }
    }
    crate::discovery::dedup(out)
}

pub fn parse_json(path: &Path) -> Result<ParseOutput, SourceError> {
    let state = super::read_json_file(path)?;
    let mut stats = ParseStats::default();
    let s = build(path, &state, &mut stats);
    Ok(ParseOutput {
        sessions: vec![s],
        stats,
        next_offset: 0,
    })
}

/// Replays the mutation log, then reads the resulting state.
pub fn parse_jsonl(path: &Path) -> Result<ParseOutput, SourceError> {
    let mut state = Value::Null;
    let mut bad = 0u64;
    let mut unknown = 0u64;
    let outcome = read_jsonl_file(path, 0, JsonlOptions::default(), |rec| {
        let e = rec.value;
        let keys: Vec<Value> = e
            .get("k")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let ok = match e.get("kind").and_then(Value::as_i64) {
            Some(0) => {
                state = e.get("v").cloned().unwrap_or(Value::Null);
                true
            }
            Some(1) => e
                .get("v")
                .is_some_and(|v| set_at(&mut state, &keys, v.clone())),
            Some(2) => match e.get("v") {
                Some(Value::Array(items)) => {
                    let at = e.get("i").and_then(Value::as_u64);
                    push_at(&mut state, &keys, items, at)
                }
                _ => false,
            },
            Some(3) => delete_at(&mut state, &keys),
            _ => {
                unknown += 1;
                true
            }
        };
        if !ok {
            bad += 1;
        }
    })?;
    let mut stats = outcome.stats;
    stats.skipped_corrupt += bad;
    stats.unknown_kinds += unknown;
    let s = build(path, &state, &mut stats);
    Ok(ParseOutput {
        sessions: vec![s],
        stats,
        next_offset: outcome.end_offset,
    })
}

fn navigate<'a>(mut cur: &'a mut Value, keys: &[Value]) -> Option<&'a mut Value> {
    for k in keys {
        cur = match k {
            Value::String(s) => cur.as_object_mut()?.get_mut(s)?,
            Value::Number(n) => {
                let i = usize::try_from(n.as_u64()?).ok()?;
                cur.as_array_mut()?.get_mut(i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn set_at(state: &mut Value, keys: &[Value], v: Value) -> bool {
    let Some((last, parent_keys)) = keys.split_last() else {
        *state = v;
        return true;
    };
    let Some(parent) = navigate(state, parent_keys) else {
        return false;
    };
    match (last, parent) {
        (Value::String(k), Value::Object(map)) => {
            map.insert(k.clone(), v);
            true
        }
        (Value::Number(n), Value::Array(arr)) => {
            match n.as_u64().and_then(|i| usize::try_from(i).ok()) {
                Some(i) if i < arr.len() => {
                    arr[i] = v;
                    true
                }
                Some(i) if i == arr.len() => {
                    arr.push(v);
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn push_at(state: &mut Value, keys: &[Value], items: &[Value], at: Option<u64>) -> bool {
    let Some(target) = navigate(state, keys) else {
        return false;
    };
    if target.is_null() {
        *target = Value::Array(Vec::new());
    }
    let Some(arr) = target.as_array_mut() else {
        return false;
    };
    if let Some(i) = at.and_then(|i| usize::try_from(i).ok()) {
        arr.truncate(i);
    }
    arr.extend(items.iter().cloned());
    true
}

fn delete_at(state: &mut Value, keys: &[Value]) -> bool {
    let Some((last, parent_keys)) = keys.split_last() else {
        *state = Value::Null;
        return true;
    };
    let Some(parent) = navigate(state, parent_keys) else {
        return false;
    };
    match (last, parent) {
        (Value::String(k), Value::Object(map)) => {
            map.remove(k);
            true
        }
        (Value::Number(n), Value::Array(arr)) => {
            match n.as_u64().and_then(|i| usize::try_from(i).ok()) {
                Some(i) if i < arr.len() => {
                    arr.remove(i);
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn build(path: &Path, state: &Value, stats: &mut ParseStats) -> Session {
    let id = str_field(state, "sessionId")
        .map(str::to_string)
        .unwrap_or_else(|| file_stem(path));
    let mut s = Session::new(Assistant::CopilotChat, id, path.to_path_buf());
    s.title = str_field(state, "customTitle").map(str::to_string);
    s.started_at = state.get("creationDate").and_then(Timestamp::from_json);
    s.project = path
        .parent()
        .filter(|p| file_name(p) == "chatSessions")
        .and_then(Path::parent)
        .and_then(super::cursor::workspace_folder);
    for (k, key) in [
        ("version", "version"),
        ("initialLocation", "location"),
        ("responderUsername", "responder"),
    ] {
        if let Some(v) = state.get(k).filter(|v| !v.is_null()) {
            s.metadata.insert(key.into(), v.clone());
        }
    }
    let mut clock = Clock::new(s.started_at, path);
    let mut models = Vec::new();
    for (n, r) in state
        .get("requests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        stats.records += 1;
        if !r.is_object() {
            stats.skipped_corrupt += 1;
            continue;
        }
        let rid = str_field(r, "requestId")
            .map(str::to_string)
            .unwrap_or_else(|| format!("request_{n}"));
        if let Some(m) = str_field(r, "modelId") {
            if !models.iter().any(|x| x == m) {
                models.push(m.to_string());
            }
        }
        let (ts, est) = clock.stamp(r.get("timestamp").and_then(Timestamp::from_json));
        let text = r
            .get("message")
            .and_then(|m| m.get("text").and_then(Value::as_str).map(clean))
            .unwrap_or_default();
        let user = Message::new(rid.clone(), Role::User, ts, est, text, "request");
        if !user.is_empty() {
            s.messages.push(user);
        }
        // The response records no time of its own: the request's, estimated.
        let mut reply = Message::new(
            format!("{rid}/response"),
            Role::Assistant,
            ts,
            true,
            String::new(),
            "response",
        );
        let mut texts = Vec::new();
        let mut thoughts = Vec::new();
        for item in r
            .get("response")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            response_item(item, &mut texts, &mut thoughts, &mut reply);
        }
        reply.text = join_nonempty(texts);
        let th = join_nonempty(thoughts);
        reply.thinking = (!th.is_empty()).then_some(th);
        if !reply.is_empty() {
            s.messages.push(reply);
        }
    }
    if !models.is_empty() {
        s.metadata.insert("models".into(), Value::from(models));
    }
    s
}

fn md_value(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => clean(s),
        Some(o) => o
            .get("value")
            .and_then(Value::as_str)
            .map(clean)
            .unwrap_or_default(),
        None => String::new(),
    }
}

fn response_item(
    item: &Value,
    texts: &mut Vec<String>,
    thoughts: &mut Vec<String>,
    reply: &mut Message,
) {
    match str_field(item, "kind") {
        None | Some("markdownContent") | Some("markdownVuln") => {
            let v = item.get("value").or_else(|| item.get("content"));
            texts.push(md_value(v));
        }
        Some("thinking") => thoughts.push(md_value(item.get("value"))),
        Some("toolInvocationSerialized") | Some("toolInvocation") => {
            let id = str_field(item, "toolCallId").unwrap_or("").to_string();
            reply.tool_calls.push(ToolCall {
                id: id.clone(),
                name: str_field(item, "toolId").unwrap_or("").to_string(),
                input_text: md_value(item.get("invocationMessage")),
            });
            if let Some(res) = item
                .get("resultDetails")
                .or_else(|| item.get("pastTenseMessage"))
            {
                reply.tool_results.push(ToolResult {
                    call_id: id,
                    text: if res.is_object() && res.get("value").is_some() {
                        md_value(Some(res))
                    } else {
                        render_value(res)
                    },
                    is_error: item
                        .get("isError")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                });
            }
        }
        Some("textEditGroup") => {
            // Edits hold code the assistant wrote (possibly secrets).
            for group in item
                .get("edits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for e in group.as_array().into_iter().flatten() {
                    if let Some(t) = str_field(e, "text") {
                        texts.push(clean(t));
                    }
                }
            }
        }
        _ => {}
    }
}
