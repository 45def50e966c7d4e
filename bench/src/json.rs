//! A tiny ordered JSON tree with compact and `JSON.stringify(v, null, 2)`-style
//! pretty printing.
//!
//! `serde_json::Value` sorts object keys unless the workspace-wide
//! `preserve_order` feature is enabled, and real session files keep their
//! writers' key order, so the generator builds records with this type instead.

/// A JSON value whose objects keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    /// A number, already formatted.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    /// A string value.
    pub fn s(v: impl Into<String>) -> J {
        J::Str(v.into())
    }

    /// An integer value.
    pub fn n(v: impl std::fmt::Display) -> J {
        J::Num(v.to_string())
    }

    /// A string holding this value serialised compactly ("JSON in JSON").
    pub fn stringified(&self) -> J {
        J::Str(self.compact())
    }

    /// Compact serialisation, as `JSON.stringify(v)` or `serde_json::to_string` write it.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    /// Appends the compact serialisation to `out`.
    pub fn write_compact(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(n),
            J::Str(s) => push_str_literal(out, s),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_str_literal(out, k);
                    out.push(':');
                    v.write_compact(out);
                }
                out.push('}');
            }
        }
    }

    /// Pretty serialisation with two-space indentation, as `JSON.stringify(v, null, 2)`.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        match self {
            J::Arr(items) if !items.is_empty() => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    indent(out, depth + 1);
                    item.write_pretty(out, depth + 1);
                    if i + 1 < items.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                indent(out, depth);
                out.push(']');
            }
            J::Obj(fields) if !fields.is_empty() => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    indent(out, depth + 1);
                    push_str_literal(out, k);
                    out.push_str(": ");
                    v.write_pretty(out, depth + 1);
                    if i + 1 < fields.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                indent(out, depth);
                out.push('}');
            }
            other => other.write_compact(out),
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Appends `s` as a quoted JSON string literal.
pub fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Appends `s` JSON-escaped, without quotes. Escaping is character by
/// character, so the escape of a substring is a substring of the escape.
pub fn push_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            _ => None,
        };
        if let Some(rep) = rep {
            out.push_str(&s[start..i]);
            out.push_str(rep);
            start = i + 1;
        } else if b < 0x20 {
            out.push_str(&s[start..i]);
            out.push_str(&format!("\\u{b:04x}"));
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
}

/// `s` JSON-escaped `levels` times (0 = unchanged).
pub fn escape_n(s: &str, levels: u8) -> String {
    let mut cur = s.to_owned();
    for _ in 0..levels {
        let mut next = String::with_capacity(cur.len() + cur.len() / 8);
        push_escaped(&mut next, &cur);
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_matches_serde_json_escaping() {
        let v = J::Obj(vec![
            ("a", J::s("line1\nline2 \"q\" \\ \t")),
            ("b", J::Arr(vec![J::n(1), J::Null, J::Bool(true)])),
        ]);
        let parsed: serde_json::Value = serde_json::from_str(&v.compact()).expect("valid json");
        assert_eq!(parsed["a"], "line1\nline2 \"q\" \\ \t");
        assert_eq!(
            v.compact(),
            r#"{"a":"line1\nline2 \"q\" \\ \t","b":[1,null,true]}"#
        );
    }

    #[test]
    fn pretty_round_trips() {
        let v = J::Obj(vec![
            ("x", J::Arr(vec![])),
            ("y", J::Obj(vec![("z", J::s("w"))])),
        ]);
        let p = v.pretty();
        assert_eq!(p, "{\n  \"x\": [],\n  \"y\": {\n    \"z\": \"w\"\n  }\n}");
        assert!(serde_json::from_str::<serde_json::Value>(&p).is_ok());
    }

    #[test]
    fn escape_twice() {
        assert_eq!(escape_n("a\nb\"", 2), r#"a\\nb\\\""#);
    }
}
