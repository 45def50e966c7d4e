//! Decoded views of JSON content.
//!
//! AI transcripts are JSON Lines whose string values hold the text people and
//! tools wrote, with every newline, quote and backslash escaped — and Codex
//! nests JSON inside those strings, escaped once more. A private key stored as
//! `"-----BEGIN…KEY-----\nMIIE…"` only looks like a private key once decoded.
//!
//! A [`DecodedView`] holds the decoded text of every string literal that
//! contains an escape (strings without one read the same raw, so the raw scan
//! already covers them), one per line, and a map from each decoded byte back
//! to the bytes it came from. Findings in a view are reported at their place
//! in the source: an escape sequence maps as a whole, so a reported span never
//! splits `\n` and replacing it keeps the JSON valid.

/// How far views nest: raw bytes, then up to this many levels of decoding.
pub const MAX_DEPTH: u8 = 3;

/// One piece of the offset map.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// First decoded byte this segment covers.
    decoded: usize,
    /// First source byte it comes from.
    source: usize,
    /// Source bytes covered.
    source_len: usize,
    /// `true`: decoded and source advance together byte for byte.
    /// `false`: every decoded byte of the segment maps to the whole source
    /// range (an escape sequence, or the separator between strings).
    identity: bool,
}

/// Decoded string values of a buffer, with the map back to it.
#[derive(Debug, Default)]
pub struct DecodedView {
    pub bytes: Vec<u8>,
    segments: Vec<Segment>,
}

impl DecodedView {
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn segment_at(&self, pos: usize) -> &Segment {
        let idx = self.segments.partition_point(|s| s.decoded <= pos);
        // Segment 0 starts at decoded offset 0 whenever bytes is non-empty,
        // and callers only ask about positions inside `bytes`.
        &self.segments[idx.saturating_sub(1)]
    }

    /// Maps the decoded span `start..end` (non-empty) to the source span it
    /// was decoded from.
    pub fn source_span(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.segment_at(start);
        let src_start = if first.identity {
            first.source + (start - first.decoded)
        } else {
            first.source
        };
        let last_pos = end.saturating_sub(1).max(start);
        let last = self.segment_at(last_pos);
        let src_end = if last.identity {
            last.source + (last_pos - last.decoded) + 1
        } else {
            last.source + last.source_len
        };
        (src_start, src_end.max(src_start + 1))
    }

    fn push_identity(&mut self, src: &[u8], from: usize, to: usize) {
        if from < to {
            self.segments.push(Segment {
                decoded: self.bytes.len(),
                source: from,
                source_len: to - from,
                identity: true,
            });
            self.bytes.extend_from_slice(&src[from..to]);
        }
    }

    fn push_atomic(&mut self, decoded: &[u8], source: usize, source_len: usize) {
        self.segments.push(Segment {
            decoded: self.bytes.len(),
            source,
            source_len,
            identity: false,
        });
        self.bytes.extend_from_slice(decoded);
    }
}

/// Lexer state carried from one chunk of a file to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LexState {
    pub in_string: bool,
}

/// Decodes every escaped string literal of `src`.
///
/// `state` tells whether `src` starts inside a string (a chunk of a long
/// line). Returns the view and the lexer state at `resume_at`, the offset the
/// next chunk will start from (pass `src.len()` if there is none).
pub fn decode_strings(src: &[u8], state: LexState, resume_at: usize) -> (DecodedView, LexState) {
    let mut view = DecodedView::default();
    let mut resume_state = LexState::default();
    let mut resume_known = false;
    let mut pos = 0;
    let mut in_string = state.in_string;
    while pos < src.len() {
        if !in_string {
            match memchr::memchr(b'"', &src[pos..]) {
                Some(q) => {
                    if !resume_known && pos + q >= resume_at {
                        resume_known = true;
                    }
                    pos += q + 1;
                    in_string = true;
                }
                None => break,
            }
            continue;
        }
        // Inside a string starting at `pos`: find its end, noting whether it
        // has any escape at all.
        let start = pos;
        let (end, escaped) = string_end(src, start);
        if !resume_known && resume_at >= start && resume_at <= end {
            // At the closing quote itself the next chunk must still see it
            // as the end of a string.
            resume_state = LexState { in_string: true };
            resume_known = true;
        }
        if escaped {
            decode_one(src, start, end, &mut view);
            // Separator: maps to the closing quote (or the buffer end). The
            // newline ends a value for the rules' trailing anchors (`\s`);
            // the NUL after it is in no rule's character class, so no match
            // runs on into the next value (a PEM body's class takes `\s`:
            // with a newline alone a key could span several values, and its
            // span in the file took in the JSON between them).
            view.push_atomic(b"\n\0", end.min(src.len().saturating_sub(1)), 1);
        }
        pos = end + 1;
        in_string = false;
    }
    if !resume_known {
        resume_state = LexState { in_string };
    }
    (view, resume_state)
}

/// Finds the closing quote of the string whose content starts at `start`.
/// Returns its offset (or `src.len()` when the string runs past the buffer)
/// and whether the content holds a backslash.
///
/// A raw newline also ends the string: JSON strings cannot hold one, so it
/// is the end of a record — or, in a decoded view, the separator after one
/// decoded string. Without this, a decoded string with an odd number of
/// quotes (`he said "hi`) would put the lexer of the next level out of step
/// for the rest of the view, and a secret escaped in a later string would
/// never be decoded.
fn string_end(src: &[u8], start: usize) -> (usize, bool) {
    let mut pos = start;
    let mut escaped = false;
    while let Some(i) = memchr::memchr3(b'"', b'\\', b'\n', &src[pos..]) {
        let at = pos + i;
        if src[at] != b'\\' {
            return (at, escaped);
        }
        escaped = true;
        if src.get(at + 1) == Some(&b'\n') {
            return (at + 1, true);
        }
        pos = at + 2; // skip the escaped byte, whatever it is
        if pos >= src.len() {
            return (src.len(), true);
        }
    }
    (src.len(), escaped)
}

/// Appends the decoded content of `src[start..end]` to `view`.
fn decode_one(src: &[u8], start: usize, end: usize, view: &mut DecodedView) {
    let end = end.min(src.len());
    let mut run = start;
    let mut pos = start;
    while let Some(i) = memchr::memchr(b'\\', &src[pos..end]) {
        let at = pos + i;
        view.push_identity(src, run, at);
        let (decoded, len) = decode_escape(&src[at..end]);
        match decoded {
            Some(Decoded::Bytes(buf, n)) => view.push_atomic(&buf[..n], at, len),
            None => view.push_identity(src, at, at + len),
        }
        pos = at + len;
        run = pos;
    }
    view.push_identity(src, run, end);
}

enum Decoded {
    Bytes([u8; 4], usize),
}

/// Decodes the escape sequence at the start of `s` (which starts with `\`).
/// Returns the decoded bytes (None when the escape is not valid JSON: then
/// the source bytes are kept as they are) and the source length consumed.
fn decode_escape(s: &[u8]) -> (Option<Decoded>, usize) {
    let Some(&c) = s.get(1) else {
        return (None, 1);
    };
    let simple = match c {
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
        return (Some(Decoded::Bytes([b, 0, 0, 0], 1)), 2);
    }
    if c != b'u' {
        return (None, 2);
    }
    let Some(first) = hex4(s.get(2..6)) else {
        return (None, 2);
    };
    let (code, len) = if (0xD800..0xDC00).contains(&first) {
        match (s.get(6), s.get(7), hex4(s.get(8..12))) {
            (Some(b'\\'), Some(b'u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
            }
            _ => (0xFFFD, 6),
        }
    } else {
        (first, 6)
    };
    let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    let n = ch.encode_utf8(&mut buf).len();
    (Some(Decoded::Bytes(buf, n)), len)
}

fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Whether content should also be scanned through decoded views: JSON by
/// name, or by its first non-blank byte.
pub fn looks_like_json(path: Option<&str>, head: &[u8]) -> bool {
    if let Some(p) = path {
        let lower = p.to_ascii_lowercase();
        if [".json", ".jsonl", ".ndjson", ".jsonl.zst"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            return true;
        }
    }
    matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(src: &str) -> DecodedView {
        decode_strings(src.as_bytes(), LexState::default(), src.len()).0
    }

    #[test]
    fn strings_without_escapes_are_left_to_the_raw_scan() {
        assert!(decode(r#"{"a":"plain","b":1}"#).is_empty());
    }

    #[test]
    fn escapes_decode_and_map_back_whole() {
        let src = r#"{"k":"one\ntwo \"q\" \u00e9 \ud83d\ude00"}"#;
        let v = decode(src);
        assert_eq!(v.bytes, "one\ntwo \"q\" é 😀\n\0".as_bytes());
        // "two" maps to itself.
        let t = v.bytes.windows(3).position(|w| w == b"two").unwrap();
        let (s, e) = v.source_span(t, t + 3);
        assert_eq!(&src[s..e], "two");
        // The decoded newline maps to the whole `\n` escape.
        let (s, e) = v.source_span(3, 4);
        assert_eq!(&src[s..e], r"\n");
        // The emoji maps to its surrogate pair.
        let emoji = v.bytes.len() - 6;
        let (s, e) = v.source_span(emoji, emoji + 4);
        assert_eq!(&src[s..e], r"\ud83d\ude00");
    }

    #[test]
    fn nested_json_decodes_level_by_level() {
        let src = r#"{"arguments":"{\"cmd\":\"echo a\\nb\"}"}"#;
        let l1 = decode(src);
        assert_eq!(l1.bytes, b"{\"cmd\":\"echo a\\nb\"}\n\0");
        let l2 = decode_strings(&l1.bytes, LexState::default(), l1.bytes.len()).0;
        assert_eq!(l2.bytes, b"echo a\nb\n\0");
        let (s1, e1) = l2.source_span(6, 7);
        let (s0, e0) = l1.source_span(s1, e1);
        assert_eq!(&src[s0..e0], r"\\n");
    }

    #[test]
    fn truncated_and_invalid_input_does_not_panic() {
        for src in [
            r#"{"a":"abc\"#,
            r#"{"a":"\u12"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\q"}"#,
            "\"\\",
            "\"",
            "",
        ] {
            let v = decode(src);
            for i in 0..v.bytes.len() {
                let (s, e) = v.source_span(i, i + 1);
                assert!(s < e && e <= src.len().max(1), "{src:?} {i}");
            }
        }
    }

    #[test]
    fn lexer_state_is_reported_at_the_resume_offset() {
        let src = br#"{"a":"xx\nyy","b":"zz"}"#;
        let inside = src.iter().position(|&b| b == b'y').unwrap();
        let (_, st) = decode_strings(src, LexState::default(), inside);
        assert!(st.in_string);
        let (_, st) = decode_strings(src, LexState::default(), src.len());
        assert!(!st.in_string);
        // Resuming inside a string decodes its tail.
        let (v, _) = decode_strings(&src[inside..], LexState { in_string: true }, 0);
        assert_eq!(v.bytes, b"");
        let (v, _) = decode_strings(br#"a\nb","c":1"#, LexState { in_string: true }, 0);
        assert_eq!(v.bytes, b"a\nb\n\0");
    }
}
