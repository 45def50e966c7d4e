//! Cline and Roo Code (same layout): `<UserData>/User/globalStorage/
//! <extension>/tasks/<taskId>/` with `api_conversation_history.json`
//! (Anthropic messages; tool calls as XML in the text) and
//! `ui_messages.json` (UI events with epoch-ms `ts`). `<UserData>` can be VS
//! Code's, Insiders', VSCodium's, Cursor's or Windsurf's.
//!
//! Parsing: messages from the API history (falling back to the UI events
//! when it is missing); timestamps from the UI events' `ts` where a message
//! carries none, else the task start (the id is its epoch ms), flagged
//! estimated; project from `state/taskHistory.json`
//! (`cwdOnTaskInitialization`) or the `# Current Working Directory (…)` line
//! of the environment details. Both files are rewritten non-atomically: an
//! unparsable one is a transient `Malformed` error.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::claude::{content_parts, merge_into};
use super::{str_field, Clock, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{Assistant, Message, ParseStats, ProjectRef, Role, Session, ToolCall};
use crate::text::clean;
use crate::time::Timestamp;

const HOSTS: &[&str] = &["Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf"];

fn extension_id(a: Assistant) -> &'static str {
    match a {
        Assistant::RooCode => "rooveterinaryinc.roo-cline",
        _ => "saoudrizwan.claude-dev",
    }
}

pub fn discover(env: &DiscoveryEnv, assistant: Assistant) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for user in env.vscode_user_dirs(HOSTS) {
        let tasks = user
            .join("globalStorage")
            .join(extension_id(assistant))
            .join("tasks");
        for t in read_dir_sorted(&tasks) {
            if t.join("api_conversation_history.json").is_file()
                || t.join("ui_messages.json").is_file()
            {
                out.push(SourceFile::new(assistant, SourceKind::ClineTask, t));
            }
        }
    }
    crate::discovery::dedup(out)
}

pub fn parse(task_dir: &Path, assistant: Assistant) -> Result<ParseOutput, SourceError> {
    let task_id = file_name(task_dir).to_string();
    let mut s = Session::new(assistant, task_id.clone(), task_dir.to_path_buf());
    let mut stats = ParseStats::default();
    s.started_at = task_id
        .parse::<i64>()
        .ok()
        .filter(|ms| *ms > 1_000_000_000_000)
        .map(Timestamp::from_millis);
    let api_path = task_dir.join("api_conversation_history.json");
    let ui_path = task_dir.join("ui_messages.json");
    let ui: Vec<Value> = if ui_path.is_file() {
        match super::read_json_file(&ui_path)? {
            Value::Array(a) => a,
            _ => {
                stats.skipped_corrupt += 1;
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    if s.started_at.is_none() {
        s.started_at = ui
            .iter()
            .find_map(|e| e.get("ts").and_then(Timestamp::from_json));
    }
    if let Some(task) = ui.iter().find(|e| str_field(e, "say") == Some("task")) {
        s.title = str_field(task, "text")
            .map(|t| t.lines().next().unwrap_or("").chars().take(120).collect());
    }
    let (tokens_in, tokens_out, cost) = ui
        .iter()
        .filter(|e| str_field(e, "say") == Some("api_req_started"))
        .filter_map(|e| str_field(e, "text").and_then(|t| serde_json::from_str::<Value>(t).ok()))
        .fold((0i64, 0i64, 0f64), |(i, o, c), v| {
            (
                i + v.get("tokensIn").and_then(Value::as_i64).unwrap_or(0),
                o + v.get("tokensOut").and_then(Value::as_i64).unwrap_or(0),
                c + v.get("cost").and_then(Value::as_f64).unwrap_or(0.0),
            )
        });
    s.metadata.insert("tokens_in".into(), tokens_in.into());
    s.metadata.insert("tokens_out".into(), tokens_out.into());
    s.metadata.insert("cost".into(), cost.into());

    let mut clock = Clock::new(s.started_at, task_dir);
    if api_path.is_file() {
        let Value::Array(items) = super::read_json_file(&api_path)? else {
            return Err(SourceError::Malformed {
                path: api_path,
                reason: "not a JSON array".into(),
            });
        };
        for (n, m) in items.iter().enumerate() {
            stats.records += 1;
            let (Some(role), Some(content)) = (str_field(m, "role"), m.get("content")) else {
                stats.skipped_corrupt += 1;
                continue;
            };
            let role = if role == "assistant" {
                Role::Assistant
            } else {
                Role::User
            };
            let (ts, est) = clock.stamp(m.get("ts").and_then(Timestamp::from_json));
            let mut msg = Message {
                id: format!("{task_id}#{n}"),
                role,
                timestamp: ts,
                timestamp_estimated: est,
                text: String::new(),
                thinking: None,
                tool_calls: Vec::new(),
                tool_results: Vec::new(),
                raw_kind: "api".into(),
            };
            merge_into(&mut msg, content_parts(content));
            if s.project.is_none() {
                s.project = cwd_from_environment(&msg.text);
            }
            if !msg.is_empty() {
                s.messages.push(msg);
            }
        }
    } else {
        for (n, e) in ui.iter().enumerate() {
            stats.records += 1;
            if let Some(m) = ui_message(e, n, &task_id, &mut clock) {
                s.messages.push(m);
            }
        }
    }
    if let Some(p) = history_cwd(task_dir, &task_id) {
        s.project = Some(p);
    }
    Ok(ParseOutput {
        sessions: vec![s],
        stats,
        next_offset: 0,
    })
}

fn ui_message(e: &Value, n: usize, task_id: &str, clock: &mut Clock) -> Option<Message> {
    // An event still marked `partial` is the last state of a message the
    // extension was streaming when the task stopped (it rewrites the event
    // in place as it streams): its text so far is kept, not dropped.
    let say = str_field(e, "say");
    let ask = str_field(e, "ask");
    let role = match (say, ask) {
        (Some("task") | Some("user_feedback") | Some("user_feedback_diff"), _) => Role::User,
        (Some("text") | Some("completion_result") | Some("reasoning"), _)
        | (_, Some("followup") | Some("completion_result") | Some("plan_mode_respond")) => {
            Role::Assistant
        }
        (Some("command") | Some("command_output") | Some("tool"), _)
        | (_, Some("tool") | Some("command") | Some("command_output")) => Role::Tool,
        _ => return None,
    };
    let (ts, est) = clock.stamp(e.get("ts").and_then(Timestamp::from_json));
    let mut text = str_field(e, "text").map(clean).unwrap_or_default();
    for img in e
        .get("images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(url) = img.as_str() {
            text.push_str(&format!("\n{}", crate::text::scrub_blobs(url)));
        }
    }
    let mut m = Message {
        id: format!("{task_id}#ui{n}"),
        role,
        timestamp: ts,
        timestamp_estimated: est,
        text,
        thinking: None,
        tool_calls: Vec::new(),
        tool_results: Vec::new(),
        raw_kind: format!("ui/{}", say.or(ask).unwrap_or("?")),
    };
    if ask == Some("tool") {
        m.tool_calls.push(ToolCall {
            id: String::new(),
            name: "tool".into(),
            input_text: std::mem::take(&mut m.text),
        });
    }
    Some(m)
}

/// `# Current Working Directory (/home/dev/proj) Files` in Cline's
/// environment details.
fn cwd_from_environment(text: &str) -> Option<ProjectRef> {
    let marker = "# Current Working Directory (";
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest.find(')')?;
    ProjectRef::from_recorded(&rest[..end])
}

/// `cwdOnTaskInitialization` from `<ext>/state/taskHistory.json` (newer
/// builds) or the extension's global state is not read here.
fn history_cwd(task_dir: &Path, task_id: &str) -> Option<ProjectRef> {
    let ext_dir: PathBuf = task_dir.parent()?.parent()?.to_path_buf();
    let hist = super::read_json_file(&ext_dir.join("state").join("taskHistory.json")).ok()?;
    hist.as_array()?
        .iter()
        .find(|h| str_field(h, "id") == Some(task_id))
        .and_then(|h| str_field(h, "cwdOnTaskInitialization"))
        .and_then(ProjectRef::from_recorded)
}
