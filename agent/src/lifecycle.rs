//! The store's life on this machine: opening it with the configured key
//! provider, publishing the exposure list, and wiping everything but (by
//! default) the compliance event log.

use std::path::{Path, PathBuf};

use crate::config::AgentConfig;
use crate::keys::{KeyProvider, KeyStoreChoice, SystemKeys};
use crate::store::{OpenMode, Store, StoreError};
use mantra_core::datadir::DataDir;

/// The production key provider for `dir`: OS keychain with the key-file
/// fallback that `config.key_fallback` allows. `MANTRA_KEY_STORE`
/// (`auto`, `keychain`, `file`) narrows the choice.
pub fn system_keys(dir: &DataDir, config: &AgentConfig) -> Result<SystemKeys, StoreError> {
    let choice = match std::env::var("MANTRA_KEY_STORE") {
        Ok(v) => KeyStoreChoice::parse(&v).ok_or_else(|| {
            StoreError::Invalid(format!(
                "MANTRA_KEY_STORE={v:?}: expected auto, keychain or file"
            ))
        })?,
        Err(_) => KeyStoreChoice::Auto,
    };
    Ok(SystemKeys::new(&dir.root, config.key_fallback, choice))
}

/// Opens the store of `dir` with `keys`.
pub fn open_store(
    dir: &DataDir,
    keys: &dyn KeyProvider,
    mode: OpenMode,
) -> Result<Store, StoreError> {
    if mode == OpenMode::Create {
        dir.ensure().map_err(|source| StoreError::Io {
            path: dir.root.clone(),
            source,
        })?;
    }
    Store::open(&dir.db_path(), keys, mode)
}

/// Writes `exposures.json` (atomic, `0600`) from the store's exposure
/// table. Returns the number of exposed secrets listed.
pub fn write_exposures(
    store: &Store,
    dir: &DataDir,
    fingerprint_key: &[u8],
) -> Result<usize, StoreError> {
    let list = store.exposure_list(fingerprint_key)?;
    let path = dir.exposure_file();
    list.write(&path)
        .map_err(|source| StoreError::Io { path, source })?;
    Ok(list.exposures.len())
}

/// What `wipe` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WipeReport {
    pub removed: Vec<PathBuf>,
    pub key_removed: bool,
}

/// What a wipe does with the compliance event log (`logs/audit.jsonl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// Kept, to record the wipe in (the default policy).
    Keep,
    /// Removed with the other logs (`logging.wipe_erases_trail`).
    Erase,
}

/// Removes the database (with WAL/SHM), the key (keychain entry and key
/// file), the agent's logs, the exposure list and caches of `dir`, and the
/// compliance event log only when `trail` says so. Missing pieces are
/// skipped. The directory itself is removed when it ends up empty.
pub fn wipe(dir: &DataDir, keys: &dyn KeyProvider, trail: Trail) -> Result<WipeReport, StoreError> {
    let mut report = WipeReport::default();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    let db = dir.db_path();
    let store_files = ["", "-wal", "-shm", "-journal"].iter().map(|suffix| {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    });
    let lock = std::iter::once(crate::store::creation_lock_path(&db));
    for p in store_files
        .chain(crate::store::search::index_files(&db))
        .chain(lock)
    {
        if remove_file(&p).map_err(io(&p))? {
            report.removed.push(p);
        }
    }
    report.key_removed = keys.delete()?;
    let exposures = dir.exposure_file();
    if remove_file(&exposures).map_err(io(&exposures))? {
        report.removed.push(exposures);
    }
    let logs = match trail {
        Trail::Erase => vec![dir.log_dir()],
        Trail::Keep => match std::fs::read_dir(dir.log_dir()) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| *p != dir.audit_log())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&dir.log_dir())(e)),
        },
    };
    for p in logs.into_iter().chain([dir.cache_dir()]) {
        let removed = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).map(|()| true),
            Ok(_) => remove_file(&p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        };
        if removed.map_err(io(&p))? {
            report.removed.push(p);
        }
    }
    let _ = std::fs::remove_dir(&dir.root); // only if empty
    Ok(report)
}

fn remove_file(p: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
