//! Cursor's `state.vscdb`: the JSON values its rows hold, not SQLite itself
//! (SQLite has its own fuzzing). Part 0 of the input (parts separated by
//! `mantra_fuzz::SEP`) is the `composerData:c` value, parts 1.. are the
//! bubbles `b0`, `b1`…, and the last part also serves as the workspace
//! database's `composer.composerData` and `workspace.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;
use rusqlite::Connection;

const SCHEMA: &str = "CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);
CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);";

fn kv(conn: &Connection, table: &str, key: &str, value: &[u8]) {
    conn.execute(
        &format!("INSERT INTO {table} VALUES (?1, ?2)"),
        rusqlite::params![key, value],
    )
    .expect("insert");
}

fuzz_target!(|data: &[u8]| {
    let p: Vec<&[u8]> = data.split(|&b| b == mantra_fuzz::SEP).take(16).collect();
    let dir = mantra_fuzz::fresh_dir("cursor");
    let user = dir.join("User");
    let global = user.join("globalStorage/state.vscdb");
    let ws = user.join("workspaceStorage/abc123");
    std::fs::create_dir_all(global.parent().expect("parent")).expect("mkdir");
    std::fs::create_dir_all(&ws).expect("mkdir");
    {
        let conn = Connection::open(&global).expect("create db");
        conn.execute_batch(SCHEMA).expect("schema");
        kv(&conn, "cursorDiskKV", "composerData:c", p[0]);
        for (i, b) in p.iter().enumerate().skip(1) {
            kv(&conn, "cursorDiskKV", &format!("bubbleId:c:b{}", i - 1), b);
        }
    }
    let last = p[p.len() - 1];
    mantra_fuzz::write(&ws, "workspace.json", last);
    {
        let conn = Connection::open(ws.join("state.vscdb")).expect("create db");
        conn.execute_batch(SCHEMA).expect("schema");
        kv(&conn, "ItemTable", "composer.composerData", last);
    }
    mantra_fuzz::parse_path(Assistant::Cursor, SourceKind::CursorDb, &global, 0);
});
