//! The agent commands, driven through the real `mantra` binary with a
//! temporary home (discovery) and a temporary `MANTRA_HOME` (store).

mod isolated;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "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";

struct T {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    data: PathBuf,
}

impl T {
    fn new() -> T {
        let tmp = tempfile::tempdir().expect("tmp");
        let home = tmp.path().join("home");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&home).expect("home");
        T {
            _tmp: tmp,
            home,
            data,
        }
    }

    /// The command as given; query commands without a project get
    /// `--all-projects` (project isolation is on by default).
    fn cmd(&self, args: &[&str]) -> Command {
        let mut args: Vec<&str> = args.to_vec();
        let query = matches!(args.first(), Some(&"sessions" | &"search" | &"share"));
        if query && !args.contains(&"--project") {
            args.push("--all-projects");
        }
        self.raw(&args)
    }

    fn raw(&self, args: &[&str]) -> Command {
        let mut c = isolated::mantra(&self.home, &self.data);
        c.args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run mantra")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "mantra {args:?} failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("json output")
    }

    fn claude(&self, cwd: &str, sid: &str, lines: &[String]) -> PathBuf {
        let dir = self
            .home
            .join(".claude/projects")
            .join(cwd.replace('/', "-"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let f = dir.join(format!("{sid}.jsonl"));
        let mut body = std::fs::read_to_string(&f).unwrap_or_default();
        for l in lines {
            body.push_str(l);
        }
        std::fs::write(&f, body).expect("write");
        f
    }
}

fn user(sid: &str, cwd: &str, uuid: &str, ts: &str, text: &str) -> String {
    serde_json::json!({"type":"user","sessionId":sid,"cwd":cwd,"uuid":uuid,"timestamp":ts,
        "message":{"role":"user","content":text}})
    .to_string()
        + "\n"
}

fn assistant(sid: &str, cwd: &str, uuid: &str, id: &str, ts: &str, text: &str) -> String {
    serde_json::json!({"type":"assistant","sessionId":sid,"cwd":cwd,"uuid":uuid,"timestamp":ts,
        "message":{"id":id,"role":"assistant","content":[{"type":"text","text":text}]}})
    .to_string()
        + "\n"
}

fn two_projects(t: &T) {
    t.claude(
        "/work/alpha",
        "aaaaaaaa-0000-4000-8000-000000000001",
        &[
            user(
                "aaaaaaaa-0000-4000-8000-000000000001",
                "/work/alpha",
                "u1",
                "2026-01-01T10:00:00Z",
                "set up the walrus pipeline",
            ),
            assistant(
                "aaaaaaaa-0000-4000-8000-000000000001",
                "/work/alpha",
                "a1",
                "msg_a",
                "2026-01-01T10:00:01Z",
                &format!("export GITHUB_TOKEN={SECRET} then push the walrus"),
            ),
        ],
    );
    t.claude(
        "/work/beta",
        "bbbbbbbb-0000-4000-8000-000000000002",
        &[user(
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
    let t = T::new();
    two_projects(&t);
    let out = t.run(&["index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("indexed 2 of 2"), "{err}");
    assert!(!err.contains('\r'), "no progress bar when piped");

    let db = std::fs::read(t.data.join("sessions.db")).expect("db");
    assert_ne!(&db[..16], b"SQLite format 3\0");
    assert!(t.data.join("store.key").exists());
    assert!(t.data.join("exposures.json").exists());

    let list = t.json(&["sessions", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let scoped = t.json(&["sessions", "list", "--project", "alpha", "--json"]);
    assert_eq!(scoped.as_array().map(Vec::len), Some(1));
    assert_eq!(scoped[0]["project"], "/work/alpha");
    let since = t.json(&["sessions", "list", "--since", "2026-02-01", "--json"]);
    assert_eq!(since.as_array().map(Vec::len), Some(1));
    assert_eq!(since[0]["project"], "/work/beta");

    let hits = t.json(&["search", "walrus", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(3));
    let hits = t.json(&["search", "walrus", "--project", "/work/beta", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["project"], "/work/beta");
    let text = t.ok(&["search", "GITHUB_TOKEN"]);
    assert!(text.contains("[REDACTED:"), "{text}");
    assert!(!text.contains(SECRET));
    assert!(text.contains("«"), "highlighted: {text}");

    let show = t.ok(&["sessions", "show", "aaaaaaaa"]);
    assert!(show.contains("walrus pipeline"));
    assert!(show.contains("[REDACTED:"));
    assert!(!show.contains(SECRET), "{show}");

    // Logs: owner-only, never message text or secrets.
    let logs: Vec<PathBuf> = std::fs::read_dir(t.data.join("logs"))
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
    let t = T::new();
    two_projects(&t);
    t.ok(&["index"]);
    for fmt in ["md", "json", "html"] {
        let out = t.data.join(format!("share.{fmt}"));
        t.ok(&["share", "aaaaaaaa", "--out", out.to_str().expect("p")]);
        let body = std::fs::read_to_string(&out).expect("read");
        assert!(body.contains("walrus pipeline"), "{fmt}");
        assert!(body.contains("[REDACTED:"), "{fmt}");
        assert!(!body.contains(SECRET), "{fmt}");
    }
    let enc = t.data.join("share.md.age");
    let o = t
        .cmd(&[
            "share",
            "aaaaaaaa",
            "--out",
            enc.to_str().expect("p"),
            "--format",
            "md",
            "--encrypt",
        ])
        .env("MANTRA_SHARE_PASSPHRASE", "correct horse battery")
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&enc).expect("enc");
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    let id = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        "correct horse battery".to_string(),
    ));
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
    let enc2 = t.data.join("share2.age");
    t.ok(&[
        "share",
        "aaaaaaaa",
        "--out",
        enc2.to_str().expect("p"),
        "--recipient",
        &rec,
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
    let enc3 = t.data.join("share3.age");
    let o = t.run(&[
        "share",
        "aaaaaaaa",
        "--out",
        enc3.to_str().expect("p"),
        "--encrypt",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!enc3.exists());
}

#[test]
fn delete_and_wipe() {
    let t = T::new();
    two_projects(&t);
    t.ok(&["index"]);
    t.ok(&["delete", "--project", "alpha", "--yes"]);
    let list = t.json(&["sessions", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(t
        .json(&["search", "pipeline", "--json"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let exposures = std::fs::read_to_string(t.data.join("exposures.json")).expect("exp");
    assert!(
        !exposures.contains("aaaaaaaa"),
        "exposures of deleted sessions are gone"
    );
    t.ok(&["delete", "--before", "2026-06-01", "--yes"]);
    assert!(t
        .json(&["sessions", "list", "--json"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let o = t.run(&["delete"]);
    assert_eq!(o.status.code(), Some(2), "a scope is required");

    let o = t.run(&["wipe"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "confirmation required without a terminal"
    );
    assert!(t.data.join("sessions.db").exists());
    assert!(t.data.join("sessions-search.db").exists());
    // Both deletions are in the compliance event log, by scope and count.
    let log = std::fs::read_to_string(t.data.join("logs/audit.jsonl")).expect("event log");
    let deletes: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|e| e["event"] == "delete")
        .collect();
    assert_eq!(deletes.len(), 2, "{log}");
    assert_eq!(deletes[1]["target"]["before"], "2026-06-01T00:00:00.000Z");
    t.ok(&["wipe", "--yes"]);
    for f in [
        "sessions.db",
        "sessions-search.db",
        "sessions-search.db-wal",
        "store.key",
        "exposures.json",
        "cache",
    ] {
        assert!(!t.data.join(f).exists(), "{f} remains");
    }
    // The logs went too; the fresh event log holds only the wipe itself.
    let logs: Vec<_> = std::fs::read_dir(t.data.join("logs"))
        .expect("logs")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(logs, ["audit.jsonl"]);
    let log = std::fs::read_to_string(t.data.join("logs/audit.jsonl")).expect("event log");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("\"event\":\"wipe\""), "{log}");
    assert!(log.contains("\"key_removed\":true"), "{log}");
    let o = t.run(&["sessions", "list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mantra index"));
}

#[test]
fn wrong_key_is_a_clear_error_and_the_store_is_untouched() {
    let t = T::new();
    two_projects(&t);
    t.ok(&["index"]);
    let db = t.data.join("sessions.db");
    let before = std::fs::read(&db).expect("db");
    std::fs::write(t.data.join("store.key"), format!("{}\n", "ab".repeat(32))).expect("key");
    for args in [
        &["index"][..],
        &["sessions", "list"][..],
        &["search", "x"][..],
    ] {
        let o = t.run(args);
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
    let config = |t: &T, fallback: &str| {
        let dir = t.home.join(".config/mantra");
        std::fs::create_dir_all(&dir).expect("config dir");
        std::fs::write(
            dir.join("config.yaml"),
            format!("storage:\n  encryption: optional\n  key_fallback: {fallback}\n"),
        )
        .expect("config");
    };

    // A key is available (key file allowed): an encrypted store.
    let t = T::new();
    config(&t, "file");
    two_projects(&t);
    t.ok(&["index"]);
    let db = std::fs::read(t.data.join("sessions.db")).expect("db");
    assert_ne!(&db[..16], b"SQLite format 3\0");
    assert!(t.data.join("store.key").exists());

    // No key can be had (no keychain here, key file denied): refused, and
    // no database is written, encrypted or not.
    let t = T::new();
    config(&t, "deny");
    two_projects(&t);
    let o = t.run(&["index"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("key_fallback = deny"), "{err}");
    assert!(!t.data.join("sessions.db").exists());
    assert!(!t.data.join("store.key").exists());
}

fn big_tree(t: &T, files: usize, msgs: usize) {
    let filler = "the quick brown fox jumps over the lazy dog ".repeat(40);
    for i in 0..files {
        let sid = format!("{i:08x}-0000-4000-8000-000000000000");
        let cwd = format!("/work/p{}", i % 7);
        let mut lines = Vec::with_capacity(msgs);
        for j in 0..msgs {
            let ts = format!("2026-01-01T10:{:02}:{:02}Z", (j / 60) % 60, j % 60);
            lines.push(user(
                &sid,
                &cwd,
                &format!("u{j}"),
                &ts,
                &format!("{filler} n{i}m{j}"),
            ));
        }
        t.claude(&cwd, &sid, &lines);
    }
}

fn total_messages(t: &T) -> (usize, i64) {
    let list = t.json(&["sessions", "list", "--json"]);
    let arr = list.as_array().cloned().unwrap_or_default();
    let msgs = arr
        .iter()
        .map(|s| s["messages"].as_i64().unwrap_or(0))
        .sum();
    (arr.len(), msgs)
}

#[test]
fn kill_9_mid_index_leaves_a_consistent_store_that_resumes() {
    let t = T::new();
    let (files, msgs) = (400, 60); // ~45 MB
    big_tree(&t, files, msgs);
    // First a run that creates the store, so the kill lands in indexing.
    let mut child = t
        .cmd(&["index"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill once at least one batch is committed (a reader sees sessions),
    // while the run is still going.
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() || start.elapsed().as_secs() >= 60 {
            break;
        }
        let o = t.run(&["sessions", "list", "--json", "--limit", "1"]);
        if o.status.success() && o.stdout.starts_with(b"[\n  {") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let finished_early = child.try_wait().expect("wait").is_some();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    // Whatever was committed is consistent: every stored session has all
    // its messages (one transaction per batch of whole files).
    let (sessions, total) = total_messages(&t);
    eprintln!(
        "after kill -9: {sessions} of {files} sessions stored (finished early: {finished_early})"
    );
    assert_eq!(
        total,
        sessions as i64 * msgs as i64,
        "partial sessions after kill"
    );
    if !finished_early {
        assert!(
            sessions < files,
            "the kill landed mid-run ({sessions} of {files})"
        );
    }
    // Resume, then once more: complete, no duplicates, nothing re-read.
    t.ok(&["index"]);
    assert_eq!(total_messages(&t), (files, (files * msgs) as i64));
    let o = t.run(&["index", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(report["bytes"], 0);
    assert_eq!(report["sources_unchanged"], files);
    let integrity = t.ok(&["search", "n17m5", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&integrity)
            .expect("j")
            .as_array()
            .map(Vec::len),
        Some(1)
    );
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

/// `mantra agent run` with `args`, output discarded.
#[cfg(unix)]
fn start_agent(t: &T, args: &[&str]) -> std::process::Child {
    let mut all = vec!["agent", "run"];
    all.extend_from_slice(args);
    t.cmd(&all)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

/// Stops an agent as its service manager would (SIGTERM) and reaps it.
#[cfg(unix)]
fn stop_agent(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Runs `agent run` with the first update check due at once, until the
/// check's record appears; returns the record.
#[cfg(unix)]
fn agent_update_record(t: &T) -> serde_json::Value {
    let child = start_agent(t, &["--update-check-delay", "0"]);
    let state = t.data.join("update-check.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !state.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    stop_agent(child);
    let text = std::fs::read_to_string(&state).expect("update check recorded");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).expect("m").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    serde_json::from_str(&text).expect("record is JSON")
}

/// The agent checks for updates on its own schedule, through the policy:
/// with the network allowed it asks the configured server; with the
/// network off it records "disabled" and opens no socket.
#[cfg(unix)]
#[test]
fn agent_run_checks_for_updates_only_as_policy_allows() {
    let config = |t: &T, body: String| {
        let dir = t.home.join(".config/mantra");
        std::fs::create_dir_all(&dir).expect("config dir");
        std::fs::write(dir.join("config.yaml"), body).expect("config");
    };
    let server = CountingServer::start();
    let url = format!("http://127.0.0.1:{}/{{channel}}/manifest.json", server.port);

    let t = T::new();
    config(&t, format!("updates:\n  url: \"{url}\"\n"));
    let record = agent_update_record(&t);
    assert_eq!(record["result"], "error", "{record}");
    assert!(server.hits() >= 1, "the server was asked");
    // `mantra doctor` shows the last check.
    let doctor = t.run(&["doctor", "--format", "json"]);
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
    let t = T::new();
    config(
        &t,
        format!("network:\n  enabled: false\nupdates:\n  url: \"{url}\"\n"),
    );
    let record = agent_update_record(&t);
    assert_eq!(record["result"], "disabled", "{record}");
    assert_eq!(server.hits(), before, "no connection with the network off");
}

/// The agent is what runs all day: it applies the retention period
/// itself, not only `mantra index`.
#[cfg(unix)]
#[test]
fn agent_run_applies_the_retention_period() {
    let t = T::new();
    let config = t.home.join(".config/mantra");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("config.yaml"), "agent:\n  retention_days: 30\n").expect("config");
    let old = "dddddddd-0000-4000-8000-000000000004";
    let recent = "eeeeeeee-0000-4000-8000-000000000005";
    t.claude(
        "/work/old",
        old,
        &[user(
            old,
            "/work/old",
            "u1",
            "2020-01-01T10:00:00Z",
            "stale walrus",
        )],
    );
    t.claude(
        "/work/new",
        recent,
        &[user(
            recent,
            "/work/new",
            "u1",
            "2099-01-01T10:00:00Z",
            "fresh puffin",
        )],
    );
    let child = start_agent(&t, &[]);
    let listed = || -> Vec<String> {
        let o = t.run(&["sessions", "list", "--json"]);
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
    stop_agent(child);
    assert_eq!(
        seen,
        [recent],
        "the idle session is deleted, the recent one kept"
    );
    let log = std::fs::read_to_string(t.data.join("logs/audit.jsonl")).expect("event log");
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
    let t = T::new();
    let sid = "cccccccc-0000-4000-8000-000000000003";
    let f = t.claude(
        "/work/gamma",
        sid,
        &[user(
            sid,
            "/work/gamma",
            "u1",
            "2026-01-01T10:00:00Z",
            "first okapi",
        )],
    );
    let mut child = t
        .cmd(&["agent", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let wait_for = |word: &str| -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let o = t.run(&["search", word, "--json"]);
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
    body.push_str(&user(
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
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "agent did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(code.success(), "clean exit: {code}");
}

#[test]
fn project_isolation_scopes_to_the_current_directory_s_project() {
    let t = T::new();
    let alpha = t.home.join("code").join("alpha");
    let beta = t.home.join("code").join("beta");
    std::fs::create_dir_all(alpha.join("src")).expect("mkdir");
    std::fs::create_dir_all(&beta).expect("mkdir");
    let (a, b) = (
        alpha.to_string_lossy().into_owned(),
        beta.to_string_lossy().into_owned(),
    );
    t.claude(
        &a,
        "a1",
        &[user(
            "a1",
            &a,
            "u1",
            "2026-01-01T10:00:00Z",
            "heron in alpha",
        )],
    );
    t.claude(
        &b,
        "b1",
        &[user(
            "b1",
            &b,
            "u1",
            "2026-01-01T10:00:00Z",
            "heron in beta",
        )],
    );
    t.ok(&["index"]);
    let run_in =
        |dir: &std::path::Path, args: &[&str]| t.raw(args).current_dir(dir).output().expect("run");
    let o = run_in(&alpha.join("src"), &["search", "heron", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["project"].as_str(), Some(a.as_str()));
    // Another project's session is not reachable from here, even by id.
    let o = run_in(&alpha, &["sessions", "show", "b1"]);
    assert_eq!(o.status.code(), Some(2));
    // Outside every project: a clear error, unless asked for everything.
    let o = run_in(&t.home, &["search", "heron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--all-projects"));
    let o = run_in(&t.home, &["search", "heron", "--all-projects", "--json"]);
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(hits.as_array().map(Vec::len), Some(2));
}

/// Waits for `child` at most `limit`; kills it and fails when it is still
/// running then (a hang, not a slow run: the limit is generous).
#[cfg(unix)]
fn wait_or_fail(mut child: std::process::Child, limit_secs: u64, what: &str) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed().as_secs() >= limit_secs {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit_secs} s: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A FIFO (or a symlink to one) where a transcript is expected used to
/// block `open()` for ever, and the agent then ignored SIGTERM. It is
/// refused with a reason; the other sessions are indexed, and the run
/// exits 2 because a source could not be read.
#[cfg(unix)]
#[test]
fn a_fifo_where_a_transcript_is_expected_is_refused_and_the_rest_indexed() {
    let t = T::new();
    two_projects(&t);
    let dir = t.home.join(".claude/projects/-work-alpha");
    let fifo = dir.join("cccccccc-0000-4000-8000-000000000003.jsonl");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    std::os::unix::fs::symlink(
        &fifo,
        dir.join("dddddddd-0000-4000-8000-000000000004.jsonl"),
    )
    .expect("symlink");
    let child = t
        .cmd(&["index", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let o = wait_or_fail(child, 120, "mantra index over a FIFO");
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
    let t = T::new();
    let (files, msgs) = (400, 60); // ~45 MB
    big_tree(&t, files, msgs);
    let mut child = t
        .cmd(&["index"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Signal once the store exists (indexing has begun).
    let start = std::time::Instant::now();
    while !t.data.join("sessions.db").exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the run ended before the signal could test anything: make the corpus larger"
    );
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let o = wait_or_fail(child, 60, "mantra index after SIGTERM");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("next run resumes"), "{stderr}");
    let (sessions, total) = total_messages(&t);
    assert_eq!(total, sessions as i64 * msgs as i64, "partial sessions");
    assert!(sessions < files, "stopped mid-run ({sessions} of {files})");
    t.ok(&["index"]);
    assert_eq!(total_messages(&t), (files, (files * msgs) as i64));
}

/// A reader that closes the pipe (`mantra rules list | head -c1`) ends the
/// command quietly with success: no panic message, no crash report.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    let t = T::new();
    for args in [&["rules", "list"][..], &["version"], &["policy", "schema"]] {
        let mut child = t
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        !t.data.join("crash-reports").exists(),
        "a closed pipe is not a crash"
    );
    // `version` builds no engine, so it writes no Hyperscan cache (nor
    // anything else) into the data directory.
    t.ok(&["version"]);
    assert!(!t.data.exists(), "version wrote into the data directory");
}
