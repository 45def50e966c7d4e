//! The search index in its own database: encrypted and private, kept in
//! step with the store through the sequence/backlog protocol whatever
//! stops or interleaves (a lost batch, another process's writes, a batch
//! applied twice), rebuilt when lost or unreadable, and never making a
//! command that only reads wait for an index run.

mod support;

use mantra_agent::keys::{KeyProvider, StoreKey};
use mantra_agent::store::search::{index_files, index_path};
use mantra_agent::store::{StoreError, CIPHER_LAYOUT, PLAINTEXT_HEADER};
use support::{hl, msg, session, source, Env};

fn hits(store: &mut mantra_agent::store::Store, q: &str) -> usize {
    store.search(q, None, 50, &hl()).expect("search").len()
}

/// How many times the index holds `term` (fts5vocab over its segments):
/// a message indexed twice counts twice, though a search finds it once.
fn occurrences(store: &mantra_agent::store::Store, term: &str) -> i64 {
    let index = store.search_connection().expect("index");
    index
        .execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, 'messages_fts', 'row');",
        )
        .expect("vocab");
    index
        .query_row(
            "SELECT coalesce(sum(cnt), 0) FROM temp.vocab WHERE term = ?1",
            [term],
            |r| r.get(0),
        )
        .expect("count")
}

/// The index file opened directly with the store's key and layout.
fn open_index_file(env: &Env) -> rusqlite::Connection {
    let key = env.keys().get().expect("key").expect("a key");
    let conn = rusqlite::Connection::open(index_path(&env.data.db_path())).expect("open");
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = {}; PRAGMA cipher_hmac_algorithm = {};",
        key.to_hex(),
        CIPHER_LAYOUT.page_size,
        CIPHER_LAYOUT.hmac
    ))
    .expect("key");
    conn
}

/// Another connection holding the index's write lock until dropped or
/// rolled back, as an index run's search thread does.
fn hold_index(env: &Env) -> rusqlite::Connection {
    let holder = open_index_file(env);
    holder
        .execute_batch("BEGIN IMMEDIATE;")
        .expect("hold the index's write lock");
    holder
}

fn remove_index(env: &Env) {
    for f in index_files(&env.data.db_path()) {
        let _ = std::fs::remove_file(f);
    }
}

/// One session with one message, written and applied to the index.
fn write_one(store: &mut mantra_agent::store::Store, path: &str, text: &str) {
    store
        .write_batch(&[source(
            path,
            vec![session(path, "/p", vec![msg("m1", 1, text)])],
        )])
        .expect("write");
}

fn write_deferred(
    store: &mut mantra_agent::store::Store,
    path: &str,
    text: &str,
) -> mantra_agent::store::search::SearchBatch {
    let (_, work) = store
        .write_batch_deferred(vec![source(
            path,
            vec![session(path, "/p", vec![msg("m1", 1, text)])],
        )])
        .expect("write");
    work
}

#[test]
fn the_index_is_a_private_encrypted_file_beside_the_store() {
    let env = Env::new();
    let mut store = env.open();
    write_deferred(&mut store, "/x/a.jsonl", "zebra-canary-41");
    store.sync_search().expect("sync");
    store.compact().expect("checkpoint");
    let path = index_path(&env.data.db_path());
    assert_eq!(path.parent(), env.data.db_path().parent());
    let bytes = std::fs::read(&path).expect("index file");
    assert!(!bytes.starts_with(PLAINTEXT_HEADER));
    assert!(!bytes.windows(8).any(|w| w == b"zebra-ca"));
    assert!(!bytes.windows(5).any(|w| w == b"zebra"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Same key and layout as the store.
    let conn = open_index_file(&env);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'",
            [],
            |r| r.get(0),
        )
        .expect("query the index");
    assert_eq!(n, 1);
}

/// `kill -9` between the store's commit and the index's: the batch never
/// reaches the index. The next open catches up from the store's backlog.
#[test]
fn a_batch_lost_before_the_index_applied_it_is_caught_up_at_the_next_open() {
    let env = Env::new();
    let mut store = env.open();
    let lost = write_deferred(&mut store, "/x/a.jsonl", "okapi lost in the crash");
    drop(lost);
    assert_eq!(hits(&mut store, "okapi"), 0, "not in the index yet");
    assert!(store.verify_search_index().is_err());
    drop(store);

    let mut store = env.open();
    assert_eq!(hits(&mut store, "okapi"), 1);
    store
        .verify_search_index()
        .expect("agrees after the catch-up");
}

/// Two writers: the second's index thread finds the first's transaction
/// in the backlog, unapplied, and applies it before its own.
#[test]
fn another_writers_unapplied_transaction_is_applied_before_ours() {
    let env = Env::new();
    let mut first = env.open();
    let mut second = env.open();
    drop(write_deferred(&mut first, "/x/a.jsonl", "narwhal first"));
    let ours = write_deferred(&mut second, "/x/b.jsonl", "quokka second");
    let mut writer = second.search_writer().expect("writer");
    writer.apply(ours).expect("apply");
    assert_eq!(hits(&mut second, "narwhal"), 1);
    assert_eq!(hits(&mut second, "quokka"), 1);
    second.verify_search_index().expect("agrees");
}

/// A catch-up can apply a transaction from the backlog before the index
/// thread gets its batch; applying the batch too must leave each message
/// indexed once.
#[test]
fn a_transaction_already_applied_is_not_applied_twice() {
    let env = Env::new();
    let mut store = env.open();
    let work = write_deferred(&mut store, "/x/a.jsonl", "tapir twice");
    store.sync_search().expect("catch up first");
    let mut writer = store.search_writer().expect("writer");
    writer.apply(work).expect("late batch");
    assert_eq!(hits(&mut store, "tapir"), 1);
    assert_eq!(occurrences(&store, "tapir"), 1, "indexed once");
    store.verify_search_index().expect("one row per message");
}

/// Within one transaction a new message is rewritten: the index gets the
/// final text once, not the first text and not both.
#[test]
fn a_message_inserted_and_rewritten_in_one_transaction_is_indexed_once() {
    let env = Env::new();
    let mut store = env.open();
    let mut first = session("s", "/p", vec![msg("m1", 1, "ibex draft")]);
    first.messages.push(msg("m1", 1, "ibex final"));
    let (_, work) = store
        .write_batch_deferred(vec![source("/x/a.jsonl", vec![first])])
        .expect("write");
    let mut writer = store.search_writer().expect("writer");
    writer.apply(work).expect("apply");
    assert_eq!(hits(&mut store, "final"), 1);
    assert_eq!(hits(&mut store, "draft"), 0);
    store.verify_search_index().expect("agrees");
}

#[test]
fn a_missing_index_is_rebuilt_from_the_store() {
    let env = Env::new();
    let mut store = env.open();
    write_one(&mut store, "/x/a.jsonl", "walrus kept");
    drop(store);
    remove_index(&env);
    let mut store = env.open();
    assert_eq!(hits(&mut store, "walrus"), 1);
    store.verify_search_index().expect("rebuilt");
}

/// An index under another key (say the store and its key were restored
/// from a backup) is derived data: replaced, never a reason to fail.
#[test]
fn an_index_under_another_key_is_replaced() {
    let env = Env::new();
    let mut store = env.open();
    write_one(&mut store, "/x/a.jsonl", "lemur kept");
    drop(store);
    let other = StoreKey::generate().expect("key");
    remove_index(&env);
    let foreign = rusqlite::Connection::open(index_path(&env.data.db_path())).expect("open");
    foreign
        .execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = 16384;
             CREATE TABLE t (x); INSERT INTO t VALUES ('other');",
            other.to_hex()
        ))
        .expect("foreign index");
    drop(foreign);
    let mut store = env.open();
    assert_eq!(hits(&mut store, "lemur"), 1);
    store.verify_search_index().expect("rebuilt");
}

#[test]
fn a_plaintext_index_file_is_refused() {
    let env = Env::new();
    drop(env.open());
    remove_index(&env);
    let plain = rusqlite::Connection::open(index_path(&env.data.db_path())).expect("open");
    plain
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .expect("plain");
    drop(plain);
    let err = mantra_agent::lifecycle::open_store(
        &env.data,
        &env.keys(),
        mantra_agent::store::OpenMode::Existing,
    )
    .expect_err("plaintext index");
    assert!(matches!(err, StoreError::Plaintext { .. }), "{err}");
}

/// While an index run's search thread holds the index, opening the store
/// (what `sessions list` and `search` do) must not wait for it: the
/// catch-up at open is skipped, not blocked on.
#[test]
fn opening_the_store_does_not_wait_for_a_busy_index() {
    let env = Env::new();
    let mut store = env.open();
    drop(write_deferred(&mut store, "/x/a.jsonl", "gecko pending"));
    let holder = hold_index(&env);
    // A blocking catch-up would fail here with "database is locked"
    // after the busy timeout.
    let reader = env.open();
    assert_eq!(reader.counts().expect("counts").messages, 1);
    holder.execute_batch("ROLLBACK;").expect("release");
    drop(reader);
    let mut store = env.open();
    assert_eq!(hits(&mut store, "gecko"), 1, "caught up once free");
}

/// A `Checkpointer` copies what writers with automatic checkpoints off
/// left in the WAL into the database files.
#[test]
fn the_checkpointer_copies_committed_pages_into_both_databases() {
    let env = Env::new();
    let mut store = env.open();
    store.compact().expect("start from an empty WAL");
    store.set_autocheckpoint(false).expect("off");
    let mut writer = store.search_writer().expect("writer");
    let text = (0..4000).map(|i| format!("word{i} ")).collect::<String>();
    let messages = (0..60)
        .map(|i| msg(&format!("m{i}"), i, &text))
        .collect::<Vec<_>>();
    let (_, work) = store
        .write_batch_deferred(vec![source(
            "/x/a.jsonl",
            vec![session("s", "/p", messages)],
        )])
        .expect("write");
    writer.apply(work).expect("index");
    let db = env.data.db_path();
    let index = index_path(&db);
    let size = |p: &std::path::Path| std::fs::metadata(p).expect("meta").len();
    let (db_before, index_before) = (size(&db), size(&index));

    let (tx, rx) = std::sync::mpsc::channel::<()>();
    drop(tx); // no more commits: one final checkpoint
    store.checkpointer().expect("checkpointer").run(rx);
    assert!(
        size(&db) > db_before + 1_000_000,
        "store pages copied: {db_before} -> {}",
        size(&db)
    );
    assert!(
        size(&index) > index_before,
        "index pages copied: {index_before} -> {}",
        size(&index)
    );
    store.set_autocheckpoint(true).expect("on");
    store.verify_search_index().expect("agrees");
}

/// Message ids are reused once the highest messages are deleted. A lagging
/// index thread re-reads a deleted range after a later transaction reused
/// its ids, then gets that transaction's batch: each message must still
/// be indexed once.
#[test]
fn reused_message_ids_are_indexed_once() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[source(
            "/x/a.jsonl",
            vec![session(
                "a",
                "/p",
                vec![msg("m1", 1, "alpha one"), msg("m2", 2, "alpha two")],
            )],
        )])
        .expect("write");
    let mut writer = store.search_writer().expect("writer");
    // S: the source is read again whole, with one message left: its two
    // rows (the highest ids) are deleted and one is inserted again.
    let mut again = source(
        "/x/a.jsonl",
        vec![session("a", "/p", vec![msg("m1", 1, "alpha one")])],
    );
    again.replace = true;
    let (_, s) = store.write_batch_deferred(vec![again]).expect("S");
    // S+1: another source's message takes a freed id.
    let (_, s1) = store
        .write_batch_deferred(vec![source(
            "/x/b.jsonl",
            vec![session("b", "/p", vec![msg("m1", 3, "bravo reused")])],
        )])
        .expect("S+1");
    writer.apply(s).expect("apply S after S+1 committed");
    writer.apply(s1).expect("apply S+1");
    assert_eq!(occurrences(&store, "bravo"), 1, "indexed once");
    assert_eq!(occurrences(&store, "alpha"), 1);
    assert_eq!(hits(&mut store, "two"), 0);
    store.verify_search_index().expect("agrees");
    // Deleted, it leaves no copy behind in the file.
    let b = store.resolve_project("p").expect("project");
    store
        .delete(&mantra_agent::store::delete::DeleteScope::Project(b.id))
        .expect("delete");
    store.compact().expect("compact");
    assert_eq!(occurrences(&store, "bravo"), 0);
    assert_eq!(hits(&mut store, "bravo"), 0);
    store.verify_search_index().expect("agrees after delete");
}

/// The index belongs to one store. Another store put in its place, under
/// the same key (a store made again, or restored from a backup), gets the
/// index rebuilt rather than its transactions skipped as "already
/// applied": by the store's random generation when it has more history
/// than the index, by its sequence when it has less.
#[test]
fn an_index_from_another_store_is_rebuilt() {
    for other_has_more_history in [true, false] {
        let env = Env::new();
        let mut store = env.open();
        for i in 0..3 {
            store
                .write_batch(&[source(
                    &format!("/x/{i}.jsonl"),
                    vec![session(
                        &format!("s{i}"),
                        "/p",
                        vec![msg("m1", 1, "old store text")],
                    )],
                )])
                .expect("write");
        }
        drop(store);
        // Another store, same key, in another directory.
        let key = env.keys().get().expect("key").expect("a key");
        let other_dir = env.tmp.path().join("other");
        let other_db = other_dir.join("sessions.db");
        let mut other = mantra_agent::store::Store::open_with_key(&other_db, &key).expect("other");
        let writes = if other_has_more_history { 8 } else { 1 };
        for i in 0..writes {
            other
                .write_batch(&[source(
                    &format!("/y/{i}.jsonl"),
                    vec![session(
                        &format!("o{i}"),
                        "/q",
                        vec![msg("m1", 1, "fresh store text")],
                    )],
                )])
                .expect("write other");
        }
        other.compact().expect("fold the WAL in");
        drop(other);
        // It replaces the store; the first store's index stays.
        for suffix in ["-wal", "-shm"] {
            let mut p = env.data.db_path().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        std::fs::copy(&other_db, env.data.db_path()).expect("replace the store");
        let mut store = env.open();
        assert_eq!(hits(&mut store, "fresh"), writes as usize);
        assert_eq!(hits(&mut store, "old"), 0);
        store.verify_search_index().expect("rebuilt for this store");
    }
}

/// An index whose first build was interrupted or skipped (its schema is
/// committed, its build is not) is built by whoever applies to it next.
#[test]
fn an_index_never_built_is_built_by_the_next_update() {
    let env = Env::new();
    let mut store = env.open();
    write_one(&mut store, "/x/a.jsonl", "heron kept");
    // As a build cut short leaves it: schema, no rows, not built.
    store
        .search_connection()
        .expect("index")
        .execute_batch("DELETE FROM messages_fts; UPDATE applied SET seq = -1;")
        .expect("unbuild");
    drop(store);
    // Hold the index's write lock while the store opens: the build at
    // open is skipped.
    let holder = hold_index(&env);
    let mut store = env.open();
    assert_eq!(hits(&mut store, "heron"), 0, "not built yet");
    holder.execute_batch("ROLLBACK;").expect("release");
    drop(holder);
    // The next write's index update builds it whole.
    write_one(&mut store, "/x/b.jsonl", "ibis new");
    assert_eq!(hits(&mut store, "heron"), 1);
    assert_eq!(hits(&mut store, "ibis"), 1);
    store.verify_search_index().expect("built");
}
