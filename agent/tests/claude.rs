//! Claude Code parser and discovery against the fixtures and edge cases.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use mantra_agent::{discover, parse, Assistant, DiscoveryEnv, Os, Role, SourceFile, SourceKind};

const SID: &str = "5f2a9c1e-0000-4000-8000-000000000001";

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let projects = dir.path().join(".claude").join("projects");
    support::copy_tree(
        &support::fixtures().join("claude").join("projects"),
        &projects,
    );
    let main = projects
        .join("-Users-dev-proj")
        .join(format!("{SID}.jsonl"));
    (dir, main)
}

fn src(p: &Path) -> SourceFile {
    SourceFile::new(Assistant::ClaudeCode, SourceKind::ClaudeJsonl, p)
}

#[test]
fn fixture_messages_roles_and_order() {
    let (_d, main) = setup();
    let out = parse(&src(&main), 0).expect("parse");
    assert_eq!(out.sessions.len(), 1);
    let s = &out.sessions[0];
    assert_eq!(s.id, SID);
    assert_eq!(s.assistant, Assistant::ClaudeCode);
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/Users/dev/proj")
    );
    assert_eq!(s.title.as_deref(), Some("Run tests in proj"));
    assert_eq!(
        s.started_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-10-01T09:00:00.100Z")
    );
    let ids: Vec<&str> = s.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        ["u-0001", "msg_01ABC", "u-0002", "u-0003", "msg_01DEF"]
    );
    let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User,
            Role::Assistant
        ]
    );
    assert!(s.messages[0].text.contains("sk-ant-api03-AAAA"));
    assert!(s.messages.iter().all(|m| !m.timestamp_estimated));
    // The fixture's truncated final line ends in a newline: the writer
    // finished it, so it is corrupt (skipped), not in flight.
    assert_eq!(out.stats.held_back_partial, 0);
    assert_eq!(out.stats.skipped_corrupt, 1);
    assert_eq!(out.stats.unknown_kinds, 0);
}

#[test]
fn split_assistant_records_are_merged() {
    let (_d, main) = setup();
    let out = parse(&src(&main), 0).expect("parse");
    let m = &out.sessions[0].messages[1];
    assert_eq!(m.thinking.as_deref(), Some("Run cargo test."));
    assert_eq!(m.tool_calls.len(), 1);
    assert_eq!(m.tool_calls[0].id, "toolu_01X");
    assert_eq!(m.tool_calls[0].name, "Bash");
    assert!(
        m.tool_calls[0].input_text.contains("command: cargo test"),
        "{}",
        m.tool_calls[0].input_text
    );
    // First record's time, not the continuation's.
    assert_eq!(m.timestamp.to_rfc3339(), "2025-10-01T09:00:02.000Z");
    let r = &out.sessions[0].messages[2];
    assert_eq!(r.tool_results.len(), 1);
    assert_eq!(r.tool_results[0].call_id, "toolu_01X");
    assert_eq!(r.tool_results[0].text, "test result: ok. 3 passed");
    assert!(!r.tool_results[0].is_error);
    // The signature of the thinking block is never kept.
    let json = serde_json::to_string(&out.sessions[0]).expect("json");
    assert!(!json.contains("EqQB"));
}

#[test]
fn images_are_kept_out_of_text() {
    let (_d, main) = setup();
    let out = parse(&src(&main), 0).expect("parse");
    let m = &out.sessions[0].messages[3];
    assert!(m.text.contains("[image: image/png, 1 KB]"), "{}", m.text);
    assert!(m.text.contains("what is in this screenshot?"));
    let json = serde_json::to_string(&out.sessions[0]).expect("json");
    assert!(!json.contains("iVBORw0KGgo"));
}

#[test]
fn truncated_line_resumed_after_append_yields_message_once() {
    let (_d, main) = setup();
    // Make the last line in flight: no newline yet.
    let mut bytes = std::fs::read(&main).expect("read");
    assert_eq!(bytes.pop(), Some(b'\n'));
    std::fs::write(&main, &bytes).expect("write");
    let first = parse(&src(&main), 0).expect("parse");
    assert_eq!(first.stats.held_back_partial, 1);
    assert_eq!(first.stats.skipped_corrupt, 0);
    let len = std::fs::metadata(&main).expect("meta").len();
    assert!(first.next_offset < len);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&main)
        .expect("open");
    f.write_all(br#"ated prompt"},"uuid":"u-0004","timestamp":"2025-10-01T09:02:00.000Z"}"#)
        .expect("append");
    f.write_all(b"\n").expect("nl");
    drop(f);
    let second = parse(&src(&main), first.next_offset).expect("resume");
    let s = &second.sessions[0];
    let completed: Vec<_> = s.messages.iter().filter(|m| m.id == "u-0004").collect();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].text, "truncated prompt");
    // The trailing assistant response was re-read whole (same id: upsert).
    assert!(s
        .messages
        .iter()
        .any(|m| m.id == "msg_01DEF" && m.text == "A 1x1 pixel"));
    assert!(!s.messages.iter().any(|m| m.id == "u-0001"));
    assert_eq!(second.stats.held_back_partial, 0);
    assert_eq!(second.stats.skipped_corrupt, 0);
    let end = std::fs::metadata(&main).expect("meta").len();
    assert_eq!(second.next_offset, end);
    let third = parse(&src(&main), second.next_offset).expect("again");
    assert!(third.sessions[0].messages.is_empty());
}

#[test]
fn split_response_across_resume_is_complete_after_reread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("s.jsonl");
    let part = |block: &str, uuid: &str| {
        format!(
            r#"{{"type":"assistant","cwd":"/w","uuid":"{uuid}","timestamp":"2025-10-01T09:00:00Z","requestId":"r1","message":{{"id":"msg_1","role":"assistant","content":[{block}]}}}}"#
        ) + "\n"
    };
    std::fs::write(&p, part(r#"{"type":"text","text":"first"}"#, "a1")).expect("write");
    let one = parse(&src(&p), 0).expect("parse");
    assert_eq!(one.sessions[0].messages[0].text, "first");
    assert_eq!(
        one.next_offset, 0,
        "trailing assistant response is re-read next time"
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .expect("open");
    f.write_all(part(r#"{"type":"text","text":"second"}"#, "a2").as_bytes())
        .expect("append");
    f.write_all(part(r#"{"type":"text","text":"second"}"#, "a2").as_bytes())
        .expect("dup line");
    drop(f);
    let two = parse(&src(&p), one.next_offset).expect("resume");
    let msgs = &two.sessions[0].messages;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].id, "msg_1");
    assert_eq!(msgs[0].text, "first\n\nsecond");
}

#[test]
fn subagent_transcript_is_its_own_session() {
    let (_d, main) = setup();
    let sub = main
        .parent()
        .expect("dir")
        .join(SID)
        .join("subagents")
        .join("agent-a1b2c3.jsonl");
    let out = parse(&src(&sub), 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.id, format!("{SID}/agent-a1b2c3"));
    assert_eq!(
        s.metadata.get("parent_session_id").and_then(|v| v.as_str()),
        Some(SID)
    );
    assert_eq!(
        s.metadata.get("agent_id").and_then(|v| v.as_str()),
        Some("a1b2c3")
    );
    assert_eq!(s.messages.len(), 1);
    assert_eq!(s.messages[0].text, "Explore src/ for the parser");
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/Users/dev/proj")
    );
}

#[test]
fn progress_copies_replays_unknown_and_bad_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("x.jsonl");
    let mut body = String::new();
    body += r#"{"type":"user","cwd":"C:\\Code\\x","uuid":"u1","timestamp":"2025-10-01T09:00:00Z","message":{"role":"user","content":"hello"}}"#;
    body += "\n";
    body += r#"{"type":"progress","data":{"message":{"type":"user","message":{"role":"user","content":"subagent copy"}}},"uuid":"p1"}"#;
    body += "\n{ this is not json\n";
    body += r#"{"type":"user","cwd":"C:\\Code\\x","uuid":"u1","timestamp":"2025-10-01T09:00:00Z","message":{"role":"user","content":"hello"}}"#;
    body += "\n";
    body += r#"{"type":"brand-new-kind","payload":{"x":1}}"#;
    body += "\n";
    body += r#"{"type":"user","uuid":"u2","message":{"role":"user","content":42}}"#;
    body += "\n42\n";
    body += r#"{"type":"user","uuid":"u3","message":{"role":"user","content":"no time"}}"#;
    body += "\n";
    let mut bytes = body.into_bytes();
    bytes.extend_from_slice(b"{\"type\":\"user\",\"uuid\":\"u4\",\"message\":{\"role\":\"user\",\"content\":\"bad \xff\xfe utf8\"}}\n");
    std::fs::write(&p, &bytes).expect("write");
    let out = parse(&src(&p), 0).expect("parse");
    let s = &out.sessions[0];
    let texts: Vec<&str> = s.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["hello", "no time", "bad \u{fffd}\u{fffd} utf8"]);
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("C:/Code/x")
    );
    assert_eq!(
        out.stats.skipped_corrupt, 3,
        "bad json, wrong content type, scalar line"
    );
    assert_eq!(out.stats.unknown_kinds, 1);
    assert_eq!(s.unknown_records.len(), 1);
    assert_eq!(s.unknown_records[0].kind, "brand-new-kind");
    assert!(s.messages[1].timestamp_estimated);
    assert_eq!(s.messages[1].timestamp, s.messages[0].timestamp);
    assert!(!s.messages[0].timestamp_estimated);
}

#[test]
fn discovery_default_xdg_and_config_dir_list() {
    let (d, _main) = setup();
    let env = DiscoveryEnv::new(d.path(), Os::Linux);
    let found = discover(Assistant::ClaudeCode, &env);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found
        .iter()
        .any(|f| f.path.ends_with("subagents/agent-a1b2c3.jsonl")));

    // XDG location is searched too.
    let xdg = d.path().join("xdgcfg");
    support::copy_tree(&support::fixtures().join("claude"), &xdg.join("claude"));
    let env =
        DiscoveryEnv::new(d.path(), Os::Linux).with_var("XDG_CONFIG_HOME", xdg.to_string_lossy());
    assert_eq!(discover(Assistant::ClaudeCode, &env).len(), 4);

    // CLAUDE_CONFIG_DIR (comma-separated) replaces the defaults.
    let a = d.path().join("a");
    let b = d.path().join("b");
    support::copy_tree(&support::fixtures().join("claude"), &a);
    support::copy_tree(&support::fixtures().join("claude"), &b);
    let env = DiscoveryEnv::new(d.path(), Os::MacOs).with_var(
        "CLAUDE_CONFIG_DIR",
        format!("{}, {}", a.display(), b.display()),
    );
    let found = discover(Assistant::ClaudeCode, &env);
    assert_eq!(found.len(), 4);
    assert!(found
        .iter()
        .all(|f| f.path.starts_with(&a) || f.path.starts_with(&b)));
}

/// A uuid written twice, first with no text (a placeholder the CLI later
/// rewrote): the later copy's text is kept, once and in place. A replay of
/// a record that had text is still dropped.
#[test]
fn a_repeated_uuid_keeps_the_copy_with_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("r.jsonl");
    let line = |uuid: &str, text: &str| {
        serde_json::json!({"type": "user", "cwd": "/w", "uuid": uuid,
            "timestamp": "2025-10-01T09:00:00Z",
            "message": {"role": "user", "content": text}})
        .to_string()
            + "\n"
    };
    let body = line("u1", "")
        + &line("u2", "second")
        + &line("u1", "first, written late")
        + &line("u2", "second replayed, dropped");
    std::fs::write(&p, body).expect("write");
    let out = parse(&src(&p), 0).expect("parse");
    let texts: Vec<&str> = out.sessions[0]
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["first, written late", "second"]);
}

/// A file holding only `summary` records (left by compaction, pointing at
/// other sessions) is not a session of its own.
#[test]
fn a_summary_only_file_is_no_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("s.jsonl");
    std::fs::write(
        &p,
        "{\"type\":\"summary\",\"summary\":\"Fixing the build\",\"leafUuid\":\"abc\"}\n\
         {\"type\":\"summary\",\"summary\":\"Other work\",\"leafUuid\":\"def\"}\n",
    )
    .expect("write");
    let out = parse(&src(&p), 0).expect("parse");
    assert!(out.sessions.is_empty(), "{:?}", out.sessions);
}
