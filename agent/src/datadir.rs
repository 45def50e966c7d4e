//! Where Mantra keeps its per-user files: the data directory and the names of
//! the files inside it.
//!
//! Owns the one implementation of "which directory" (`MANTRA_HOME` overrides
//! the platform default) and the layout below it. Creates directories with
//! owner-only permissions; does not open any file itself.

use std::path::{Path, PathBuf};

/// File name of the encrypted session store.
pub const DB_FILE_NAME: &str = "sessions.db";
/// File name of the store key when the OS keychain is unreachable.
pub const KEY_FILE_NAME: &str = "store.key";
/// Sub-directory holding the daily rolling logs.
pub const LOG_DIR_NAME: &str = "logs";
/// Sub-directory holding rebuildable caches (compiled engine databases).
pub const CACHE_DIR_NAME: &str = "cache";

/// The per-user data directory: `MANTRA_HOME` when set and non-empty, else
/// the platform's data directory (`$XDG_DATA_HOME/mantra` or
/// `~/.local/share/mantra` on Linux, `~/Library/Application Support/Mantra`
/// on macOS, `%LOCALAPPDATA%\Mantra` on Windows). `None` when no home can be
/// determined.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("MANTRA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(home));
    }
    platform_data_dir()
}

#[cfg(target_os = "macos")]
fn platform_data_dir() -> Option<PathBuf> {
    home().map(|h| h.join("Library/Application Support/Mantra"))
}

#[cfg(windows)]
fn platform_data_dir() -> Option<PathBuf> {
    std::env::var_os("LOCALAPPDATA")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("Mantra"))
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_data_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => Some(PathBuf::from(d).join("mantra")),
        None => home().map(|h| h.join(".local/share/mantra")),
    }
}

#[cfg(not(windows))]
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The files of one data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE_NAME)
    }

    pub fn key_file(&self) -> PathBuf {
        self.root.join(KEY_FILE_NAME)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.root.join(LOG_DIR_NAME)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR_NAME)
    }

    /// The compliance event log (`logs/audit.jsonl`).
    pub fn audit_log(&self) -> PathBuf {
        mantra_detect::audit_log::audit_log_path(&self.root)
    }

    pub fn exposure_file(&self) -> PathBuf {
        self.root.join(mantra_detect::exposure::EXPOSURE_FILE_NAME)
    }

    /// Creates the directory (and parents), owner-only on Unix.
    pub fn ensure(&self) -> std::io::Result<()> {
        create_private_dir(&self.root)
    }
}

/// `create_dir_all`, then `0700` on Unix.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
