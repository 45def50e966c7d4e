//! Records too large to parse, still scanned.
//!
//! The JSONL reader does not buffer or parse a line longer than
//! [`RECORD_LIMIT`]: a parsed record costs several times its size in
//! memory (the line, its JSON tree, the message text, the stored body), so
//! a single 150 MB tool result took 681 MB. Such a record is read again
//! here straight from the file, scanned by the detection engine in bounded
//! chunks, and stored as a placeholder message that says what it was and
//! carries its findings. Its secrets are listed as exposed and its text is
//! stored nowhere, so nothing is skipped silently and memory stays bounded
//! by the limit, not by the input.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use mantra_detect::{Finding, ScanState, Scanner};

use crate::store::ingest::{PreparedMessage, StoredFinding};
use crate::Role;

/// The longest JSONL record parsed. Real records stay far below it (a
/// pasted screenshot is a few MB of base64); longer ones are handled here.
pub const RECORD_LIMIT: usize = 32 * 1024 * 1024;

/// Byte ranges (without the newline) of the complete lines of `path`
/// between `from` and `to` that are longer than `limit`. Reads the range
/// once, in a 1 MiB buffer.
pub fn find_long_lines(
    path: &Path,
    from: u64,
    to: u64,
    limit: usize,
) -> std::io::Result<Vec<Range<u64>>> {
    let mut file = mantra_core::fsio::open_file(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(1 << 20, file.take(to.saturating_sub(from)));
    let mut found = Vec::new();
    let mut line_start = from;
    let mut pos = from;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(found);
        }
        let n = buf.len();
        for nl in memchr::memchr_iter(b'\n', buf) {
            let end = pos + nl as u64;
            if end - line_start > limit as u64 {
                found.push(line_start..end);
            }
            line_start = end + 1;
        }
        pos += n as u64;
        reader.consume(n);
    }
}

/// Scans each long record of `path` in bounded chunks and returns one
/// placeholder message per record, with its findings.
pub fn placeholder_messages(
    scanner: &Scanner,
    state: &mut ScanState,
    path: &Path,
    records: &[Range<u64>],
    ts: i64,
) -> Result<Vec<PreparedMessage>, String> {
    let mut messages = Vec::with_capacity(records.len());
    for r in records {
        let mut file = mantra_core::fsio::open_file(path).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(r.start))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let len = r.end - r.start;
        // Named .json so the decoded JSON views apply, as to any record.
        let findings = scanner
            .scan_reader(state, file.take(len), "record.json")
            .map_err(|e| e.to_string())?;
        messages.push(placeholder(r.clone(), &findings, ts));
    }
    Ok(messages)
}

/// The message stored for one record not parsed: what it was, and its
/// findings (previews and fingerprints only). `range` is empty for a
/// compressed source scanned whole.
pub fn placeholder(range: Range<u64>, findings: &[Finding], ts: i64) -> PreparedMessage {
    let text = if range.is_empty() {
        format!(
            "[compressed source with records longer than the {} MB record limit: \
             not stored; scanned for secrets, {} found]",
            RECORD_LIMIT >> 20,
            findings.len()
        )
    } else {
        format!(
            "[record of {:.1} MB at byte {} not stored: longer than the {} MB record limit; \
             scanned for secrets, {} found]",
            (range.end - range.start) as f64 / 1e6,
            range.start,
            RECORD_LIMIT >> 20,
            findings.len()
        )
    };
    PreparedMessage {
        native_id: format!("oversized:{}", range.start),
        role: Role::Tool,
        ts,
        ts_estimated: true,
        text,
        redacted_text: None,
        // The secret is not in the stored text: no span.
        findings: findings
            .iter()
            .map(|f| StoredFinding::new(f, 0, 0))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_complete_lines_are_found_by_their_byte_ranges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.jsonl");
        let long = "x".repeat(50);
        let body = format!("short\n{long}\nok\n{long}\n{long}");
        std::fs::write(&p, &body).expect("write");
        let found = find_long_lines(&p, 0, body.len() as u64, 10).expect("scan");
        // The last line has no newline yet: held back like the reader does.
        assert_eq!(found, vec![6..56, 60..110]);
        // From an offset, as an incremental read does.
        let found = find_long_lines(&p, 57, body.len() as u64, 10).expect("scan");
        assert_eq!(found, vec![60..110]);
    }
}
