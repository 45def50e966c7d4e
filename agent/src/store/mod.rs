//! The encrypted session store: SQLCipher through `rusqlite`.
//!
//! Owns opening (raw 256-bit key, no KDF; WAL; `secure_delete`), the
//! schema and its migrations (`schema`), writing parsed sessions
//! (`ingest`), the full-text index in its own file (`search`), checkpoints
//! during index runs (`checkpoint`), queries (`query`), report aggregates
//! (`stats`) and deletion (`delete`). It never creates a key for an existing database and
//! never writes to a database it could not decrypt: a wrong or missing key
//! is an error and the file stays byte-identical.

pub mod checkpoint;
pub mod delete;
pub mod ingest;
pub mod query;
pub mod schema;
pub mod search;
pub mod stats;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::keys::{KeyError, KeyProvider, StoreKey};

/// The first 16 bytes of an unencrypted SQLite database.
pub const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot decrypt the session store {path}: the key does not match (it was made with \
         another key, or the key was lost). The file was left untouched; `mantra wipe` \
         starts over"
    )]
    WrongKey { path: PathBuf },
    #[error(
        "the session store {path} exists but its key is missing ({where_}). The file was \
         left untouched; restore the key, or `mantra wipe` to start over"
    )]
    MissingKey { path: PathBuf, where_: String },
    #[error("{path} is an unencrypted SQLite database; refusing to use it as the session store")]
    Plaintext { path: PathBuf },
    #[error("the session store {path} has schema version {found}, newer than this Mantra ({supported}); upgrade Mantra")]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("no session store at {path}; run `mantra index` first")]
    NotFound { path: PathBuf },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("session store I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("session store: {0}")]
    Sqlite(rusqlite::Error),
    /// SQLite found a page it cannot read (under SQLCipher a damaged page
    /// fails its HMAC and reads as "file is not a database").
    #[error(
        "the session store is damaged ({0}). Nothing was deleted. `mantra doctor` checks it; \
         restore it from a backup, or move the store aside and run `mantra index` to build a \
         new one from the transcripts still on disk"
    )]
    Damaged(rusqlite::Error),
    /// The search index could not be used and could not be rebuilt.
    #[error("search index: {0}")]
    SearchIndex(rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        if is_damage(&e) {
            StoreError::Damaged(e)
        } else {
            StoreError::Sqlite(e)
        }
    }
}

/// What SQLite's `quick_check` finds wrong in the database of `conn`
/// (every page read, so under SQLCipher every page's HMAC checked, and
/// each b-tree's structure), or `None` when it is sound. An error that
/// stops the check is itself the finding.
pub fn integrity_problem(conn: &Connection) -> Option<String> {
    let rows: rusqlite::Result<Vec<String>> = conn
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    match rows {
        Ok(rows) if rows.iter().all(|r| r == "ok") => None,
        Ok(rows) => Some(rows.join("; ")),
        Err(e) => Some(e.to_string()),
    }
}

/// True for the errors that say a database file is damaged (a page that
/// fails its HMAC reads as "not a database").
pub(crate) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// How to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database (and key) if absent.
    Create,
    /// Fail with [`StoreError::NotFound`] if absent.
    Existing,
}

/// An open, decrypted, migrated store.
pub struct Store {
    pub(crate) conn: Connection,
    /// The search index (`search`); `None` when opened read-only.
    search: Option<Connection>,
    /// The index file `search` is on (`search::file_identity`).
    search_identity: Option<(u64, u64)>,
    path: PathBuf,
    /// Kept to open the search thread's own connections.
    key: StoreKey,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the store at `path` with the key from `keys`, creating both on
    /// first use when `mode` is `Create`.
    pub fn open(path: &Path, keys: &dyn KeyProvider, mode: OpenMode) -> Result<Store, StoreError> {
        let exists = non_empty_file(path)?;
        let key = match keys.get()? {
            Some(k) => k,
            None if exists => {
                return Err(StoreError::MissingKey {
                    path: path.to_path_buf(),
                    where_: keys.describe(),
                })
            }
            None if mode == OpenMode::Existing => {
                return Err(StoreError::NotFound {
                    path: path.to_path_buf(),
                })
            }
            None => create_key_once(path, keys)?,
        };
        if !exists && mode == OpenMode::Existing {
            return Err(StoreError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Store::open_with_key(path, &key)
    }

    /// Opens (or creates) the store at `path` with `key` directly.
    pub fn open_with_key(path: &Path, key: &StoreKey) -> Result<Store, StoreError> {
        // Creating a database is serialized across processes: SQLite's
        // busy handler does not cover every step of making a fresh file a
        // WAL database, and two openers of a fresh data directory met
        // "database is locked". Opening existing files takes no lock.
        let _creating = if !non_empty_file(path)? || !non_empty_file(&search::index_path(path))? {
            Some(creation_lock(path)?)
        } else {
            None
        };
        let exists = non_empty_file(path)?;
        if exists {
            check_not_plaintext(path)?;
        } else if let Some(dir) = path.parent() {
            mantra_core::datadir::ensure_private_dir(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let flags = if exists {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = if exists {
            open_existing(path, path, flags, key)?
        } else {
            open_keyed(path, flags, key, CIPHER_LAYOUT)?
        };
        tune(&conn)?;
        restrict_permissions(path);
        let mut store = Store {
            conn,
            search: None,
            search_identity: None,
            path: path.to_path_buf(),
            key: key.clone(),
        };
        store.migrate()?;
        store.search = Some(search::open_index(path, key)?);
        store.search_identity = search::file_identity(path);
        store.catch_up_search_if_free()?;
        Ok(store)
    }

    /// Opens an existing store read-only with `key`, for inspection
    /// (`mantra doctor`): nothing is created, migrated or re-permissioned,
    /// and a wrong key or a plaintext file is an error as in [`Store::open`].
    /// A store older than this build is opened as it is (queries of newer
    /// tables may fail); a newer one is [`StoreError::TooNew`].
    pub fn open_read_only(path: &Path, key: &StoreKey) -> Result<Store, StoreError> {
        if !non_empty_file(path)? {
            return Err(StoreError::NotFound {
                path: path.to_path_buf(),
            });
        }
        check_not_plaintext(path)?;
        let conn = open_inspecting(path, key)?;
        let found = schema::version(&conn)?;
        if found > schema::CURRENT_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: schema::CURRENT_VERSION,
            });
        }
        Ok(Store {
            conn,
            search: None,
            search_identity: None,
            path: path.to_path_buf(),
            key: key.clone(),
        })
    }

    /// What an integrity check of the store file finds wrong, or `None`
    /// when it is sound (see [`integrity_problem`]).
    pub fn integrity_problem(&self) -> Option<String> {
        integrity_problem(&self.conn)
    }

    /// What an integrity check of the search index file finds wrong, or
    /// `None` when it is sound or absent (it is then built at the next
    /// read-write open). Opens the index read-only, for `mantra doctor`.
    pub fn search_index_problem(&self) -> Option<String> {
        let index = search::index_path(&self.path);
        if !non_empty_file(&index).unwrap_or(false) {
            return None;
        }
        match open_inspecting(&index, &self.key) {
            Ok(conn) => integrity_problem(&conn),
            Err(StoreError::WrongKey { .. }) => {
                Some("its first page does not decrypt with the store's key".into())
            }
            Err(e) => Some(e.to_string()),
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = schema::version(&self.conn)?;
        if found > schema::CURRENT_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                supported: schema::CURRENT_VERSION,
            });
        }
        if found < schema::CURRENT_VERSION {
            // Another process may have migrated meanwhile: what counts is
            // the version found under the write lock.
            let from = schema::migrate_to(&mut self.conn, schema::CURRENT_VERSION)?;
            if from < schema::CURRENT_VERSION {
                tracing::info!(from, to = schema::CURRENT_VERSION, "store migrated");
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(schema::version(&self.conn)?)
    }

    /// The underlying connection, for tests and diagnostics.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Folds the WAL into the main file and rebuilds it without free
    /// pages, so deleted rows leave no trace in the file; the same for the
    /// search index.
    pub fn compact(&self) -> Result<(), StoreError> {
        const COMPACT: &str =
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);";
        self.conn.execute_batch(COMPACT)?;
        if let Some(index) = &self.search {
            index.execute_batch(COMPACT)?;
        }
        Ok(())
    }
}

/// The lock file that serializes creating a store's key (see
/// [`create_key_once`]); `wipe` removes it with the store.
pub fn creation_lock_path(store_path: &Path) -> PathBuf {
    let mut p = store_path.as_os_str().to_owned();
    p.push("-create.lock");
    PathBuf::from(p)
}

/// Creates the store's key unless another process just did. Two processes
/// starting on a fresh data directory (the agent at login and a `mantra
/// index`) both find no key: without the lock both would generate one, and
/// the second would fail on the key file or, worse, replace the first's
/// keychain entry after the first had encrypted the store with it. Under
/// an exclusive lock the key is looked up again, so it is made once.
fn create_key_once(path: &Path, keys: &dyn KeyProvider) -> Result<StoreKey, StoreError> {
    let lock = creation_lock(path)?;
    let key = match keys.get()? {
        Some(k) => k,
        None => {
            let k = StoreKey::generate()?;
            keys.put(&k)?;
            k
        }
    };
    drop(lock);
    Ok(key)
}

/// Takes the exclusive creation lock of the store at `path`; released when
/// the file is dropped (and by the OS if the process dies).
fn creation_lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let lock_path = creation_lock_path(path);
    let io = |source| StoreError::Io {
        path: lock_path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        mantra_core::datadir::ensure_private_dir(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let lock = opts.open(&lock_path).map_err(io)?;
    lock.lock().map_err(io)?;
    Ok(lock)
}

/// Opens an existing database (the store or its index) read-only with
/// `key`, leaving no trace: a read-only connection to a WAL database
/// creates `-wal` and `-shm` files and leaves them behind. Without a
/// `-wal` no writer is active and everything is in the main file, so it is
/// opened as immutable (no lock, no side files); with one, a writer is
/// live and the side files exist already.
fn open_inspecting(path: &Path, key: &StoreKey) -> Result<Connection, StoreError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if Path::new(&wal).exists() {
        open_existing(path, path, flags, key)?
    } else {
        let uri = immutable_uri(path);
        open_existing(path, uri, flags | OpenFlags::SQLITE_OPEN_URI, key)?
    };
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// How a store's pages are encrypted. Nothing in the file says which (it
/// is all encrypted), so opening tries the current layout, then the legacy
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherLayout {
    /// Bytes per page.
    pub page_size: u32,
    /// SQLCipher's `cipher_hmac_algorithm` for the per-page HMAC.
    pub hmac: &'static str,
}

/// The layout of stores this version creates: 16 KiB pages and
/// HMAC-SHA256. Larger pages than SQLCipher's 4 KiB default mean fewer
/// pages to encrypt and authenticate, and message bodies of a few KB fit
/// a page instead of spilling into half-empty overflow pages (about 30 %
/// less file and 18 % less writer time on a first index); HMAC-SHA256 runs
/// on the CPU's SHA extensions (about 6 % less writer time than the
/// default HMAC-SHA512). See docs/BENCHMARKS.md.
pub const CIPHER_LAYOUT: CipherLayout = CipherLayout {
    page_size: 16384,
    hmac: "HMAC_SHA256",
};

/// SQLCipher 4's defaults, the layout of stores created before
/// [`CIPHER_LAYOUT`] (schema versions up to 2).
pub const LEGACY_CIPHER_LAYOUT: CipherLayout = CipherLayout {
    page_size: 4096,
    hmac: "HMAC_SHA512",
};

/// Opens the existing store `path` (through `target`: the path itself or
/// a URI naming it) with `key`. Stores created before the current layout
/// keep SQLCipher's defaults: a store that does not decrypt with one
/// layout is tried with the other; only if neither works is the key wrong.
fn open_existing(
    path: &Path,
    target: impl AsRef<Path>,
    flags: OpenFlags,
    key: &StoreKey,
) -> Result<Connection, StoreError> {
    let mut first = None;
    for layout in [CIPHER_LAYOUT, LEGACY_CIPHER_LAYOUT] {
        match open_keyed(target.as_ref(), flags, key, layout) {
            Ok(conn) => return Ok(conn),
            Err(e) if is_not_a_database(&e) => first = first.or(Some(e)),
            Err(e) => return Err(e.into()),
        }
    }
    // A wrong key and a damaged first page look the same (its HMAC
    // fails). The search index beside the store is encrypted with the same
    // key: if that opens, the key is right and the store is damaged —
    // `mantra wipe`, which the wrong-key message suggests, would destroy
    // what is left of it.
    let index = search::index_path(path);
    // Immutable: page 1 of the main file is all it needs to read, and it
    // must not create side files beside an index another process uses.
    let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if non_empty_file(&index).unwrap_or(false)
        && open_keyed(
            Path::new(&immutable_uri(&index)),
            read_only,
            key,
            CIPHER_LAYOUT,
        )
        .is_ok()
    {
        if let Some(e) = first {
            return Err(StoreError::Damaged(e));
        }
    }
    Err(StoreError::WrongKey {
        path: path.to_path_buf(),
    })
}

/// Opens `path` with `key` and `layout` and reads page 1, which fails
/// with "not a database" when the key or the layout does not match.
/// Until that read succeeds the connection may not checkpoint on close,
/// so a failed attempt leaves the file and its WAL untouched.
fn open_keyed(
    path: &Path,
    flags: OpenFlags,
    key: &StoreKey,
    layout: CipherLayout,
) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // Quiet SQLCipher's own stderr logging of HMAC failures.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    conn.execute_batch(&format!(
        "PRAGMA key = {}; PRAGMA cipher_page_size = {}; PRAGMA cipher_hmac_algorithm = {};",
        key.pragma_literal(),
        layout.page_size,
        layout.hmac
    ))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)?;
    Ok(conn)
}

/// Settings of every read-write connection, to the store and to its
/// search index.
fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Plans never depend on bound values. Without this SQLite
    // re-prepares a statement whenever a parameter it compared at
    // prepare time is rebound: the per-session count update was
    // re-prepared for every session of an index run.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )?;
    conn.pragma_update(None, "wal_autocheckpoint", checkpoint::AUTOCHECKPOINT_PAGES)?;
    Ok(())
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase
    )
}

fn non_empty_file(path: &Path) -> Result<bool, StoreError> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len() > 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn check_not_plaintext(path: &Path) -> Result<(), StoreError> {
    let mut head = [0u8; 16];
    let n = mantra_core::fsio::open_file(path)
        .map_err(std::io::Error::from)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if n == 16 && &head == PLAINTEXT_HEADER {
        return Err(StoreError::Plaintext {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// `0600` on the database and its WAL/SHM companions.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ =
                std::fs::set_permissions(PathBuf::from(p), std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `file:<path>?immutable=1`, the path percent-encoded as SQLite URIs want.
fn immutable_uri(path: &Path) -> String {
    let mut text = path.to_string_lossy().into_owned();
    if cfg!(windows) {
        text = text.replace('\\', "/");
        if !text.starts_with('/') {
            text.insert(0, '/');
        }
    }
    let mut uri = String::from("file:");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~' | b':') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

pub(crate) use mantra_core::time::now_ms;
