//! The agent commands, driven through the real `mantra` binary on an
//! isolated [`Machine`]: sessions under its home (discovery), the store in
//! its `MANTRA_HOME`. Query commands get `--all-projects` unless a test is
//! about project isolation (on by default).

mod support;

use std::io::Read;
#[cfg(unix)]
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::Duration;

use support::{assistant_line, finish_within, signal, user_line, Machine, SECRET};

fn two_projects(m: &Machine) {
    m.claude_session(
        "/work/alpha",
        "aaaaaaaa-0000-4000-8000-000000000001",
        &[
            user_line(
                "aaaaaaaa-0000-4000-8000-000000000001",
                "/work/alpha",
                "u1",
                "2026-01-01T10:00:00Z",
                "set up the walrus pipeline",
            ),
            assistant_line(
                "aaaaaaaa-0000-4000-8000-000000000001",
                "/work/alpha",
                "a1",
                "msg_a",
                "2026-01-01T10:00:01Z",
                &format!("export GITHUB_TOKEN={SECRET} then push the walrus"),
            ),
        ],
    );
    m.claude_session(
        "/work/beta",
        "bbbbbbbb-0000-4000-8000-000000000002",
        &[user_line(
            "bbbbbbbb-0000-4000-8000-000000000002",
            "/work/beta",
            "u1",
            "2026-03-01T10:00:00Z",
            "walrus in beta too",
        )],
    );
}

#[test]
fn index_list_show_search_with_redaction_and_isolation() {
    let m = Machine::new();
    two_projects(&m);
    let out = m.run(["index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("indexed 2 of 2"), "{err}");
    assert!(!err.contains('\r'), "no progress bar when piped");

    let db = std::fs::read(m.data.join("sessions.db")).expect("db");
    assert_ne!(&db[..16], b"SQLite format 3\0");
    assert!(m.data.join("store.key").exists());
    assert!(m.data.join("exposures.json").exists());

    let list = m.json(["sessions", "list", "--json", "--all-projects"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let scoped = m.json(["sessions", "list", "--project", "alpha", "--json"]);
    assert_eq!(scoped.as_array().map(Vec::len), Some(1));
    assert_eq!(scoped[0]["project"], "/work/alpha");
    let since = m.json([
        "sessions",
        "list",
        "--since",
        "2026-02-01",
        "--json",
        "--all-projects",
    ]);
    assert_eq!(since.as_array().map(Vec::len), Some(1));
    assert_eq!(since[0]["project"], "/work/beta");

    let hits = m.json(["search", "walrus", "--json", "--all-projects"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(3));
    let hits = m.json(["search", "walrus", "--project", "/work/beta", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["project"], "/work/beta");
    let text = m.ok(["search", "GITHUB_TOKEN", "--all-projects"]);
    assert!(text.contains("[REDACTED:"), "{text}");
    assert!(!text.contains(SECRET));
    assert!(text.contains("«"), "highlighted: {text}");

    let show = m.ok(["sessions", "show", "aaaaaaaa", "--all-projects"]);
    assert!(show.contains("walrus pipeline"));
    assert!(show.contains("[REDACTED:"));
    assert!(!show.contains(SECRET), "{show}");

    // Logs: owner-only, never message text or secrets.
    let logs: Vec<PathBuf> = std::fs::read_dir(m.data.join("logs"))
        .expect("logs")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!logs.is_empty());
    let all_logs: String = logs
        .iter()
        .map(|l| std::fs::read_to_string(l).unwrap_or_default())
        .collect();
    assert!(all_logs.contains("index run finished"), "{all_logs}");
    for l in logs {
        let body = std::fs::read_to_string(&l).expect("log");
        assert!(!body.contains(SECRET) && !body.contains("walrus"), "{body}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&l).expect("m").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", l.display());
        }
    }
}

#[test]
fn share_is_redacted_and_encrypts_to_age() {
    let m = Machine::new();
    two_projects(&m);
    m.ok(["index"]);
    for fmt in ["md", "json", "html"] {
        let out = m.data.join(format!("share.{fmt}"));
        m.ok([
            "share",
            "aaaaaaaa",
            "--out",
            out.to_str().expect("p"),
            "--all-projects",
        ]);
        let body = std::fs::read_to_string(&out).expect("read");
        assert!(body.contains("walrus pipeline"), "{fmt}");
        assert!(body.contains("[REDACTED:"), "{fmt}");
        assert!(!body.contains(SECRET), "{fmt}");
    }
    let enc = m.data.join("share.md.age");
    let o = m
        .mantra([
            "share",
            "aaaaaaaa",
            "--out",
            enc.to_str().expect("p"),
            "--format",
            "md",
            "--encrypt",
            "--all-projects",
        ])
        .env("MANTRA_SHARE_PASSPHRASE", "correct horse battery")
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&enc).expect("enc");
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    let mut id = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        "correct horse battery".to_string(),
    ));
    // The identity times scrypt here, now, to bound the work it accepts;
    // under a loaded test run that bound can fall below the work factor the
    // binary picked when it was less loaded (a flaky ExcessiveWork).
    id.set_max_work_factor(24);
    let dec = age::Decryptor::new(&bytes[..]).expect("decryptor");
    let mut r = dec
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .expect("decrypt");
    let mut plain = String::new();
    r.read_to_string(&mut plain).expect("read");
    assert!(plain.contains("walrus pipeline") && !plain.contains(SECRET));

    // To a recipient.
    let key = age::x25519::Identity::generate();
    let rec = key.to_public().to_string();
    let enc2 = m.data.join("share2.age");
    m.ok([
        "share",
        "aaaaaaaa",
        "--out",
        enc2.to_str().expect("p"),
        "--recipient",
        &rec,
        "--all-projects",
    ]);
    let bytes = std::fs::read(&enc2).expect("enc");
    let dec = age::Decryptor::new(&bytes[..]).expect("decryptor");
    let mut r = dec
        .decrypt(std::iter::once(&key as &dyn age::Identity))
        .expect("decrypt");
    let mut plain = String::new();
    r.read_to_string(&mut plain).expect("read");
    assert!(plain.contains("walrus"));

    // --encrypt without a passphrase is an error, and nothing is written.
    let enc3 = m.data.join("share3.age");
    let o = m.run([
        "share",
        "aaaaaaaa",
        "--out",
        enc3.to_str().expect("p"),
        "--encrypt",
        "--all-projects",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!enc3.exists());
}

#[test]
fn delete_and_wipe() {
    let m = Machine::new();
    two_projects(&m);
    m.ok(["index"]);
    m.ok(["delete", "--project", "alpha", "--yes"]);
    let list = m.json(["sessions", "list", "--json", "--all-projects"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(m
        .json(["search", "pipeline", "--json", "--all-projects"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let exposures = std::fs::read_to_string(m.data.join("exposures.json")).expect("exp");
    assert!(
        !exposures.contains("aaaaaaaa"),
        "exposures of deleted sessions are gone"
    );
    m.ok(["delete", "--before", "2026-06-01", "--yes"]);
    assert!(m
        .json(["sessions", "list", "--json", "--all-projects"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let o = m.run(["delete"]);
    assert_eq!(o.status.code(), Some(2), "a scope is required");

    let o = m.run(["wipe"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "confirmation required without a terminal"
    );
    assert!(m.data.join("sessions.db").exists());
    assert!(m.data.join("sessions-search.db").exists());
    // Both deletions are in the compliance event log, by scope and count.
    let log = std::fs::read_to_string(m.data.join("logs/audit.jsonl")).expect("event log");
    let deletes: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|e| e["event"] == "delete")
        .collect();
    assert_eq!(deletes.len(), 2, "{log}");
    assert_eq!(deletes[1]["target"]["before"], "2026-06-01T00:00:00.000Z");
    m.ok(["wipe", "--yes"]);
    for f in [
        "sessions.db",
        "sessions-search.db",
        "sessions-search.db-wal",
        "store.key",
        "exposures.json",
        "cache",
    ] {
        assert!(!m.data.join(f).exists(), "{f} remains");
    }
    // The agent's logs went too; the compliance event log is kept, its
    // chain intact, and ends with the wipe.
    let logs: Vec<_> = std::fs::read_dir(m.data.join("logs"))
        .expect("logs")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(logs, ["audit.jsonl"]);
    let before_wipe = log.lines().count();
    let log = std::fs::read_to_string(m.data.join("logs/audit.jsonl")).expect("event log");
    assert_eq!(log.lines().count(), before_wipe + 1, "{log}");
    let last: serde_json::Value =
        serde_json::from_str(log.lines().last().expect("a line")).expect("json");
    assert_eq!(last["event"], "wipe", "{log}");
    assert_eq!(last["key_removed"], true, "{log}");
    assert_eq!(last["trail_erased"], false, "{log}");
    assert_eq!(last["seq"], before_wipe + 1, "{log}");
    let chain = mantra_core::audit_log::read(&m.data.join("logs/audit.jsonl"))
        .expect("read")
        .chain;
    assert!(chain.is_intact(), "{chain:?}");
    let o = m.run(["sessions", "list", "--all-projects"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mantra index"));
}

/// Policy can have `wipe` erase the compliance trail too: the erasure is
/// recorded first, and that record survives in the OS log (here the
/// machine's `/dev/log`), with the erased chain's next seq and head hash.
#[cfg(feature = "test-roots")]
#[test]
fn wipe_erases_the_trail_only_when_policy_says_so_and_tells_the_os_log() {
    let m = Machine::new();
    m.policy("logging:\n  wipe_erases_trail: true\n");
    two_projects(&m);
    m.ok(["index"]);
    let path = m.data.join("logs/audit.jsonl");
    let before = mantra_core::audit_log::read(&path).expect("read").chain;
    let head = before.head.expect("a chained record");
    let sink = m.os_log();
    let o = m.mantra(["wipe", "--yes"]).output().expect("wipe");
    assert!(o.status.success(), "{}", support::stderr(&o));
    assert!(
        support::stderr(&o).contains("the compliance event log was erased"),
        "{}",
        support::stderr(&o)
    );
    let events = sink.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["record"]["event"], "trail_erased");
    assert_eq!(events[0]["seq"], head.seq + 1);
    assert_eq!(events[0]["record"]["prev"], head.hash.as_str());
    assert_eq!(events[1]["record"]["event"], "wipe");
    assert_eq!(events[1]["record"]["trail_erased"], true);
    assert_eq!(events[1]["seq"], 1, "a fresh chain");
    let log = std::fs::read_to_string(&path).expect("event log");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("\"trail_erased\":true"), "{log}");
}

#[test]
fn wrong_key_is_a_clear_error_and_the_store_is_untouched() {
    let m = Machine::new();
    two_projects(&m);
    m.ok(["index"]);
    let db = m.data.join("sessions.db");
    let before = std::fs::read(&db).expect("db");
    std::fs::write(m.data.join("store.key"), format!("{}\n", "ab".repeat(32))).expect("key");
    for args in [
        &["index"][..],
        &["sessions", "list", "--all-projects"][..],
        &["search", "x", "--all-projects"][..],
    ] {
        let o = m.run(args);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("key does not match"), "{err}");
    }
    assert_eq!(std::fs::read(&db).expect("db"), before);
}

/// `storage.encryption: optional` is treated as `required`: the store is
/// encrypted whenever it is written, and without a usable key nothing is
/// stored at all — never a plaintext database.
#[test]
fn optional_encryption_still_never_stores_plaintext() {
    let config = |m: &Machine, fallback: &str| {
        m.user_config(&format!(
            "storage:\n  encryption: optional\n  key_fallback: {fallback}\n"
        ));
    };

    // A key is available (key file allowed): an encrypted store.
    let m = Machine::new();
    config(&m, "file");
    two_projects(&m);
    m.ok(["index"]);
    let db = std::fs::read(m.data.join("sessions.db")).expect("db");
    assert_ne!(&db[..16], b"SQLite format 3\0");
    assert!(m.data.join("store.key").exists());

    // No key can be had (no keychain here, key file denied): refused, and
    // no database is written, encrypted or not.
    let m = Machine::new();
    config(&m, "deny");
    two_projects(&m);
    let o = m.run(["index"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("key_fallback = deny"), "{err}");
    assert!(!m.data.join("sessions.db").exists());
    assert!(!m.data.join("store.key").exists());
}

fn big_tree(m: &Machine, files: usize, msgs: usize) {
    let filler = "the quick brown fox jumps over the lazy dog ".repeat(40);
    for i in 0..files {
        let sid = format!("{i:08x}-0000-4000-8000-000000000000");
        let cwd = format!("/work/p{}", i % 7);
        let mut lines = Vec::with_capacity(msgs);
        for j in 0..msgs {
            let ts = format!("2026-01-01T10:{:02}:{:02}Z", (j / 60) % 60, j % 60);
            lines.push(user_line(
                &sid,
                &cwd,
                &format!("u{j}"),
                &ts,
                &format!("{filler} n{i}m{j}"),
            ));
        }
        m.claude_session(&cwd, &sid, &lines);
    }
}

/// Starts `mantra index` (stderr piped) over a tree of ~45 MB of
/// sessions, large enough to stop mid-run: the child, and the tree's
/// sessions and messages per session.
fn index_a_big_tree(m: &Machine) -> (std::process::Child, usize, usize) {
    let (files, msgs) = (400, 60);
    big_tree(m, files, msgs);
    let child = m
        .command(support::MANTRA)
        .arg("index")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mantra index");
    (child, files, msgs)
}

fn total_messages(m: &Machine) -> (usize, i64) {
    let list = m.json(["sessions", "list", "--json", "--all-projects"]);
    let arr = list.as_array().cloned().unwrap_or_default();
    let msgs = arr
        .iter()
        .map(|s| s["messages"].as_i64().unwrap_or(0))
        .sum();
    (arr.len(), msgs)
}

/// Sessions a reader sees in the store right now (0 while there is none).
fn stored_sessions(m: &Machine) -> usize {
    let o = m.run(["sessions", "list", "--json", "--all-projects"]);
    if !o.status.success() {
        return 0;
    }
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
}

/// `kill -9` mid-index: what was committed is consistent (whole sessions
/// only, a store and search index that pass their integrity checks), and
/// the next run completes the index with nothing lost or doubled. The test
/// proves the kill landed mid-run — the process died of SIGKILL after a
/// batch was committed and before the last one — and fails (never skips)
/// when it cannot.
#[cfg(unix)]
#[test]
fn kill_9_mid_index_leaves_a_consistent_store_that_resumes() {
    let m = Machine::new();
    let (mut child, files, msgs) = index_a_big_tree(&m);
    // Kill once a reader sees a committed batch, while the run still goes.
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!(
                "the index run ended ({status}) before a kill could test anything: \
                 make the corpus larger"
            );
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no batch committed within 120 s");
        }
        if stored_sessions(&m) > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert_eq!(
        status.signal(),
        Some(9),
        "the run had ended ({status}) when the kill landed: make the corpus larger"
    );
    // Whatever was committed is consistent: every stored session has all
    // its messages (one transaction per batch of whole files)...
    let (sessions, total) = total_messages(&m);
    eprintln!("after kill -9: {sessions} of {files} sessions stored");
    assert!(
        sessions > 0 && sessions < files,
        "the kill must land mid-run: {sessions} of {files} sessions stored \
         (make the corpus larger if all of them were)"
    );
    assert_eq!(
        total,
        sessions as i64 * msgs as i64,
        "partial sessions after kill"
    );
    // ...and the store and its search index pass SQLite's integrity check
    // (doctor's store check, read-only: before anything repairs them).
    let doctor = m.run(["doctor", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&doctor.stdout).expect("doctor json");
    let store = doc["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "store"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(store["status"], "ok", "{store:#}");
    assert!(
        store["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("{sessions} session(s)"))),
        "{store:#}"
    );
    // Resume, then once more: complete, no duplicates, nothing re-read.
    m.ok(["index"]);
    assert_eq!(total_messages(&m), (files, (files * msgs) as i64));
    let report = m.json(["index", "--json"]);
    assert_eq!(report["bytes"], 0);
    assert_eq!(report["sources_unchanged"], files);
    // Searchable, each message once: the first, one in the middle, the last.
    for word in ["n0m0", "n17m5", &format!("n{}m{}", files - 1, msgs - 1)] {
        let hits = m.json(["search", word, "--json", "--all-projects"]);
        assert_eq!(hits.as_array().map(Vec::len), Some(1), "{word}: {hits}");
    }
}

/// A loopback HTTP server that answers 404 to everything and counts the
/// connections it accepted.
struct CountingServer {
    port: u16,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CountingServer {
    fn start() -> CountingServer {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (h, st) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        h.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.set_nonblocking(false);
                        let mut buf = [0u8; 4096];
                        let _ = conn.read(&mut buf);
                        let _ = conn.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
        });
        CountingServer { port, hits, stop }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs `agent run` with the first update check due at once, until the
/// check's record appears; returns the record.
#[cfg(unix)]
fn agent_update_record(m: &Machine) -> serde_json::Value {
    let agent = m.start_agent(&["--update-check-delay", "0"]);
    let state = m.data.join("update-check.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !state.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    agent.stop();
    let text = std::fs::read_to_string(&state).expect("update check recorded");
    assert_eq!(support::mode(&state), 0o600);
    serde_json::from_str(&text).expect("record is JSON")
}

/// The agent checks for updates on its own schedule, through the policy:
/// with the network allowed it asks the configured server; with the
/// network off it records "disabled" and opens no socket.
#[cfg(unix)]
#[test]
fn agent_run_checks_for_updates_only_as_policy_allows() {
    let server = CountingServer::start();
    let url = format!("http://127.0.0.1:{}/{{channel}}/manifest.json", server.port);

    let m = Machine::new();
    m.user_config(&format!("updates:\n  url: \"{url}\"\n"));
    let record = agent_update_record(&m);
    assert_eq!(record["result"], "error", "{record}");
    assert!(server.hits() >= 1, "the server was asked");
    // `mantra doctor` shows the last check.
    let doctor = m.run(["doctor", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&doctor.stdout).expect("doctor json");
    let updates = doc["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "updates"))
        .map(|c| c["detail"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    assert!(
        updates.contains("last check") && updates.contains("error"),
        "{updates}"
    );

    let before = server.hits();
    let m = Machine::new();
    m.user_config(&format!(
        "network:\n  enabled: false\nupdates:\n  url: \"{url}\"\n"
    ));
    let record = agent_update_record(&m);
    assert_eq!(record["result"], "disabled", "{record}");
    assert_eq!(server.hits(), before, "no connection with the network off");
}

/// The agent is what runs all day: it applies the retention period
/// itself, not only `mantra index`.
#[cfg(unix)]
#[test]
fn agent_run_applies_the_retention_period() {
    let m = Machine::new();
    m.user_config("agent:\n  retention_days: 30\n");
    let old = "dddddddd-0000-4000-8000-000000000004";
    let recent = "eeeeeeee-0000-4000-8000-000000000005";
    m.claude_session(
        "/work/old",
        old,
        &[user_line(
            old,
            "/work/old",
            "u1",
            "2020-01-01T10:00:00Z",
            "stale walrus",
        )],
    );
    m.claude_session(
        "/work/new",
        recent,
        &[user_line(
            recent,
            "/work/new",
            "u1",
            "2099-01-01T10:00:00Z",
            "fresh puffin",
        )],
    );
    let agent = m.start_agent(&[]);
    let listed = || -> Vec<String> {
        let o = m.run(["sessions", "list", "--json", "--all-projects"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        seen = listed();
        if seen == [recent] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    agent.stop();
    assert_eq!(
        seen,
        [recent],
        "the idle session is deleted, the recent one kept"
    );
    let log = std::fs::read_to_string(m.data.join("logs/audit.jsonl")).expect("event log");
    assert!(
        log.lines().any(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            v["event"] == "retention" && v["days"] == 30 && v["sessions"] == 1
        }),
        "{log}"
    );
}

#[cfg(unix)]
#[test]
fn agent_run_indexes_changes_within_seconds_and_stops_on_sigterm() {
    let m = Machine::new();
    let sid = "cccccccc-0000-4000-8000-000000000003";
    let f = m.claude_session(
        "/work/gamma",
        sid,
        &[user_line(
            sid,
            "/work/gamma",
            "u1",
            "2026-01-01T10:00:00Z",
            "first okapi",
        )],
    );
    let agent = m.start_agent(&[]);
    let wait_for = |word: &str| -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let o = m.run(["search", word, "--json", "--all-projects"]);
            if o.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
                if v.as_array().is_some_and(|a| !a.is_empty()) {
                    return true;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    };
    assert!(wait_for("okapi"), "initial index");
    let appended = std::time::Instant::now();
    let mut body = std::fs::read_to_string(&f).expect("r");
    body.push_str(&user_line(
        sid,
        "/work/gamma",
        "u2",
        "2026-01-01T10:00:01Z",
        "second narwhal",
    ));
    std::fs::write(&f, body).expect("w");
    assert!(wait_for("narwhal"), "change indexed");
    assert!(
        appended.elapsed().as_secs() < 10,
        "within seconds: {:?}",
        appended.elapsed()
    );
    let code = agent.stop_within(Duration::from_secs(10));
    assert!(code.success(), "clean exit: {code}");
}

#[test]
fn project_isolation_scopes_to_the_current_directory_s_project() {
    let m = Machine::new();
    let alpha = m.home.join("code").join("alpha");
    let beta = m.home.join("code").join("beta");
    std::fs::create_dir_all(alpha.join("src")).expect("mkdir");
    std::fs::create_dir_all(&beta).expect("mkdir");
    let (a, b) = (
        alpha.to_string_lossy().into_owned(),
        beta.to_string_lossy().into_owned(),
    );
    m.claude_session(
        &a,
        "a1",
        &[user_line(
            "a1",
            &a,
            "u1",
            "2026-01-01T10:00:00Z",
            "heron in alpha",
        )],
    );
    m.claude_session(
        &b,
        "b1",
        &[user_line(
            "b1",
            &b,
            "u1",
            "2026-01-01T10:00:00Z",
            "heron in beta",
        )],
    );
    m.ok(["index"]);
    let o = m.run_in(&alpha.join("src"), ["search", "heron", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["project"].as_str(), Some(a.as_str()));
    // Another project's session is not reachable from here, even by id.
    let o = m.run_in(&alpha, ["sessions", "show", "b1"]);
    assert_eq!(o.status.code(), Some(2));
    // Outside every project: a clear error, unless asked for everything.
    let o = m.run_in(&m.home, ["search", "heron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--all-projects"));
    let o = m.run_in(&m.home, ["search", "heron", "--all-projects", "--json"]);
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(hits.as_array().map(Vec::len), Some(2));
}

/// A FIFO (or a symlink to one) where a transcript is expected used to
/// block `open()` for ever, and the agent then ignored SIGTERM. It is
/// refused with a reason; the other sessions are indexed, and the run
/// exits 2 because a source could not be read.
#[cfg(unix)]
#[test]
fn a_fifo_where_a_transcript_is_expected_is_refused_and_the_rest_indexed() {
    let m = Machine::new();
    two_projects(&m);
    let dir = m.home.join(".claude/projects/-work-alpha");
    let fifo = dir.join("cccccccc-0000-4000-8000-000000000003.jsonl");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    std::os::unix::fs::symlink(
        &fifo,
        dir.join("dddddddd-0000-4000-8000-000000000004.jsonl"),
    )
    .expect("symlink");
    let child = m
        .command(support::MANTRA)
        .args(["index", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let o = finish_within(child, Duration::from_secs(120), "mantra index over a FIFO");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    // The FIFO itself is not a file discovery picks; the symlink is.
    assert_eq!(report["sources_failed"], 1, "{report}");
    assert_eq!(report["sessions"], 2, "{report}");
    let errors = report["errors"].to_string();
    assert!(errors.contains("FIFO"), "{errors}");
}

/// SIGTERM mid-index: the run stops at its next safe point, says so, exits
/// 130, and the next run completes the index with nothing lost or doubled.
#[cfg(unix)]
#[test]
fn sigterm_mid_index_stops_it_and_the_next_run_resumes() {
    let m = Machine::new();
    let (mut child, files, msgs) = index_a_big_tree(&m);
    // Signal once the store exists (indexing has begun).
    let start = std::time::Instant::now();
    while !m.data.join("sessions.db").exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the run ended before the signal could test anything: make the corpus larger"
    );
    signal(&child, "TERM");
    let o = finish_within(child, Duration::from_secs(60), "mantra index after SIGTERM");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("next run resumes"), "{stderr}");
    let (sessions, total) = total_messages(&m);
    assert_eq!(total, sessions as i64 * msgs as i64, "partial sessions");
    assert!(sessions < files, "stopped mid-run ({sessions} of {files})");
    m.ok(["index"]);
    assert_eq!(total_messages(&m), (files, (files * msgs) as i64));
}

/// A reader that closes the pipe (`mantra rules list | head -c1`) ends the
/// command quietly with success: no panic message, no crash report.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    let m = Machine::new();
    for args in [&["rules", "list"][..], &["version"], &["policy", "schema"]] {
        let mut child = m
            .command(support::MANTRA)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Closed before the command writes anything: every write fails.
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    assert!(
        !m.data.join("crash-reports").exists(),
        "a closed pipe is not a crash"
    );
    // `version` builds no engine, so it writes no Hyperscan cache (nor
    // anything else) into the data directory.
    m.ok(["version"]);
    assert!(!m.data.exists(), "version wrote into the data directory");
}
