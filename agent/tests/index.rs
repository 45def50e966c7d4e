//! Indexing Claude Code transcripts: scanning on ingest, redaction at
//! rest, incremental reads, growing messages, the exposure list.

mod support;

use mantra_agent::store::query::Highlight;
use mantra_agent::AgentConfig;
use support::{append, assistant_line, user_line, Env, SECRET};

const CWD: &str = "/home/dev/shop";
const SID: &str = "11111111-2222-4333-8444-555555555555";

fn hl() -> Highlight {
    Highlight {
        open: "<".into(),
        close: ">".into(),
    }
}

fn write_session(env: &Env) -> std::path::PathBuf {
    let f = env.claude_file(CWD, SID);
    append(
        &f,
        &user_line(
            SID,
            CWD,
            "u1",
            "2026-01-01T10:00:00Z",
            "deploy the shop please",
        ),
    );
    append(
        &f,
        &assistant_line(
            SID,
            CWD,
            "a1",
            "msg_1",
            "2026-01-01T10:00:01Z",
            &format!("use token {SECRET} for the deploy"),
        ),
    );
    append(
        &f,
        &user_line(SID, CWD, "u2", "2026-01-01T10:00:02Z", "thanks pineapple"),
    );
    f
}

#[test]
fn secrets_are_found_stored_redacted_and_never_in_findings() {
    let env = Env::new();
    write_session(&env);
    let mut store = env.open();
    let config = AgentConfig::default();
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1);
    assert_eq!(r.messages, 3);
    assert!(r.findings >= 1, "{r:?}");
    // Findings hold the preview and fingerprint, never the secret.
    let (preview, fp): (String, String) = store
        .connection()
        .query_row(
            "SELECT preview, fingerprint FROM findings LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("finding");
    assert!(!preview.contains(SECRET) && preview.len() < SECRET.len());
    assert_eq!(
        fp,
        mantra_detect::finding::fingerprint(&config.fingerprint_key, SECRET.as_bytes())
    );
    let leaked: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM findings WHERE instr(preview, ?1) OR instr(fingerprint, ?1) OR instr(rule_id, ?1)",
            [SECRET],
            |r| r.get(0),
        )
        .expect("q");
    assert_eq!(leaked, 0);
    // Search neither finds the secret nor shows it.
    assert!(store.search(SECRET, None, 10, &hl()).expect("s").is_empty());
    let hits = store.search("deploy token", None, 10, &hl()).expect("s");
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].snippet.contains("[REDACTED:"),
        "{}",
        hits[0].snippet
    );
    assert!(!hits[0].snippet.contains(SECRET));
    // Shown messages are redacted too.
    let s = store.find_session(SID, None).expect("session");
    assert_eq!(s.project.as_deref(), Some(CWD));
    let msgs = store.session_messages(s.rowid).expect("msgs");
    assert!(msgs.iter().all(|m| !m.text.contains(SECRET)));
    // Exposure list for the hooks.
    let n = mantra_agent::lifecycle::write_exposures(&store, &env.data, &config.fingerprint_key)
        .expect("exposures");
    assert!(n >= 1);
    let list = mantra_core::exposure::ExposureList::read(&env.data.exposure_file()).expect("read");
    assert!(list.made_with(&config.fingerprint_key));
    let e = list.index();
    let hit = e.get(fp.as_str()).expect("exposed secret listed");
    assert_eq!(hit.sessions[0].session_id, SID);
    assert_eq!(hit.sessions[0].project.as_deref(), Some(CWD));
    assert!(!std::fs::read_to_string(env.data.exposure_file())
        .expect("r")
        .contains(SECRET));
}

#[test]
fn redact_at_rest_keeps_no_secret_in_any_table() {
    let env = Env::new();
    write_session(&env);
    let mut store = env.open();
    let config = AgentConfig {
        redact_at_rest: true,
        ..Default::default()
    };
    let r = env.index(&mut store, &config);
    assert!(r.findings >= 1);
    let everything = support::all_text(&store);
    assert!(everything.contains("pineapple"), "content is there");
    assert!(everything.contains("[REDACTED:"));
    assert!(!everything.contains(SECRET), "the secret is in no table");
    assert!(
        !everything.contains(&SECRET[4..]),
        "nor any long part of it"
    );
}

#[test]
fn incremental_reads_only_what_was_appended_and_upserts_growing_messages() {
    let env = Env::new();
    let f = write_session(&env);
    let mut store = env.open();
    let config = AgentConfig::default();
    let first = env.index(&mut store, &config);
    let size1 = std::fs::metadata(&f).expect("m").len();
    assert_eq!(first.bytes, size1);

    // Unchanged: nothing read.
    let again = env.index(&mut store, &config);
    assert_eq!(
        (again.sources_unchanged, again.bytes, again.messages),
        (1, 0, 0)
    );

    // A response written in two records sharing its message id.
    append(
        &f,
        &assistant_line(
            SID,
            CWD,
            "a2",
            "msg_2",
            "2026-01-01T10:00:03Z",
            "part one mango",
        ),
    );
    let r = env.index(&mut store, &config);
    assert!(
        r.bytes > 0 && r.bytes < size1 * 2,
        "read from the offset: {r:?}"
    );
    append(
        &f,
        &assistant_line(
            SID,
            CWD,
            "a3",
            "msg_2",
            "2026-01-01T10:00:04Z",
            "part two papaya",
        ),
    );
    append(
        &f,
        &user_line(SID, CWD, "u3", "2026-01-01T10:00:05Z", "done"),
    );
    env.index(&mut store, &config);
    let s = store.find_session(SID, None).expect("s");
    let msgs = store.session_messages(s.rowid).expect("m");
    let ids: Vec<&str> = msgs.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["u1", "msg_1", "u2", "msg_2", "u3"], "no duplicates");
    let m2 = &msgs[3];
    assert!(
        m2.text.contains("mango") && m2.text.contains("papaya"),
        "{}",
        m2.text
    );
    assert_eq!(
        store
            .search("mango papaya", None, 10, &hl())
            .expect("s")
            .len(),
        1
    );
    assert_eq!(s.messages, 5);

    // A partial line is held back until it is complete.
    let line = user_line(SID, CWD, "u4", "2026-01-01T10:00:06Z", "guava tail");
    let (a, b) = line.split_at(line.len() / 2);
    append(&f, a);
    env.index(&mut store, &config);
    assert!(store
        .search("guava", None, 10, &hl())
        .expect("s")
        .is_empty());
    append(&f, b);
    env.index(&mut store, &config);
    assert_eq!(store.search("guava", None, 10, &hl()).expect("s").len(), 1);
    assert_eq!(store.counts().expect("c").messages, 6);
}

#[test]
fn a_replaced_shorter_file_is_read_again_from_the_start() {
    let env = Env::new();
    let f = write_session(&env);
    let mut store = env.open();
    let config = AgentConfig::default();
    env.index(&mut store, &config);
    std::fs::remove_file(&f).expect("rm");
    append(
        &f,
        &user_line(SID, CWD, "n1", "2026-02-01T10:00:00Z", "fresh start"),
    );
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1);
    let c = store.counts().expect("c");
    assert_eq!(c.messages, 1, "old rows replaced");
    assert_eq!(c.findings, 0);
    assert_eq!(store.search("fresh", None, 10, &hl()).expect("s").len(), 1);
}

/// Truncates `f` and writes `lines` into it in place (same inode, as an
/// editor or a tool rewriting its log would).
fn rewrite_in_place(f: &std::path::Path, lines: &[String]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(f)
        .expect("open for rewrite");
    for l in lines {
        file.write_all(l.as_bytes()).expect("write");
    }
}

#[test]
fn a_file_rewritten_to_the_same_or_a_larger_size_is_read_again_from_the_start() {
    let env = Env::new();
    let f = env.claude_file(CWD, SID);
    let original = [
        user_line(SID, CWD, "u1", "2026-01-01T10:00:00Z", "alpha walrus one"),
        user_line(SID, CWD, "u2", "2026-01-01T10:00:01Z", "alpha walrus two"),
    ];
    rewrite_in_place(&f, &original);
    let mut store = env.open();
    let config = AgentConfig::default();
    env.index(&mut store, &config);
    assert_eq!(store.search("walrus", None, 10, &hl()).expect("s").len(), 2);
    let size = std::fs::metadata(&f).expect("m").len();

    // Same size, other text, other message ids.
    let same_size = [
        user_line(SID, CWD, "v1", "2026-01-01T10:00:00Z", "bravo otters one"),
        user_line(SID, CWD, "v2", "2026-01-01T10:00:01Z", "bravo otters two"),
    ];
    rewrite_in_place(&f, &same_size);
    assert_eq!(std::fs::metadata(&f).expect("m").len(), size);
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1);
    assert!(store
        .search("walrus", None, 10, &hl())
        .expect("s")
        .is_empty());
    assert_eq!(store.search("otters", None, 10, &hl()).expect("s").len(), 2);
    assert_eq!(
        store.counts().expect("c").messages,
        2,
        "replaced, not added"
    );

    // Larger, keeping the first line and the message ids: the rows are
    // replaced, not duplicated.
    let larger = [
        same_size[0].clone(),
        user_line(
            SID,
            CWD,
            "v2",
            "2026-01-01T10:00:01Z",
            "charlie dugong two, longer now",
        ),
        user_line(
            SID,
            CWD,
            "v3",
            "2026-01-01T10:00:02Z",
            "charlie dugong three",
        ),
    ];
    rewrite_in_place(&f, &larger);
    assert!(std::fs::metadata(&f).expect("m").len() > size);
    env.index(&mut store, &config);
    assert_eq!(store.search("dugong", None, 10, &hl()).expect("s").len(), 2);
    assert_eq!(store.search("otters", None, 10, &hl()).expect("s").len(), 1);
    assert_eq!(store.counts().expect("c").messages, 3);
    store
        .verify_search_index()
        .expect("search index agrees with the store");

    // A true append still reads only what was added.
    append(
        &f,
        &user_line(SID, CWD, "v4", "2026-01-01T10:00:03Z", "delta manatee"),
    );
    let before = std::fs::metadata(&f).expect("m").len();
    let r = env.index(&mut store, &config);
    assert!(r.bytes < before / 2, "read {} of {before} bytes", r.bytes);
    assert_eq!(store.counts().expect("c").messages, 4);
}

#[test]
fn disabled_sources_are_not_indexed() {
    let env = Env::new();
    write_session(&env);
    let mut store = env.open();
    let mut config = AgentConfig::default();
    config
        .enabled_sources
        .remove(&mantra_agent::Assistant::ClaudeCode);
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_seen, 0);
    assert_eq!(store.counts().expect("c").messages, 0);
}

#[test]
fn several_assistants_index_and_rewritten_sources_replace_not_duplicate() {
    let env = Env::new();
    support::copy_tree(
        &support::fixtures().join("claude"),
        &env.home.join(".claude"),
    );
    support::copy_tree(&support::fixtures().join("codex"), &env.home.join(".codex"));
    support::copy_tree(
        &support::fixtures().join("gemini"),
        &env.home.join(".gemini"),
    );
    let mut store = env.open();
    let config = AgentConfig::default();
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_failed, 0, "{:?}", r.errors);
    let rows = store.list_sessions(&Default::default()).expect("list");
    let mut assistants: Vec<&str> = rows.iter().map(|r| r.assistant.as_str()).collect();
    assistants.sort_unstable();
    assistants.dedup();
    assert_eq!(assistants, ["claude-code", "codex", "gemini-cli"]);
    let before = store.counts().expect("c");
    assert!(before.messages > 0);

    // Unchanged: nothing read, nothing added.
    let again = env.index(&mut store, &config);
    assert_eq!((again.bytes, again.messages), (0, 0));

    // A Gemini JSONL is a replayed log (re-parsed whole): rewriting it
    // replaces its session instead of adding a copy.
    let gem = mantra_agent::discover(mantra_agent::Assistant::GeminiCli, &env.discovery());
    let path = &gem[0].path;
    let body = std::fs::read(path).expect("read");
    std::fs::write(path, [body.as_slice(), b"\n"].concat()).expect("rewrite");
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1);
    let after = store.counts().expect("c");
    assert_eq!(
        (after.sessions, after.messages, after.findings),
        (before.sessions, before.messages, before.findings)
    );
}

/// A run turns the store's automatic checkpoints off for its checkpoint
/// thread and back on at the end, and leaves the search index complete.
#[test]
fn a_run_restores_automatic_checkpoints_and_completes_the_index() {
    let env = Env::new();
    write_session(&env);
    let mut store = env.open();
    env.index(&mut store, &AgentConfig::default()); // with the threads
    let pages: i64 = store
        .connection()
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(
        pages,
        i64::from(mantra_agent::store::checkpoint::AUTOCHECKPOINT_PAGES)
    );
    assert!(pages > 0);
    store.verify_search_index().expect("complete");
    assert_eq!(
        store.search("pineapple", None, 10, &hl()).expect("s").len(),
        1
    );
}

/// A small run (the agent's usual: a few appended lines) writes the index
/// on the writer's thread, and the result is the same.
#[test]
fn a_small_run_builds_the_index_without_extra_threads() {
    let env = Env::new();
    let f = write_session(&env);
    let mut store = env.open();
    let inline = mantra_agent::index::IndexOptions::default();
    assert!(std::fs::metadata(&f).expect("meta").len() < inline.search_thread_min_bytes);
    let r = env.index_with(&mut store, &AgentConfig::default(), &inline);
    assert_eq!(r.messages, 3);
    store.verify_search_index().expect("complete");
    assert_eq!(
        store.search("pineapple", None, 10, &hl()).expect("s").len(),
        1
    );
    append(
        &f,
        &user_line(SID, CWD, "u3", "2026-01-01T10:00:03Z", "and a mango"),
    );
    env.index_with(&mut store, &AgentConfig::default(), &inline);
    store
        .verify_search_index()
        .expect("complete after an append");
    assert_eq!(store.search("mango", None, 10, &hl()).expect("s").len(), 1);
}

/// A source larger than the bytes allowed in flight (two batches), indexed
/// next to a small one: the small one sits in the writer's unfilled batch
/// while the large one waits for room. Before the writer committed early
/// for a waiting worker, both waited for each other for ever (seen on
/// real homes: any transcript over ~16 MiB next to another one).
#[test]
fn a_source_larger_than_the_in_flight_budget_next_to_a_small_one_is_indexed() {
    let env = Env::new();
    write_session(&env);
    let big = env.claude_file(CWD, "99999999-2222-4333-8444-555555555555");
    let mut text = String::new();
    let filler = "lorem ipsum dolor sit amet consectetur ".repeat(256);
    let mut i = 0;
    while text.len() < 20 * 1024 * 1024 {
        text.push_str(&user_line(
            "99999999-2222-4333-8444-555555555555",
            CWD,
            &format!("big{i}"),
            "2026-01-01T11:00:00Z",
            &filler,
        ));
        i += 1;
    }
    append(&big, &text);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let mut store = env.open();
        let opts = mantra_agent::index::IndexOptions {
            threads: 2,
            ..Default::default()
        };
        let r = env.index_with(&mut store, &AgentConfig::default(), &opts);
        let _ = done_tx.send(r);
    });
    // Not a speed check: the run takes a second or two; a deadlock never
    // ends, and this bounds how long the test waits to say so.
    let r = done_rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the index run deadlocked");
    thread.join().expect("join");
    assert_eq!(r.sources_indexed, 2, "{r:?}");
    assert_eq!(r.messages, 3 + i as u64, "{r:?}");
}
