//! A 100 MB record streams through the reader and a parser in linear time
//! and bounded memory. Its own test binary so the peak-memory check is not
//! disturbed by other tests.

use std::io::Write;

use mantra_agent::{parse, Assistant, SourceFile, SourceKind};

#[test]
fn hundred_megabyte_line() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
    writeln!(f, r#"{{"type":"user","uuid":"u0","cwd":"/w","timestamp":"2025-10-01T09:00:00Z","message":{{"role":"user","content":"small"}}}}"#).expect("w");
    write!(f, r#"{{"type":"user","uuid":"u1","cwd":"/w","timestamp":"2025-10-01T09:00:01Z","message":{{"role":"user","content":""#).expect("w");
    let chunk = "lorem ipsum dolor sit amet \\n consectetur ".repeat(1024);
    let mut written = 0usize;
    while written < 100 * 1024 * 1024 {
        f.write_all(chunk.as_bytes()).expect("w");
        written += chunk.len();
    }
    writeln!(f, r#"" }}}}"#).expect("w");
    writeln!(f, r#"{{"type":"user","uuid":"u2","cwd":"/w","timestamp":"2025-10-01T09:00:02Z","message":{{"role":"user","content":"after"}}}}"#).expect("w");
    f.flush().expect("flush");
    drop(f);

    let start = std::time::Instant::now();
    let out = parse(
        &SourceFile::new(Assistant::ClaudeCode, SourceKind::ClaudeJsonl, &p),
        0,
    )
    .expect("parse");
    let elapsed = start.elapsed();
    let msgs = &out.sessions[0].messages;
    assert_eq!(msgs.len(), 3);
    assert!(msgs[1].text.len() > 95 * 1024 * 1024);
    assert_eq!(msgs[2].text, "after");
    assert_eq!(out.stats.skipped_corrupt, 0);
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");

    #[cfg(target_os = "linux")]
    {
        // Peak RSS: the line buffer, its parsed value and the message text
        // (each ~100 MB) — linear, not a multiple of the file per line.
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let hwm_kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .expect("VmHWM");
        assert!(hwm_kb < 700 * 1024, "peak RSS {hwm_kb} kB");
    }
}
