//! Where session files live: the injectable environment (home, OS, env
//! vars) and the `SourceFile` handle every parser receives.
//!
//! Owns the description of the environment and generic directory walking.
//! Each `sources/*` module owns its own standard locations; `discover_all`
//! asks each of them. Nothing here reads file contents.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::Assistant;

/// Operating system whose conventions the locations follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    MacOs,
    Linux,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// The environment discovery computes paths from. Tests build one around a
/// temporary home; `from_process` reads the real one.
#[derive(Debug, Clone)]
pub struct DiscoveryEnv {
    pub home: PathBuf,
    pub os: Os,
    pub vars: BTreeMap<String, String>,
}

impl DiscoveryEnv {
    /// An environment with only a home directory and no variables set.
    pub fn new(home: impl Into<PathBuf>, os: Os) -> DiscoveryEnv {
        DiscoveryEnv {
            home: home.into(),
            os,
            vars: BTreeMap::new(),
        }
    }

    /// Sets a variable (builder style, for tests and callers).
    pub fn with_var(mut self, k: &str, v: impl Into<String>) -> DiscoveryEnv {
        self.vars.insert(k.to_string(), v.into());
        self
    }

    /// The running process's home and environment. `None` when no home
    /// directory can be determined.
    pub fn from_process() -> Option<DiscoveryEnv> {
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let os = Os::current();
        let home = match os {
            Os::Windows => vars.get("USERPROFILE").or_else(|| vars.get("HOME")),
            _ => vars.get("HOME"),
        }
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)?;
        Some(DiscoveryEnv { home, os, vars })
    }

    /// A non-empty variable.
    pub fn var(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// `$XDG_CONFIG_HOME` or `~/.config` (used on Linux, and by CLI tools
    /// that follow XDG on every OS).
    pub fn xdg_config_home(&self) -> PathBuf {
        self.var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.join(".config"))
    }

    /// `$XDG_DATA_HOME` or `~/.local/share`.
    pub fn xdg_data_home(&self) -> PathBuf {
        self.var("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.join(".local").join("share"))
    }

    /// The per-user application-data root of desktop apps: macOS
    /// `~/Library/Application Support`, Linux `$XDG_CONFIG_HOME`, Windows
    /// `%APPDATA%` (defaulting to `~\AppData\Roaming`).
    pub fn app_data(&self) -> PathBuf {
        match self.os {
            Os::MacOs => self.home.join("Library").join("Application Support"),
            Os::Linux => self.xdg_config_home(),
            Os::Windows => self
                .var("APPDATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| self.home.join("AppData").join("Roaming")),
        }
    }

    /// `%LOCALAPPDATA%` on Windows (defaulting to `~\AppData\Local`).
    pub fn local_app_data(&self) -> PathBuf {
        self.var("LOCALAPPDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.join("AppData").join("Local"))
    }

    /// `<UserData>/User` folders of VS Code and its forks, which Copilot
    /// Chat, Cline and Roo Code (and Cursor) store under.
    pub fn vscode_user_dirs(&self, products: &[&str]) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = products
            .iter()
            .map(|p| self.app_data().join(p).join("User"))
            .collect();
        if self.os != Os::Windows {
            // Remote/WSL server side of VS Code keeps its own user data.
            dirs.push(self.home.join(".vscode-server").join("data").join("User"));
        }
        dirs
    }
}

/// How the indexer should re-read a source after it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeMode {
    /// Append-only JSONL: continue from the stored byte offset.
    Append,
    /// Rewritten in place (whole JSON, SQLite, replayed logs): parse again
    /// from the start and replace the source's sessions.
    Reparse,
}

/// The concrete format (one per format generation) of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    ClaudeJsonl,
    CodexJsonl,
    CodexJsonlZst,
    CodexJson,
    GeminiJson,
    GeminiJsonl,
    CursorDb,
    CopilotJson,
    CopilotJsonl,
    /// A Cline/Roo task folder (holds `api_conversation_history.json`).
    ClineTask,
    ContinueJson,
    AiderMarkdown,
    OpencodeDb,
    /// opencode's older `storage/` tree (the source path is the storage root).
    OpencodeStorage,
}

impl SourceKind {
    pub fn resume_mode(self) -> ResumeMode {
        match self {
            SourceKind::ClaudeJsonl | SourceKind::CodexJsonl => ResumeMode::Append,
            _ => ResumeMode::Reparse,
        }
    }
}

/// One discovered source: a file, database or task folder to parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    pub assistant: Assistant,
    pub kind: SourceKind,
    pub path: PathBuf,
}

impl SourceFile {
    pub fn new(assistant: Assistant, kind: SourceKind, path: impl Into<PathBuf>) -> SourceFile {
        SourceFile {
            assistant,
            kind,
            path: path.into(),
        }
    }

    pub fn resume_mode(&self) -> ResumeMode {
        self.kind.resume_mode()
    }
}

/// Entries of a directory; unreadable or missing directories yield nothing
/// (a tool that is not installed is not an error).
pub(crate) fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// Files below `dir` (up to `max_depth` levels) accepted by `keep`.
/// Symlinked directories are not followed, so loops cannot occur.
pub(crate) fn walk_files(
    dir: &Path,
    max_depth: usize,
    keep: &mut dyn FnMut(&Path) -> bool,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk_into(dir, max_depth, keep, &mut out);
    out
}

fn walk_into(
    dir: &Path,
    depth_left: usize,
    keep: &mut dyn FnMut(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) {
    for p in read_dir_sorted(dir) {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if depth_left > 0 {
                walk_into(&p, depth_left - 1, keep, out);
            }
        } else if (meta.is_file() || meta.file_type().is_symlink()) && keep(&p) {
            out.push(p);
        }
    }
}

pub(crate) fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Removes duplicate paths (overlapping roots) keeping the first.
pub(crate) fn dedup(files: Vec<SourceFile>) -> Vec<SourceFile> {
    let mut seen = std::collections::HashSet::new();
    files
        .into_iter()
        .filter(|f| seen.insert(f.path.clone()))
        .collect()
}
