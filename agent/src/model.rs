//! The common session model every source parser maps into.
//!
//! Owns: `Assistant`, `Session`, `Message`, tool calls/results, project
//! references, timestamps-with-provenance and per-parse statistics. It does
//! not know how any format is read (see `sources/`) nor how it is stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Which AI coding assistant produced a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assistant {
    ClaudeCode,
    Codex,
    GeminiCli,
    Cursor,
    CopilotChat,
    Cline,
    RooCode,
    Continue,
    Aider,
    Opencode,
}

impl Assistant {
    /// Every assistant, in the priority order of the format notes.
    pub const ALL: [Assistant; 10] = [
        Assistant::ClaudeCode,
        Assistant::Codex,
        Assistant::Cursor,
        Assistant::CopilotChat,
        Assistant::GeminiCli,
        Assistant::Cline,
        Assistant::RooCode,
        Assistant::Opencode,
        Assistant::Aider,
        Assistant::Continue,
    ];

    /// Stable machine name (used in ids, JSON output and the store).
    pub fn as_str(self) -> &'static str {
        match self {
            Assistant::ClaudeCode => "claude-code",
            Assistant::Codex => "codex",
            Assistant::GeminiCli => "gemini-cli",
            Assistant::Cursor => "cursor",
            Assistant::CopilotChat => "copilot-chat",
            Assistant::Cline => "cline",
            Assistant::RooCode => "roo-code",
            Assistant::Continue => "continue",
            Assistant::Aider => "aider",
            Assistant::Opencode => "opencode",
        }
    }
}

impl Assistant {
    /// The assistant with this machine name ([`Assistant::as_str`]).
    pub fn parse(name: &str) -> Option<Assistant> {
        Assistant::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The project a session belongs to, resolved from the cwd/workspace the
/// assistant recorded — never from an encoded folder name, which is lossy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProjectRef {
    /// Normalised path used as the project key: forward slashes, no trailing
    /// slash, `file://` URIs decoded, Windows drive letters upper-cased and
    /// WSL `/mnt/<d>/…` mapped to `<D>:/…` so one folder has one key.
    pub path: String,
    /// The value exactly as recorded (path or URI).
    pub raw: String,
}

impl ProjectRef {
    /// Builds a project reference from a recorded cwd, workspace path or
    /// `file://` URI. Returns `None` for empty input.
    pub fn from_recorded(raw: &str) -> Option<ProjectRef> {
        let path = crate::paths::normalize_project_path(raw)?;
        Some(ProjectRef {
            path,
            raw: raw.to_string(),
        })
    }

    /// Last path component, for display.
    pub fn name(&self) -> &str {
        self.path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or(&self.path)
    }
}

/// Who spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
    Tool,
}

/// A tool invocation requested by the assistant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The format's call id (`toolu_…`, `call_…`), empty when none.
    pub id: String,
    pub name: String,
    /// Human-readable rendering of the arguments: nested JSON-in-JSON is
    /// decoded so secrets appear unescaped; blobs are replaced by markers.
    pub input_text: String,
}

/// The output of a tool invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The id of the call this answers, empty when unknown.
    pub call_id: String,
    pub text: String,
    pub is_error: bool,
}

/// One message of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Native id, stable across re-parses (the store keys on
    /// `(source, session id, message id)` and upserts).
    pub id: String,
    pub role: Role,
    pub timestamp: Timestamp,
    /// True when the format recorded no time for this message and
    /// `timestamp` was derived (previous message, session start, file mtime).
    pub timestamp_estimated: bool,
    /// Visible text. Images and opaque blobs are replaced by short markers
    /// such as `[image: image/png, 12 KB]`.
    pub text: String,
    /// Model reasoning/thinking text when the format records it in clear
    /// (signatures and encrypted reasoning are never kept).
    pub thinking: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_results: Vec<ToolResult>,
    /// The format's own record kind, e.g. `assistant`, `response_item/message`.
    pub raw_kind: String,
}

impl Message {
    /// A message with text only: no thinking, tool calls or results yet.
    pub fn new(
        id: String,
        role: Role,
        timestamp: Timestamp,
        timestamp_estimated: bool,
        text: String,
        raw_kind: &str,
    ) -> Message {
        Message {
            id,
            role,
            timestamp,
            timestamp_estimated,
            text,
            thinking: None,
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            raw_kind: raw_kind.to_string(),
        }
    }

    /// True when the message carries nothing worth indexing.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.thinking.as_deref().is_none_or(|t| t.trim().is_empty())
            && self.tool_calls.is_empty()
            && self.tool_results.is_empty()
    }
}

/// A record the parser did not understand, kept verbatim as metadata (never
/// as message text) so schema drift loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    /// The record's type tag as found, or `"?"`.
    pub kind: String,
    /// Byte offset of the record in the source file, when line-based.
    pub offset: Option<u64>,
    pub value: serde_json::Value,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub assistant: Assistant,
    /// Native session id (for subagent transcripts `<parent>/<agent>`).
    pub id: String,
    pub project: Option<ProjectRef>,
    /// The file (or database, or task folder) the session was read from.
    pub source_path: PathBuf,
    pub title: Option<String>,
    pub started_at: Option<Timestamp>,
    pub messages: Vec<Message>,
    /// Session-level facts the format records (model, git branch, versions,
    /// parent session…), as JSON values.
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Records of unknown type, kept raw.
    pub unknown_records: Vec<RawRecord>,
}

impl Session {
    pub fn new(assistant: Assistant, id: impl Into<String>, source_path: PathBuf) -> Session {
        Session {
            assistant,
            id: id.into(),
            project: None,
            source_path,
            title: None,
            started_at: None,
            messages: Vec::new(),
            metadata: BTreeMap::new(),
            unknown_records: Vec::new(),
        }
    }
}

/// Counters of what a parse met; nothing here aborts a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseStats {
    /// Records (lines, rows, array items) read.
    pub records: u64,
    /// Records that were not valid JSON or had the wrong shape: skipped.
    pub skipped_corrupt: u64,
    /// Final lines without a newline, left for the next read.
    pub held_back_partial: u64,
    /// Records of an unknown type, kept raw.
    pub unknown_kinds: u64,
    /// Records longer than the reader's cap, skipped without buffering.
    pub skipped_oversized: u64,
}

impl ParseStats {
    pub fn add(&mut self, other: &ParseStats) {
        self.records += other.records;
        self.skipped_corrupt += other.skipped_corrupt;
        self.held_back_partial += other.held_back_partial;
        self.unknown_kinds += other.unknown_kinds;
        self.skipped_oversized += other.skipped_oversized;
    }
}
