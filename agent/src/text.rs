//! Text extraction helpers shared by the parsers: readable rendering of JSON
//! tool inputs/outputs (decoding JSON-in-JSON), and keeping images and opaque
//! base64 blobs out of indexed text by replacing them with short markers.
//!
//! Owns no format knowledge; parsers decide which fields are text.

use serde_json::Value;

/// Base64 runs at least this long (no whitespace) are treated as opaque
/// blobs. Secrets are far shorter; images and archives far longer.
pub const BLOB_MIN_LEN: usize = 4096;

/// How deep JSON-in-JSON strings are decoded (Codex nests one level).
const MAX_DECODE_DEPTH: usize = 3;

/// Marker for a base64 payload of `encoded_len` characters.
pub fn blob_marker(kind: &str, media_type: Option<&str>, encoded_len: usize) -> String {
    let kb = (encoded_len / 4 * 3).div_ceil(1024);
    match media_type {
        Some(m) if !m.is_empty() => format!("[{kind}: {m}, {kb} KB]"),
        _ => format!("[{kind}: {kb} KB]"),
    }
}

/// Bytes that can appear in a base64 (standard or URL-safe) payload.
const B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_');
        c += 1;
    }
    t
};

fn is_b64(c: u8) -> bool {
    B64[usize::from(c)]
}

/// Replaces `data:<mime>;base64,<payload>` URLs and long bare base64 runs by
/// markers. Returns the input unchanged (no copy) when there is nothing to
/// replace.
///
/// Every message goes through this, so it must not look at every byte:
/// data URLs are found with a vectorised substring search, and bare runs
/// by probing one byte in [`BLOB_MIN_LEN`] (a run that long starting
/// before a non-base64 byte would have to contain it), so ordinary text
/// costs a fraction of a byte-by-byte pass.
pub fn scrub_blobs(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    if b.len() < 64 {
        return std::borrow::Cow::Borrowed(s);
    }
    let finder = memchr::memmem::Finder::new(b"data:");
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut from = 0;
    while from < b.len() {
        let url = next_data_url(s, &finder, from);
        let limit = url.as_ref().map_or(b.len(), |u| u.0);
        let mut at = from;
        while let Some((start, end)) = long_b64_run(b, at, limit) {
            if looks_base64(&b[start..end]) {
                spans.push((start, end, blob_marker("blob", None, end - start)));
            }
            at = end;
        }
        match url {
            Some(u) => {
                from = u.1;
                spans.push(u);
            }
            None => break,
        }
    }
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(1 << 20));
    let mut last = 0;
    for (start, end, marker) in spans {
        out.push_str(&s[last..start]);
        out.push_str(&marker);
        last = end;
    }
    out.push_str(&s[last..]);
    std::borrow::Cow::Owned(out)
}

/// The first `data:<mime>;base64,<payload>` URL at or after `from` that
/// starts a word: its span and marker.
fn next_data_url(
    s: &str,
    finder: &memchr::memmem::Finder<'_>,
    mut from: usize,
) -> Option<(usize, usize, String)> {
    let b = s.as_bytes();
    while let Some(rel) = finder.find(&b[from..]) {
        let i = from + rel;
        from = i + 5;
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue; // "metadata:" is not a URL
        }
        let head = &b[i..(i + 200).min(b.len())];
        let Some(semi) = memchr::memmem::find(head, b";base64,") else {
            continue;
        };
        // Both ends are ASCII (':' and ';'), so these are char boundaries.
        let mime = &s[i + 5..i + semi];
        let start = i + semi + 8;
        let end = start + b[start..].iter().take_while(|&&c| is_b64(c)).count();
        if end > start && mime.bytes().all(|c| c.is_ascii_graphic()) {
            let kind = mime
                .split('/')
                .next()
                .filter(|k| !k.is_empty())
                .unwrap_or("blob");
            return Some((i, end, blob_marker(kind, Some(mime), end - start)));
        }
    }
    None
}

/// The first maximal run of base64 bytes of at least [`BLOB_MIN_LEN`]
/// that starts at or after `from` (where `b[from - 1]`, if any, is not a
/// base64 byte), cut at `to`.
fn long_b64_run(b: &[u8], from: usize, to: usize) -> Option<(usize, usize)> {
    let mut i = from;
    loop {
        let probe = i.checked_add(BLOB_MIN_LEN - 1)?;
        if probe >= to {
            return None;
        }
        if !is_b64(b[probe]) {
            i = probe + 1;
            continue;
        }
        let mut start = probe;
        while start > i && is_b64(b[start - 1]) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < to && is_b64(b[end]) {
            end += 1;
        }
        if end - start >= BLOB_MIN_LEN {
            return Some((start, end));
        }
        i = end + 1;
    }
}

// A long run of word characters is only a blob if it mixes cases and digits
// the way base64 does (a 5 KB run of "aaaa" is text, not an image).
fn looks_base64(run: &[u8]) -> bool {
    let sample = &run[..run.len().min(512)];
    let upper = sample.iter().any(u8::is_ascii_uppercase);
    let lower = sample.iter().any(u8::is_ascii_lowercase);
    let digit = sample.iter().any(u8::is_ascii_digit);
    upper && lower && digit
}

/// Scrubs a string and returns an owned copy.
pub fn clean(s: &str) -> String {
    scrub_blobs(s).into_owned()
}

/// Renders a JSON value as readable text for indexing and secret scanning:
/// strings raw (unescaped), JSON-in-JSON strings decoded, objects as
/// `key: value` lines, arrays of scalars joined by spaces, blobs replaced.
pub fn render_value(v: &Value) -> String {
    let mut out = String::new();
    render_into(v, 0, 0, &mut out);
    out
}

fn render_into(v: &Value, depth: usize, indent: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            if depth < MAX_DECODE_DEPTH {
                if let Some(inner) = decode_nested_json(s) {
                    render_into(&inner, depth + 1, indent, out);
                    return;
                }
            }
            out.push_str(&scrub_blobs(s));
        }
        Value::Array(items) => {
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(' ');
                    }
                    render_into(item, depth, indent, out);
                }
            } else {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push('\n');
                        push_indent(out, indent);
                    }
                    render_into(item, depth, indent, out);
                }
            }
        }
        Value::Object(map) => {
            if let Some(marker) = image_marker(map) {
                out.push_str(&marker);
                return;
            }
            for (n, (k, val)) in map.iter().enumerate() {
                if n > 0 {
                    out.push('\n');
                    push_indent(out, indent);
                }
                out.push_str(k);
                out.push_str(": ");
                if val.is_object()
                    || (val.is_array()
                        && val
                            .as_array()
                            .is_some_and(|a| a.iter().any(|i| i.is_object() || i.is_array())))
                {
                    out.push('\n');
                    push_indent(out, indent + 1);
                    render_into(val, depth, indent + 1, out);
                } else {
                    render_into(val, depth, indent + 1, out);
                }
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// A string that is itself a JSON object or array (Codex function-call
/// arguments and outputs) decoded one level.
pub fn decode_nested_json(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(s)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// Recognises the common image/blob object shapes and returns a marker:
/// Anthropic `{type:"image",source:{type:"base64",media_type,data}}`,
/// `{type:"base64",media_type,data}`, OpenAI `{type:"input_image",image_url}`,
/// Gemini `{inlineData:{mimeType,data}}`.
pub fn image_marker(map: &serde_json::Map<String, Value>) -> Option<String> {
    let ty = map.get("type").and_then(Value::as_str).unwrap_or("");
    if let Some(src) = map.get("source").and_then(Value::as_object) {
        if ty == "image" || ty == "document" {
            let media = src.get("media_type").and_then(Value::as_str);
            let len = src.get("data").and_then(Value::as_str).map_or(0, str::len);
            let kind = if ty == "image" { "image" } else { "document" };
            return Some(blob_marker(kind, media, len));
        }
    }
    if ty == "base64" {
        if let Some(data) = map.get("data").and_then(Value::as_str) {
            return Some(blob_marker(
                "blob",
                map.get("media_type").and_then(Value::as_str),
                data.len(),
            ));
        }
    }
    if ty == "input_image" || ty == "image_url" {
        let url = map
            .get("image_url")
            .and_then(|u| u.as_str().or_else(|| u.get("url").and_then(Value::as_str)))
            .unwrap_or("");
        return Some(if url.starts_with("data:") {
            scrub_blobs(url).into_owned()
        } else {
            format!("[image: {url}]")
        });
    }
    if let Some(inline) = map.get("inlineData").and_then(Value::as_object) {
        let media = inline.get("mimeType").and_then(Value::as_str);
        let len = inline
            .get("data")
            .and_then(Value::as_str)
            .map_or(0, str::len);
        return Some(blob_marker("image", media, len));
    }
    None
}

/// Joins non-empty pieces with a blank line between them.
pub fn join_nonempty<I: IntoIterator<Item = String>>(parts: I) -> String {
    let mut out = String::new();
    for p in parts {
        if p.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_url_replaced() {
        let payload = "iVBORw0KGgo".repeat(300);
        let s = format!("look: data:image/png;base64,{payload} done");
        let r = scrub_blobs(&s);
        assert!(r.starts_with("look: [image: image/png, "), "{r}");
        assert!(r.ends_with(" done"));
        assert!(!r.contains("iVBOR"));
    }

    #[test]
    fn long_base64_replaced_short_kept() {
        let blob = "QUJDRGVmZ2gxMjM0".repeat(400);
        let s = format!("x {blob} y sk-ant-api03-AAAA");
        let r = scrub_blobs(&s);
        assert!(r.contains("[blob: "));
        assert!(r.contains("sk-ant-api03-AAAA"));
        let plain = "a".repeat(5000);
        assert_eq!(scrub_blobs(&plain), plain);
    }

    /// The byte-by-byte scan the fast one replaced, as the reference.
    fn scrub_reference(s: &str) -> String {
        let b = s.as_bytes();
        let (mut out, mut last, mut i) = (String::new(), 0, 0);
        while i < b.len() {
            let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if word_start && b[i..].starts_with(b"data:") {
                let head = &b[i..(i + 200).min(b.len())];
                if let Some(semi) = memchr::memmem::find(head, b";base64,") {
                    let mime = &s[i + 5..i + semi];
                    let start = i + semi + 8;
                    let mut end = start;
                    while end < b.len() && is_b64(b[end]) {
                        end += 1;
                    }
                    if end > start && mime.bytes().all(|c| c.is_ascii_graphic()) {
                        out.push_str(&s[last..i]);
                        let kind = mime.split('/').next().filter(|k| !k.is_empty());
                        out.push_str(&blob_marker(
                            kind.unwrap_or("blob"),
                            Some(mime),
                            end - start,
                        ));
                        (last, i) = (end, end);
                        continue;
                    }
                }
            }
            if is_b64(b[i]) {
                let start = i;
                // A run stops where a data URL starts a word.
                while i < b.len() && is_b64(b[i]) {
                    let url_here = i > start
                        && !b[i - 1].is_ascii_alphanumeric()
                        && b[i..].starts_with(b"data:")
                        && next_data_url(s, &memchr::memmem::Finder::new(b"data:"), i)
                            .is_some_and(|u| u.0 == i);
                    if url_here {
                        break;
                    }
                    i += 1;
                }
                if i - start >= BLOB_MIN_LEN && looks_base64(&b[start..i]) {
                    out.push_str(&s[last..start]);
                    out.push_str(&blob_marker("blob", None, i - start));
                    last = i;
                }
                continue;
            }
            i += 1;
        }
        out.push_str(&s[last..]);
        out
    }

    #[test]
    fn fast_scrub_equals_the_byte_by_byte_scan() {
        let pieces = [
            "QUJDRGVmZ2gxMjM0",
            "aaaa",
            " ",
            "\n",
            "=",
            "data:",
            "data:image/png;base64,",
            "metadata:x;base64,",
            "é",
            "-_+/",
            "ZZ9",
            ";",
            "\"url\":\"",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..400 {
            let mut s = String::new();
            while s.len() < 200 + (case % 7) * 3000 {
                let p = pieces[(next() % pieces.len() as u64) as usize];
                // Long runs of one piece, so runs cross the threshold.
                let n = if next() % 4 == 0 { 1 + next() % 600 } else { 1 };
                for _ in 0..n {
                    s.push_str(p);
                }
            }
            assert_eq!(scrub_blobs(&s), scrub_reference(&s), "case {case}");
        }
    }

    #[test]
    fn json_in_json_decoded() {
        let v = serde_json::json!({"command": ["bash", "-lc", "echo \"hi\""], "env": "{\"TOKEN\":\"abc\"}"});
        let r = render_value(&v);
        assert!(r.contains("command: bash -lc echo \"hi\""), "{r}");
        assert!(r.contains("TOKEN: abc"), "{r}");
    }
}
