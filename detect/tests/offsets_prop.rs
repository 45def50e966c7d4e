//! Property: a secret inside JSON/JSONL, however its string is escaped
//! (`\uXXXX` for any character, `\/`, JSON nested in JSON strings as Codex
//! writes it, non-ASCII text before it, long lines across chunk
//! boundaries), is reported at its place in the file as stored: offset and
//! length span exactly the stored (escaped) bytes of the secret, and the
//! line and columns are those of its first and last stored characters. For
//! every engine built in.

use std::sync::{Arc, OnceLock};

use mantra_detect::scanner::MIN_CHUNK_SIZE;
use mantra_detect::{EngineKind, JsonViews, RuleSet, ScanOptions, Scanner};
use proptest::prelude::*;

/// Secrets from the rules' own examples, with the rule that must find them.
const SECRETS: &[(&str, &str)] = &[
    ("AKIAB7ZHFQZAJN5W7VSO", "aws-access-key-id"),
    ("ASIAOO7HJNQ2F6DM6CJN", "aws-access-key-id"),
    ("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", "github-pat"),
    ("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", "github-pat"),
];

/// Scanners per engine, in one chunk and in the smallest chunks.
fn scanners() -> &'static Vec<(EngineKind, Scanner)> {
    static SCANNERS: OnceLock<Vec<(EngineKind, Scanner)>> = OnceLock::new();
    SCANNERS.get_or_init(|| {
        let (rules, errors) = RuleSet::builtin();
        assert!(errors.is_empty());
        let rules = Arc::new(rules);
        EngineKind::available()
            .iter()
            .map(|&engine| {
                let options = ScanOptions {
                    reveal_secrets: true,
                    json_views: JsonViews::Always,
                    chunk_size: MIN_CHUNK_SIZE,
                    ..ScanOptions::default()
                };
                let scanner = Scanner::new(Arc::clone(&rules), engine, options).expect("scanner");
                (engine, scanner)
            })
            .collect()
    })
}

/// Writes `text` as the content of a JSON string (without quotes), escaping
/// what JSON requires and, where `choices` say so, any other character as
/// `\uXXXX` (surrogate pairs above the BMP) and `/` as `\/`. Returns the
/// escaped text and, for every char boundary of `text`, the offset it maps
/// to.
fn escape(text: &str, choices: &[bool], next: &mut usize) -> (String, Vec<(usize, usize)>) {
    let mut out = String::new();
    let mut map = Vec::new();
    let mut pick = || {
        let c = choices
            .get(*next % choices.len().max(1))
            .copied()
            .unwrap_or(false);
        *next += 1;
        c
    };
    for (i, ch) in text.char_indices() {
        map.push((i, out.len()));
        let as_unicode = |out: &mut String| {
            let mut units = [0u16; 2];
            for u in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        };
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => as_unicode(&mut out),
            '/' if pick() => out.push_str("\\/"),
            _ if pick() => as_unicode(&mut out),
            c => out.push(c),
        }
    }
    map.push((text.len(), out.len()));
    (out, map)
}

fn mapped(map: &[(usize, usize)], at: usize) -> usize {
    map.iter()
        .find(|(i, _)| *i == at)
        .map(|(_, o)| *o)
        .expect("a char boundary")
}

/// One generated case.
#[derive(Debug, Clone)]
struct Case {
    secret: usize,
    before: String,
    separator: char,
    after: String,
    /// JSON levels the secret sits in: 1 = a string of the record, 2 = a
    /// string of JSON held in a string of the record, …
    levels: usize,
    wrappers: Vec<u8>,
    choices: Vec<bool>,
    lines_before: Vec<String>,
    padding: usize,
    lines_after: Vec<String>,
}

/// The file and the stored span of the secret in it.
fn render(case: &Case) -> (Vec<u8>, usize, usize) {
    let (secret, _) = SECRETS[case.secret];
    let content = format!("{}{}{secret}{}", case.before, case.separator, case.after);
    let mut start = case.before.len() + case.separator.len_utf8();
    let mut end = start + secret.len();
    let mut next = 0;
    // Innermost first: each level is a JSON document whose string holds the
    // level below, escaped once more.
    let mut text = content;
    for level in 0..case.levels {
        let (escaped, map) = escape(&text, &case.choices, &mut next);
        let (s, e) = (mapped(&map, start), mapped(&map, end));
        let key = ["text", "arguments", "output", "content"][level % 4];
        let mut prefix = format!("{{\"type\":\"message\",\"{key}\":\"");
        let mut suffix = String::from("\"}");
        for w in case
            .wrappers
            .iter()
            .skip(level)
            .step_by(case.levels.max(1))
            .take(3)
        {
            match w % 3 {
                0 => {
                    prefix = format!("[1,{prefix}");
                    suffix.push(']');
                }
                1 => {
                    prefix = format!("{{\"payload\":{prefix}");
                    suffix.push('}');
                }
                _ => {
                    prefix = format!("{{\"n\":null,\"v\":[true,\"x\\\"y\"],\"p\":{prefix}");
                    suffix.push('}');
                }
            }
        }
        start = prefix.len() + s;
        end = prefix.len() + e;
        text = format!("{prefix}{escaped}{suffix}");
    }
    let mut file = String::new();
    for l in &case.lines_before {
        file.push_str(&serde_json::json!({ "type": "note", "text": l }).to_string());
        file.push('\n');
    }
    if case.padding > 0 {
        // A long record of escaped text, so that the secret's line starts
        // in a later chunk (and long lines are read in several).
        let pad = "lorem \\\"ipsum\\\" \u{e9}t\\u00e9 \\n".repeat(case.padding / 24 + 1);
        file.push_str(&format!("{{\"text\":\"{pad}\"}}\n"));
    }
    let at = file.len();
    file.push_str(&text);
    file.push('\n');
    for l in &case.lines_after {
        file.push_str(&serde_json::json!({ "text": l }).to_string());
        file.push('\n');
    }
    (file.into_bytes(), at + start, at + end)
}

/// 1-based line and character column of byte `pos` (a byte that does not
/// continue a UTF-8 sequence starts a character).
fn line_column(data: &[u8], pos: usize) -> (u64, u64) {
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

fn case() -> impl Strategy<Value = Case> {
    (
        0..SECRETS.len(),
        // Text before the secret: any printable characters, non-ASCII ones
        // included; a delimiter always separates it from the secret.
        "\\PC{0,12}",
        prop::sample::select(vec![' ', '=', ':', '\n', '\t', '/', '(', '"', '\'']),
        prop::sample::select(vec![
            String::new(),
            " done".to_string(),
            "\n".to_string(),
            "\" ok".to_string(),
            ", \u{1F600} ".to_string(),
        ]),
        1usize..=3,
        prop::collection::vec(any::<u8>(), 0..6),
        prop::collection::vec(any::<bool>(), 0..16),
        prop::collection::vec("\\PC{0,20}", 0..3),
        prop_oneof![3 => Just(0usize), 1 => 1usize..(3 * MIN_CHUNK_SIZE)],
        prop::collection::vec("[a-z \u{e9}\"\\\\]{0,20}", 0..3),
    )
        .prop_map(
            |(
                secret,
                before,
                separator,
                after,
                levels,
                wrappers,
                choices,
                lines_before,
                padding,
                lines_after,
            )| Case {
                secret,
                before,
                separator,
                after,
                levels,
                wrappers,
                choices,
                lines_before,
                padding,
                lines_after,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn findings_point_at_the_secret_as_stored(case in case()) {
        let (data, start, end) = render(&case);
        let (secret, rule) = SECRETS[case.secret];
        for (engine, scanner) in scanners() {
            let mut state = scanner.state().expect("scan state");
            let findings = scanner.scan_bytes(&mut state, &data, "case.jsonl").expect("scan");
            let hits: Vec<_> = findings.iter().filter(|f| f.rule_id == rule).collect();
            prop_assert_eq!(hits.len(), 1, "{:?}: one {} finding expected, got {:?}", engine, rule, findings);
            let f = hits[0];
            prop_assert_eq!(f.secret.as_deref(), Some(secret));
            prop_assert_eq!((f.offset as usize, (f.offset + f.length) as usize), (start, end),
                "{:?}: stored span {:?}", engine, String::from_utf8_lossy(&data[start..end]));
            prop_assert_eq!((f.line, f.column), line_column(&data, start));
            let mut last = end - 1;
            while data[last] & 0xC0 == 0x80 {
                last -= 1;
            }
            prop_assert_eq!((f.end_line, f.end_column), line_column(&data, last));
        }
    }
}

/// Found by the property above: a decoded string with an odd number of
/// quotes (`x"y`) put the next level's lexer out of step, so a secret in
/// JSON nested in a later string of the same record was never decoded and
/// went unreported.
#[test]
fn an_unbalanced_quote_in_one_string_does_not_hide_a_nested_secret() {
    let (secret, rule) = SECRETS[0];
    // Codex-like: JSON held in a string, its own string escaped too.
    let inner = format!(
        r#"{{"text":"key \u{:04x}{}"}}"#,
        secret.as_bytes()[0],
        &secret[1..]
    );
    let line = format!(
        "{{\"note\":\"x\\\"y\",\"arguments\":{}}}\n",
        serde_json::Value::String(inner)
    );
    for (engine, scanner) in scanners() {
        let mut state = scanner.state().expect("scan state");
        let findings = scanner
            .scan_bytes(&mut state, line.as_bytes(), "case.jsonl")
            .expect("scan");
        assert!(
            findings.iter().any(|f| f.rule_id == rule),
            "{engine:?}: {findings:?}"
        );
    }
}

/// Found by the `scanner` fuzz target: decoded string values were joined
/// by a newline alone, which a PEM body's class (`\s`) accepts, so a key
/// that begins in one value and ends in a later one matched across them,
/// and its span in the file took in the JSON between the values (a
/// redaction there would break the record). A match never crosses from
/// one string value into the next.
#[test]
fn a_match_never_spans_two_string_values() {
    let body = "MIIEpAIBAAKCAQEAuMVMtvCVfkxmHBZLeD4vVoZUyfL7IkcYzqEg+jdwXcoq2FGRLAqjX3DFQsWaeXXc";
    let line = format!(
        "{{\"a\":\"-----BEGIN RSA PRIVATE KEY-----\\n{body}\",\"type\":\"image/png\",\"b\":\"{body}\\n-----END RSA PRIVATE KEY-----\"}}\n"
    );
    for (engine, scanner) in scanners() {
        let mut state = scanner.state().expect("scan state");
        let findings = scanner
            .scan_bytes(&mut state, line.as_bytes(), "case.jsonl")
            .expect("scan");
        for f in &findings {
            let span = &line.as_bytes()[f.offset as usize..(f.offset + f.length) as usize];
            assert!(
                !span.windows(3).any(|w| w == b"\",\""),
                "{engine:?}: {} spans two values: {}",
                f.rule_id,
                String::from_utf8_lossy(span)
            );
        }
    }
}

/// The separator after a decoded value starts with a newline: a generic
/// secret that ends its string, with an escape inside it (so only the
/// decoded view sees it whole), still meets the rule's trailing anchor.
/// With the NUL first, this secret went unreported.
#[test]
fn a_secret_ending_an_escaped_string_is_found() {
    let line = "{\"content\":\"run: export DB_PASSWORD=Tr0ub4dor\\u002Bhorse9x\"}\n";
    for (engine, scanner) in scanners() {
        let mut state = scanner.state().expect("scan state");
        let findings = scanner
            .scan_bytes(&mut state, line.as_bytes(), "case.jsonl")
            .expect("scan");
        assert_eq!(findings.len(), 1, "{engine:?}: {findings:?}");
        let f = &findings[0];
        let span = &line[f.offset as usize..(f.offset + f.length) as usize];
        assert_eq!(span, "Tr0ub4dor\\u002Bhorse9x", "{engine:?}");
    }
}
