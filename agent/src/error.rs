//! The crate's error type. Errors are per source: a bad record never becomes
//! an error (it is skipped and counted in `ParseStats`); only a source that
//! cannot be opened or whose whole-file JSON cannot be read at all is.

use std::path::PathBuf;

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not a regular file (a FIFO, a device…), or larger than a source of
    /// its kind may be: refused without blocking or reading it.
    #[error(transparent)]
    Input(#[from] mantra_core::InputError),
    /// The database is locked by its application (e.g. Cursor mid-write).
    /// Transient: retry later; keep what was indexed before.
    #[error(
        "{path} is locked by another process (the assistant is writing to it); try again later"
    )]
    Locked { path: PathBuf },
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A whole-file JSON source does not parse (often a non-atomic rewrite in
    /// progress). Transient: retry after the file changes; keep old data.
    #[error("{path} is not valid JSON ({reason}); it may be mid-rewrite")]
    Malformed { path: PathBuf, reason: String },
    /// The stored resume offset lies past the end of the file: the file was
    /// replaced or truncated, so it must be re-read from offset 0.
    #[error(
        "{path} is shorter ({len} bytes) than the resume offset {offset}; re-read from the start"
    )]
    OffsetBeyondEnd {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SourceError {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }

    /// True for conditions that are expected to clear by themselves (a lock,
    /// a rewrite in progress): the caller should retry later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::Locked { .. } | SourceError::Malformed { .. }
        )
    }
}
