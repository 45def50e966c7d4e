//! The store's schema and its versioned migrations.
//!
//! `PRAGMA user_version` holds the schema version. Each migration moves the
//! schema one version up inside the caller's transaction; `migrate` applies
//! the missing ones in order. Migrations are append-only: a released
//! version's SQL never changes.

use rusqlite::Connection;

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = 5;

/// Version 1: sources, projects, sessions, messages with FTS5, findings.
const V1: &str = r#"
CREATE TABLE sources (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL UNIQUE,
    assistant TEXT NOT NULL,
    kind      TEXT NOT NULL,
    size      INTEGER NOT NULL DEFAULT 0,
    mtime_ns  INTEGER NOT NULL DEFAULT 0,
    offset    INTEGER NOT NULL DEFAULT 0,
    indexed_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE projects (
    id   INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    assistant     TEXT NOT NULL,
    native_id     TEXT NOT NULL,
    project_id    INTEGER REFERENCES projects(id),
    title         TEXT,
    started_at    INTEGER,
    last_at       INTEGER,
    message_count INTEGER NOT NULL DEFAULT 0,
    finding_count INTEGER NOT NULL DEFAULT 0,
    metadata      TEXT NOT NULL DEFAULT '{}',
    UNIQUE (source_id, native_id)
);
CREATE INDEX sessions_project ON sessions(project_id);
CREATE INDEX sessions_native ON sessions(native_id);
CREATE INDEX sessions_last ON sessions(last_at);
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    native_id     TEXT NOT NULL,
    role          TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    ts_estimated  INTEGER NOT NULL DEFAULT 0,
    text          TEXT NOT NULL,
    -- The text with secrets replaced, when it holds any and the text
    -- itself is stored in clear. Search indexes and shows this one.
    redacted_text TEXT,
    UNIQUE (session_id, native_id)
);
CREATE VIEW messages_searchable AS
    SELECT id, coalesce(redacted_text, text) AS body FROM messages;
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = 'messages_searchable', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Bulk indexing: buffer 16 MB of postings per segment and merge less
-- eagerly (both persist in the FTS config table).
INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 16);
-- Deleting a message removes its terms from the index at once, instead of
-- leaving them in old segments until a merge (deleted text must not linger).
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body)
    VALUES (new.id, coalesce(new.redacted_text, new.text));
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body)
    VALUES ('delete', old.id, coalesce(old.redacted_text, old.text));
END;
CREATE TRIGGER messages_au AFTER UPDATE OF text, redacted_text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body)
    VALUES ('delete', old.id, coalesce(old.redacted_text, old.text));
    INSERT INTO messages_fts(rowid, body)
    VALUES (new.id, coalesce(new.redacted_text, new.text));
END;
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    rule_id     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- Redacted preview (`sk-ant-…AA`), never the secret.
    preview     TEXT NOT NULL,
    -- Byte span of the secret in the original message text.
    start       INTEGER NOT NULL,
    length      INTEGER NOT NULL
);
CREATE INDEX findings_message ON findings(message_id);
CREATE INDEX findings_fingerprint ON findings(fingerprint);
"#;

/// Version 2: the exposure table the git hooks' list is written from,
/// back-filled from the findings of version 1.
const V2: &str = r#"
CREATE TABLE exposures (
    fingerprint TEXT NOT NULL,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    rule_id     TEXT NOT NULL,
    preview     TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, session_id)
) WITHOUT ROWID;
CREATE INDEX exposures_session ON exposures(session_id);
INSERT INTO exposures (fingerprint, session_id, rule_id, preview, first_seen, last_seen)
    SELECT f.fingerprint, m.session_id, min(f.rule_id), min(f.preview), min(m.ts), max(m.ts)
    FROM findings f JOIN messages m ON m.id = f.message_id
    GROUP BY f.fingerprint, m.session_id;
"#;

/// Version 3: new messages are added to the FTS5 index by the writer
/// (`ingest`), after the batch's other statements, instead of by an
/// `AFTER INSERT` trigger. FTS5 writes its pending postings out as a new
/// segment at every statement savepoint, and each message upsert opens
/// one: with the trigger, every message became its own segment and the
/// index spent most of a first index merging them. Updates and deletes of
/// messages keep their triggers (they are rare and must never be missed).
const V3: &str = r#"
DROP TRIGGER messages_ai;
"#;

/// Version 4: a hash of the bytes just before an append source's offset,
/// so that a file rewritten in place to the same or a larger size is read
/// again from the start instead of from the old offset. NULL for sources
/// indexed before version 4 (they resume as before until read again).
const V4: &str = r#"
ALTER TABLE sources ADD COLUMN tail_hash INTEGER;
"#;

/// Version 5: the FTS5 index moves to its own database, built in parallel
/// with the store (see `store::search`). The store keeps a sequence number
/// per transaction that changes messages and a backlog of the message ids
/// each one touched, which the index applies; triggers record updates and
/// deletes. Every existing message is queued (sequence 1), so the first
/// open after the migration builds the new index from the store.
const V5: &str = r#"
DROP TRIGGER messages_ad;
DROP TRIGGER messages_au;
DROP TABLE messages_fts;
DROP VIEW messages_searchable;
CREATE TABLE search_seq (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    -- The number the next transaction takes.
    next       INTEGER NOT NULL,
    -- Random per store: an index built from another store does not match.
    generation BLOB NOT NULL,
    -- The last transaction that deleted messages on request: the index
    -- rewrites itself once it has applied it (no deleted term remains).
    purge_seq  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO search_seq (id, next, generation) VALUES (1, 2, randomblob(16));
CREATE TABLE search_backlog (
    seq      INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_id  INTEGER NOT NULL,
    -- 1: messages the writer inserted (their text went to the index with
    -- the transaction); 0: changed or deleted, to be re-read.
    inserted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX search_backlog_seq ON search_backlog(seq);
CREATE TRIGGER messages_search_ad AFTER DELETE ON messages BEGIN
    INSERT INTO search_backlog (seq, first_id, last_id)
    SELECT next - 1, old.id, old.id FROM search_seq;
END;
CREATE TRIGGER messages_search_au AFTER UPDATE OF text, redacted_text ON messages BEGIN
    INSERT INTO search_backlog (seq, first_id, last_id)
    SELECT next - 1, new.id, new.id FROM search_seq;
END;
INSERT INTO search_backlog (seq, first_id, last_id)
    SELECT 1, min(id), max(id) FROM messages HAVING count(*) > 0;
"#;

/// Migrations in order: `MIGRATIONS[i]` moves version `i` to `i + 1`.
const MIGRATIONS: [&str; CURRENT_VERSION as usize] = [V1, V2, V3, V4, V5];

/// The schema version of an open database.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
}

/// Applies migrations up to `target` in one transaction. Returns the
/// version found before. A database newer than this build is left alone
/// and reported by the caller.
///
/// The version is read again under the write lock (`BEGIN IMMEDIATE`):
/// two processes opening a fresh store at once (the agent at login and a
/// `mantra index`) both see version 0, and the second must find the
/// first's schema instead of creating it again.
pub fn migrate_to(conn: &mut Connection, target: u32) -> rusqlite::Result<u32> {
    let outside = version(conn)?;
    if outside >= target {
        return Ok(outside);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found >= target {
        return Ok(found);
    }
    for v in found..target {
        tx.execute_batch(MIGRATIONS[v as usize])?;
    }
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(found)
}
