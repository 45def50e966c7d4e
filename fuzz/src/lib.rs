//! Shared plumbing of the fuzz targets: a scratch directory for parsers that
//! take a path, splitting one input into several files, and the checks every
//! session parser must pass.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mantra_agent::discovery::{SourceFile, SourceKind};
use mantra_agent::model::Assistant;

/// Separates the files of one input for targets that read several (a Cline
/// task folder, a Cursor database's rows): ASCII record separator, which
/// JSON text never needs unescaped.
pub const SEP: u8 = 0x1e;

/// A directory private to this fuzzing process, in memory when `/dev/shm`
/// exists (a file is written for every execution).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let made = if shm.is_dir() {
            tempfile::Builder::new()
                .prefix("mantra-fuzz")
                .tempdir_in(shm)
        } else {
            tempfile::Builder::new().prefix("mantra-fuzz").tempdir()
        };
        made.expect("a scratch directory for the fuzz target")
    })
    .path()
}

/// Writes `bytes` at `rel` under a fresh sub-directory `name` of the scratch
/// directory (emptied first, so no file of a previous input survives).
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch sub-directory");
    dir
}

/// Writes `bytes` to `dir/rel`, creating parents.
pub fn write(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("scratch parent");
    }
    std::fs::write(&p, bytes).expect("scratch file");
    p
}

/// The first `n` parts of `data` split at [`SEP`] (missing ones empty).
pub fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == SEP).collect();
    out.resize(n, &[]);
    out
}

/// Parses one input as a source of `kind` written at `rel` and checks what
/// every parser promises: no panic, and a resume offset inside the file. An
/// append-only source is read again from that offset, as the indexer does.
pub fn parse_file(assistant: Assistant, kind: SourceKind, rel: &str, data: &[u8]) {
    let dir = fresh_dir("source");
    let path = write(&dir, rel, data);
    parse_path(assistant, kind, &path, data.len() as u64);
}

/// As [`parse_file`] for a source already laid out at `path`.
pub fn parse_path(assistant: Assistant, kind: SourceKind, path: &Path, len: u64) {
    let source = SourceFile::new(assistant, kind, path);
    let Ok(out) = mantra_agent::sources::parse(&source, 0) else {
        return;
    };
    if source.resume_mode() == mantra_agent::discovery::ResumeMode::Append {
        assert!(
            out.next_offset <= len,
            "resume offset {} past the end {len}",
            out.next_offset
        );
        if let Ok(again) = mantra_agent::sources::parse(&source, out.next_offset) {
            assert!(again.next_offset >= out.next_offset && again.next_offset <= len);
        }
    }
}

/// Decodes JSON string escapes the way the scanner's views do: valid escapes
/// become their bytes (a lone surrogate U+FFFD), anything else stays as
/// written. Used as the oracle for "the stored bytes decode to the secret".
pub fn unescape(src: &[u8]) -> Vec<u8> {
    let hex4 = |d: Option<&[u8]>| -> Option<u32> {
        let d = d?;
        d.iter().all(u8::is_ascii_hexdigit).then(|| {
            d.iter()
                .fold(0, |n, &b| n * 16 + (b as char).to_digit(16).unwrap_or(0))
        })
    };
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        if src[i] != b'\\' || i + 1 >= src.len() {
            out.push(src[i]);
            i += 1;
            continue;
        }
        let simple = match src[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            i += 2;
            continue;
        }
        let first = if src[i + 1] == b'u' {
            hex4(src.get(i + 2..i + 6))
        } else {
            None
        };
        let Some(first) = first else {
            out.extend_from_slice(&src[i..i + 2]);
            i += 2;
            continue;
        };
        let (code, len) = if (0xD800..0xDC00).contains(&first) {
            match (src.get(i + 6), src.get(i + 7), hex4(src.get(i + 8..i + 12))) {
                (Some(b'\\'), Some(b'u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                    (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
                }
                _ => (0xFFFD, 6),
            }
        } else {
            (first, 6)
        };
        let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        i += len;
    }
    out
}

/// 1-based line and character column of byte `pos` of `data`, counted as
/// findings promise (every byte that does not continue a UTF-8 sequence is
/// one character).
pub fn line_column(data: &[u8], pos: usize) -> (u64, u64) {
    let before = &data[..pos];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count() as u64;
    (line, column)
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
