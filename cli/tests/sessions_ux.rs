//! What a user of the session commands expects: sessions two assistants
//! share an id with can be named, `delete` shows what it removes and asks,
//! `share` writes to stdout and asks for a passphrase on a terminal, and
//! the scan summary tells files with findings from files scanned.
//!
//! Terminal behaviour is tested on a real pseudo-terminal: util-linux
//! `script` (in every Debian base system) runs the command on one and feeds
//! it what the test writes to its standard input.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::{assert_no_secret, assistant_line, github_token, user_line, Machine};

/// The id both assistants use in these tests.
const SHARED_ID: &str = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

/// A Codex rollout holding one user message.
fn codex_session(m: &Machine, sid: &str, cwd: &str, text: &str) -> PathBuf {
    let dir = m.home.join(".codex/sessions/2026/11/20");
    std::fs::create_dir_all(&dir).expect("codex dir");
    let file = dir.join(format!("rollout-2026-11-20T09-00-00-{sid}.jsonl"));
    let lines = [
        serde_json::json!({"timestamp": "2026-11-20T09:00:00.000Z", "type": "session_meta",
            "payload": {"id": sid, "timestamp": "2026-11-20T09:00:00.000Z", "cwd": cwd,
                        "originator": "codex_cli_rs", "cli_version": "0.60.0"}}),
        serde_json::json!({"timestamp": "2026-11-20T09:00:01.000Z", "type": "response_item",
            "payload": {"type": "message", "role": "user",
                        "content": [{"type": "input_text", "text": text}]}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, body).expect("codex session");
    file
}

/// A machine with a Claude Code and a Codex session under the same id, and
/// an older Claude session of another project; indexed.
fn indexed_machine() -> Machine {
    let m = Machine::new();
    m.claude_session(
        "/work/shop",
        SHARED_ID,
        &[
            user_line(
                SHARED_ID,
                "/work/shop",
                "u-1",
                "2026-11-20T09:00:00.000Z",
                "claude walrus question",
            ),
            assistant_line(
                SHARED_ID,
                "/work/shop",
                "a-1",
                "msg-1",
                "2026-11-20T09:00:05.000Z",
                "claude walrus answer",
            ),
        ],
    );
    codex_session(&m, SHARED_ID, "/work/shop", "codex narwhal question");
    m.claude_session(
        "/work/old",
        "old-session-1",
        &[user_line(
            "old-session-1",
            "/work/old",
            "u-9",
            "2025-01-05T09:00:00.000Z",
            "an old conversation",
        )],
    );
    m.ok(["index"]);
    m
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn session_count(m: &Machine) -> usize {
    m.json(["sessions", "list", "--all-projects", "--json"])
        .as_array()
        .expect("array")
        .len()
}

#[test]
fn sessions_sharing_an_id_are_named_by_assistant() {
    let m = indexed_machine();
    let o = m.run(["sessions", "show", SHARED_ID, "--all-projects"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = stderr(&o);
    assert!(err.contains("ambiguous"), "{err}");
    assert!(err.contains("--assistant"), "{err}");

    let codex = m.ok([
        "sessions",
        "show",
        &format!("codex:{SHARED_ID}"),
        "--all-projects",
    ]);
    assert!(
        codex.contains("narwhal") && !codex.contains("walrus"),
        "{codex}"
    );
    let claude = m.ok([
        "sessions",
        "show",
        SHARED_ID,
        "--assistant",
        "claude-code",
        "--all-projects",
    ]);
    assert!(
        claude.contains("walrus") && !claude.contains("narwhal"),
        "{claude}"
    );
    // A prefix works within one assistant too.
    let prefix = m.ok(["sessions", "show", "codex:0199a1", "--all-projects"]);
    assert!(prefix.contains("narwhal"), "{prefix}");

    let listed = m.json([
        "sessions",
        "list",
        "--all-projects",
        "--assistant",
        "codex",
        "--json",
    ]);
    let rows = listed.as_array().expect("array");
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["assistant"], "codex");

    let o = m.run(["sessions", "list", "--assistant", "chatgpt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("claude-code"), "names the valid ones");
    let o = m.run([
        "sessions",
        "show",
        &format!("codex:{SHARED_ID}"),
        "--assistant",
        "claude-code",
        "--all-projects",
    ]);
    assert_eq!(o.status.code(), Some(2), "contradicting assistants");
}

#[test]
fn delete_lists_what_it_removes_and_refuses_without_an_answer() {
    let m = indexed_machine();
    assert_eq!(session_count(&m), 3);

    // --dry-run lists on stdout and deletes nothing.
    let o = m.run(["delete", "--before", "2026-01-01", "--dry-run"]);
    assert!(o.status.success(), "{o:?}");
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(listed.contains("claude-code:old-session-1"), "{listed}");
    assert!(!listed.contains(SHARED_ID), "{listed}");
    assert!(stderr(&o).contains("1 session(s) would be deleted"));
    assert_eq!(session_count(&m), 3);
    assert!(
        !audit_events(&m).contains(&"delete".to_string()),
        "a dry run is not a deletion"
    );

    // No terminal, no --yes: refused, nothing deleted.
    let o = m.run(["delete", "--before", "2026-01-01"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    assert_eq!(session_count(&m), 3);

    // A qualified id deletes that assistant's session only.
    m.ok([
        "delete",
        "--session",
        SHARED_ID,
        "--assistant",
        "codex",
        "--yes",
    ]);
    assert_eq!(session_count(&m), 2);
    let left = m.ok(["sessions", "show", SHARED_ID, "--all-projects"]);
    assert!(left.contains("walrus"), "{left}");
    assert!(audit_events(&m).contains(&"delete".to_string()));

    // Nothing matching is said, and is no error.
    let o = m.run(["delete", "--before", "2000-01-01", "--yes"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("nothing was deleted"), "{}", stderr(&o));
}

#[test]
fn delete_asks_on_a_terminal_and_takes_only_yes_for_yes() {
    let m = indexed_machine();
    let o = on_terminal(&m, &["delete", "--before", "2026-01-01"], "n\n");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let screen = String::from_utf8_lossy(&o.stdout);
    assert!(screen.contains("old-session-1"), "lists first: {screen}");
    assert!(screen.contains("[y/N]"), "{screen}");
    assert_eq!(session_count(&m), 3, "'n' deletes nothing");

    let o = on_terminal(&m, &["delete", "--before", "2026-01-01"], "y\n");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(session_count(&m), 2);
}

#[test]
fn share_writes_to_stdout_and_armors_encrypted_output() {
    let m = indexed_machine();
    let md = m.ok([
        "share",
        &format!("claude-code:{SHARED_ID}"),
        "--all-projects",
    ]);
    assert!(md.contains("walrus"), "{md}");

    let key = age::x25519::Identity::generate();
    let recipient = key.to_public().to_string();
    let binary = m
        .mantra([
            "share",
            &format!("codex:{SHARED_ID}"),
            "--all-projects",
            "--recipient",
            &recipient,
        ])
        .output()
        .expect("run");
    assert!(binary.status.success(), "{binary:?}");
    assert!(binary.stdout.starts_with(b"age-encryption.org/v1"));
    assert!(decrypt(&binary.stdout, &key).contains("narwhal"));

    let armored = m.ok([
        "share",
        &format!("codex:{SHARED_ID}"),
        "--all-projects",
        "--recipient",
        &recipient,
        "--armor",
        "--out",
        "-",
    ]);
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let reader = age::armor::ArmoredReader::new(armored.as_bytes());
    let mut plain = String::new();
    age::Decryptor::new(reader)
        .expect("armored age")
        .decrypt(std::iter::once(&key as &dyn age::Identity))
        .expect("decrypt")
        .read_to_string(&mut plain)
        .expect("read");
    assert!(plain.contains("narwhal"));
}

#[test]
fn share_asks_for_the_passphrase_twice_on_a_terminal() {
    let m = indexed_machine();
    let out = m.path().join("shared.md.age");
    let args = [
        "share",
        &format!("codex:{SHARED_ID}"),
        "--all-projects",
        "--encrypt",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    let o = on_terminal(&m, &args, "first try\nsecond try\n");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("passphrases differ"),
        "{o:?}"
    );
    assert!(!out.exists(), "nothing written on a mismatch");

    let o = on_terminal(&m, &args, "correct horse\ncorrect horse\n");
    assert!(o.status.success(), "{o:?}");
    let bytes = std::fs::read(&out).expect("written");
    let mut id = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        "correct horse".to_string(),
    ));
    // The work factor is tuned to the encrypting machine's speed: allow a
    // loaded one's.
    id.set_max_work_factor(24);
    let mut plain = String::new();
    age::Decryptor::new(&bytes[..])
        .expect("age")
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .expect("decrypt with the typed passphrase")
        .read_to_string(&mut plain)
        .expect("read");
    assert!(plain.contains("narwhal"));

    // Without a terminal and without the variable: a clear error.
    let o = m.run(args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("MANTRA_SHARE_PASSPHRASE"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_scan_summary_counts_files_with_findings_apart() {
    let m = Machine::new();
    let dir = m.path().join("tree");
    std::fs::create_dir_all(&dir).expect("dir");
    let token = github_token();
    let other = github_token();
    std::fs::write(dir.join("a.env"), format!("T1={token}\nT2={other}\n")).expect("a");
    std::fs::write(dir.join("b.txt"), "nothing here\n").expect("b");
    std::fs::write(dir.join("c.txt"), "nothing here either\n").expect("c");
    let o = m.run(["scan", dir.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("2 finding(s) in 1 of 3 file(s) scanned"),
        "{err}"
    );
    assert_no_secret(&err, &token);
}

/// The compliance log's event names, in order.
fn audit_events(m: &Machine) -> Vec<String> {
    let log = std::fs::read_to_string(m.data.join("logs/audit.jsonl")).unwrap_or_default();
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["event"].as_str().map(str::to_string))
        .collect()
}

fn decrypt(bytes: &[u8], key: &age::x25519::Identity) -> String {
    let mut plain = String::new();
    age::Decryptor::new(bytes)
        .expect("age")
        .decrypt(std::iter::once(key as &dyn age::Identity))
        .expect("decrypt")
        .read_to_string(&mut plain)
        .expect("read");
    plain
}

/// Runs `mantra args` on a pseudo-terminal, typing `typed`; what appeared
/// on the terminal (stdout and stderr alike) is the output's stdout. A
/// command still waiting for input after a minute fails the test instead
/// of hanging it.
fn on_terminal(m: &Machine, args: &[&str], typed: &str) -> Output {
    let mut line = shell_quote(Path::new(support::MANTRA).to_str().expect("utf-8"));
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let out = tempfile::tempdir().expect("tempdir");
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = m
        .command("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("util-linux script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(typed.as_bytes())
        .expect("type");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`mantra {}` still waiting after 60 s; the terminal showed:\n{}",
                args.join(" "),
                std::fs::read_to_string(&stdout).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&stdout).expect("stdout"),
        stderr: std::fs::read(&stderr).expect("stderr"),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
