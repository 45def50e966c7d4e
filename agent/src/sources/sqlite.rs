//! Read-only access to other applications' SQLite databases (Cursor's
//! `state.vscdb`, opencode's `opencode.db`), which those applications may be
//! writing to at the same moment.
//!
//! Owns opening (`?mode=ro`, `SQLITE_OPEN_READ_ONLY`, a short busy timeout),
//! mapping "database is locked/busy" to `SourceError::Locked`, and a
//! snapshot fallback (copy `db`, `-wal`, `-shm` together) when a WAL database
//! cannot be opened read-only in place. Never writes to the source.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::SourceError;

/// How long to wait for the owning application's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

/// A read-only connection; keeps a snapshot directory alive when one was
/// needed.
pub(crate) struct ReadOnlyDb {
    pub conn: Connection,
    _snapshot: Option<tempfile::TempDir>,
}

/// Opens `path` read-only. A database another process holds locked gives
/// `SourceError::Locked` (transient) rather than blocking.
/// A file that is not a SQLite database (or is damaged) is an error, never
/// an empty database: the sessions indexed from it before must be kept.
pub(crate) fn open_read_only(path: &Path) -> Result<ReadOnlyDb, SourceError> {
    // SQLite opens the file itself, without O_NONBLOCK: a FIFO left where
    // the database should be would block it for ever.
    mantra_core::fsio::check_regular(path)
        .map_err(|e| SourceError::io(path, std::io::Error::from(e)))?;
    match open_in_place(path) {
        Ok(conn) => Ok(ReadOnlyDb {
            conn,
            _snapshot: None,
        }),
        Err(e @ SourceError::Locked { .. }) => Err(e),
        Err(first) => {
            // A WAL database whose -shm cannot be created (read-only folder)
            // fails to open read-only; a consistent copy of the three files
            // can still be read.
            tracing::debug!(path = %path.display(), error = %first, "read-only open failed; reading a snapshot");
            snapshot(path).map_err(|_| first)
        }
    }
}

fn open_in_place(path: &Path) -> Result<Connection, SourceError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let uri = format!("{}?mode=ro", file_uri(path));
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| map_err(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| map_err(path, e))?;
    read_schema(&conn).map_err(|e| map_err(path, e))?;
    Ok(conn)
}

/// Opening is lazy: reading the schema makes lock and format errors
/// ("file is not a database") show at once.
fn read_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(())
}

fn snapshot(path: &Path) -> Result<ReadOnlyDb, SourceError> {
    let dir = tempfile::tempdir().map_err(|e| SourceError::io(path, e))?;
    let name = path.file_name().unwrap_or_default();
    let copy = dir.path().join(name);
    std::fs::copy(path, &copy).map_err(|e| SourceError::io(path, e))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        if side.is_file() {
            let mut to = copy.as_os_str().to_owned();
            to.push(suffix);
            std::fs::copy(&side, std::path::PathBuf::from(to))
                .map_err(|e| SourceError::io(&side, e))?;
        }
    }
    let conn = Connection::open_with_flags(
        &copy,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| map_err(path, e))?;
    read_schema(&conn).map_err(|e| map_err(path, e))?;
    Ok(ReadOnlyDb {
        conn,
        _snapshot: Some(dir),
    })
}

pub(crate) fn map_err(path: &Path, e: rusqlite::Error) -> SourceError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
            return SourceError::Locked {
                path: path.to_path_buf(),
            };
        }
    }
    SourceError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    }
}

/// `file:` URI for a path, percent-encoding what URIs reserve.
fn file_uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file:");
    if !s.starts_with('/') {
        out.push('/'); // C:/x → file:/C:/x
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A column value as text, whether stored as TEXT or BLOB (Cursor stores
/// JSON in BLOB columns); invalid UTF-8 is replaced.
pub(crate) fn value_text(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    match v {
        rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        _ => None,
    }
}

/// A column parsed as JSON (None when absent or not JSON).
pub(crate) fn value_json(v: rusqlite::types::ValueRef<'_>) -> Option<serde_json::Value> {
    value_text(v).and_then(|t| serde_json::from_str(&t).ok())
}

/// Whether table `name` exists. A database that cannot be read is an
/// error, not a database without the table.
pub(crate) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}
