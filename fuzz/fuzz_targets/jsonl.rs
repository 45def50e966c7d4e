//! The tolerant JSONL reader every line-based source reads through. The
//! first two bytes choose the settings; the rest is the file. Checks: record
//! spans are ordered, inside the input and end at a newline (or at the end
//! with `eof_is_final`); the outcome never depends on how the reader's
//! buffer splits the input; resuming at the reported offset finds only what
//! was held back.
#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use mantra_agent::jsonl::{read_jsonl, JsonlOptions, JsonlOutcome, JsonlRecord};

fn read(
    input: &[u8],
    start: u64,
    capacity: usize,
    opts: JsonlOptions,
) -> (JsonlOutcome, Vec<JsonlRecord>) {
    let mut records = Vec::new();
    let reader = BufReader::with_capacity(capacity, input);
    let outcome =
        read_jsonl(reader, start, opts, |r| records.push(r)).expect("reading memory cannot fail");
    (outcome, records)
}

fuzz_target!(|data: &[u8]| {
    let [settings, capacity, input @ ..] = data else {
        return;
    };
    let opts = JsonlOptions {
        eof_is_final: settings & 1 == 1,
        // Small caps reach the oversized path with small inputs.
        max_line_bytes: if settings & 2 == 2 {
            usize::from(settings >> 2)
        } else {
            1 << 20
        },
    };
    let len = input.len() as u64;
    let (outcome, records) = read(input, 0, 1 << 16, opts);
    assert!(outcome.end_offset <= len);
    let mut previous_end = 0;
    for r in &records {
        assert!(
            r.offset >= previous_end
                && r.offset < r.end_offset
                && r.end_offset <= outcome.end_offset
        );
        let end = usize::try_from(r.end_offset).expect("small input");
        assert!(input[end - 1] == b'\n' || (opts.eof_is_final && r.end_offset == len));
        assert!(r.value.is_object());
        previous_end = r.offset;
    }
    let (small, small_records) = read(input, 0, usize::from(*capacity).max(1), opts);
    assert_eq!(outcome, small);
    assert_eq!(records, small_records);
    // Resuming where the read stopped: only the held-back partial line is
    // left, and it yields nothing while it has no newline.
    let rest = &input[usize::try_from(outcome.end_offset).expect("small input")..];
    let (again, again_records) = read(rest, outcome.end_offset, 1 << 16, opts);
    assert!(again_records.is_empty());
    assert_eq!(again.end_offset, outcome.end_offset);
});
