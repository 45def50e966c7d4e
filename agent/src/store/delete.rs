//! Deleting sessions: by project, by time, by id, and by retention.
//!
//! Rows go through foreign-key cascades (messages, findings, exposures;
//! triggers queue the messages for the search index, which drops them
//! before `delete` returns); projects left without sessions
//! are removed too. With `secure_delete` the freed pages are zeroed, and
//! [`Store::compact`] rebuilds the file without them.

use rusqlite::params;

use super::{search, Store, StoreError};

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteScope {
    Project(i64),
    /// Sessions whose last activity is before this time (ms).
    Before(i64),
    /// One session by store rowid.
    Session(i64),
}

impl Store {
    /// Deletes the sessions in `scope` with everything that hangs off
    /// them. Returns the number of sessions deleted.
    pub fn delete(&mut self, scope: &DeleteScope) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        // The delete trigger queues every removed message for the search
        // index under this transaction's number.
        search::take_sequence(&tx)?;
        let n = match scope {
            DeleteScope::Project(p) => {
                tx.execute("DELETE FROM sessions WHERE project_id = ?1", params![p])?
            }
            DeleteScope::Before(t) => tx.execute(
                "DELETE FROM sessions WHERE coalesce(last_at, started_at, 0) < ?1",
                params![t],
            )?,
            DeleteScope::Session(id) => {
                tx.execute("DELETE FROM sessions WHERE id = ?1", params![id])?
            }
        };
        tx.execute_batch(
            "DELETE FROM projects WHERE id NOT IN
                (SELECT project_id FROM sessions WHERE project_id IS NOT NULL)",
        )?;
        if n > 0 {
            // Whoever applies this transaction to the search index also
            // purges the deleted terms from it (see `store::search`).
            tx.execute_batch("UPDATE search_seq SET purge_seq = next - 1;")?;
        }
        tx.commit()?;
        // The deleted text leaves the index now if it can (applying this
        // transaction purges it). The deletion itself is done: if the
        // index is busy for longer than the busy timeout (an index run's
        // search thread), that run applies it and purges.
        if n > 0 && self.search_connection().is_some() {
            if let Err(e) = self.sync_search() {
                tracing::warn!(error = %e, "deleted; the search index drops the deleted text at its next update");
            }
        }
        Ok(n as u64)
    }

    /// Applies a retention period: deletes sessions idle for longer than
    /// `days`. Returns the number deleted.
    pub fn apply_retention(&mut self, days: u32, now_ms: i64) -> Result<u64, StoreError> {
        let cutoff = now_ms - i64::from(days) * 86_400_000;
        self.delete(&DeleteScope::Before(cutoff))
    }
}
