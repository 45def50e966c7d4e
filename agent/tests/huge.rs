//! A record longer than the reader's limit is not parsed (that would cost
//! several times its size in memory) but still scanned, from the file, and
//! stored as a placeholder carrying its findings: nothing is skipped
//! silently. Peak memory is measured by the benchmark in
//! docs/BENCHMARKS.md ("Bounded memory"), not here.

mod support;

use std::io::Write;

use mantra_agent::oversized::RECORD_LIMIT;
use mantra_agent::{parse, AgentConfig, Assistant, SourceFile, SourceKind};
use support::{Env, SECRET};

const SID: &str = "11111111-2222-4333-8444-555555555555";

/// A Claude transcript with a small record, one of `mb` MB holding
/// `SECRET` in its middle, and another small one.
fn write_huge(path: &std::path::Path, mb: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(f, r#"{{"type":"user","sessionId":"{SID}","uuid":"u0","cwd":"/w","timestamp":"2025-10-01T09:00:00Z","message":{{"role":"user","content":"small"}}}}"#).expect("w");
    write!(f, r#"{{"type":"user","sessionId":"{SID}","uuid":"u1","cwd":"/w","timestamp":"2025-10-01T09:00:01Z","message":{{"role":"user","content":""#).expect("w");
    let chunk = "lorem ipsum dolor sit amet \\n consectetur ".repeat(1024);
    let mut written = 0usize;
    while written < mb * 1024 * 1024 {
        if written >= mb * 512 * 1024 && written < mb * 512 * 1024 + chunk.len() {
            write!(f, " token {SECRET} ").expect("w");
        }
        f.write_all(chunk.as_bytes()).expect("w");
        written += chunk.len();
    }
    writeln!(f, r#"" }}}}"#).expect("w");
    writeln!(f, r#"{{"type":"user","sessionId":"{SID}","uuid":"u2","cwd":"/w","timestamp":"2025-10-01T09:00:02Z","message":{{"role":"user","content":"after"}}}}"#).expect("w");
    f.flush().expect("flush");
}

#[test]
fn a_record_over_the_limit_is_not_parsed_and_the_rest_is() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("big.jsonl");
    write_huge(&p, RECORD_LIMIT / (1024 * 1024) + 8);
    let out = parse(
        &SourceFile::new(Assistant::ClaudeCode, SourceKind::ClaudeJsonl, &p),
        0,
    )
    .expect("parse");
    let msgs = &out.sessions[0].messages;
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].text, "after");
    assert_eq!(out.stats.skipped_oversized, 1);
    assert_eq!(out.stats.skipped_corrupt, 0);
}

#[test]
fn a_secret_in_a_record_over_the_limit_is_found_and_listed_as_exposed() {
    let env = Env::new();
    let cwd = "/w";
    let f = env.claude_file(cwd, SID);
    write_huge(&f, RECORD_LIMIT / (1024 * 1024) + 8);
    let mut store = env.open();
    let config = AgentConfig::default();
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1, "{r:?}");
    assert_eq!(r.messages, 3, "two parsed, one placeholder: {r:?}");
    assert_eq!(r.findings, 1, "{r:?}");
    let (text, preview): (String, String) = store
        .connection()
        .query_row(
            "SELECT m.text, f.preview FROM messages m JOIN findings f ON f.message_id = m.id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("placeholder with its finding");
    assert!(
        text.contains("not stored") && text.contains("1 found"),
        "{text}"
    );
    assert!(!text.contains(SECRET) && !preview.contains(SECRET));
    let exposed =
        mantra_agent::lifecycle::write_exposures(&store, &env.data, &config.fingerprint_key)
            .expect("exposures");
    assert_eq!(exposed, 1);
    // Indexed again unchanged, and again after an append: no duplicate.
    support::append(
        &f,
        &support::user_line(SID, cwd, "u3", "2025-10-01T09:00:03Z", "more"),
    );
    let r = env.index(&mut store, &config);
    assert_eq!(r.sources_indexed, 1, "{r:?}");
    let placeholders: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM messages WHERE text LIKE '[record of%'",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(placeholders, 1);
}
