//! Writing parsed, scanned sessions: one transaction per batch of sources,
//! with each source's resume state (size, mtime, offset) committed in the
//! same transaction as its rows — so a run killed at any point leaves the
//! store consistent and the next run resumes where the last commit ended.
//!
//! Messages are upserted by `(source, session id, message id)`: an append
//! source re-delivers its growing last message, complete, on the next read.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::search::{self, SearchBatch};
use super::{now_ms, Store, StoreError};
use crate::discovery::SourceFile;
use crate::model::{ProjectRef, Role};

/// What the store remembers of a source between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceState {
    pub id: i64,
    pub size: u64,
    pub mtime_ns: i64,
    pub offset: u64,
    /// Hash of the bytes just before `offset` when they were read (append
    /// sources; `None` when unknown).
    pub tail_hash: Option<u64>,
}

/// A finding as stored: never the secret, only where it was and its
/// redacted preview and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub rule_id: String,
    pub severity: String,
    pub fingerprint: String,
    pub preview: String,
    /// Byte span of the secret in the original message text.
    pub start: u64,
    pub length: u64,
}

impl StoredFinding {
    /// What the store keeps of `f`: rule, severity, fingerprint and
    /// redacted preview (never the secret), at `start..start + length` of
    /// the message text as stored.
    pub fn new(f: &mantra_detect::Finding, start: u64, length: u64) -> StoredFinding {
        StoredFinding {
            rule_id: f.rule_id.clone(),
            severity: f.severity.to_string(),
            fingerprint: f.fingerprint.clone(),
            preview: f.redacted.clone(),
            start,
            length,
        }
    }
}

/// One message ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedMessage {
    pub native_id: String,
    pub role: Role,
    pub ts: i64,
    pub ts_estimated: bool,
    /// The text to store (already redacted under `redact_at_rest`).
    pub text: String,
    /// The redacted text when `text` holds secrets in clear.
    pub redacted_text: Option<String>,
    pub findings: Vec<StoredFinding>,
}

/// One session ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSession {
    pub native_id: String,
    pub project: Option<ProjectRef>,
    pub title: Option<String>,
    pub started_at: Option<i64>,
    /// JSON object of session metadata.
    pub metadata: String,
    pub messages: Vec<PreparedMessage>,
}

/// A source's new content and state.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSource {
    pub source: SourceFile,
    pub size: u64,
    pub mtime_ns: i64,
    /// Where the next read starts.
    pub next_offset: u64,
    /// Hash of the bytes just before `next_offset` (append sources), to
    /// tell a later append from a rewrite.
    pub tail_hash: Option<u64>,
    /// Replace every session previously read from this source (rewritten
    /// files, or an append file that shrank).
    pub replace: bool,
    pub sessions: Vec<PreparedSession>,
}

/// Counts of one write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub sources: u64,
    pub sessions: u64,
    pub messages: u64,
    pub findings: u64,
}

pub(crate) fn role_str(r: Role) -> &'static str {
    match r {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
        Role::Tool => "tool",
    }
}

impl Store {
    /// Every source's stored state, by path.
    pub fn source_states(&self) -> Result<HashMap<String, SourceState>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, id, size, mtime_ns, offset, tail_hash FROM sources")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                SourceState {
                    id: r.get(1)?,
                    size: r.get::<_, i64>(2)?.max(0) as u64,
                    mtime_ns: r.get(3)?,
                    offset: r.get::<_, i64>(4)?.max(0) as u64,
                    // Stored as the same 64 bits in SQLite's signed integer.
                    tail_hash: r.get::<_, Option<i64>>(5)?.map(|h| h as u64),
                },
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (k, v) = row?;
            out.insert(k, v);
        }
        Ok(out)
    }

    /// Writes a batch of sources in one transaction and brings the search
    /// index up to date on this thread.
    pub fn write_batch(&mut self, batch: &[PreparedSource]) -> Result<WriteStats, StoreError> {
        let (stats, search) = self.write_batch_deferred(batch.to_vec())?;
        self.apply_search_batch(search)?;
        Ok(stats)
    }

    /// Writes a batch of sources in one transaction and returns, with the
    /// counts, what the search index must apply for it (the new messages'
    /// text is moved into it). Until applied, the store's backlog holds
    /// the same work, so a lost [`SearchBatch`] only delays the index
    /// until the next [`Store::sync_search`].
    pub fn write_batch_deferred(
        &mut self,
        mut batch: Vec<PreparedSource>,
    ) -> Result<(WriteStats, SearchBatch), StoreError> {
        self.reopen_index_if_replaced()?;
        // The store write must not depend on the index: an index that
        // cannot say how far it is (busy, damaged) only keeps the backlog
        // a little longer; applying this batch then rebuilds a damaged one.
        let applied = match &self.search {
            Some(index) => search::applied_for(&self.conn, index).unwrap_or_else(|e| {
                tracing::debug!(error = %e, "search index position unknown; backlog kept");
                None
            }),
            None => None,
        };
        let tx = self.conn.transaction()?;
        let seq = search::take_sequence(&tx)?;
        if let Some(applied) = applied {
            search::forget_applied(&tx, applied)?;
        }
        let mut stats = WriteStats::default();
        let mut inserted: Vec<(i64, &mut PreparedMessage)> = Vec::new();
        let now = now_ms();
        for src in &mut batch {
            let path = src.source.path.to_string_lossy();
            let source_id: i64 = tx
                .prepare_cached(
                    "INSERT INTO sources (path, assistant, kind, size, mtime_ns, offset, indexed_at, tail_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(path) DO UPDATE SET assistant = excluded.assistant,
                        kind = excluded.kind, size = excluded.size, mtime_ns = excluded.mtime_ns,
                        offset = excluded.offset, indexed_at = excluded.indexed_at,
                        tail_hash = excluded.tail_hash
                     RETURNING id",
                )?
                .query_row(
                    params![
                        path.as_ref(),
                        src.source.assistant.as_str(),
                        format!("{:?}", src.source.kind),
                        clamp(src.size),
                        src.mtime_ns,
                        clamp(src.next_offset),
                        now,
                        src.tail_hash.map(|h| h as i64)
                    ],
                    |r| r.get(0),
                )?;
            if src.replace {
                tx.prepare_cached("DELETE FROM sessions WHERE source_id = ?1")?
                    .execute([source_id])?;
            }
            stats.sources += 1;
            let assistant = src.source.assistant.as_str();
            for s in &mut src.sessions {
                write_session(&tx, source_id, assistant, s, &mut inserted, &mut stats)?;
            }
        }
        tx.execute_batch("DELETE FROM projects WHERE id NOT IN (SELECT project_id FROM sessions WHERE project_id IS NOT NULL)")?;
        let mut search = SearchBatch {
            seq,
            inserts: Vec::with_capacity(inserted.len()),
            changed: search::changed_ranges(&tx, seq)?,
        };
        let ids = inserted.iter().map(|(id, _)| *id);
        if let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) {
            search::record_inserted(&tx, seq, first, last)?;
        }
        tx.commit()?;
        for (id, m) in inserted {
            let body = match m.redacted_text.take() {
                Some(redacted) => redacted,
                None => std::mem::take(&mut m.text),
            };
            search.inserts.push((id, body));
        }
        Ok((stats, search))
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn write_session<'a>(
    tx: &rusqlite::Transaction<'_>,
    source_id: i64,
    assistant: &str,
    s: &'a mut PreparedSession,
    inserted: &mut Vec<(i64, &'a mut PreparedMessage)>,
    stats: &mut WriteStats,
) -> Result<(), StoreError> {
    let project_id: Option<i64> = match &s.project {
        None => None,
        Some(p) => Some(
            tx.prepare_cached(
                "INSERT INTO projects (path, name) VALUES (?1, ?2)
                 ON CONFLICT(path) DO UPDATE SET name = excluded.name RETURNING id",
            )?
            .query_row(params![p.path, p.name()], |r| r.get(0))?,
        ),
    };
    let session_id: i64 = tx
        .prepare_cached(
            "INSERT INTO sessions (source_id, assistant, native_id, project_id, title, started_at, metadata)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(source_id, native_id) DO UPDATE SET
                project_id = coalesce(excluded.project_id, sessions.project_id),
                title = coalesce(excluded.title, sessions.title),
                started_at = coalesce(min(sessions.started_at, excluded.started_at),
                                      sessions.started_at, excluded.started_at),
                metadata = json_patch(sessions.metadata, excluded.metadata)
             RETURNING id",
        )?
        .query_row(
            params![
                source_id,
                assistant,
                s.native_id,
                project_id,
                s.title,
                s.started_at,
                if s.metadata.trim().is_empty() { "{}" } else { s.metadata.as_str() }
            ],
            |r| r.get(0),
        )?;
    stats.sessions += 1;
    for m in s.messages.iter_mut() {
        let (message_id, is_new) = write_message(tx, session_id, m)?;
        stats.messages += 1;
        if !is_new {
            tx.prepare_cached("DELETE FROM findings WHERE message_id = ?1")?
                .execute([message_id])?;
        }
        for f in &m.findings {
            tx.prepare_cached(
                "INSERT INTO findings (message_id, rule_id, severity, fingerprint, preview, start, length)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                message_id,
                f.rule_id,
                f.severity,
                f.fingerprint,
                f.preview,
                clamp(f.start),
                clamp(f.length)
            ])?;
            tx.prepare_cached(
                "INSERT INTO exposures (fingerprint, session_id, rule_id, preview, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT(fingerprint, session_id) DO UPDATE SET
                    first_seen = min(first_seen, excluded.first_seen),
                    last_seen = max(last_seen, excluded.last_seen)",
            )?
            .execute(params![f.fingerprint, session_id, f.rule_id, f.preview, m.ts])?;
            stats.findings += 1;
        }
        if is_new {
            inserted.push((message_id, m));
        }
    }
    tx.prepare_cached(
        "UPDATE sessions SET
            message_count = (SELECT count(*) FROM messages WHERE session_id = ?1),
            finding_count = (SELECT count(*) FROM findings f JOIN messages m ON m.id = f.message_id
                             WHERE m.session_id = ?1),
            last_at = (SELECT max(ts) FROM messages WHERE session_id = ?1),
            started_at = coalesce(started_at, (SELECT min(ts) FROM messages WHERE session_id = ?1))
         WHERE id = ?1",
    )?
    .execute([session_id])?;
    Ok(())
}

/// Inserts or updates one message; returns its id and whether it is new.
/// The caller hands a new message's text to the search index; an updated
/// one is queued for it by the update trigger.
fn write_message(
    tx: &rusqlite::Transaction<'_>,
    session_id: i64,
    m: &PreparedMessage,
) -> Result<(i64, bool), StoreError> {
    let inserted: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO messages (session_id, native_id, role, ts, ts_estimated, text, redacted_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(session_id, native_id) DO NOTHING
             RETURNING id",
        )?
        .query_row(
            params![
                session_id,
                m.native_id,
                role_str(m.role),
                m.ts,
                m.ts_estimated,
                m.text,
                m.redacted_text
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let existing: i64 = tx
        .prepare_cached("SELECT id FROM messages WHERE session_id = ?1 AND native_id = ?2")?
        .query_row(params![session_id, m.native_id], |r| r.get(0))?;
    tx.prepare_cached(
        "UPDATE messages SET role = ?2, ts = ?3, ts_estimated = ?4, text = ?5, redacted_text = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        existing,
        role_str(m.role),
        m.ts,
        m.ts_estimated,
        m.text,
        m.redacted_text
    ])?;
    Ok((existing, false))
}

impl Store {
    /// The stored id of a source path, if known.
    pub fn source_id(&self, path: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM sources WHERE path = ?1", [path], |r| {
                r.get(0)
            })
            .optional()?)
    }
}
