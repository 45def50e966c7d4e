//! Gemini, Cursor, Copilot Chat, Cline/Roo, Continue, Aider and opencode
//! against the fixtures (SQLite ones built from the `.sql` dumps), with
//! discovery from a temporary home.

mod support;

use std::path::Path;

use mantra_agent::{discover, parse, Assistant, DiscoveryEnv, Os, Role, SourceError, SourceKind};

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn only(a: Assistant, env: &DiscoveryEnv) -> mantra_agent::SourceFile {
    let found = discover(a, env);
    assert_eq!(found.len(), 1, "{a}: {found:?}");
    found.into_iter().next().expect("one")
}

#[test]
fn gemini_jsonl_replay_set_rewind_and_project_registry() {
    let h = home();
    support::copy_tree(
        &support::fixtures().join("gemini"),
        &h.path().join(".gemini"),
    );
    std::fs::write(
        h.path().join(".gemini/projects.json"),
        r#"{"projects":{"/home/dev/proj":"proj"}}"#,
    )
    .expect("w");
    let env = DiscoveryEnv::new(h.path(), Os::Linux);
    let src = only(Assistant::GeminiCli, &env);
    assert_eq!(src.kind, SourceKind::GeminiJsonl);
    let out = parse(&src, 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.id, "3f9a1b2c-1111-4222-8333-444455556666");
    assert_eq!(s.title.as_deref(), Some("List src files"));
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    let ids: Vec<&str> = s.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2"], "m3 rewound away");
    assert_eq!(s.messages[0].role, Role::User);
    assert_eq!(s.messages[1].role, Role::Assistant);
    // The last copy of m2 wins: it has the tool result.
    let m2 = &s.messages[1];
    assert_eq!(m2.tool_calls[0].name, "list_directory");
    assert_eq!(m2.tool_calls[0].input_text, "path: /home/dev/proj/src");
    assert!(
        m2.tool_results[0].text.contains("main.rs\nlib.rs"),
        "{:?}",
        m2.tool_results
    );
    assert!(m2.thinking.is_none(), "the later copy has no thoughts");
    assert_eq!(m2.timestamp.to_rfc3339(), "2026-05-01T10:00:07.000Z");
}

#[test]
fn gemini_legacy_json_and_checkpoint() {
    let h = home();
    let chats = h.path().join(".gemini/tmp/abcdef/chats");
    std::fs::create_dir_all(&chats).expect("mkdir");
    std::fs::write(
        h.path().join(".gemini/tmp/abcdef/.project_root"),
        "/srv/app\n",
    )
    .expect("w");
    std::fs::write(
        chats.join("session-2025-01-01T10-00-aaaa.json"),
        r#"{"sessionId":"aaaa","projectHash":"abcdef","startTime":"2025-01-01T10:00:00Z","messages":[
            {"id":"x1","type":"user","content":"hi","timestamp":"2025-01-01T10:00:01Z"},
            {"id":"x2","type":"gemini","content":[{"text":"hello"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}]}"#,
    )
    .expect("w");
    std::fs::write(
        chats.join("session-2025-01-02T10-00-bbbb.jsonl"),
        "{\"sessionId\":\"bbbb\"}\n{\"id\":\"a\",\"type\":\"user\",\"content\":\"old\"}\n{\"$set\":{\"messages\":[{\"id\":\"b\",\"type\":\"user\",\"content\":\"new\"}]}}\n{\"$rewindTo\":42}\n",
    )
    .expect("w");
    let env = DiscoveryEnv::new(h.path(), Os::Windows);
    let mut found = discover(Assistant::GeminiCli, &env);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(found.len(), 2);
    let legacy = parse(&found[0], 0).expect("json");
    let s = &legacy.sessions[0];
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/srv/app")
    );
    assert_eq!(s.messages.len(), 2);
    assert!(s.messages[1].timestamp_estimated);
    assert_eq!(s.messages[1].text, "hello\n\n[image: image/png, 1 KB]");
    let cp = parse(&found[1], 0).expect("jsonl");
    let texts: Vec<&str> = cp.sessions[0]
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["new"]);
    assert_eq!(cp.stats.skipped_corrupt, 1, "$rewindTo with a number");
}

fn cursor_home(os: Os) -> (tempfile::TempDir, DiscoveryEnv, std::path::PathBuf) {
    let h = home();
    let env = DiscoveryEnv::new(h.path(), os);
    let user = env.app_data().join("Cursor").join("User");
    let global = user.join("globalStorage");
    let ws = user.join("workspaceStorage").join("4f1e2d");
    std::fs::create_dir_all(&global).expect("mkdir");
    std::fs::create_dir_all(&ws).expect("mkdir");
    let db = global.join("state.vscdb");
    support::load_sql(&db, &support::fixtures().join("cursor/global_state.sql"));
    support::load_sql(
        &ws.join("state.vscdb"),
        &support::fixtures().join("cursor/workspace_state.sql"),
    );
    std::fs::write(
        ws.join("workspace.json"),
        r#"{"folder":"file:///Users/dev/proj"}"#,
    )
    .expect("w");
    (h, env, db)
}

#[test]
fn cursor_composer_bubbles_and_workspace_project() {
    for os in [Os::Linux, Os::MacOs, Os::Windows] {
        let (_h, env, db) = cursor_home(os);
        let before = std::fs::read(&db).expect("read");
        let src = only(Assistant::Cursor, &env);
        assert_eq!(src.path, db);
        let out = parse(&src, 0).expect("parse");
        assert_eq!(out.sessions.len(), 1);
        let s = &out.sessions[0];
        assert_eq!(s.id, "c0ffee00-0000-4000-8000-000000000001");
        assert_eq!(s.title.as_deref(), Some("Fix login"));
        assert_eq!(
            s.project.as_ref().map(|p| p.path.as_str()),
            Some("/Users/dev/proj")
        );
        assert_eq!(s.started_at.map(|t| t.millis()), Some(1_759_300_000_000));
        let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant]);
        assert!(s.messages[0].text.contains("DB_PASSWORD=hunter2hunter2"));
        assert_eq!(s.messages[1].thinking.as_deref(), Some("check auth.ts"));
        assert_eq!(
            s.messages[1].timestamp.to_rfc3339(),
            "2025-10-01T09:00:20.000Z"
        );
        assert!(!s.messages[1].timestamp_estimated);
        // Opened read-only: the database is byte-for-byte unchanged.
        assert_eq!(std::fs::read(&db).expect("read"), before);
    }
}

#[test]
fn cursor_locked_database_is_a_clear_transient_error() {
    let (_h, env, db) = cursor_home(Os::Linux);
    let writer = rusqlite::Connection::open(&db).expect("open");
    writer
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO ItemTable VALUES ('k','v');")
        .expect("lock");
    let err = parse(&only(Assistant::Cursor, &env), 0).expect_err("locked");
    assert!(matches!(err, SourceError::Locked { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("locked"));
    writer.execute_batch("ROLLBACK").expect("unlock");
    assert!(parse(&only(Assistant::Cursor, &env), 0).is_ok());
}

#[test]
fn sqlcipher_build_reads_plain_sqlite_without_key() {
    let h = home();
    let db = h.path().join("plain.db");
    support::load_sql(&db, &support::fixtures().join("opencode/opencode.sql"));
    let head = std::fs::read(&db).expect("read");
    assert!(head.starts_with(b"SQLite format 3\0"), "a plain database");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let v: String = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .expect("sqlcipher linked");
    assert!(!v.is_empty());
}

#[test]
fn copilot_jsonl_mutation_log_and_json() {
    let h = home();
    let env = DiscoveryEnv::new(h.path(), Os::Linux);
    let user = env.app_data().join("Code").join("User");
    support::copy_tree(
        &support::fixtures().join("vscode/workspaceStorage"),
        &user.join("workspaceStorage"),
    );
    let src = only(Assistant::CopilotChat, &env);
    assert_eq!(src.kind, SourceKind::CopilotJsonl);
    let out = parse(&src, 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.id, "7d1e0c55-aaaa-4bbb-8ccc-000000000001");
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    assert_eq!(s.messages.len(), 2);
    assert_eq!(
        (s.messages[0].role, s.messages[0].text.as_str()),
        (Role::User, "explain main.rs")
    );
    assert!(!s.messages[0].timestamp_estimated);
    assert_eq!(s.messages[0].timestamp.millis(), 1_759_300_001_000);
    assert_eq!(s.messages[1].role, Role::Assistant);
    assert_eq!(s.messages[1].text, "`main.rs` starts the server.");
    assert!(s.messages[1].timestamp_estimated);
    assert_eq!(
        s.metadata.get("models"),
        Some(&serde_json::json!(["copilot/gpt-4.1"]))
    );

    // Truncating push (kind 2 with i), delete (kind 3), bad path, old .json.
    let dir = user.join("globalStorage/emptyWindowChatSessions");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("s2.jsonl"),
        concat!(
            "{\"kind\":0,\"v\":{\"sessionId\":\"s2\",\"requests\":[{\"requestId\":\"r1\",\"message\":{\"text\":\"one\"},\"response\":[]},{\"requestId\":\"r2\",\"message\":{\"text\":\"two\"},\"response\":[]}],\"customTitle\":\"t\"}}\n",
            "{\"kind\":2,\"k\":[\"requests\"],\"v\":[{\"requestId\":\"r3\",\"message\":{\"text\":\"three\"},\"response\":[{\"kind\":\"markdownContent\",\"content\":{\"value\":\"ok\"}}]}],\"i\":1}\n",
            "{\"kind\":3,\"k\":[\"customTitle\"]}\n",
            "{\"kind\":1,\"k\":[\"nope\",5],\"v\":1}\n"
        ),
    )
    .expect("w");
    std::fs::write(
        dir.join("s3.json"),
        r#"{"version":3,"sessionId":"s3","creationDate":1759300000000,"requests":[{"requestId":"q","timestamp":1759300000500,"message":{"text":"hi"},"response":[{"value":"hello"}]}]}"#,
    )
    .expect("w");
    let all = discover(Assistant::CopilotChat, &env);
    assert_eq!(all.len(), 3);
    let s2 = all
        .iter()
        .find(|f| f.path.ends_with("s2.jsonl"))
        .expect("s2");
    let out = parse(s2, 0).expect("parse");
    let texts: Vec<&str> = out.sessions[0]
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["one", "three", "ok"]);
    assert_eq!(out.sessions[0].title, None);
    assert_eq!(out.stats.skipped_corrupt, 1);
    assert!(out.sessions[0].project.is_none());
    let s3 = all
        .iter()
        .find(|f| f.path.ends_with("s3.json"))
        .expect("s3");
    let out = parse(s3, 0).expect("parse");
    assert_eq!(out.sessions[0].messages[1].text, "hello");
}

#[test]
fn cline_and_roo_tasks() {
    let h = home();
    let env = DiscoveryEnv::new(h.path(), Os::MacOs);
    let ext = env
        .app_data()
        .join("Code/User/globalStorage/saoudrizwan.claude-dev");
    support::copy_tree(&support::fixtures().join("cline/tasks"), &ext.join("tasks"));
    let roo = env
        .app_data()
        .join("Cursor/User/globalStorage/rooveterinaryinc.roo-cline/tasks/1726000000001");
    std::fs::create_dir_all(&roo).expect("mkdir");
    std::fs::write(
        roo.join("ui_messages.json"),
        r#"[{"ts":1726000000001,"type":"say","say":"task","text":"fix bug"},{"ts":1726000000900,"type":"say","say":"text","text":"partial","partial":true},{"ts":1726000001000,"type":"say","say":"text","text":"done"}]"#,
    )
    .expect("w");
    let src = only(Assistant::Cline, &env);
    let out = parse(&src, 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.assistant, Assistant::Cline);
    assert_eq!(s.id, "1726000000000");
    assert_eq!(s.title.as_deref(), Some("add a README"));
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    assert!(s.messages[1].text.contains("<write_to_file>"));
    assert!(s.messages.iter().all(|m| m.timestamp_estimated));
    assert_eq!(s.started_at.map(|t| t.millis()), Some(1_726_000_000_000));
    assert_eq!(s.metadata.get("tokens_in"), Some(&serde_json::json!(1200)));

    let r = only(Assistant::RooCode, &env);
    let out = parse(&r, 0).expect("roo");
    let s = &out.sessions[0];
    assert_eq!(s.assistant, Assistant::RooCode);
    let texts: Vec<&str> = s.messages.iter().map(|m| m.text.as_str()).collect();
    // An event left `partial` is the last state of a message whose stream
    // stopped (the extension rewrites it in place while streaming): its
    // text is kept, since it may hold what a user pasted or a tool printed.
    assert_eq!(texts, ["fix bug", "partial", "done"]);
    assert!(!s.messages[1].timestamp_estimated);

    // Mid-rewrite file: a transient error, not an empty session.
    std::fs::write(
        src.path.join("api_conversation_history.json"),
        "[{\"role\":\"user\",",
    )
    .expect("w");
    let err = parse(&src, 0).expect_err("malformed");
    assert!(matches!(err, SourceError::Malformed { .. }) && err.is_transient());
}

#[test]
fn continue_sessions_estimated_times() {
    let h = home();
    support::copy_tree(
        &support::fixtures().join("continue"),
        &h.path().join("cont"),
    );
    let env = DiscoveryEnv::new(h.path(), Os::Linux).with_var(
        "CONTINUE_GLOBAL_DIR",
        h.path().join("cont").to_string_lossy(),
    );
    let out = parse(&only(Assistant::Continue, &env), 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(s.title.as_deref(), Some("Explain main.rs"));
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    assert_eq!(s.started_at.map(|t| t.millis()), Some(1_759_300_000_000));
    assert_eq!(s.messages.len(), 2);
    assert!(s.messages[0].text.starts_with("explain main.rs"));
    assert!(s.messages[0]
        .text
        .contains("[context: main.rs]\nfn main(){}"));
    assert_eq!(s.messages[1].role, Role::Assistant);
    assert!(s
        .messages
        .iter()
        .all(|m| m.timestamp_estimated && m.timestamp.millis() == 1_759_300_000_000));
}

#[test]
fn aider_markdown_history() {
    let h = home();
    let proj = h.path().join("code").join("proj");
    support::copy_tree(&support::fixtures().join("aider"), &proj);
    std::fs::create_dir_all(h.path().join("node_modules/x")).expect("mkdir");
    std::fs::write(
        h.path().join("node_modules/x/.aider.chat.history.md"),
        "# aider chat started at 2025-01-01 00:00:00\n",
    )
    .expect("w");
    let env = DiscoveryEnv::new(h.path(), Os::Linux);
    let src = only(Assistant::Aider, &env);
    let out = parse(&src, 0).expect("parse");
    assert_eq!(out.sessions.len(), 1);
    let s = &out.sessions[0];
    assert_eq!(
        s.project.as_ref().map(|p| p.path.clone()),
        Some(proj.to_string_lossy().into_owned())
    );
    let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Tool, Role::User, Role::Assistant, Role::Tool]);
    assert_eq!(s.messages[1].text, "add a docstring to main()");
    assert!(s.messages[2].text.starts_with("Here is the change:"));
    assert!(s.messages[2].text.contains(">>>>>>> REPLACE"));
    assert!(s.messages[3]
        .text
        .starts_with("Applied edit to src/main.py"));
    assert!(s.messages.iter().all(|m| m.timestamp_estimated));
    assert_eq!(
        s.started_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-10-01T09:00:00.000Z")
    );
}

#[test]
fn opencode_sqlite_and_json_storage() {
    let h = home();
    let data = h.path().join("xdg-data").join("opencode");
    std::fs::create_dir_all(&data).expect("mkdir");
    support::load_sql(
        &data.join("opencode.db"),
        &support::fixtures().join("opencode/opencode.sql"),
    );
    let storage = data.join("storage");
    for (p, body) in [
        (
            "session/prj_9/ses_old.json",
            r#"{"id":"ses_old","directory":"/srv/old","title":"Old","time":{"created":1700000000000}}"#,
        ),
        (
            "message/ses_old/msg_a.json",
            r#"{"id":"msg_a","sessionID":"ses_old","role":"user","time":{"created":1700000001000}}"#,
        ),
        (
            "part/msg_a/prt_a.json",
            r#"{"id":"prt_a","type":"text","text":"legacy hello"}"#,
        ),
        ("part/msg_a/prt_b.json", "{broken"),
    ] {
        let f = storage.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(f, body).expect("w");
    }
    let env = DiscoveryEnv::new(h.path(), Os::Linux)
        .with_var("XDG_DATA_HOME", h.path().join("xdg-data").to_string_lossy());
    let found = discover(Assistant::Opencode, &env);
    assert_eq!(found.len(), 2);
    let db = found
        .iter()
        .find(|f| f.kind == SourceKind::OpencodeDb)
        .expect("db");
    let out = parse(db, 0).expect("parse");
    let s = &out.sessions[0];
    assert_eq!(
        (s.id.as_str(), s.title.as_deref()),
        ("ses_01", Some("Add retry"))
    );
    assert_eq!(
        s.project.as_ref().map(|p| p.path.as_str()),
        Some("/home/dev/proj")
    );
    assert_eq!(s.messages.len(), 2);
    assert_eq!(
        (s.messages[0].role, s.messages[0].text.as_str()),
        (Role::User, "add a retry to fetch()")
    );
    let a = &s.messages[1];
    assert_eq!(a.role, Role::Assistant);
    assert_eq!(a.tool_calls[0].name, "edit");
    assert_eq!(
        a.tool_calls[0].input_text,
        "filePath: /home/dev/proj/src/fetch.ts"
    );
    assert_eq!(a.tool_results[0].text, "ok");
    assert_eq!(a.timestamp.millis(), 1_759_300_001_000);
    let st = found
        .iter()
        .find(|f| f.kind == SourceKind::OpencodeStorage)
        .expect("storage");
    let out = parse(st, 0).expect("storage parse");
    assert_eq!(out.sessions[0].messages[0].text, "legacy hello");
    assert_eq!(out.stats.skipped_corrupt, 1);
}

#[test]
fn discover_all_on_empty_home_finds_nothing_and_never_fails() {
    let h = home();
    for os in [Os::Linux, Os::MacOs, Os::Windows] {
        assert!(mantra_agent::discover_all(&DiscoveryEnv::new(h.path(), os)).is_empty());
    }
    assert!(mantra_agent::discover_all(&DiscoveryEnv::new(
        Path::new("/nonexistent/home"),
        Os::Linux
    ))
    .is_empty());
}

/// A Cline task with only `ui_messages.json`: commands run, their output
/// and the assistant's follow-up questions are indexed with their roles,
/// and the task prompt is the user's.
#[test]
fn cline_ui_only_task_keeps_commands_outputs_and_questions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let task = dir.path().join("1726000000000");
    std::fs::create_dir_all(&task).expect("task dir");
    std::fs::write(
        task.join("ui_messages.json"),
        r#"[{"ts":1726000000001,"type":"say","say":"task","text":"deploy it"},
            {"ts":1726000000002,"type":"ask","ask":"command","text":"cat .env"},
            {"ts":1726000000003,"type":"ask","ask":"command_output","text":"TOKEN=abc"},
            {"ts":1726000000004,"type":"say","say":"command_output","text":"done"},
            {"ts":1726000000005,"type":"ask","ask":"followup","text":"{\"question\":\"which env?\"}"},
            {"ts":1726000000006,"type":"say","say":"user_feedback","text":"prod"},
            {"ts":1726000000007,"type":"say","say":"api_req_started","text":"{}"}]"#,
    )
    .expect("ui");
    let out = mantra_agent::sources::cline::parse(&task, Assistant::Cline).expect("parse");
    let roles: Vec<(Role, &str)> = out.sessions[0]
        .messages
        .iter()
        .map(|m| (m.role, m.text.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (Role::User, "deploy it"),
            (Role::Tool, "cat .env"),
            (Role::Tool, "TOKEN=abc"),
            (Role::Tool, "done"),
            (Role::Assistant, "{\"question\":\"which env?\"}"),
            (Role::User, "prod"),
        ]
    );
}

/// Continue keeps a tool call's processed arguments (a new file's whole
/// contents) beside the message: they are indexed with the call, once.
#[test]
fn continue_tool_call_states_are_indexed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("abc.json");
    let session = serde_json::json!({
        "sessionId": "abc", "title": "t", "workspaceDirectory": "/w",
        "history": [
            {"message": {"role": "user", "content": "make a .env"}},
            {"message": {"role": "assistant", "content": "",
                         "toolCalls": [{"id": "call-1", "function": {"name": "create_new_file",
                                        "arguments": "{\"filepath\":\".env\"}"}}]},
             "toolCallStates": [{"toolCallId": "call-1", "status": "done",
                                 "toolCall": {"function": {"name": "create_new_file"}},
                                 "processedArgs": {"filepath": ".env", "contents": "API_TOKEN=walrus-42"}}]},
            {"message": {"role": "assistant", "content": "again"},
             "toolCallState": {"toolCallId": "call-2",
                               "toolCall": {"function": {"name": "edit_existing_file"}},
                               "processedArgs": {"filepath": "a.rs", "changes": "narwhal"}}}
        ]
    });
    std::fs::write(&p, session.to_string()).expect("write");
    let out = mantra_agent::sources::continue_dev::parse(&p).expect("parse");
    let m = &out.sessions[0].messages;
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!(m[1].tool_calls.len(), 1, "merged into the raw call");
    assert!(
        m[1].tool_calls[0]
            .input_text
            .contains("API_TOKEN=walrus-42"),
        "{m:?}"
    );
    assert_eq!(m[2].tool_calls[0].name, "edit_existing_file");
    assert!(m[2].tool_calls[0].input_text.contains("narwhal"));
}

/// Gemini CLI subagent chats saved as `.json` under their parent's folder
/// are discovered beside the `.jsonl` ones, and parse.
#[test]
fn gemini_subagent_chats_in_either_form_are_discovered() {
    let h = home();
    let sub = h.path().join(".gemini/tmp/abcdef/chats/parent-1");
    std::fs::create_dir_all(&sub).expect("mkdir");
    std::fs::write(
        sub.join("child-a.json"),
        r#"{"sessionId":"child-a","messages":[{"id":"m1","type":"user","content":"subagent task"}]}"#,
    )
    .expect("w");
    std::fs::write(
        sub.join("child-b.jsonl"),
        "{\"sessionId\":\"child-b\"}\n{\"id\":\"m1\",\"type\":\"user\",\"content\":\"other\"}\n",
    )
    .expect("w");
    std::fs::write(sub.join("notes.txt"), "not a chat").expect("w");
    let env = DiscoveryEnv::new(h.path(), Os::Linux);
    let mut found = discover(Assistant::GeminiCli, &env);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].kind, SourceKind::GeminiJson);
    let out = parse(&found[0], 0).expect("parse");
    assert_eq!(out.sessions[0].messages[0].text, "subagent task");
}
