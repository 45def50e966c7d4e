//! opencode's `opencode.db`: the JSON values its rows hold, not SQLite
//! itself. Part 0 of the input (parts separated by `mantra_fuzz::SEP`) is a
//! message's `data`, parts 1.. are the `data` of its parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;
use rusqlite::{params, Connection};

const SCHEMA: &str = "CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, slug TEXT NOT NULL, directory TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL, time_created INTEGER, time_updated INTEGER);
CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER, time_updated INTEGER, data TEXT NOT NULL);
CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL, time_created INTEGER, time_updated INTEGER, data TEXT NOT NULL);
INSERT INTO session VALUES ('ses_01','prj_01',NULL,'brave-otter','/home/dev/proj','Add retry','1.2.0',1759300000000,1759300010000);";

fuzz_target!(|data: &[u8]| {
    let p: Vec<&[u8]> = data.split(|&b| b == mantra_fuzz::SEP).take(16).collect();
    let dir = mantra_fuzz::fresh_dir("opencode");
    let db = dir.join("opencode.db");
    {
        let conn = Connection::open(&db).expect("create db");
        conn.execute_batch(SCHEMA).expect("schema");
        // Text as opencode stores it; invalid UTF-8 goes in as a blob.
        let value = |b: &[u8]| match std::str::from_utf8(b) {
            Ok(s) => rusqlite::types::Value::Text(s.to_string()),
            Err(_) => rusqlite::types::Value::Blob(b.to_vec()),
        };
        conn.execute(
            "INSERT INTO message VALUES ('msg_01','ses_01',1759300000000,1759300000000,?1)",
            params![value(p[0])],
        )
        .expect("insert");
        for (i, part) in p.iter().enumerate().skip(1) {
            conn.execute(
                "INSERT INTO part VALUES (?1,'msg_01','ses_01',1,1,?2)",
                params![format!("prt_{i:02}"), value(part)],
            )
            .expect("insert");
        }
    }
    mantra_fuzz::parse_path(Assistant::Opencode, SourceKind::OpencodeDb, &db, 0);
});
