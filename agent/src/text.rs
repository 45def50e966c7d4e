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

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Replaces `data:<mime>;base64,<payload>` URLs and long bare base64 runs by
/// markers. Linear in the input; returns the input unchanged (no copy) when
/// there is nothing to replace.
pub fn scrub_blobs(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    if b.len() < 64 {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out: Option<String> = None;
    let mut last = 0; // start of the not-yet-copied tail
    let mut i = 0;
    while i < b.len() {
        // data: URL
        if b[i] == b'd' && b[i..].starts_with(b"data:") {
            if let Some(rel) = memchr::memmem::find(&b[i..(i + 200).min(b.len())], b";base64,") {
                let mime = &s[i + 5..i + rel];
                let start = i + rel + 8;
                let mut end = start;
                while end < b.len() && is_b64(b[end]) {
                    end += 1;
                }
                if end > start && mime.bytes().all(|c| c.is_ascii_graphic()) {
                    let o = out.get_or_insert_with(|| String::with_capacity(s.len().min(1 << 20)));
                    o.push_str(&s[last..i]);
                    let kind = mime
                        .split('/')
                        .next()
                        .filter(|k| !k.is_empty())
                        .unwrap_or("blob");
                    o.push_str(&blob_marker(kind, Some(mime), end - start));
                    last = end;
                    i = end;
                    continue;
                }
            }
        }
        if is_b64(b[i]) {
            let start = i;
            while i < b.len() && is_b64(b[i]) {
                i += 1;
            }
            if i - start >= BLOB_MIN_LEN && looks_base64(&b[start..i]) {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len().min(1 << 20)));
                o.push_str(&s[last..start]);
                o.push_str(&blob_marker("blob", None, i - start));
                last = i;
            }
            continue;
        }
        i += 1;
    }
    match out {
        None => std::borrow::Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[last..]);
            std::borrow::Cow::Owned(o)
        }
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

    #[test]
    fn json_in_json_decoded() {
        let v = serde_json::json!({"command": ["bash", "-lc", "echo \"hi\""], "env": "{\"TOKEN\":\"abc\"}"});
        let r = render_value(&v);
        assert!(r.contains("command: bash -lc echo \"hi\""), "{r}");
        assert!(r.contains("TOKEN: abc"), "{r}");
    }
}
