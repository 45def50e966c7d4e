//! A source that cannot be read is a failed source with a reason, and the
//! sessions indexed from it before stay in the store: a Cursor database,
//! a whole-file JSON source and a JSONL transcript, each indexed, then
//! overwritten with random bytes, then indexed again. A source that is
//! empty but valid still replaces what came from it.

mod support;

use std::path::{Path, PathBuf};

use mantra_agent::store::Store;
use mantra_agent::{AgentConfig, Assistant, SourceFile, SourceKind};
use support::Env;

/// Deterministic "random" bytes, with newlines like any random file.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u8
        })
        .collect()
}

/// Overwrites `path` in place with random bytes of another size, and moves
/// its mtime so the next run sees it changed.
fn overwrite_with_garbage(path: &Path, len: usize) {
    std::fs::write(path, random_bytes(len)).expect("overwrite");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(later)
        .expect("mtime");
}

fn sessions_of(store: &Store, assistant: Assistant) -> i64 {
    store
        .connection()
        .query_row(
            "SELECT count(*) FROM sessions WHERE assistant = ?1",
            [assistant.as_str()],
            |r| r.get(0),
        )
        .expect("count")
}

fn messages(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .expect("count")
}

/// Cursor's global database from the fixture, where discovery finds it.
fn cursor_db(env: &Env) -> PathBuf {
    let global = env.discovery().app_data().join("Cursor/User/globalStorage");
    std::fs::create_dir_all(&global).expect("mkdir");
    let db = global.join("state.vscdb");
    support::load_sql(&db, &support::fixtures().join("cursor/global_state.sql"));
    db
}

/// Indexes, damages `source` with `damage`, indexes again: the second run
/// reports the source failed, and the sessions of the first are all kept.
fn damage_keeps_sessions(env: &Env, assistant: Assistant, source: &Path, damage: impl FnOnce()) {
    let config = AgentConfig::default();
    let mut store = env.open();
    let first = env.index(&mut store, &config);
    assert_eq!(first.sources_failed, 0, "{:?}", first.errors);
    let sessions = sessions_of(&store, assistant);
    let msgs = messages(&store);
    assert!(sessions > 0 && msgs > 0, "{assistant}: nothing indexed");

    damage();
    let second = env.index(&mut store, &config);
    assert_eq!(second.sources_failed, 1, "{assistant}: {second:?}");
    let (path, reason) = &second.errors[0];
    assert_eq!(path, source);
    assert!(!reason.is_empty());
    assert_eq!(
        sessions_of(&store, assistant),
        sessions,
        "{assistant}: {reason}"
    );
    assert_eq!(messages(&store), msgs, "{assistant}: {reason}");
    // And the same again on the next run: the failure is not remembered as
    // an indexed state.
    let third = env.index(&mut store, &config);
    assert_eq!(third.sources_failed, 1, "{third:?}");
    assert_eq!(sessions_of(&store, assistant), sessions);
}

#[test]
fn a_cursor_database_overwritten_with_random_bytes_keeps_its_sessions() {
    let env = Env::new();
    let db = cursor_db(&env);
    damage_keeps_sessions(&env, Assistant::Cursor, &db, || {
        overwrite_with_garbage(&db, 64 * 1024);
    });
    let config = AgentConfig::default();
    let mut store = env.open();
    let report = env.index(&mut store, &config);
    assert!(
        report.errors[0].1.contains("not a database"),
        "{:?}",
        report.errors
    );
}

#[test]
fn a_gemini_json_session_overwritten_with_garbage_keeps_its_session() {
    let env = Env::new();
    let chats = env.home.join(".gemini/tmp/proj/chats");
    std::fs::create_dir_all(&chats).expect("mkdir");
    let file = chats.join("session-2026-05-01T10-00-abc.json");
    std::fs::write(
        &file,
        r#"{"sessionId":"abc","startTime":"2026-05-01T10:00:00Z","messages":[
            {"id":"m1","type":"user","timestamp":"2026-05-01T10:00:01Z","content":"plant the tomatoes"},
            {"id":"m2","type":"gemini","timestamp":"2026-05-01T10:00:02Z","content":"done"}]}"#,
    )
    .expect("write");
    damage_keeps_sessions(&env, Assistant::GeminiCli, &file, || {
        overwrite_with_garbage(&file, 3000);
    });
}

#[test]
fn a_cline_task_whose_history_turns_to_garbage_keeps_its_session() {
    let env = Env::new();
    let tasks = env
        .home
        .join(".config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks");
    support::copy_tree(&support::fixtures().join("cline/tasks"), &tasks);
    let task = tasks.join("1726000000000");
    damage_keeps_sessions(&env, Assistant::Cline, &task, || {
        overwrite_with_garbage(&task.join("api_conversation_history.json"), 5000);
    });
}

#[test]
fn a_jsonl_transcript_overwritten_with_random_bytes_keeps_its_session() {
    let env = Env::new();
    let file = env.claude_file("/w/p", "s1");
    support::append(
        &file,
        &support::user_line(
            "s1",
            "/w/p",
            "u1",
            "2026-05-01T10:00:00Z",
            "water the basil",
        ),
    );
    damage_keeps_sessions(&env, Assistant::ClaudeCode, &file, || {
        overwrite_with_garbage(&file, 20_000);
    });
}

#[test]
fn an_empty_but_valid_cursor_database_replaces_what_came_from_it() {
    let env = Env::new();
    let db = cursor_db(&env);
    let config = AgentConfig::default();
    let mut store = env.open();
    env.index(&mut store, &config);
    assert!(sessions_of(&store, Assistant::Cursor) > 0);
    // Cursor reset: a valid database without chats.
    std::fs::remove_file(&db).expect("rm");
    rusqlite::Connection::open(&db)
        .expect("create")
        .execute_batch("CREATE TABLE ItemTable (key TEXT UNIQUE, value BLOB);")
        .expect("schema");
    let report = env.index(&mut store, &config);
    assert_eq!(report.sources_failed, 0, "{:?}", report.errors);
    assert_eq!(sessions_of(&store, Assistant::Cursor), 0);
}

#[cfg(unix)]
#[test]
fn a_fifo_where_a_cursor_database_belongs_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("state.vscdb");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let err = mantra_agent::parse(
        &SourceFile::new(Assistant::Cursor, SourceKind::CursorDb, &fifo),
        0,
    )
    .expect_err("a FIFO is no database");
    assert!(err.to_string().contains("FIFO"), "{err}");
}
