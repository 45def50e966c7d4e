//! Codex CLI parser and discovery: fixture, `.jsonl.zst`, legacy `.json`,
//! resume with header, plain-wins rule.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use mantra_agent::{discover, parse, Assistant, DiscoveryEnv, Os, Role, SourceFile, SourceKind};

const ID: &str = "243232f1-a7ab-44e6-b2c3-045b673746ea";

fn setup() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    support::copy_tree(&support::fixtures().join("codex"), &d.path().join(".codex"));
    let f = d
        .path()
        .join(".codex/sessions/2025/09/18")
        .join(format!("rollout-2025-09-18T00-16-27-{ID}.jsonl"));
    (d, f)
}

fn src(kind: SourceKind, p: &Path) -> SourceFile {
    SourceFile::new(Assistant::Codex, kind, p)
}

#[test]
fn fixture_roles_tools_and_project() {
    let (_d, f) = setup();
    let out = parse(&src(SourceKind::CodexJsonl, &f), 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.id, ID);
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    assert_eq!(
        s.started_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-09-18T00:16:27.461Z")
    );
    let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
    // user, reasoning, call, output, answer — event_msg copies are skipped.
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::Assistant,
            Role::Tool,
            Role::Assistant
        ]
    );
    assert!(s.messages[0].text.contains("ghp_AAAA"));
    assert_eq!(s.messages[1].thinking.as_deref(), Some("**Running tests**"));
    let call = &s.messages[2].tool_calls[0];
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("call_abc123", "shell")
    );
    // JSON-in-JSON arguments decoded to readable text.
    assert!(
        call.input_text.contains("command: bash -lc cargo test"),
        "{}",
        call.input_text
    );
    assert!(call.input_text.contains("workdir: /home/dev/proj"));
    let res = &s.messages[3].tool_results[0];
    assert_eq!(res.call_id, "call_abc123");
    assert_eq!(res.text, "test result: ok. 3 passed\n");
    assert!(!res.is_error);
    assert_eq!(s.messages[4].text, "Fixed; all 3 tests pass.");
    assert!(s.messages.iter().all(|m| !m.timestamp_estimated));
    assert!(s.metadata.contains_key("total_token_usage"));
    let json = serde_json::to_string(s).expect("json");
    assert!(
        !json.contains("gAAAAABo-opaque"),
        "encrypted reasoning is not kept"
    );
    assert_eq!(out.stats.records, 10);
    assert_eq!(out.stats.unknown_kinds, 0);
}

#[test]
fn resume_keeps_session_identity_and_reads_only_new_lines() {
    let (_d, f) = setup();
    let first = parse(&src(SourceKind::CodexJsonl, &f), 0).expect("parse");
    let mut h = std::fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .expect("open");
    writeln!(
        h,
        r#"{{"timestamp":"2025-09-18T00:20:00.000Z","type":"response_item","payload":{{"type":"message","role":"user","content":[{{"type":"input_text","text":"thanks"}},{{"type":"input_image","image_url":"data:image/jpeg;base64,{}"}}]}}}}"#,
        "QUJD".repeat(2000)
    )
    .expect("append");
    writeln!(
        h,
        r#"{{"timestamp":"2025-09-18T00:20:01.000Z","type":"world_state","payload":{{"x":1}}}}"#
    )
    .expect("append");
    drop(h);
    let second = parse(&src(SourceKind::CodexJsonl, &f), first.next_offset).expect("resume");
    let s = &second.sessions[0];
    assert_eq!(s.id, ID);
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    assert_eq!(s.messages.len(), 1);
    assert!(
        s.messages[0]
            .text
            .starts_with("thanks\n\n[image: image/jpeg, "),
        "{}",
        s.messages[0].text
    );
    assert!(!s.messages[0].text.contains("QUJD"));
    assert_eq!(second.stats.unknown_kinds, 1);
    assert_eq!(s.unknown_records[0].kind, "world_state");
}

#[test]
fn zst_and_plain_wins() {
    let (d, f) = setup();
    let raw = std::fs::read(&f).expect("read");
    let zst = PathBuf::from(format!("{}.zst", f.display()));
    std::fs::write(&zst, zstd::encode_all(raw.as_slice(), 3).expect("zstd")).expect("write");
    let env = DiscoveryEnv::new(d.path(), Os::Linux);
    let found = discover(Assistant::Codex, &env);
    assert_eq!(found.len(), 1, "plain copy wins: {found:?}");
    assert_eq!(found[0].kind, SourceKind::CodexJsonl);
    std::fs::remove_file(&f).expect("rm");
    let found = discover(Assistant::Codex, &env);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, SourceKind::CodexJsonlZst);
    let out = parse(&found[0], 0).expect("parse zst");
    assert_eq!(out.sessions[0].id, ID);
    assert_eq!(out.sessions[0].messages.len(), 5);
    // A damaged stream keeps the decoded part.
    let mut bad = std::fs::read(&zst).expect("read");
    bad.truncate(bad.len() / 2);
    std::fs::write(&zst, bad).expect("write");
    let out = parse(&found[0], 0).expect("damaged zst still parses");
    assert!(out.stats.skipped_corrupt >= 1 || out.stats.held_back_partial == 0);
}

#[test]
fn codex_home_and_archived_and_legacy_json() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = d.path().join("custom-codex");
    std::fs::create_dir_all(home.join("archived_sessions")).expect("mkdir");
    let legacy = home
        .join("archived_sessions")
        .join("rollout-2025-04-01-abc.json");
    std::fs::write(
        &legacy,
        r#"{"session":{"id":"old-1","timestamp":"2025-04-01T10:00:00Z","instructions":""},
            "items":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]},
                     {"type":"function_call","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"c1"},
                     {"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]}]}"#,
    )
    .expect("write");
    std::fs::write(
        home.join("session_index.jsonl"),
        "{\"id\":\"old-1\",\"thread_name\":\"first name\",\"updated_at\":\"2025-04-01T10:00:00Z\"}\n{\"id\":\"old-1\",\"thread_name\":\"renamed\",\"updated_at\":\"2025-04-02T10:00:00Z\"}\n",
    )
    .expect("index");
    let env =
        DiscoveryEnv::new(d.path(), Os::Windows).with_var("CODEX_HOME", home.to_string_lossy());
    let found = discover(Assistant::Codex, &env);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, SourceKind::CodexJson);
    let out = parse(&found[0], 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.id, "old-1");
    assert_eq!(s.title.as_deref(), Some("renamed"));
    assert_eq!(s.messages.len(), 3);
    assert!(s.messages.iter().all(|m| m.timestamp_estimated));
    assert_eq!(
        s.messages[0].timestamp.to_rfc3339(),
        "2025-04-01T10:00:00.000Z"
    );
    assert_eq!(s.messages[1].tool_calls[0].input_text, "command: ls");
}
