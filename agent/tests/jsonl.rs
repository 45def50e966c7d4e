//! The tolerant incremental JSONL reader on its own.

use std::io::Write;

use mantra_agent::jsonl::{read_jsonl, read_jsonl_file, JsonlOptions};
use mantra_agent::SourceError;

fn collect(
    bytes: &[u8],
    opts: JsonlOptions,
) -> (Vec<serde_json::Value>, mantra_agent::jsonl::JsonlOutcome) {
    let mut v = Vec::new();
    let o = read_jsonl(bytes, 0, opts, |r| v.push(r.value)).expect("read");
    (v, o)
}

#[test]
fn partial_last_line_is_held_back() {
    let data = b"{\"a\":1}\n{\"a\":2}\n{\"a\":";
    let (v, o) = collect(data, JsonlOptions::default());
    assert_eq!(v.len(), 2);
    assert_eq!(o.end_offset, 16);
    assert_eq!(o.stats.held_back_partial, 1);
    assert_eq!(o.stats.skipped_corrupt, 0);
    let final_opts = JsonlOptions {
        eof_is_final: true,
        ..JsonlOptions::default()
    };
    let (_, o) = collect(data, final_opts);
    assert_eq!(o.stats.skipped_corrupt, 1);
    assert_eq!(o.end_offset, data.len() as u64);
}

#[test]
fn corrupt_glued_nul_crlf_and_scalars() {
    let data = b"{\"a\":1}\r\nnot json\n{\"a\":2}{\"a\":3}\n\0\0{\"a\":4}\0\n[1,2]\n\n   \n{\"a\":5}{\"a\n{\"a\":6}\n";
    let (v, o) = collect(data, JsonlOptions::default());
    let got: Vec<i64> = v.iter().filter_map(|x| x["a"].as_i64()).collect();
    assert_eq!(got, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        o.stats.skipped_corrupt, 3,
        "not json, array, broken glued tail"
    );
    assert_eq!(o.end_offset, data.len() as u64);
}

#[test]
fn oversized_lines_are_skipped_without_buffering() {
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"a\":\"");
    data.extend(std::iter::repeat_n(b'x', 10_000));
    data.extend_from_slice(b"\"}\n{\"a\":1}\n");
    let opts = JsonlOptions {
        max_line_bytes: 1000,
        eof_is_final: false,
    };
    let (v, o) = collect(&data, opts);
    assert_eq!(v.len(), 1);
    assert_eq!(o.stats.skipped_oversized, 1);
    assert_eq!(o.end_offset, data.len() as u64);
}

#[test]
fn offsets_resume_and_detect_truncation() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("f.jsonl");
    std::fs::write(&p, b"{\"n\":1}\n{\"n\":2").expect("write");
    let mut seen = Vec::new();
    let o = read_jsonl_file(&p, 0, JsonlOptions::default(), |r| {
        seen.push((r.offset, r.value["n"].clone()))
    })
    .expect("read");
    assert_eq!(o.end_offset, 8);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .expect("open");
    f.write_all(b"}\n").expect("append");
    drop(f);
    let o2 = read_jsonl_file(&p, o.end_offset, JsonlOptions::default(), |r| {
        seen.push((r.offset, r.value["n"].clone()))
    })
    .expect("resume");
    assert_eq!(seen, [(0, serde_json::json!(1)), (8, serde_json::json!(2))]);
    assert_eq!(o2.end_offset, 16);
    std::fs::write(&p, b"{}\n").expect("rewrite");
    let err = read_jsonl_file(&p, 16, JsonlOptions::default(), |_| {}).expect_err("shorter file");
    assert!(matches!(err, SourceError::OffsetBeyondEnd { .. }));
}
