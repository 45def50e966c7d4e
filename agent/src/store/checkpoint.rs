//! Checkpoints during an index run, off the writers' threads.
//!
//! In WAL mode a commit only appends pages to the `-wal` file; copying
//! them into the database (a checkpoint) happens when the WAL passes
//! `wal_autocheckpoint` pages, on the thread that committed, and ends with
//! an `fsync` of both files. On a first index that stalled the store
//! writer and the search thread, the two threads every batch goes
//! through, about a tenth of the run (docs/BENCHMARKS.md). For the length
//! of a run both turn automatic checkpoints off and this thread, with its
//! own connections, checkpoints both databases instead, in `PASSIVE`
//! mode: it copies what is committed and never blocks a writer.
//! Crash safety is unchanged: committed pages are in the WAL either way,
//! and SQLite replays it on the next open.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{open_existing, open_keyed, search, Store, StoreError, CIPHER_LAYOUT};

/// How often, at most, a checkpoint runs during a run.
const INTERVAL: Duration = Duration::from_millis(500);

/// The `wal_autocheckpoint` of connections outside runs (pages).
pub const AUTOCHECKPOINT_PAGES: u32 = 8192;

/// Connections that checkpoint the store and its search index.
pub struct Checkpointer {
    store: Connection,
    index: Connection,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Store {
    /// A [`Checkpointer`] for this store, on connections of its own.
    pub fn checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = open_existing(&self.path, &self.path, flags, &self.key)?;
        let index = open_keyed(
            &search::index_path(&self.path),
            flags,
            &self.key,
            CIPHER_LAYOUT,
        )?;
        for conn in [&store, &index] {
            conn.busy_timeout(Duration::from_secs(1))?;
        }
        Ok(Checkpointer { store, index })
    }

    /// Turns this connection's automatic checkpoints off (`false`) for a
    /// run that has a [`Checkpointer`], or back on.
    pub fn set_autocheckpoint(&self, on: bool) -> Result<(), StoreError> {
        set_autocheckpoint(&self.conn, on)
    }
}

pub(crate) fn set_autocheckpoint(conn: &Connection, on: bool) -> Result<(), StoreError> {
    let pages = if on { AUTOCHECKPOINT_PAGES } else { 0 };
    conn.pragma_update(None, "wal_autocheckpoint", pages)?;
    Ok(())
}

impl Checkpointer {
    /// Checkpoints after commits are signalled on `commits`, at most every
    /// [`INTERVAL`], until every sender is gone; then once more. Failures
    /// are logged, not returned: a checkpoint not done now is done by the
    /// next automatic one.
    pub fn run(self, commits: Receiver<()>) {
        let mut last = Instant::now();
        let mut pending = false;
        loop {
            match commits.recv_timeout(INTERVAL) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if pending && last.elapsed() >= INTERVAL {
                self.checkpoint();
                last = Instant::now();
                pending = false;
            }
        }
        self.checkpoint();
    }

    fn checkpoint(&self) {
        for (conn, what) in [(&self.store, "store"), (&self.index, "search index")] {
            if let Err(e) = passive_checkpoint(conn) {
                tracing::warn!(error = %e, db = what, "checkpoint failed; left to the next one");
            }
        }
    }
}

/// Copies committed WAL frames into the database without waiting for
/// readers or writers.
fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}
