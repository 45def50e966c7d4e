//! Where Mantra keeps its files on this machine. The one implementation
//! lives in `mantra-agent` (`MANTRA_HOME` overrides the platform default).

use std::path::PathBuf;

/// The per-user data directory: `MANTRA_HOME` when set, else the platform's
/// data directory (`$XDG_DATA_HOME/mantra`, `~/Library/Application
/// Support/Mantra`, `%LOCALAPPDATA%\Mantra`).
pub fn data_dir() -> Option<PathBuf> {
    mantra_agent::data_dir()
}

/// Rebuildable caches (compiled engine databases) live under the data
/// directory, so `mantra wipe` and `MANTRA_HOME` cover them too.
pub fn cache_dir() -> Option<PathBuf> {
    data_dir().map(|d| mantra_agent::DataDir::new(d).cache_dir())
}
