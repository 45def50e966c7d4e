//! Incremental, tolerant JSONL reading: the layer every line-based source
//! (Claude Code, Codex, Gemini JSONL, Copilot's mutation log) reads through.
//!
//! - Starts at a byte offset and reports the offset reached, so the indexer
//!   reads only what was appended since the last run.
//! - A final line without a newline is still being written: it is held back
//!   (not consumed, not an error) and read again next time.
//! - A corrupt line is skipped and counted; later lines are still read.
//!   Glued `{…}{…}` records (crash recovery) yield every complete value.
//! - Invalid UTF-8 is replaced lossily; NUL bytes are dropped.
//! - Memory is linear in the longest line, and lines above a cap are skipped
//!   without buffering them (the indexer scans them apart: `oversized`).
//!
//! It does not interpret records: parsers do.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

use crate::error::SourceError;
use crate::model::ParseStats;

/// Reader settings.
#[derive(Debug, Clone, Copy)]
pub struct JsonlOptions {
    /// Lines longer than this are skipped (counted in `skipped_oversized`).
    pub max_line_bytes: usize,
    /// Treat a final line without newline as complete (for files that are no
    /// longer written, e.g. decompressed `.jsonl.zst`).
    pub eof_is_final: bool,
}

impl Default for JsonlOptions {
    fn default() -> Self {
        JsonlOptions {
            max_line_bytes: crate::oversized::RECORD_LIMIT,
            eof_is_final: false,
        }
    }
}

/// One JSON object read from a line.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonlRecord {
    /// Byte offset of the line's first byte in the source.
    pub offset: u64,
    /// Byte offset just past the line's newline.
    pub end_offset: u64,
    pub value: Value,
}

/// What a read reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonlOutcome {
    /// Where the next incremental read must start: past the last complete
    /// line (a held-back partial line starts here).
    pub end_offset: u64,
    pub stats: ParseStats,
}

// Buffers grown by a huge line are released instead of kept for the rest of
// the file.
const KEEP_CAPACITY: usize = 4 * 1024 * 1024;

/// Reads JSONL from `reader`, whose first byte is at `start_offset` of the
/// source, calling `on_record` for every JSON object found.
pub fn read_jsonl<R: BufRead>(
    mut reader: R,
    start_offset: u64,
    opts: JsonlOptions,
    mut on_record: impl FnMut(JsonlRecord),
) -> std::io::Result<JsonlOutcome> {
    let mut stats = ParseStats::default();
    let mut offset = start_offset; // start of the current line
    let mut line: Vec<u8> = Vec::new();
    let mut line_len: u64 = 0; // including bytes discarded when oversized
    let mut oversized = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            // EOF.
            if line_len > 0 {
                if opts.eof_is_final {
                    let end = offset + line_len;
                    if oversized {
                        stats.records += 1;
                        stats.skipped_oversized += 1;
                    } else {
                        parse_line(&line, offset, end, &mut stats, &mut on_record);
                    }
                    offset = end;
                } else {
                    stats.held_back_partial += 1;
                }
            }
            return Ok(JsonlOutcome {
                end_offset: offset,
                stats,
            });
        }
        let (chunk, found_newline) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        line_len += n as u64;
        if !oversized {
            if line.len() + n > opts.max_line_bytes {
                oversized = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        reader.consume(n);
        if found_newline {
            let end = offset + line_len;
            if oversized {
                stats.records += 1;
                stats.skipped_oversized += 1;
            } else {
                parse_line(&line, offset, end, &mut stats, &mut on_record);
            }
            offset = end;
            line_len = 0;
            oversized = false;
            if line.capacity() > KEEP_CAPACITY {
                line = Vec::new();
            } else {
                line.clear();
            }
        }
    }
}

fn parse_line(
    raw: &[u8],
    offset: u64,
    end: u64,
    stats: &mut ParseStats,
    on_record: &mut impl FnMut(JsonlRecord),
) {
    let mut bytes = raw;
    while let Some((&last, rest)) = bytes.split_last() {
        if last == b'\n' || last == b'\r' {
            bytes = rest;
        } else {
            break;
        }
    }
    // NUL padding left by crashed writers is never valid JSON; drop it.
    let owned_no_nul;
    if memchr::memchr(0, bytes).is_some() {
        owned_no_nul = bytes
            .iter()
            .copied()
            .filter(|&c| c != 0)
            .collect::<Vec<u8>>();
        bytes = &owned_no_nul;
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    stats.records += 1;
    let lossy;
    let text: &str = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            lossy = String::from_utf8_lossy(bytes).into_owned();
            &lossy
        }
    };
    let mut any = false;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        match stream.next() {
            None => break,
            Some(Ok(Value::Object(map))) => {
                any = true;
                on_record(JsonlRecord {
                    offset,
                    end_offset: end,
                    value: Value::Object(map),
                });
            }
            Some(Ok(_)) => {
                // A JSON scalar/array where a record object belongs.
                stats.skipped_corrupt += 1;
                return;
            }
            Some(Err(e)) => {
                tracing::debug!(offset, error = %e, "skipping corrupt JSONL line");
                // With glued records, those before the damage were kept;
                // the broken tail still counts as one corrupt record.
                let _ = any;
                stats.skipped_corrupt += 1;
                return;
            }
        }
    }
}

/// Opens `path`, seeks to `start_offset` and reads it as JSONL.
pub fn read_jsonl_file(
    path: &Path,
    start_offset: u64,
    opts: JsonlOptions,
    on_record: impl FnMut(JsonlRecord),
) -> Result<JsonlOutcome, SourceError> {
    let mut file = mantra_core::fsio::open_file(path)?;
    let len = file.metadata().map_err(|e| SourceError::io(path, e))?.len();
    if start_offset > len {
        return Err(SourceError::OffsetBeyondEnd {
            path: path.to_path_buf(),
            offset: start_offset,
            len,
        });
    }
    file.seek(SeekFrom::Start(start_offset))
        .map_err(|e| SourceError::io(path, e))?;
    // Read no further than the length seen now: bytes appended during the
    // read are picked up next time, consistently with the reported offset.
    let reader = BufReader::with_capacity(256 * 1024, file.take(len - start_offset));
    read_jsonl(reader, start_offset, opts, on_record).map_err(|e| SourceError::io(path, e))
}
