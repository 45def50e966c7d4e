//! The one test harness of `mantra-agent` (docs/testing.md): fixtures
//! copied into temporary directories, `.sql` dumps loaded into real SQLite
//! databases, Claude Code transcripts written into a temporary home, a real
//! scanner, and stores opened with a real key file.
#![allow(dead_code)] // each test binary uses a part of it

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use mantra_agent::index::{index_sources, IndexOptions, IndexReport};
use mantra_agent::keys::FileKeys;
use mantra_agent::store::ingest::{PreparedMessage, PreparedSession, PreparedSource};
use mantra_agent::store::query::Highlight;
use mantra_agent::store::{OpenMode, Store};
use mantra_agent::{AgentConfig, DataDir, DiscoveryEnv, Os};
use mantra_agent::{Assistant, ProjectRef, Role, SourceFile, SourceKind};
use mantra_detect::{EngineKind, RuleSet, ScanOptions, Scanner};

/// `agent/tests/fixtures`: real transcripts and database dumps of each
/// assistant.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Recursively copies `src` into `dst`.
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read_dir") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
            let mut perm = std::fs::metadata(&to).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).expect("chmod");
        }
    }
}

/// Builds a SQLite database at `db` from a `.sql` dump.
pub fn load_sql(db: &Path, sql_file: &Path) {
    let sql = std::fs::read_to_string(sql_file).expect("read sql");
    let conn = rusqlite::Connection::open(db).expect("open db");
    conn.execute_batch(&sql).expect("load sql");
}

/// A GitHub token the built-in rules detect (valid checksum).
pub const SECRET: &str = "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";

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub data: DataDir,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let data = DataDir::new(tmp.path().join("data"));
        Env { tmp, home, data }
    }

    pub fn keys(&self) -> FileKeys {
        FileKeys::new(self.data.key_file())
    }

    pub fn open(&self) -> Store {
        mantra_agent::lifecycle::open_store(&self.data, &self.keys(), OpenMode::Create)
            .expect("open store")
    }

    pub fn discovery(&self) -> DiscoveryEnv {
        DiscoveryEnv::new(&self.home, Os::Linux)
    }

    /// Path of a Claude session file for project `cwd`.
    pub fn claude_file(&self, cwd: &str, session: &str) -> PathBuf {
        let enc = cwd.replace('/', "-");
        let dir = self.home.join(".claude").join("projects").join(enc);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir.join(format!("{session}.jsonl"))
    }

    /// Indexes everything discovered, with the search index built by its
    /// own thread and a checkpoint thread, as on a large first index (the
    /// CLI tests run the small-run path, where the writer does both).
    pub fn index(&self, store: &mut Store, config: &AgentConfig) -> IndexReport {
        self.index_with(
            store,
            config,
            &IndexOptions {
                search_thread_min_bytes: 0,
                ..IndexOptions::default()
            },
        )
    }

    pub fn index_with(
        &self,
        store: &mut Store,
        config: &AgentConfig,
        opts: &IndexOptions,
    ) -> IndexReport {
        let sources = mantra_agent::discover_all(&self.discovery());
        index_sources(
            store,
            &scanner(config),
            config,
            &sources,
            opts,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .expect("index")
    }
}

pub fn scanner(config: &AgentConfig) -> Arc<Scanner> {
    let (rules, _) = RuleSet::builtin();
    let opts = ScanOptions {
        fingerprint_key: config.fingerprint_key.clone(),
        ..Default::default()
    };
    Arc::new(Scanner::new(Arc::new(rules), EngineKind::default_available(), opts).expect("scanner"))
}

/// One Claude user record.
pub fn user_line(session: &str, cwd: &str, uuid: &str, ts: &str, text: &str) -> String {
    serde_json::json!({
        "type": "user", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": ts, "message": {"role": "user", "content": text}
    })
    .to_string()
        + "\n"
}

/// One Claude assistant record (one part of message `msg_id`).
pub fn assistant_line(
    session: &str,
    cwd: &str,
    uuid: &str,
    msg_id: &str,
    ts: &str,
    text: &str,
) -> String {
    serde_json::json!({
        "type": "assistant", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": ts,
        "message": {"id": msg_id, "role": "assistant", "type": "message",
                    "content": [{"type": "text", "text": text}]}
    })
    .to_string()
        + "\n"
}

pub fn append(path: &Path, s: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    f.write_all(s.as_bytes()).expect("write");
}

/// Every text value of every row of every ordinary table, for "the secret
/// is nowhere" checks on the decrypted content.
pub fn all_text(store: &Store) -> String {
    let conn = store.connection();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("names");
    tables.sort();
    let mut out = String::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("select");
        let n = stmt.column_count();
        let mut rows = stmt.query([]).expect("rows");
        while let Some(r) = rows.next().expect("row") {
            for i in 0..n {
                match r.get_ref(i).expect("col") {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        out.push_str(&String::from_utf8_lossy(b));
                        out.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// Search highlight markers `[` `]`.
pub fn hl() -> Highlight {
    Highlight {
        open: "[".into(),
        close: "]".into(),
    }
}

/// A user message with no findings.
pub fn msg(id: &str, ts: i64, text: &str) -> PreparedMessage {
    PreparedMessage {
        native_id: id.into(),
        role: Role::User,
        ts,
        ts_estimated: false,
        text: text.into(),
        redacted_text: None,
        findings: Vec::new(),
    }
}

/// A Claude source file holding `sessions`.
pub fn source(path: &str, sessions: Vec<PreparedSession>) -> PreparedSource {
    PreparedSource {
        source: SourceFile::new(Assistant::ClaudeCode, SourceKind::ClaudeJsonl, path),
        size: 10,
        mtime_ns: 1,
        next_offset: 10,
        tail_hash: None,
        replace: false,
        sessions,
    }
}

/// A session in project `project`.
pub fn session(id: &str, project: &str, messages: Vec<PreparedMessage>) -> PreparedSession {
    PreparedSession {
        native_id: id.into(),
        project: ProjectRef::from_recorded(project),
        title: None,
        started_at: None,
        metadata: "{}".into(),
        messages,
    }
}
