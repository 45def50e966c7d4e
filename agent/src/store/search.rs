//! The search index: FTS5 over message text, in its own encrypted
//! database beside the store (`<store>-search.db`), built by its own
//! connection — on an index run, by its own thread.
//!
//! Why a second database: SQLite has one writer per database, and on a
//! first index the FTS5 work (tokenizing, posting lists, segment merges)
//! and the pages it writes took a third of the store writer's time, on
//! the one thread every message goes through. In a file of its own the
//! index is built in parallel with the store (docs/BENCHMARKS.md).
//!
//! The store stays the source of truth and the index is derived from it:
//! it can always be rebuilt, and it is never the only copy of anything.
//! They are kept consistent without a cross-database transaction (WAL
//! mode does not make those atomic) by a sequence number:
//! - A store transaction that changes messages first takes the next
//!   sequence number ([`take_sequence`]) and, in the same transaction,
//!   records which message ids it touched in `search_backlog`. The writer
//!   records the range of ids it inserted; triggers record every update
//!   and delete, whatever statement caused it.
//! - The index records the last sequence number it applied, in the same
//!   transaction as its FTS5 changes.
//! - Applying a backlog range is idempotent: drop the range's ids from
//!   the index, then add the bodies the store holds *now*.
//!
//! So after `kill -9` at any point the index is behind the store by at
//! most the backlog, and opening the store catches it up
//! ([`Store::sync_search`]). Backlog rows are deleted from the store once
//! the index has applied them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{
    check_not_plaintext, is_not_a_database, non_empty_file, open_keyed, restrict_permissions,
    Store, StoreError, CIPHER_LAYOUT,
};
use crate::keys::StoreKey;

/// The index's own schema version (`PRAGMA user_version` of its file).
const INDEX_VERSION: u32 = 1;

/// The index schema. Contentless (`content = ''`): the text lives in the
/// store only; snippets are cut from the store's text at query time.
/// `contentless_delete` lets a row be removed by id alone, and
/// `secure-delete` removes its terms from the segments at once (deleted
/// text must not linger in the file).
const INDEX_SCHEMA: &str = r#"
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Bulk indexing: buffer 64 MB of postings per segment and merge less
-- eagerly (both persist in the FTS config table).
INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 16);
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
CREATE TABLE applied (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO applied (id, seq) VALUES (1, 0);
"#;

/// The search index file of the store at `store_path`.
pub fn index_path(store_path: &Path) -> PathBuf {
    let stem = store_path
        .file_stem()
        .map_or_else(|| "sessions".into(), |s| s.to_string_lossy());
    store_path.with_file_name(format!("{stem}-search.db"))
}

/// Every file of the index (database, WAL, shared memory, journal).
pub fn index_files(store_path: &Path) -> Vec<PathBuf> {
    let db = index_path(store_path);
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .collect()
}

/// The index of the store at `store_path`, opened read-write, created
/// when absent. The flag is true when it was (re)created empty: the
/// caller must then rebuild it from the store.
///
/// An index that does not decrypt with the store's key (a store restored
/// from a backup with its key, say) is derived data: it is replaced, with
/// a warning, rather than failing the store. A plaintext file is refused
/// as the store refuses one.
pub(crate) fn open_index(
    store_path: &Path,
    key: &StoreKey,
) -> Result<(Connection, bool), StoreError> {
    let path = index_path(store_path);
    let existed = non_empty_file(&path)?;
    if existed {
        check_not_plaintext(&path)?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut created = !existed;
    let mut conn = match open_keyed(&path, flags, key, CIPHER_LAYOUT) {
        Ok(conn) => conn,
        Err(e) if existed && is_not_a_database(&e) => {
            tracing::warn!(
                path = %path.display(),
                "the search index does not match the store's key; rebuilding it"
            );
            for f in index_files(store_path) {
                match std::fs::remove_file(&f) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(StoreError::Io { path: f, source }),
                }
            }
            created = true;
            open_keyed(&path, flags, key, CIPHER_LAYOUT)?
        }
        Err(e) => return Err(e.into()),
    };
    super::tune(&conn)?;
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > INDEX_VERSION {
        return Err(StoreError::TooNew {
            path,
            found,
            supported: INDEX_VERSION,
        });
    }
    if found == 0 {
        let tx = conn.transaction()?;
        tx.execute_batch(INDEX_SCHEMA)?;
        tx.pragma_update(None, "user_version", INDEX_VERSION)?;
        tx.commit()?;
        created = true;
    }
    restrict_permissions(&path);
    Ok((conn, created))
}

/// Starts a store transaction's change to messages: takes its sequence
/// number (and, being a write, the store's write lock, so numbers are
/// taken in commit order). Backlog rows of the transaction, including the
/// triggers', carry it.
pub(crate) fn take_sequence(tx: &Connection) -> rusqlite::Result<i64> {
    tx.prepare_cached("UPDATE search_seq SET next = next + 1 RETURNING next - 1")?
        .query_row([], |r| r.get(0))
}

/// Records that a transaction inserted the messages `first..=last` (their
/// bodies travel with the [`SearchBatch`]; after a crash they are read
/// back from the store).
pub(crate) fn record_inserted(
    tx: &Connection,
    seq: i64,
    first: i64,
    last: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO search_backlog (seq, first_id, last_id, inserted) VALUES (?1, ?2, ?3, 1)",
    )?
    .execute(params![seq, first, last])?;
    Ok(())
}

/// The ranges the triggers recorded for transaction `seq` (updated and
/// deleted messages).
pub(crate) fn changed_ranges(tx: &Connection, seq: i64) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT first_id, last_id FROM search_backlog WHERE seq = ?1 AND inserted = 0",
    )?;
    let rows = stmt.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Deletes backlog rows the index has applied (store side).
pub(crate) fn forget_applied(tx: &Connection, applied: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM search_backlog WHERE seq <= ?1")?
        .execute([applied])?;
    Ok(())
}

/// The last sequence number the index applied.
pub(crate) fn applied_seq(index: &Connection) -> rusqlite::Result<i64> {
    index.query_row("SELECT seq FROM applied WHERE id = 1", [], |r| r.get(0))
}

/// What one store transaction did to messages, for the index.
#[derive(Debug, Default)]
pub struct SearchBatch {
    pub(crate) seq: i64,
    /// New messages and the text to index (moved out of the batch).
    pub(crate) inserts: Vec<(i64, String)>,
    /// Ids updated or deleted: re-read from the store.
    pub(crate) changed: Vec<(i64, i64)>,
}

impl SearchBatch {
    /// True when the transaction touched no message.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.changed.is_empty()
    }
}

/// Applies store transactions to the index from its own connections, on
/// whatever thread owns it (the index run's search thread).
pub struct SearchWriter {
    /// Read-only view of the store, for text to re-read.
    store: Connection,
    index: Connection,
}

impl std::fmt::Debug for SearchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchWriter").finish_non_exhaustive()
    }
}

impl SearchWriter {
    /// Applies one store transaction: whatever the backlog holds before it
    /// (another process's writes), then its new messages, then the
    /// messages it changed, and records it as applied. A transaction the
    /// index already has (a concurrent catch-up got there first) is
    /// skipped.
    pub fn apply(&mut self, batch: SearchBatch) -> Result<(), StoreError> {
        self.apply_all(vec![batch])
    }

    /// Applies store transactions in order, in one index transaction: the
    /// search thread takes whatever has queued up while it was busy, so
    /// FTS5 writes fewer, larger segments and merges less.
    pub fn apply_all(&mut self, batches: Vec<SearchBatch>) -> Result<(), StoreError> {
        apply_batches(&self.store, &mut self.index, batches)
    }
}

impl Store {
    /// Connections for a [`SearchWriter`]: a second read connection to the
    /// store and a second connection to the index.
    pub fn search_writer(&self) -> Result<SearchWriter, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = super::open_existing(&self.path, &self.path, flags, &self.key)?;
        store.busy_timeout(BUSY_TIMEOUT)?;
        let (index, _) = open_index(&self.path, &self.key)?;
        // A run's `Checkpointer` checkpoints the index (see
        // `store::checkpoint`).
        super::checkpoint::set_autocheckpoint(&index, false)?;
        // FTS5 appends segments and reads them back only to merge: a
        // small page cache does (the run's memory goes to queued text).
        index.pragma_update(None, "cache_size", -8192)?;
        Ok(SearchWriter { store, index })
    }

    /// Applies a store transaction to the index on this store's own
    /// connections (callers without a search thread).
    pub fn apply_search_batch(&mut self, batch: SearchBatch) -> Result<(), StoreError> {
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        apply_batches(conn, index, vec![batch])?;
        self.forget_applied_backlog()
    }

    /// Brings the index up to date with the store: applies every backlog
    /// range it has not applied (left by a killed run, a failed search
    /// thread, or a deletion), then drops applied rows from the backlog.
    pub fn sync_search(&mut self) -> Result<(), StoreError> {
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        let target = last_sequence(conn)?;
        catch_up(conn, index, target)?;
        self.forget_applied_backlog()
    }

    /// After a deletion: applies it to the index, then rewrites the index
    /// into one segment. Removing a row from a contentless FTS5 index
    /// marks it deleted (a tombstone) and its terms stay in their segment
    /// until that segment is merged, even with `secure-delete`; the
    /// rewrite drops them, so deleted text leaves no term in the file.
    /// It costs a pass over the whole index, which deletions (rare, and
    /// at most hourly for retention) can afford.
    pub fn purge_deleted_from_search(&mut self) -> Result<(), StoreError> {
        self.sync_search()?;
        self.search_mut()?
            .execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('optimize');")?;
        Ok(())
    }

    /// Catches the index up when the store is opened, unless another
    /// process is writing the index right now: that is an index run's
    /// search thread, which is doing this very work, and a command that
    /// only reads must not wait for it. `rebuild_all` after the index was
    /// (re)created. Applied backlog rows stay for the next writer to drop.
    pub(super) fn catch_up_search_if_free(&mut self, rebuild_all: bool) -> Result<(), StoreError> {
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        index.busy_timeout(Duration::ZERO)?;
        let result = if rebuild_all {
            rebuild(conn, index)
        } else {
            last_sequence(conn)
                .map_err(StoreError::from)
                .and_then(|target| catch_up(conn, index, target))
        };
        index.busy_timeout(BUSY_TIMEOUT)?;
        match result {
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                tracing::debug!("search index busy at open; another process is catching it up");
                Ok(())
            }
            other => other,
        }
    }

    /// Checks that the index agrees with the store: FTS5's own integrity
    /// check, and exactly one index row per stored message. Meant after a
    /// catch-up ([`Store::sync_search`]); while a run is writing, the
    /// index may be behind.
    pub fn verify_search_index(&self) -> Result<(), StoreError> {
        let index = self.search.as_ref().ok_or_else(no_index)?;
        index
            .execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check');")?;
        let ids = |conn: &Connection, sql: &str| -> rusqlite::Result<Vec<i64>> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        };
        let indexed = ids(index, "SELECT rowid FROM messages_fts ORDER BY rowid")?;
        let stored = ids(&self.conn, "SELECT id FROM messages ORDER BY id")?;
        if indexed != stored {
            let missing = stored
                .iter()
                .filter(|id| indexed.binary_search(id).is_err())
                .count();
            let extra = indexed
                .iter()
                .filter(|id| stored.binary_search(id).is_err())
                .count();
            return Err(StoreError::Invalid(format!(
                "the search index disagrees with the store: {} rows for {} messages \
                 ({missing} missing, {extra} not in the store)",
                indexed.len(),
                stored.len()
            )));
        }
        Ok(())
    }

    /// The index connection (tests and diagnostics).
    pub fn search_connection(&self) -> Option<&Connection> {
        self.search.as_ref()
    }

    fn search_mut(&mut self) -> Result<&mut Connection, StoreError> {
        self.search.as_mut().ok_or_else(no_index)
    }

    fn forget_applied_backlog(&mut self) -> Result<(), StoreError> {
        let applied = applied_seq(self.search_mut()?)?;
        forget_applied(&self.conn, applied)?;
        Ok(())
    }
}

/// How long a connection waits for another's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The last sequence number a store transaction took.
fn last_sequence(store: &Connection) -> rusqlite::Result<i64> {
    store.query_row("SELECT next - 1 FROM search_seq", [], |r| r.get(0))
}

/// Empties the index and adds every stored message.
fn rebuild(store: &Connection, index: &mut Connection) -> Result<(), StoreError> {
    let target = last_sequence(store)?;
    let all: Option<(i64, i64)> = store
        .query_row(
            "SELECT min(id), max(id) FROM messages HAVING count(*) > 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let tx = index.transaction()?;
    lock_applied(&tx)?;
    tx.execute_batch("DELETE FROM messages_fts;")?;
    if let Some(range) = all {
        reconcile(store, &tx, &[range])?;
    }
    tx.execute("UPDATE applied SET seq = ?1 WHERE id = 1", [target])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn no_index() -> StoreError {
    StoreError::Invalid("the store was opened read-only, without its search index".into())
}

/// Applies the backlog up to and including `target` that the index has
/// not applied, from the store's current text.
fn catch_up(store: &Connection, index: &mut Connection, target: i64) -> Result<(), StoreError> {
    let tx = index.transaction()?;
    let applied = lock_applied(&tx)?;
    if applied >= target {
        return Ok(());
    }
    let ranges = pending_ranges(store, applied, target + 1)?;
    reconcile(store, &tx, &ranges)?;
    tx.execute("UPDATE applied SET seq = ?1 WHERE id = 1", [target])?;
    tx.commit()?;
    Ok(())
}

fn apply_batches(
    store: &Connection,
    index: &mut Connection,
    batches: Vec<SearchBatch>,
) -> Result<(), StoreError> {
    let tx = index.transaction()?;
    let mut applied = lock_applied(&tx)?;
    for batch in batches {
        if applied >= batch.seq {
            continue;
        }
        // Transactions between the last applied and this one: another
        // process's writes, or ones whose batch never reached this thread.
        let gap = pending_ranges(store, applied, batch.seq)?;
        reconcile(store, &tx, &gap)?;
        // A new message whose id a re-read range covers is indexed by that
        // re-read, from the store's current text: indexing the batch's
        // older copy as well would be wasted work.
        let reread = |id: i64| {
            gap.iter()
                .chain(batch.changed.iter())
                .any(|&(a, b)| a <= id && id <= b)
        };
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")?;
            let mut seen = HashSet::new();
            for (id, body) in &batch.inserts {
                if !reread(*id) && seen.insert(*id) {
                    insert.execute(params![id, body])?;
                }
            }
        }
        reconcile(store, &tx, &batch.changed)?;
        applied = batch.seq;
    }
    tx.execute("UPDATE applied SET seq = ?1 WHERE id = 1", [applied])?;
    tx.commit()?;
    Ok(())
}

/// Takes the index's write lock (the first statement of the transaction
/// writes) and returns the last applied sequence number under it.
fn lock_applied(tx: &Connection) -> rusqlite::Result<i64> {
    tx.query_row(
        "UPDATE applied SET seq = seq WHERE id = 1 RETURNING seq",
        [],
        |r| r.get(0),
    )
}

/// Backlog ranges with `after < seq < before`, merged where they touch.
fn pending_ranges(
    store: &Connection,
    after: i64,
    before: i64,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = store.prepare_cached(
        "SELECT first_id, last_id FROM search_backlog WHERE seq > ?1 AND seq < ?2
         ORDER BY first_id",
    )?;
    let rows = stmt.query_map([after, before], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for row in rows {
        let (a, b): (i64, i64) = row?;
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    Ok(merged)
}

/// Makes the index agree with the store on every id in `ranges`: drops
/// them, then adds the bodies the store holds now.
fn reconcile(store: &Connection, tx: &Connection, ranges: &[(i64, i64)]) -> Result<(), StoreError> {
    let mut delete = tx.prepare_cached("DELETE FROM messages_fts WHERE rowid BETWEEN ?1 AND ?2")?;
    let mut insert = tx.prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")?;
    let mut read = store.prepare_cached(
        "SELECT id, coalesce(redacted_text, text) FROM messages
         WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    )?;
    for &(first, last) in ranges {
        delete.execute([first, last])?;
        let mut rows = read.query([first, last])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let body = row.get_ref(1)?;
            insert.execute(params![id, rusqlite::types::ToSqlOutput::Borrowed(body)])?;
        }
    }
    Ok(())
}
