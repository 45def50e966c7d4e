//! Where Mantra keeps its files on this machine: a thin use of the one
//! implementation, `mantra_core::datadir` (`MANTRA_HOME` overrides the
//! platform default).

use std::path::PathBuf;

pub use mantra_core::datadir::data_dir;

/// Rebuildable caches (compiled engine databases) live under the data
/// directory, so `mantra wipe` and `MANTRA_HOME` cover them too.
pub fn cache_dir() -> Option<PathBuf> {
    mantra_core::DataDir::locate().map(|d| d.cache_dir())
}
