//! Where Mantra keeps its per-user files: the data directory and the names
//! of everything inside it.
//!
//! Owns the one implementation of "which directory" (`MANTRA_HOME`
//! overrides the platform default) and the whole layout below it: every
//! crate that reads or writes a file there asks [`DataDir`] for its path
//! instead of joining names by hand. Creates directories owner-only; opens
//! no file itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// File name of the encrypted session store.
pub const DB_FILE_NAME: &str = "sessions.db";
/// File name of the store key when the OS keychain is unreachable.
pub const KEY_FILE_NAME: &str = "store.key";
/// Sub-directory holding the daily rolling logs and the compliance event
/// log.
pub const LOG_DIR_NAME: &str = "logs";
/// File name of the compliance event log, inside [`LOG_DIR_NAME`].
pub const AUDIT_LOG_FILE_NAME: &str = "audit.jsonl";
/// Sub-directory holding rebuildable caches (compiled engine databases).
pub const CACHE_DIR_NAME: &str = "cache";
/// File name of the exposure list the agent writes and the hooks read.
pub const EXPOSURE_FILE_NAME: &str = "exposures.json";
/// Sub-directory of local crash reports.
pub const CRASH_REPORTS_DIR_NAME: &str = "crash-reports";
/// File name of the update checker's state (last check, its result).
pub const UPDATE_STATE_FILE_NAME: &str = "update-check.json";
/// Sub-directory holding the git hook shims of a global install.
pub const GIT_HOOKS_DIR_NAME: &str = "git-hooks";

/// The per-user data directory: `MANTRA_HOME` when set and non-empty, else
/// the platform's data directory (`$XDG_DATA_HOME/mantra` or
/// `~/.local/share/mantra` on Linux and other Unixes,
/// `~/Library/Application Support/Mantra` on macOS, `%LOCALAPPDATA%\Mantra`
/// on Windows). `None` when no home can be determined.
///
/// A relative `XDG_DATA_HOME` is ignored, as the XDG Base Directory
/// specification requires ("all paths set in these environment variables
/// must be absolute; if an implementation encounters a relative path it
/// should consider the path invalid and ignore it"): the data directory
/// must not move with the working directory.
pub fn data_dir() -> Option<PathBuf> {
    data_dir_from(&|key| std::env::var_os(key))
}

/// [`data_dir`] with the environment given as a lookup function.
fn data_dir_from(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = var("MANTRA_HOME") {
        return Some(home);
    }
    platform_data_dir(&var)
}

#[cfg(target_os = "macos")]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    var("HOME").map(|h| h.join("Library/Application Support/Mantra"))
}

#[cfg(windows)]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    var("LOCALAPPDATA").map(|d| d.join("Mantra"))
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    var("XDG_DATA_HOME")
        .filter(|d| d.is_absolute())
        .map(|d| d.join("mantra"))
        .or_else(|| var("HOME").map(|h| h.join(".local/share/mantra")))
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

    /// The data directory of this process's environment ([`data_dir`]).
    pub fn locate() -> Option<DataDir> {
        data_dir().map(DataDir::new)
    }

    /// The encrypted session store (`sessions.db`).
    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE_NAME)
    }

    /// The store key when it is kept in a file (`store.key`).
    pub fn key_file(&self) -> PathBuf {
        self.root.join(KEY_FILE_NAME)
    }

    /// The daily rolling logs (`logs/`).
    pub fn log_dir(&self) -> PathBuf {
        self.root.join(LOG_DIR_NAME)
    }

    /// The compliance event log (`logs/audit.jsonl`).
    pub fn audit_log(&self) -> PathBuf {
        self.log_dir().join(AUDIT_LOG_FILE_NAME)
    }

    /// Rebuildable caches (`cache/`).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR_NAME)
    }

    /// The exposure list (`exposures.json`).
    pub fn exposure_file(&self) -> PathBuf {
        self.root.join(EXPOSURE_FILE_NAME)
    }

    /// Local crash reports (`crash-reports/`).
    pub fn crash_reports_dir(&self) -> PathBuf {
        self.root.join(CRASH_REPORTS_DIR_NAME)
    }

    /// The update checker's state (`update-check.json`).
    pub fn update_state_file(&self) -> PathBuf {
        self.root.join(UPDATE_STATE_FILE_NAME)
    }

    /// The git hook shims of a global install (`git-hooks/`).
    pub fn git_hooks_dir(&self) -> PathBuf {
        self.root.join(GIT_HOOKS_DIR_NAME)
    }

    /// Creates the directory (and parents), owner-only on Unix.
    pub fn ensure(&self) -> std::io::Result<()> {
        ensure_private_dir(&self.root)
    }
}

/// Creates a directory Mantra owns (and its missing parents, `0700`), then
/// makes it owner-only on Unix even if it already existed with a looser
/// mode. Only for Mantra's own directories (the data directory, its logs):
/// for a directory that may be the user's, use
/// [`crate::fsio::create_private_dir`], which leaves an existing one alone.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    crate::fsio::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)]) -> Option<PathBuf> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), OsString::from(v)))
            .collect();
        data_dir_from(&|key| map.get(key).cloned())
    }

    #[test]
    fn mantra_home_wins_and_empty_values_count_as_unset() {
        assert_eq!(
            resolve(&[
                ("MANTRA_HOME", "/srv/mantra"),
                ("HOME", "/home/dev"),
                ("XDG_DATA_HOME", "/xdg"),
                ("LOCALAPPDATA", "C:\\Users\\dev\\AppData\\Local"),
            ]),
            Some(PathBuf::from("/srv/mantra"))
        );
        assert_eq!(resolve(&[("MANTRA_HOME", ""), ("HOME", "")]), None);
    }

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn an_absolute_xdg_data_home_is_used_and_a_relative_one_ignored() {
        assert_eq!(
            resolve(&[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/dev")]),
            Some(PathBuf::from("/xdg/mantra"))
        );
        assert_eq!(
            resolve(&[("HOME", "/home/dev")]),
            Some(PathBuf::from("/home/dev/.local/share/mantra"))
        );
        // Relative: invalid per the XDG specification, so the default.
        for relative in ["xdg", "./xdg", "../share"] {
            assert_eq!(
                resolve(&[("XDG_DATA_HOME", relative), ("HOME", "/home/dev")]),
                Some(PathBuf::from("/home/dev/.local/share/mantra")),
                "{relative}"
            );
        }
        assert_eq!(resolve(&[("XDG_DATA_HOME", "xdg")]), None);
    }

    #[test]
    fn every_shared_file_has_its_place() {
        let d = DataDir::new("/data");
        assert_eq!(d.db_path(), Path::new("/data/sessions.db"));
        assert_eq!(d.key_file(), Path::new("/data/store.key"));
        assert_eq!(d.log_dir(), Path::new("/data/logs"));
        assert_eq!(d.audit_log(), Path::new("/data/logs/audit.jsonl"));
        assert_eq!(d.cache_dir(), Path::new("/data/cache"));
        assert_eq!(d.exposure_file(), Path::new("/data/exposures.json"));
        assert_eq!(d.crash_reports_dir(), Path::new("/data/crash-reports"));
        assert_eq!(d.update_state_file(), Path::new("/data/update-check.json"));
        assert_eq!(d.git_hooks_dir(), Path::new("/data/git-hooks"));
    }

    #[cfg(unix)]
    #[test]
    fn mantra_s_own_directories_are_made_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DataDir::new(tmp.path().join("a/data"));
        std::fs::create_dir_all(&dir.root).expect("mkdir");
        std::fs::set_permissions(&dir.root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dir.ensure().expect("ensure");
        let mode = std::fs::metadata(&dir.root)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
