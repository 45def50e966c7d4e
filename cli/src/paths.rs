//! Where Mantra keeps its files on this machine.

use std::path::PathBuf;

/// The per-user data directory: `MANTRA_HOME` when set, else the platform's
/// data directory (`$XDG_DATA_HOME/mantra`, `~/Library/Application
/// Support/Mantra`, `%LOCALAPPDATA%\Mantra`).
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
    std::env::var_os("LOCALAPPDATA").map(|d| PathBuf::from(d).join("Mantra"))
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

/// Rebuildable caches (compiled engine databases) live under the data
/// directory, so `mantra wipe` and `MANTRA_HOME` cover them too.
pub fn cache_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("cache"))
}
