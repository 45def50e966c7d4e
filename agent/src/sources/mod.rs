//! One module per assistant format, and the dispatch over them.
//!
//! Each module owns its standard locations (`discover`) and its parsing;
//! this module owns the shared `ParseOutput`, the dispatch by `SourceKind`
//! and small helpers (timestamp estimation). It does not store anything.

pub mod aider;
pub mod claude;
pub mod cline;
pub mod codex;
pub mod continue_dev;
pub mod copilot;
pub mod cursor;
pub mod gemini;
pub mod opencode;
pub(crate) mod sqlite;

use std::path::Path;

use crate::discovery::{DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{Assistant, ParseStats, Session};
use crate::time::Timestamp;

/// The result of parsing one source.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseOutput {
    /// Sessions found. For an `Append` source read from an offset > 0 the
    /// session holds only the messages read this time (same session id).
    pub sessions: Vec<Session>,
    pub stats: ParseStats,
    /// Where the next incremental read of an `Append` source starts. It
    /// stops before a held-back partial line, and before the records of a
    /// trailing assistant message that may still grow (Claude writes one
    /// response as several lines): that message is emitted now and again,
    /// complete and with the same id, next time — the store upserts by
    /// `(source, session id, message id)`. For `Reparse` sources it is the
    /// size read and only informative.
    pub next_offset: u64,
}

/// Every source of every assistant found in `env`'s standard locations.
pub fn discover_all(env: &DiscoveryEnv) -> Vec<SourceFile> {
    Assistant::ALL
        .iter()
        .flat_map(|a| discover(*a, env))
        .collect()
}

/// The sources of one assistant.
pub fn discover(assistant: Assistant, env: &DiscoveryEnv) -> Vec<SourceFile> {
    match assistant {
        Assistant::ClaudeCode => claude::discover(env),
        Assistant::Codex => codex::discover(env),
        Assistant::GeminiCli => gemini::discover(env),
        Assistant::Cursor => cursor::discover(env),
        Assistant::CopilotChat => copilot::discover(env),
        Assistant::Cline => cline::discover(env, Assistant::Cline),
        Assistant::RooCode => cline::discover(env, Assistant::RooCode),
        Assistant::Continue => continue_dev::discover(env),
        Assistant::Aider => aider::discover(env),
        Assistant::Opencode => opencode::discover(env),
    }
}

/// Parses `source`. `from_offset` is honoured by `Append` sources (0 reads
/// everything) and ignored by `Reparse` sources, which are always read whole.
pub fn parse(source: &SourceFile, from_offset: u64) -> Result<ParseOutput, SourceError> {
    let p = source.path.as_path();
    match source.kind {
        SourceKind::ClaudeJsonl => claude::parse(p, from_offset),
        SourceKind::CodexJsonl => codex::parse_jsonl(p, from_offset),
        SourceKind::CodexJsonlZst => codex::parse_zst(p),
        SourceKind::CodexJson => codex::parse_legacy_json(p),
        SourceKind::GeminiJson => gemini::parse_json(p),
        SourceKind::GeminiJsonl => gemini::parse_jsonl(p),
        SourceKind::CursorDb => cursor::parse(p),
        SourceKind::CopilotJson => copilot::parse_json(p),
        SourceKind::CopilotJsonl => copilot::parse_jsonl(p),
        SourceKind::ClineTask => cline::parse(p, source.assistant),
        SourceKind::ContinueJson => continue_dev::parse(p),
        SourceKind::AiderMarkdown => aider::parse(p),
        SourceKind::OpencodeDb => opencode::parse_db(p),
        SourceKind::OpencodeStorage => opencode::parse_storage(p),
    }
}

pub(crate) fn file_mtime(path: &Path) -> Option<Timestamp> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(Timestamp::from_system_time)
}

/// Assigns timestamps: a recorded one is exact; otherwise the previous
/// message's (or the fallback: session start, else file mtime), flagged
/// estimated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    last: Option<Timestamp>,
    fallback: Timestamp,
}

impl Clock {
    pub(crate) fn new(fallback: Option<Timestamp>, path: &Path) -> Clock {
        Clock {
            last: None,
            fallback: fallback
                .or_else(|| file_mtime(path))
                .unwrap_or(Timestamp(0)),
        }
    }

    pub(crate) fn stamp(&mut self, recorded: Option<Timestamp>) -> (Timestamp, bool) {
        match recorded {
            Some(t) => {
                self.last = Some(t);
                (t, false)
            }
            None => (self.last.unwrap_or(self.fallback), true),
        }
    }
}

/// The largest source read whole (JSON documents, Markdown histories).
/// Parsed into memory, such a file costs several times its size; larger
/// ones are refused with a reason instead of exhausting memory. Streamed
/// sources (JSONL) have no such limit.
pub(crate) const WHOLE_FILE_LIMIT: u64 = 512 * 1024 * 1024;

/// Reads a whole JSON file (lossy on invalid UTF-8).
pub(crate) fn read_json_file(path: &Path) -> Result<serde_json::Value, SourceError> {
    let bytes = mantra_core::fsio::read(path, WHOLE_FILE_LIMIT)?;
    let text = String::from_utf8_lossy(&bytes);
    serde_json::from_str(&text).map_err(|e| SourceError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

pub(crate) fn str_field<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(serde_json::Value::as_str)
}

pub(crate) fn file_stem(p: &Path) -> String {
    let name = crate::discovery::file_name(p);
    name.split('.').next().unwrap_or(name).to_string()
}
