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

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{
    check_not_plaintext, is_damage, non_empty_file, open_keyed, restrict_permissions, Store,
    StoreError, CIPHER_LAYOUT,
};
use crate::keys::StoreKey;

/// The index's own schema version (`PRAGMA user_version` of its file).
const INDEX_VERSION: u32 = 1;

/// The index schema. Contentless (`content = ''`): the text lives in the
/// store only; snippets are cut from the store's text at query time.
/// `contentless_delete` lets a row be removed by id alone. Such a removal
/// only marks the row (a tombstone): its terms stay in their segment, not
/// findable, until a merge rewrites it. A deletion the user asks for
/// (`delete`, retention) records `purge_seq` in its transaction, and
/// whoever applies that transaction to the index then rewrites the whole
/// index (`optimize`: a pass over all of it, which rare deletions can
/// afford); an updated or replaced message's old terms wait for the next
/// merge.
///
/// `applied` says how far the index is: the last store transaction
/// applied (`seq`, -1 until first built), the store it was built from
/// (`generation`), the highest message id it ever indexed (`max_id`: new
/// ids above it need no removal first), and the last deletion purged
/// (`purged_seq`).
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
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    generation BLOB,
    max_id     INTEGER NOT NULL,
    purged_seq INTEGER NOT NULL
);
INSERT INTO applied (id, seq, generation, max_id, purged_seq) VALUES (1, -1, NULL, 0, 0);
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
/// when absent (empty, marked unbuilt: whoever applies to it first builds
/// it from the store).
///
/// An index that does not decrypt with the store's key (a store restored
/// from a backup with its key, say) is derived data: it is replaced, with
/// a warning, rather than failing the store. A plaintext file is refused
/// as the store refuses one.
///
/// An index whose pages are damaged as far as opening reads them (page 1,
/// the schema) is replaced the same way; damage deeper in it shows when
/// it is used, and [`Store::search`], [`Store::sync_search`] and
/// [`Store::apply_search_batch`] rebuild it then.
pub(crate) fn open_index(store_path: &Path, key: &StoreKey) -> Result<Connection, StoreError> {
    let path = index_path(store_path);
    if non_empty_file(&path)? {
        check_not_plaintext(&path)?;
    }
    match open_index_as_is(&path, key) {
        Err(StoreError::SearchIndex(e)) if is_damage(&e) => {
            tracing::warn!(
                path = %path.display(),
                error = %e,
                "the search index does not open with the store's key or is damaged; rebuilding it"
            );
            remove_index_files(store_path)?;
            open_index_as_is(&path, key)
        }
        other => other,
    }
}

fn open_index_as_is(path: &Path, key: &StoreKey) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = open_keyed(path, flags, key, CIPHER_LAYOUT).map_err(StoreError::SearchIndex)?;
    prepare_index(path, conn).map_err(|e| match e {
        StoreError::Sqlite(e) | StoreError::Damaged(e) => StoreError::SearchIndex(e),
        other => other,
    })
}

/// Tunes a newly opened index connection and creates the schema if the
/// file is new.
fn prepare_index(path: &Path, mut conn: Connection) -> Result<Connection, StoreError> {
    let path = path.to_path_buf();
    super::tune(&conn)?;
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0));
    let mut found = version(&conn)?;
    if found == 0 {
        // Created under the write lock and checked again under it, so two
        // processes that both found no index create one.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        found = version(&tx)?;
        if found == 0 {
            tx.execute_batch(INDEX_SCHEMA)?;
            tx.pragma_update(None, "user_version", INDEX_VERSION)?;
            found = INDEX_VERSION;
        }
        tx.commit()?;
    }
    if found > INDEX_VERSION {
        return Err(StoreError::TooNew {
            path,
            found,
            supported: INDEX_VERSION,
        });
    }
    restrict_permissions(&path);
    Ok(conn)
}

fn remove_index_files(store_path: &Path) -> Result<(), StoreError> {
    for f in index_files(store_path) {
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path: f, source }),
        }
    }
    Ok(())
}

/// Which file an open index connection is on (device, inode), to notice
/// an index deleted or replaced under a long-running process.
pub(crate) fn file_identity(store_path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(index_path(store_path))
            .ok()
            .map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = store_path;
        Some((0, 0))
    }
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

/// The last store transaction the index applied, if the index is built
/// and belongs to this store (only then may the store forget backlog
/// rows up to it).
pub(crate) fn applied_for(store: &Connection, index: &Connection) -> rusqlite::Result<Option<i64>> {
    let state = read_state(index)?;
    let side = store_side(store)?;
    Ok(state.valid_for(&side).then_some(state.seq))
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
    /// The store's path, to remove a damaged index.
    store_path: PathBuf,
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
    ///
    /// When the index turns out damaged, its files are removed before the
    /// error is returned: the store's own connection then finds it
    /// replaced at its next update ([`Store::sync_search`], which the run
    /// calls when this thread fails) and builds a new one from the store.
    pub fn apply_all(&mut self, batches: Vec<SearchBatch>) -> Result<(), StoreError> {
        let result = apply_batches(&self.store, &mut self.index, batches);
        if let Err(e) = &result {
            let damaged = match e {
                StoreError::SearchIndex(e) => is_damage(e),
                StoreError::Damaged(_) => super::integrity_problem(&self.index).is_some(),
                _ => false,
            };
            if damaged {
                tracing::warn!(error = %e, "the search index is damaged; it is rebuilt from the store");
                remove_index_files(&self.store_path)?;
            }
        }
        result
    }
}

impl Store {
    /// Connections for a [`SearchWriter`]: a second read connection to the
    /// store and a second connection to the index.
    pub fn search_writer(&self) -> Result<SearchWriter, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = super::open_existing(&self.path, &self.path, flags, &self.key)?;
        store.busy_timeout(BUSY_TIMEOUT)?;
        let index = open_index(&self.path, &self.key)?;
        // A run's `Checkpointer` checkpoints the index (see
        // `store::checkpoint`).
        super::checkpoint::set_autocheckpoint(&index, false)?;
        // FTS5 appends segments and reads them back only to merge: a
        // small page cache does (the run's memory goes to queued text).
        index.pragma_update(None, "cache_size", -8192)?;
        Ok(SearchWriter {
            store,
            index,
            store_path: self.path.clone(),
        })
    }

    /// Applies a store transaction to the index on this store's own
    /// connections (callers without a search thread).
    /// A damaged index is rebuilt from the store (which holds the batch).
    pub fn apply_search_batch(&mut self, batch: SearchBatch) -> Result<(), StoreError> {
        self.reopen_index_if_replaced()?;
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        if let Err(e) = apply_batches(conn, index, vec![batch]) {
            return self.rebuild_if_index_damaged(e);
        }
        self.forget_applied_backlog()
    }

    /// Brings the index up to date with the store: builds it if it is new
    /// or not this store's, applies every backlog range it has not applied
    /// (left by a killed run, a failed search thread, a deletion), purges
    /// deleted terms if a deletion asked for it (see [`INDEX_SCHEMA`]),
    /// then drops applied rows from the backlog.
    ///
    /// A damaged index is rebuilt from the store.
    pub fn sync_search(&mut self) -> Result<(), StoreError> {
        self.reopen_index_if_replaced()?;
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        if let Err(e) = catch_up(conn, index) {
            return self.rebuild_if_index_damaged(e);
        }
        self.forget_applied_backlog()
    }

    /// After `error` from work on both databases: if the index is damaged
    /// (the error says so, or it fails its own check), replaces it by one
    /// built from the store; otherwise returns `error` (a damaged store
    /// is reported as such, and never "repaired" by deleting anything).
    pub(super) fn rebuild_if_index_damaged(&mut self, error: StoreError) -> Result<(), StoreError> {
        let index_damaged = match &error {
            StoreError::SearchIndex(e) => is_damage(e),
            // Damage met by work that reads the store and writes the
            // index: whose? The index's own check says.
            StoreError::Damaged(_) => self
                .search
                .as_ref()
                .is_some_and(|index| super::integrity_problem(index).is_some()),
            _ => false,
        };
        if !index_damaged {
            return Err(error);
        }
        tracing::warn!(error = %error, "the search index is damaged; rebuilding it from the store");
        self.search = None;
        remove_index_files(&self.path)?;
        self.search = Some(open_index(&self.path, &self.key)?);
        self.search_identity = file_identity(&self.path);
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        // The new index is sound: damage met now is the store's.
        catch_up(conn, index)?;
        self.forget_applied_backlog()
    }

    /// Catches the index up when the store is opened, unless another
    /// process is writing the index right now: that is an index run's
    /// search thread, which is doing this very work, and a command that
    /// only reads must not wait for it. A corrupt index is replaced and
    /// rebuilt. Applied backlog rows stay for the next writer to drop.
    pub(super) fn catch_up_search_if_free(&mut self) -> Result<(), StoreError> {
        match self.try_catch_up() {
            Err(StoreError::Sqlite(e)) if is_code(&e, rusqlite::ErrorCode::DatabaseBusy) => {
                tracing::debug!("search index busy at open; another process is catching it up");
                Ok(())
            }
            Err(e) => self.rebuild_if_index_damaged(e),
            Ok(()) => Ok(()),
        }
    }

    fn try_catch_up(&mut self) -> Result<(), StoreError> {
        let Store { conn, search, .. } = self;
        let index = search.as_mut().ok_or_else(no_index)?;
        index.busy_timeout(Duration::ZERO)?;
        let result = catch_up(conn, index);
        index.busy_timeout(BUSY_TIMEOUT)?;
        result
    }

    /// Checks that the index agrees with the store: it is built from this
    /// store and has applied all of it, FTS5's own integrity check passes,
    /// and there is exactly one index row per stored message. Meant after
    /// a catch-up ([`Store::sync_search`]); while a run is writing, the
    /// index may be behind.
    pub fn verify_search_index(&self) -> Result<(), StoreError> {
        let index = self.search.as_ref().ok_or_else(no_index)?;
        let state = read_state(index)?;
        let side = store_side(&self.conn)?;
        if !state.valid_for(&side) || state.seq != side.last_seq {
            return Err(StoreError::Invalid(format!(
                "the search index is at transaction {} of {} (or from another store)",
                state.seq, side.last_seq
            )));
        }
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

    /// A long-running process (the agent) keeps its index connection; if
    /// the file was deleted or replaced meanwhile, work applied through
    /// the old connection would be lost with it. Reopens on the file now
    /// at the path (a new one is built from the store on first use).
    pub(super) fn reopen_index_if_replaced(&mut self) -> Result<(), StoreError> {
        if self.search.is_none() {
            return Ok(());
        }
        let now = file_identity(&self.path);
        if now.is_some() && now == self.search_identity {
            return Ok(());
        }
        tracing::warn!("the search index file was replaced or removed; reopening it");
        self.search = Some(open_index(&self.path, &self.key)?);
        self.search_identity = file_identity(&self.path);
        Ok(())
    }

    fn forget_applied_backlog(&mut self) -> Result<(), StoreError> {
        let index = self.search.as_ref().ok_or_else(no_index)?;
        if let Some(applied) = applied_for(&self.conn, index)? {
            forget_applied(&self.conn, applied)?;
        }
        Ok(())
    }
}

fn is_code(e: &rusqlite::Error, code: rusqlite::ErrorCode) -> bool {
    e.sqlite_error_code() == Some(code)
}

/// How long a connection waits for another's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn no_index() -> StoreError {
    StoreError::Invalid("the store was opened read-only, without its search index".into())
}

/// What the store says about the index's work.
struct StoreSide {
    /// The last sequence number a committed transaction took.
    last_seq: i64,
    /// Random per store: an index built from another store (a store
    /// deleted or replaced beside a kept index) does not match.
    generation: Vec<u8>,
    /// The last transaction that deleted messages by request.
    purge_seq: i64,
}

fn store_side(store: &Connection) -> rusqlite::Result<StoreSide> {
    store.query_row(
        "SELECT next - 1, generation, purge_seq FROM search_seq WHERE id = 1",
        [],
        |r| {
            Ok(StoreSide {
                last_seq: r.get(0)?,
                generation: r.get(1)?,
                purge_seq: r.get(2)?,
            })
        },
    )
}

/// The index's `applied` row.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexState {
    seq: i64,
    generation: Option<Vec<u8>>,
    max_id: i64,
    purged_seq: i64,
}

impl IndexState {
    /// Built, from this store, and not ahead of it (an index ahead of its
    /// store belongs to a later copy of it: the store was restored from a
    /// backup).
    fn valid_for(&self, side: &StoreSide) -> bool {
        self.seq >= 0
            && self.generation.as_deref() == Some(side.generation.as_slice())
            && self.seq <= side.last_seq
    }
}

const STATE_COLUMNS: &str = "seq, generation, max_id, purged_seq";

fn state_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndexState> {
    Ok(IndexState {
        seq: r.get(0)?,
        generation: r.get(1)?,
        max_id: r.get(2)?,
        purged_seq: r.get(3)?,
    })
}

fn read_state(index: &Connection) -> rusqlite::Result<IndexState> {
    index.query_row(
        &format!("SELECT {STATE_COLUMNS} FROM applied WHERE id = 1"),
        [],
        state_from_row,
    )
}

/// Takes the index's write lock (the transaction's first statement
/// writes) and returns its state under it.
fn lock_state(tx: &Connection) -> rusqlite::Result<IndexState> {
    tx.query_row(
        &format!("UPDATE applied SET seq = seq WHERE id = 1 RETURNING {STATE_COLUMNS}"),
        [],
        state_from_row,
    )
}

fn write_state(tx: &Connection, state: &IndexState) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE applied SET seq = ?1, generation = ?2, max_id = ?3, purged_seq = ?4 WHERE id = 1",
        params![state.seq, state.generation, state.max_id, state.purged_seq],
    )?;
    Ok(())
}

/// Under the index's write lock: when the index is unbuilt, from another
/// store, or ahead of this one, empties it and adds every stored message.
/// The store's position is read before its rows, so the rows are at least
/// as new as the position recorded (re-applying newer work later is
/// harmless; missing work would not be).
fn ensure_built(
    store: &Connection,
    tx: &Connection,
    state: &mut IndexState,
) -> Result<(), StoreError> {
    let side = store_side(store)?;
    if state.valid_for(&side) {
        return Ok(());
    }
    if state.seq >= 0 {
        tracing::warn!("the search index was built from another copy of the store; rebuilding it");
    }
    tx.execute_batch("DELETE FROM messages_fts;")?;
    let all: Option<(i64, i64)> = store
        .query_row(
            "SELECT min(id), max(id) FROM messages HAVING count(*) > 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let max_id = match all {
        Some(range) => reconcile(store, tx, &IdRanges::from_unsorted(vec![range]))?,
        None => 0,
    };
    *state = IndexState {
        seq: side.last_seq,
        generation: Some(side.generation),
        max_id,
        // A rebuild leaves no deleted term behind.
        purged_seq: side.purge_seq,
    };
    Ok(())
}

/// After applying: rewrites the index into one segment if a deletion
/// applied since the last rewrite asked for it.
fn purge_if_asked(
    store: &Connection,
    tx: &Connection,
    state: &mut IndexState,
) -> Result<(), StoreError> {
    let side = store_side(store)?;
    if side.purge_seq > state.purged_seq && state.seq >= side.purge_seq {
        tx.execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('optimize');")?;
        state.purged_seq = side.purge_seq;
    }
    Ok(())
}

/// Applies every committed store transaction the index has not applied,
/// from the store's current text.
fn catch_up(store: &Connection, index: &mut Connection) -> Result<(), StoreError> {
    let tx = index.transaction()?;
    let mut state = lock_state(&tx)?;
    let before = state.clone();
    ensure_built(store, &tx, &mut state)?;
    let target = store_side(store)?.last_seq;
    if target > state.seq {
        let ranges = pending_ranges(store, state.seq, target + 1)?;
        state.max_id = state.max_id.max(reconcile(store, &tx, &ranges)?);
        state.seq = target;
    }
    purge_if_asked(store, &tx, &mut state)?;
    if state != before {
        write_state(&tx, &state)?;
        tx.commit()?;
    }
    Ok(())
}

fn apply_batches(
    store: &Connection,
    index: &mut Connection,
    batches: Vec<SearchBatch>,
) -> Result<(), StoreError> {
    let tx = index.transaction()?;
    let mut state = lock_state(&tx)?;
    ensure_built(store, &tx, &mut state)?;
    for batch in batches {
        if state.seq >= batch.seq {
            continue; // applied already (a rebuild or a catch-up got there first)
        }
        // Transactions between the last applied and this one: another
        // process's writes, or ones whose batch never reached this thread.
        let gap = pending_ranges(store, state.seq, batch.seq)?;
        let changed = IdRanges::from_unsorted(batch.changed);
        // Re-reads first, then the new messages in id order: FTS5 starts a
        // new segment whenever the rowid it is given goes down.
        let mut max_id = reconcile(store, &tx, &gap)?;
        max_id = max_id.max(reconcile(store, &tx, &changed)?);
        // A new message whose id a re-read covered is in already. One
        // whose id the index has seen before (ids are reused after the
        // highest messages are deleted) may still be in it from a re-read
        // of another batch: it is re-read too rather than added twice.
        let mut reused = Vec::new();
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")?;
            let mut last = state.max_id.max(max_id);
            for (id, body) in &batch.inserts {
                if gap.contains(*id) || changed.contains(*id) {
                    continue;
                }
                if *id <= last {
                    reused.push((*id, *id));
                    continue;
                }
                insert.execute(params![id, body])?;
                last = *id;
            }
            max_id = max_id.max(last);
        }
        if !reused.is_empty() {
            max_id = max_id.max(reconcile(store, &tx, &IdRanges::from_unsorted(reused))?);
        }
        state.max_id = state.max_id.max(max_id);
        state.seq = batch.seq;
    }
    purge_if_asked(store, &tx, &mut state)?;
    write_state(&tx, &state)?;
    tx.commit()?;
    Ok(())
}

/// Sorted, merged, inclusive ranges of message ids.
#[derive(Debug, Default)]
struct IdRanges(Vec<(i64, i64)>);

impl IdRanges {
    fn from_unsorted(mut ranges: Vec<(i64, i64)>) -> IdRanges {
        ranges.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        IdRanges(merged)
    }

    fn contains(&self, id: i64) -> bool {
        let i = self.0.partition_point(|&(_, b)| b < id);
        self.0.get(i).is_some_and(|&(a, _)| a <= id)
    }
}

/// Backlog ranges with `after < seq < before`, merged.
fn pending_ranges(store: &Connection, after: i64, before: i64) -> rusqlite::Result<IdRanges> {
    let mut stmt = store.prepare_cached(
        "SELECT first_id, last_id FROM search_backlog WHERE seq > ?1 AND seq < ?2",
    )?;
    let rows = stmt.query_map([after, before], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(IdRanges::from_unsorted(rows.collect::<Result<_, _>>()?))
}

/// Makes the index agree with the store on every id in `ranges`: drops
/// them, then adds the bodies the store holds now. Returns the highest id
/// added (0 if none).
fn reconcile(store: &Connection, tx: &Connection, ranges: &IdRanges) -> Result<i64, StoreError> {
    let mut delete = tx.prepare_cached("DELETE FROM messages_fts WHERE rowid BETWEEN ?1 AND ?2")?;
    let mut insert = tx.prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")?;
    let mut read = store.prepare_cached(
        "SELECT id, coalesce(redacted_text, text) FROM messages
         WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    )?;
    let mut max_id = 0;
    for &(first, last) in &ranges.0 {
        delete.execute([first, last])?;
        let mut rows = read.query([first, last])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let body = row.get_ref(1)?;
            insert.execute(params![id, rusqlite::types::ToSqlOutput::Borrowed(body)])?;
            max_id = max_id.max(id);
        }
    }
    Ok(max_id)
}

#[cfg(test)]
mod tests {
    use super::IdRanges;

    #[test]
    fn id_ranges_merge_and_find() {
        let r = IdRanges::from_unsorted(vec![(9, 9), (1, 3), (4, 5), (7, 7), (2, 2)]);
        assert_eq!(r.0, vec![(1, 5), (7, 7), (9, 9)]);
        for (id, inside) in [
            (0, false),
            (1, true),
            (5, true),
            (6, false),
            (7, true),
            (8, false),
            (9, true),
            (10, false),
        ] {
            assert_eq!(r.contains(id), inside, "{id}");
        }
        assert!(!IdRanges::default().contains(1));
    }
}
