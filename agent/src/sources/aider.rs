//! Aider: `<git root>/.aider.chat.history.md`, appended Markdown. Aider has
//! no central store, so discovery looks at `AIDER_CHAT_HISTORY_FILE` and
//! walks the home directory a few levels deep (skipping hidden and build
//! folders); the indexer can also pass project roots it learned elsewhere.
//!
//! Parsing: each `# aider chat started at …` opens a session; `#### ` lines
//! are the user's input, `> ` lines tool/UI output, everything else the
//! assistant's reply. The launch time is the only timestamp (local time
//! without a zone, read as UTC): every message carries it, flagged
//! estimated. The project is the folder holding the file.

use std::path::{Path, PathBuf};

use super::{file_mtime, ParseOutput};
use crate::discovery::{file_name, read_dir_sorted, DiscoveryEnv, SourceFile, SourceKind};
use crate::error::SourceError;
use crate::model::{Assistant, Message, ParseStats, ProjectRef, Role, Session};
use crate::text::clean;
use crate::time::Timestamp;

pub const FILE_NAME: &str = ".aider.chat.history.md";
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "Library",
    "AppData",
    "venv",
    "__pycache__",
    "dist",
    "build",
];
const MAX_DEPTH: usize = 4;
const MAX_DIRS: usize = 20_000;

pub fn discover(env: &DiscoveryEnv) -> Vec<SourceFile> {
    let mut out = Vec::new();
    if let Some(f) = env.var("AIDER_CHAT_HISTORY_FILE") {
        let p = PathBuf::from(f);
        if p.is_file() {
            out.push(p);
        }
    }
    let mut budget = MAX_DIRS;
    find_histories(&env.home, MAX_DEPTH, &mut budget, &mut out);
    let files = out
        .into_iter()
        .map(|p| SourceFile::new(Assistant::Aider, SourceKind::AiderMarkdown, p))
        .collect();
    crate::discovery::dedup(files)
}

/// The history file of one project root, if it has one.
pub fn in_project(root: &Path) -> Option<SourceFile> {
    let p = root.join(FILE_NAME);
    p.is_file()
        .then(|| SourceFile::new(Assistant::Aider, SourceKind::AiderMarkdown, p))
}

fn find_histories(dir: &Path, depth: usize, budget: &mut usize, out: &mut Vec<PathBuf>) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    let f = dir.join(FILE_NAME);
    if f.is_file() {
        out.push(f);
    }
    if depth == 0 {
        return;
    }
    for p in read_dir_sorted(dir) {
        let name = file_name(&p);
        if name.starts_with('.') || SKIP_DIRS.contains(&name) {
            continue;
        }
        // Do not follow symlinked directories (loops, other volumes).
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            find_histories(&p, depth - 1, budget, out);
        }
    }
}

pub fn parse(path: &Path) -> Result<ParseOutput, SourceError> {
    let bytes = mantra_core::fsio::read(path, super::WHOLE_FILE_LIMIT)?;
    let text = String::from_utf8_lossy(&bytes);
    let project = path
        .parent()
        .and_then(|p| p.to_str())
        .and_then(ProjectRef::from_recorded);
    let mtime = file_mtime(path);
    let mut stats = ParseStats::default();
    let mut sessions: Vec<Session> = Vec::new();
    let mut cur: Option<(Session, Timestamp, bool)> = None;
    let mut block: Option<(Role, Vec<String>)> = None;

    let flush = |cur: &mut Option<(Session, Timestamp, bool)>,
                 block: &mut Option<(Role, Vec<String>)>,
                 stats: &mut ParseStats| {
        let Some((role, lines)) = block.take() else {
            return;
        };
        let body = lines.join("\n").trim().to_string();
        if body.is_empty() {
            return;
        }
        if cur.is_none() {
            // Content before any header (file started by an old aider).
            let ts = mtime.unwrap_or(Timestamp(0));
            let mut s = Session::new(Assistant::Aider, "aider", path.to_path_buf());
            s.project = project.clone();
            *cur = Some((s, ts, true));
        }
        if let Some((s, ts, _)) = cur.as_mut() {
            stats.records += 1;
            let n = s.messages.len();
            s.messages.push(Message {
                id: format!("{}#{n}", s.id),
                role,
                timestamp: *ts,
                timestamp_estimated: true,
                text: clean(&body),
                thinking: None,
                tool_calls: Vec::new(),
                tool_results: Vec::new(),
                raw_kind: match role {
                    Role::User => "input",
                    Role::Tool => "output",
                    _ => "reply",
                }
                .into(),
            });
        }
    };

    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# aider chat started at ") {
            flush(&mut cur, &mut block, &mut stats);
            if let Some((s, _, _)) = cur.take() {
                sessions.push(s);
            }
            let started = Timestamp::parse_iso(rest.trim());
            let mut s = Session::new(
                Assistant::Aider,
                format!("aider:{}", rest.trim()),
                path.to_path_buf(),
            );
            s.project = project.clone();
            s.started_at = started;
            if started.is_none() {
                stats.skipped_corrupt += 1;
            }
            let ts = started.or(mtime).unwrap_or(Timestamp(0));
            cur = Some((s, ts, started.is_none()));
            continue;
        }
        let (role, content) = if let Some(r) = line.strip_prefix("#### ") {
            (Role::User, r)
        } else if line == "####" {
            (Role::User, "")
        } else if let Some(r) = line.strip_prefix("> ") {
            (Role::Tool, r)
        } else if line == ">" {
            (Role::Tool, "")
        } else {
            (Role::Assistant, line)
        };
        // Aider ends UI lines with two spaces (a Markdown line break).
        let content = content.strip_suffix("  ").unwrap_or(content);
        match block.as_mut() {
            Some((r, lines)) if *r == role => lines.push(content.to_string()),
            _ => {
                if role == Role::Assistant && content.trim().is_empty() {
                    // A blank line after input/output starts no reply.
                    continue;
                }
                flush(&mut cur, &mut block, &mut stats);
                block = Some((role, vec![content.to_string()]));
            }
        }
    }
    flush(&mut cur, &mut block, &mut stats);
    if let Some((s, _, _)) = cur.take() {
        sessions.push(s);
    }
    Ok(ParseOutput {
        sessions,
        stats,
        next_offset: bytes.len() as u64,
    })
}
