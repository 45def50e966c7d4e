//! The encrypted store: encryption at rest, keys, wrong-key safety,
//! migrations, upserts, FTS, deletion.

mod support;

use mantra_agent::keys::{FileKeys, KeyProvider, StoreKey};
use mantra_agent::store::query::SessionFilter;
use mantra_agent::store::{
    schema, CipherLayout, OpenMode, Store, StoreError, CIPHER_LAYOUT, LEGACY_CIPHER_LAYOUT,
    PLAINTEXT_HEADER,
};
use support::{hl, msg, session, source, Env};

#[test]
fn file_is_encrypted_and_key_file_is_private() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[source(
            "/x/a.jsonl",
            vec![session(
                "s1",
                "/p/one",
                vec![msg("m1", 1, "canary-plaintext-zebra")],
            )],
        )])
        .expect("write");
    store.compact().expect("compact");
    drop(store);
    let bytes = std::fs::read(env.data.db_path()).expect("read db");
    assert_ne!(&bytes[..16], PLAINTEXT_HEADER);
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains("canary-plaintext-zebra"));
    assert!(!hay.contains("CREATE TABLE"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&env.data.key_file()), 0o600);
        assert_eq!(mode(&env.data.db_path()), 0o600);
    }
    // Reopens with the same key.
    let store = env.open();
    assert_eq!(store.counts().expect("counts").messages, 1);
}

#[test]
fn wrong_key_is_an_error_and_leaves_the_file_byte_identical() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[source(
            "/x/a.jsonl",
            vec![session("s1", "/p", vec![msg("m1", 1, "hello")])],
        )])
        .expect("write");
    drop(store);
    let before = std::fs::read(env.data.db_path()).expect("read");
    let wrong = StoreKey::generate().expect("key");
    let err = Store::open_with_key(&env.data.db_path(), &wrong).expect_err("wrong key must fail");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("key does not match"));
    assert_eq!(std::fs::read(env.data.db_path()).expect("read"), before);

    // A key file holding another key: same.
    std::fs::remove_file(env.data.key_file()).expect("rm key");
    FileKeys::new(env.data.key_file()).put(&wrong).expect("put");
    let err = mantra_agent::lifecycle::open_store(&env.data, &env.keys(), OpenMode::Create)
        .expect_err("wrong key file");
    assert!(matches!(err, StoreError::WrongKey { .. }));
    assert_eq!(std::fs::read(env.data.db_path()).expect("read"), before);

    // Missing key: never creates a new one for an existing database.
    std::fs::remove_file(env.data.key_file()).expect("rm key");
    let err = mantra_agent::lifecycle::open_store(&env.data, &env.keys(), OpenMode::Create)
        .expect_err("missing key");
    assert!(matches!(err, StoreError::MissingKey { .. }), "{err}");
    assert!(!env.data.key_file().exists(), "no new key may be created");
    assert_eq!(std::fs::read(env.data.db_path()).expect("read"), before);
}

/// A store made with SQLCipher's defaults (4 KiB pages, HMAC-SHA512), as
/// before the current layout, with its WAL still beside it.
fn legacy_store(env: &Env, key: &StoreKey) -> rusqlite::Connection {
    env.data.ensure().expect("dir");
    let mut conn = rusqlite::Connection::open(env.data.db_path()).expect("open");
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA journal_mode = WAL;",
        key.to_hex()
    ))
    .expect("key");
    schema::migrate_to(&mut conn, 2).expect("v2 schema");
    conn.execute_batch(
        "INSERT INTO sources (id, path, assistant, kind) VALUES (1, '/s.jsonl', 'claude-code', 'ClaudeJsonl');
         INSERT INTO sessions (id, source_id, assistant, native_id) VALUES (1, 1, 'claude-code', 'sess');
         INSERT INTO messages (id, session_id, native_id, role, ts, text) VALUES (1, 1, 'm1', 'user', 1, 'legacy quokka');",
    )
    .expect("rows");
    conn
}

#[test]
fn legacy_layout_store_opens_and_a_wrong_key_leaves_it_untouched() {
    let env = Env::new();
    let key = StoreKey::generate().expect("key");
    // Kept open so its WAL stays beside the database file.
    let writer = legacy_store(&env, &key);
    let wal = {
        let mut p = env.data.db_path().into_os_string();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    let db_before = std::fs::read(env.data.db_path()).expect("db");
    let wal_before = std::fs::read(&wal).expect("wal");
    assert!(!wal_before.is_empty(), "the rows are in the WAL");
    let wrong = StoreKey::generate().expect("key");
    let err = Store::open_with_key(&env.data.db_path(), &wrong).expect_err("wrong key");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert_eq!(std::fs::read(env.data.db_path()).expect("db"), db_before);
    assert_eq!(std::fs::read(&wal).expect("wal"), wal_before);
    drop(writer);

    let mut store = Store::open_with_key(&env.data.db_path(), &key).expect("legacy opens");
    assert_eq!(store.schema_version().expect("v"), schema::CURRENT_VERSION);
    assert_eq!(store.search("quokka", None, 10, &hl()).expect("s").len(), 1);
}

#[test]
fn new_stores_use_16k_pages_and_hmac_sha256() {
    let env = Env::new();
    drop(env.open());
    let key = env.keys().get().expect("key").expect("a key");
    let reads_with = |layout: CipherLayout| {
        let conn = rusqlite::Connection::open(env.data.db_path()).expect("open");
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = {}; PRAGMA cipher_hmac_algorithm = {};",
            key.to_hex(),
            layout.page_size,
            layout.hmac
        ))
        .expect("key");
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok()
    };
    assert_eq!(CIPHER_LAYOUT.page_size, 16384);
    assert_eq!(CIPHER_LAYOUT.hmac, "HMAC_SHA256");
    assert!(reads_with(CIPHER_LAYOUT));
    assert!(!reads_with(LEGACY_CIPHER_LAYOUT));
    assert!(!reads_with(CipherLayout {
        hmac: "HMAC_SHA512",
        ..CIPHER_LAYOUT
    }));
}

/// The writer's SQLite tuning that has no visible behaviour of its own:
/// query plans that never depend on bound values (no re-prepare on every
/// rebind), and a build without global memory statistics (no mutex per
/// allocation; set in `.cargo/config.toml`).
#[test]
fn store_connections_are_tuned_for_the_writer() {
    let env = Env::new();
    let store = env.open();
    let conn = store.connection();
    assert!(conn
        .db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
        .expect("db_config"));
    let options: Vec<String> = conn
        .prepare("PRAGMA compile_options")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "{options:?}"
    );
}

#[test]
fn plaintext_database_is_refused() {
    let env = Env::new();
    env.data.ensure().expect("dir");
    let conn = rusqlite::Connection::open(env.data.db_path()).expect("plain");
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .expect("create");
    drop(conn);
    let key = StoreKey::generate().expect("key");
    let err = Store::open_with_key(&env.data.db_path(), &key).expect_err("plaintext");
    assert!(matches!(err, StoreError::Plaintext { .. }), "{err}");
}

#[test]
fn existing_mode_does_not_create() {
    let env = Env::new();
    let err = mantra_agent::lifecycle::open_store(&env.data, &env.keys(), OpenMode::Existing)
        .expect_err("absent");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(!env.data.db_path().exists());
    assert!(!env.data.key_file().exists());
}

#[test]
fn migrates_from_every_earlier_version() {
    for from in 0..schema::CURRENT_VERSION {
        let env = Env::new();
        env.data.ensure().expect("dir");
        let key = StoreKey::generate().expect("key");
        FileKeys::new(env.data.key_file()).put(&key).expect("put");
        {
            // A database at version `from`, made with that version's SQL.
            let mut conn = rusqlite::Connection::open(env.data.db_path()).expect("open");
            conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex()))
                .expect("key");
            schema::migrate_to(&mut conn, from).expect("old schema");
            if from >= 1 {
                conn.execute_batch(
                    "INSERT INTO sources (id, path, assistant, kind) VALUES (1, '/s.jsonl', 'claude-code', 'ClaudeJsonl');
                     INSERT INTO projects (id, path, name) VALUES (1, '/p', 'p');
                     INSERT INTO sessions (id, source_id, assistant, native_id, project_id) VALUES (1, 1, 'claude-code', 'sess', 1);
                     INSERT INTO messages (id, session_id, native_id, role, ts, text, redacted_text)
                        VALUES (1, 1, 'm1', 'user', 1000, 'token ghp_x', 'token [REDACTED:github-pat]');
                     INSERT INTO findings (message_id, rule_id, severity, fingerprint, preview, start, length)
                        VALUES (1, 'github-pat', 'high', 'fp1', 'ghp_…', 6, 5);",
                )
                .expect("v1 rows");
            }
            if from >= 2 {
                // From v2 on, the writer records exposures itself.
                conn.execute_batch(
                    "INSERT INTO exposures (fingerprint, session_id, rule_id, preview, first_seen, last_seen)
                        VALUES ('fp1', 1, 'github-pat', 'ghp_…', 1000, 1000);",
                )
                .expect("v2 rows");
            }
            if from >= 3 {
                // From v3 on, the writer adds new messages to the index.
                conn.execute_batch(
                    "INSERT INTO messages_fts (rowid, body) VALUES (1, 'token [REDACTED:github-pat]');",
                )
                .expect("v3 rows");
            }
        }
        let mut store = Store::open_with_key(&env.data.db_path(), &key).expect("migrate");
        assert_eq!(store.schema_version().expect("v"), schema::CURRENT_VERSION);
        if from >= 1 {
            let n: i64 = store
                .connection()
                .query_row(
                    "SELECT count(*) FROM exposures WHERE fingerprint = 'fp1' AND session_id = 1 AND first_seen = 1000",
                    [],
                    |r| r.get(0),
                )
                .expect("exposures");
            assert_eq!(n, 1, "exposures back-filled from findings (from v{from})");
            let hits = store.search("REDACTED", None, 10, &hl()).expect("search");
            assert_eq!(hits.len(), 1);
            // Sources read before v4 have no tail hash: they resume as before.
            let states = store.source_states().expect("states");
            assert_eq!(states["/s.jsonl"].tail_hash, None);
        }
        // Messages written after the migration are indexed by the writer
        // (v3 has no insert trigger), and the index agrees with the table.
        let mut store = store;
        store
            .write_batch(&[source(
                "/s2.jsonl",
                vec![session(
                    "s2",
                    "/p2",
                    vec![msg("m9", 9, "after migration wombat")],
                )],
            )])
            .expect("write");
        assert_eq!(
            store.search("wombat", None, 10, &hl()).expect("s").len(),
            1,
            "from v{from}"
        );
        store
            .verify_search_index()
            .expect("search index agrees with the store");
    }
}

#[test]
fn newer_schema_is_refused() {
    let env = Env::new();
    let store = env.open();
    store
        .connection()
        .pragma_update(None, "user_version", schema::CURRENT_VERSION + 1)
        .expect("bump");
    drop(store);
    let err = mantra_agent::lifecycle::open_store(&env.data, &env.keys(), OpenMode::Existing)
        .expect_err("too new");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}

#[test]
fn messages_upsert_by_source_session_and_id() {
    let env = Env::new();
    let mut store = env.open();
    let s1 = vec![session("s1", "/p", vec![msg("m1", 1, "alpha partial")])];
    store
        .write_batch(&[source("/x/a.jsonl", s1)])
        .expect("write");
    let s2 = vec![session(
        "s1",
        "/p",
        vec![
            msg("m1", 1, "alpha complete bravo"),
            msg("m2", 2, "charlie"),
        ],
    )];
    store
        .write_batch(&[source("/x/a.jsonl", s2)])
        .expect("write");
    let c = store.counts().expect("counts");
    assert_eq!((c.sessions, c.messages), (1, 2));
    assert!(store
        .search("partial", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert_eq!(store.search("bravo", None, 10, &hl()).expect("s").len(), 1);
    // The same session id in another source is another session.
    store
        .write_batch(&[source(
            "/x/b.jsonl",
            vec![session("s1", "/p", vec![msg("m1", 1, "delta")])],
        )])
        .expect("write");
    assert_eq!(store.counts().expect("c").sessions, 2);
    let rows = store
        .list_sessions(&SessionFilter::default())
        .expect("list");
    assert!(rows.iter().all(|r| r.id == "s1"));
    assert!(
        store.find_session("s1", None).is_err(),
        "ambiguous id is an error"
    );
}

#[test]
fn project_scoped_queries_never_return_other_projects() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[
            source(
                "/x/a.jsonl",
                vec![session(
                    "sa",
                    "/work/alpha",
                    vec![msg("m1", 1, "shared word kiwi")],
                )],
            ),
            source(
                "/x/b.jsonl",
                vec![session(
                    "sb",
                    "/work/beta",
                    vec![msg("m1", 2, "shared word kiwi")],
                )],
            ),
        ])
        .expect("write");
    let alpha = store.resolve_project("alpha").expect("alpha");
    let beta = store.resolve_project("/work/beta").expect("beta");
    assert_eq!(store.search("kiwi", None, 10, &hl()).expect("all").len(), 2);
    let hits = store
        .search("kiwi", Some(alpha.id), 10, &hl())
        .expect("scoped");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].project.as_deref(), Some("/work/alpha"));
    let rows = store
        .list_sessions(&SessionFilter {
            project_id: Some(beta.id),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, "sb");
    assert!(store.find_session("sa", Some(beta.id)).is_err());
    assert!(store.find_session("sa", Some(alpha.id)).is_ok());
    assert!(store.resolve_project("gamma").is_err());
}

#[test]
fn fts_query_input_is_never_syntax() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[source(
            "/x/a.jsonl",
            vec![session(
                "s",
                "/p",
                vec![msg("m1", 1, "foo-bar AND baz \"q\"")],
            )],
        )])
        .expect("write");
    for q in ["foo-bar", "AND", "\"q", "col:umn", "(", "NEAR(", "*"] {
        store.search(q, None, 10, &hl()).expect("no syntax error");
    }
    let hits = store.search("foo-bar", None, 10, &hl()).expect("hits");
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.contains("[foo-bar]"), "{}", hits[0].snippet);
}

#[test]
fn delete_removes_rows_and_compaction_shrinks_the_file() {
    let env = Env::new();
    let mut store = env.open();
    let big: String = "lorem ipsum dolor sit amet ".repeat(2000);
    let mut sources = Vec::new();
    for i in 0..20 {
        let msgs = (0..10)
            .map(|j| msg(&format!("m{j}"), j, &format!("{big} uniq{i}x{j}")))
            .collect();
        sources.push(source(
            &format!("/x/{i}.jsonl"),
            vec![session(&format!("s{i}"), "/work/gone", msgs)],
        ));
    }
    sources.push(source(
        "/x/keep.jsonl",
        vec![session("keep", "/work/kept", vec![msg("m", 1, "keeper")])],
    ));
    store.write_batch(&sources).expect("write");
    store.compact().expect("compact");
    let size_before = std::fs::metadata(env.data.db_path()).expect("m").len();
    let gone = store.resolve_project("gone").expect("p");
    let n = store
        .delete(&mantra_agent::store::delete::DeleteScope::Project(gone.id))
        .expect("delete");
    assert_eq!(n, 20);
    store.compact().expect("compact");
    let size_after = std::fs::metadata(env.data.db_path()).expect("m").len();
    assert!(
        size_after * 4 < size_before,
        "{size_before} -> {size_after}"
    );
    let c = store.counts().expect("c");
    assert_eq!((c.sessions, c.messages, c.projects), (1, 1, 1));
    assert!(store
        .search("uniq3x4", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert!(store
        .search("lorem", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert!(!support::all_text(&store).contains("uniq3x4"));
    // The FTS index holds no trace either (integrity check passes).
    store
        .verify_search_index()
        .expect("search index agrees with the store");
}

/// Decrypts every page of a store file (raw key: AES-256-CBC with the key
/// as is, per-page IV at the start of the 48-byte reserve; page 1 starts
/// after the 16-byte salt). Independent of SQLite, so it sees free pages too.
fn decrypt_all_pages(path: &std::path::Path, key: &StoreKey) -> Vec<u8> {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
    const PAGE: usize = mantra_agent::store::CIPHER_LAYOUT.page_size as usize;
    // 16-byte IV + 32-byte HMAC-SHA256.
    const RESERVE: usize = 48;
    let file = std::fs::read(path).expect("read db");
    assert_eq!(file.len() % PAGE, 0);
    let raw = hex::decode(key.to_hex()).expect("hex");
    let mut out = Vec::with_capacity(file.len());
    for (i, page) in file.chunks(PAGE).enumerate() {
        let start = if i == 0 { 16 } else { 0 };
        let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
        let mut buf = page[start..PAGE - RESERVE].to_vec();
        let dec = cbc::Decryptor::<aes::Aes256>::new(raw.as_slice().into(), iv.into());
        let plain = dec
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .expect("decrypt page");
        out.extend_from_slice(plain);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn deleted_data_is_gone_from_every_page_of_the_file() {
    let env = Env::new();
    let mut store = env.open();
    let canary = "zq-canary-7f3e9b21-deleted-text";
    let keep = "zq-keeper-0c1d2e3f-kept-text";
    let filler = "ordinary words to fill some pages ".repeat(200);
    store
        .write_batch(&[
            source(
                "/x/gone.jsonl",
                vec![session(
                    "g",
                    "/work/gone",
                    vec![
                        msg("m1", 1, &format!("{filler} {canary}")),
                        msg("m2", 2, &format!("{canary} again {filler}")),
                    ],
                )],
            ),
            source(
                "/x/kept.jsonl",
                vec![session("k", "/work/kept", vec![msg("m1", 3, keep)])],
            ),
        ])
        .expect("write");
    store.compact().expect("checkpoint");
    let key = env.keys().get().expect("key").expect("some key");
    let index_file = mantra_agent::store::search::index_path(&env.data.db_path());
    let plain = decrypt_all_pages(&env.data.db_path(), &key);
    assert!(
        contains(&plain, b"CREATE TABLE"),
        "the page decryption works"
    );
    let index_plain = decrypt_all_pages(&index_file, &key);
    assert!(
        contains(&index_plain, b"7f3e9b21"),
        "the search index holds the canary's terms before delete"
    );
    assert!(
        contains(&plain, canary.as_bytes()),
        "canary stored before delete"
    );
    assert!(!contains(
        &std::fs::read(env.data.db_path()).expect("r"),
        canary.as_bytes()
    ));

    let gone = store.resolve_project("gone").expect("p");
    store
        .delete(&mantra_agent::store::delete::DeleteScope::Project(gone.id))
        .expect("delete");
    store.compact().expect("compact");
    let plain = decrypt_all_pages(&env.data.db_path(), &key);
    assert!(contains(&plain, keep.as_bytes()), "other data intact");
    assert!(
        !contains(&plain, canary.as_bytes()),
        "no page holds the deleted text"
    );
    assert!(!contains(&plain, b"7f3e9b21"));
    // Nor in the search index, which holds terms (lower-cased), not text.
    let index_plain = decrypt_all_pages(&index_file, &key);
    assert!(
        contains(&index_plain, b"0c1d2e3f"),
        "kept terms still indexed"
    );
    assert!(
        !contains(&index_plain, b"7f3e9b21"),
        "no page of the search index holds a deleted term"
    );
}

/// A deletion cut off before it reached the search index (`kill -9` right
/// after its commit) is applied and purged by whoever updates the index
/// next, here the next open: no page of the index keeps its terms.
#[test]
fn a_deletion_cut_off_before_the_index_is_purged_at_the_next_open() {
    let env = Env::new();
    let mut store = env.open();
    store
        .write_batch(&[
            source(
                "/x/gone.jsonl",
                vec![session(
                    "g",
                    "/work/gone",
                    vec![msg("m1", 1, "zq-canary-5a6b7c8d-cut-off")],
                )],
            ),
            source(
                "/x/kept.jsonl",
                vec![session(
                    "k",
                    "/work/kept",
                    vec![msg("m1", 2, "zq-keeper-1a2b3c4d")],
                )],
            ),
        ])
        .expect("write");
    // The deletion's transaction as `Store::delete` commits it, and
    // nothing after it.
    store
        .connection()
        .execute_batch(
            "BEGIN;
             UPDATE search_seq SET next = next + 1;
             DELETE FROM sessions WHERE native_id = 'g';
             UPDATE search_seq SET purge_seq = next - 1;
             COMMIT;",
        )
        .expect("delete");
    drop(store);
    let store = env.open();
    store
        .verify_search_index()
        .expect("the deletion is applied");
    store.compact().expect("compact");
    let key = env.keys().get().expect("key").expect("some key");
    let index_file = mantra_agent::store::search::index_path(&env.data.db_path());
    let index_plain = decrypt_all_pages(&index_file, &key);
    assert!(contains(&index_plain, b"1a2b3c4d"), "kept terms indexed");
    assert!(
        !contains(&index_plain, b"5a6b7c8d"),
        "no page of the index keeps a deleted term"
    );
}

#[test]
fn retention_deletes_only_idle_sessions() {
    let env = Env::new();
    let mut store = env.open();
    let day = 86_400_000i64;
    let now = 100 * day;
    store
        .write_batch(&[
            source(
                "/x/old.jsonl",
                vec![session("old", "/p/a", vec![msg("m", 10 * day, "ancient")])],
            ),
            source(
                "/x/new.jsonl",
                vec![session("new", "/p/b", vec![msg("m", 95 * day, "recent")])],
            ),
        ])
        .expect("write");
    assert_eq!(store.apply_retention(30, now).expect("retention"), 1);
    let rows = store
        .list_sessions(&SessionFilter::default())
        .expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, "new");
    assert_eq!(
        store.projects().expect("p").len(),
        1,
        "orphan project removed"
    );
}

fn dir_listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn read_only_open_changes_nothing_and_checks_the_key() {
    let env = Env::new();
    let mut store = env.open();
    assert_eq!(store.last_indexed_at().expect("empty"), None);
    store
        .write_batch(&[source(
            "/x/a.jsonl",
            vec![session("s1", "/p", vec![msg("m1", 1, "hello")])],
        )])
        .expect("write");
    drop(store);
    let files = dir_listing(&env.data.root);
    let before = std::fs::read(env.data.db_path()).expect("read");
    let key = env.keys().get().expect("get").expect("key");

    let ro = Store::open_read_only(&env.data.db_path(), &key).expect("read-only open");
    assert_eq!(ro.counts().expect("counts").sessions, 1);
    let at = ro.last_indexed_at().expect("indexed_at").expect("some");
    assert!(at > 1_600_000_000_000, "{at}");
    assert!(
        ro.connection().execute("DELETE FROM sessions", []).is_err(),
        "the connection is read-only"
    );
    drop(ro);
    assert_eq!(dir_listing(&env.data.root), files, "no file created");
    assert_eq!(std::fs::read(env.data.db_path()).expect("read"), before);

    // With a live writer (WAL present) the reader sees its committed rows.
    let mut writer = env.open();
    writer
        .write_batch(&[source(
            "/x/b.jsonl",
            vec![session("s2", "/p", vec![msg("m2", 2, "world")])],
        )])
        .expect("write");
    let ro = Store::open_read_only(&env.data.db_path(), &key).expect("beside a writer");
    assert_eq!(ro.counts().expect("counts").sessions, 2);
    drop(ro);
    drop(writer);
    let files = dir_listing(&env.data.root);

    let wrong = StoreKey::generate().expect("key");
    let err = Store::open_read_only(&env.data.db_path(), &wrong).expect_err("wrong key");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    let missing = env.tmp.path().join("none.db");
    let err = Store::open_read_only(&missing, &key).expect_err("absent");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(!missing.exists());
    assert_eq!(dir_listing(&env.data.root), files);
}

#[test]
fn a_message_rewritten_within_one_batch_keeps_the_index_consistent() {
    let env = Env::new();
    let mut store = env.open();
    let first = source(
        "/x/a.jsonl",
        vec![session("s1", "/p", vec![msg("m1", 1, "alpha partial")])],
    );
    // The same message again, grown: an update of a row whose index entry
    // is still queued in the same transaction.
    let grown = source(
        "/x/a.jsonl",
        vec![session("s1", "/p", vec![msg("m1", 1, "alpha complete")])],
    );
    // The source rewritten: its sessions are replaced in the same batch.
    let mut rewritten = source(
        "/x/a.jsonl",
        vec![session("s1", "/p", vec![msg("m2", 2, "rewritten gamma")])],
    );
    rewritten.replace = true;
    store
        .write_batch(&[first.clone(), grown.clone()])
        .expect("write");
    let integrity = |store: &Store| {
        store
            .verify_search_index()
            .expect("search index agrees with the store");
    };
    integrity(&store);
    assert!(store
        .search("partial", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert_eq!(
        store.search("complete", None, 10, &hl()).expect("s").len(),
        1
    );
    store
        .write_batch(&[first, grown, rewritten])
        .expect("write");
    integrity(&store);
    assert!(store
        .search("alpha", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert_eq!(store.search("gamma", None, 10, &hl()).expect("s").len(), 1);
    assert_eq!(store.counts().expect("c").messages, 1);
}

#[test]
fn sessions_sharing_an_id_across_assistants_are_told_apart() {
    let env = Env::new();
    let mut store = env.open();
    let mut codex = source(
        "/x/codex.jsonl",
        vec![session("dup-1", "/p", vec![msg("m1", 1, "from codex")])],
    );
    codex.source = mantra_agent::SourceFile::new(
        mantra_agent::model::Assistant::Codex,
        mantra_agent::SourceKind::CodexJsonl,
        "/x/codex.jsonl",
    );
    store
        .write_batch(&[
            source(
                "/x/claude.jsonl",
                vec![session("dup-1", "/p", vec![msg("m1", 1, "from claude")])],
            ),
            codex,
        ])
        .expect("write");
    let err = store.find_session("dup-1", None).expect_err("ambiguous");
    assert!(
        err.to_string().contains("codex:dup-1") || err.to_string().contains("claude-code:dup-1"),
        "the error says how to qualify the id: {err}"
    );
    assert_eq!(
        store
            .find_session("codex:dup-1", None)
            .expect("qualified")
            .assistant,
        "codex"
    );
    assert_eq!(
        store
            .find_session_of(
                "dup",
                Some(mantra_agent::model::Assistant::ClaudeCode),
                None
            )
            .expect("prefix within one assistant")
            .assistant,
        "claude-code"
    );
    assert!(store.find_session("gemini-cli:dup-1", None).is_err());
    assert_eq!(
        mantra_agent::store::query::split_qualified_id("not-an-assistant:x"),
        (None, "not-an-assistant:x")
    );
}
