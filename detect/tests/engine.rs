#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Behaviour of the scanner on crafted input, with small purpose-built rules
//! so each test states exactly what it relies on.

use std::io::Read;
use std::sync::Arc;

use mantra_detect::scanner::MIN_CHUNK_SIZE;
use mantra_detect::{
    EngineKind, Finding, JsonViews, RuleSet, RuleSetBuilder, ScanOptions, Scanner,
};

const RULES: &str = r#"
rules:
  - id: test-token
    name: Test token
    severity: high
    pattern: '\b(tok_[A-Za-z0-9]{20,40})\b'
    keywords: [tok_]
    examples: ['tok_Ab3dE5gH7jK9mN1pQ3sT5v']
  - id: test-pem
    name: Test private key
    severity: critical
    pattern: '(-----BEGIN TEST KEY-----\r?\n(?:[A-Za-z0-9+/=]{1,80}\r?\n){1,60}-----END TEST KEY-----)'
    keywords: ['-----BEGIN TEST KEY-----']
    examples: ["-----BEGIN TEST KEY-----\nAbCd\n-----END TEST KEY-----"]
  - id: test-generic
    name: Generic password
    severity: medium
    generic: true
    min_entropy: 3.0
    pattern: '(?i)password\s{0,3}[=:]\s{0,3}"?([^\s"]{8,64})'
    keywords: [password]
    examples: ['password=Zx8!kq2Lm9']
"#;

fn rules() -> Arc<RuleSet> {
    let mut b = RuleSetBuilder::new();
    b.add_yaml("test.yaml", RULES);
    let (set, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    Arc::new(set)
}

fn scanner_with(engine: EngineKind, options: ScanOptions) -> Scanner {
    Scanner::new(rules(), engine, options).unwrap()
}

fn scan_with(engine: EngineKind, options: ScanOptions, data: &[u8], path: &str) -> Vec<Finding> {
    let s = scanner_with(engine, options);
    let mut st = s.state().unwrap();
    s.scan_bytes(&mut st, data, path).unwrap()
}

fn scan(data: &[u8], path: &str) -> Vec<Finding> {
    scan_with(
        EngineKind::default_available(),
        ScanOptions::default(),
        data,
        path,
    )
}

fn reveal() -> ScanOptions {
    ScanOptions {
        reveal_secrets: true,
        ..ScanOptions::default()
    }
}

const TOKEN: &str = "tok_Q7wE9rT1yU3iO5pA7sD9fG";

#[test]
fn finds_a_token_with_exact_location() {
    let text = format!("line one\nx = \"{TOKEN}\"\n");
    let f = scan(text.as_bytes(), "a.py");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!((f.rule_id.as_str(), f.line, f.column), ("test-token", 2, 6));
    assert_eq!((f.end_line, f.end_column), (2, 5 + TOKEN.len() as u64));
    assert!(!f.redacted.contains(TOKEN) && f.secret.is_none());
    assert_eq!(f.offset as usize, text.find(TOKEN).unwrap());
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = format!("é😀 {TOKEN}");
    let f = scan(text.as_bytes(), "a.txt");
    assert_eq!(f[0].column, 4);
}

#[test]
fn json_escaped_private_key_is_found_through_the_decoded_view() {
    let pem = "-----BEGIN TEST KEY-----\nQUJDRA==\nRUZHSA==\n-----END TEST KEY-----";
    let line = serde_json::json!({"type": "user", "message": {"content": format!("here: {pem}")}})
        .to_string();
    let file = format!("{{\"type\":\"summary\"}}\n{line}\n");
    let found = scan_with(
        EngineKind::default_available(),
        reveal(),
        file.as_bytes(),
        "s.jsonl",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.rule_id, "test-pem");
    assert_eq!(f.secret.as_deref(), Some(pem));
    assert_eq!(f.line, 2);
    // The reported span is the escaped form, in the file as stored.
    let stored = &file[f.offset as usize..(f.offset + f.length) as usize];
    assert!(
        stored.starts_with("-----BEGIN TEST KEY-----\\n")
            && stored.ends_with("-----END TEST KEY-----")
    );
    assert_eq!(f.column as usize, line.find("-----BEGIN").unwrap() + 1);
}

#[test]
fn json_in_json_is_decoded_twice() {
    let pem = "-----BEGIN TEST KEY-----\nQUJDRA==\n-----END TEST KEY-----";
    let args =
        serde_json::json!({"command": ["bash", "-lc", format!("printf '{pem}'")]}).to_string();
    let line = serde_json::json!({"type": "response_item", "payload": {"type": "function_call", "arguments": args}}).to_string();
    let found = scan_with(
        EngineKind::default_available(),
        reveal(),
        line.as_bytes(),
        "rollout.jsonl",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].secret.as_deref(), Some(pem));
    let stored = &line[found[0].offset as usize..(found[0].offset + found[0].length) as usize];
    assert!(stored.contains(r"\\n"), "{stored}");
}

#[test]
fn a_secret_seen_through_two_views_is_reported_once() {
    // Plain in the raw bytes and again in the decoded string.
    let line = format!("{{\"a\":\"x\\t {TOKEN}\"}}");
    let f = scan(line.as_bytes(), "t.json");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].view, mantra_detect::ViewKind::Raw);
    // Right after an escape only the decoded view sees a word boundary.
    let line = format!("{{\"a\":\"x\\n{TOKEN}\"}}");
    let f = scan(line.as_bytes(), "t.json");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].view, mantra_detect::ViewKind::Json { depth: 1 });
}

#[test]
fn a_specific_rule_beats_the_generic_one() {
    let f = scan(format!("password = {TOKEN}\n").as_bytes(), "x.env");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "test-token");
    let f = scan(b"password = Zx8!kq2Lm9Qe\n", "x.env");
    assert_eq!(f[0].rule_id, "test-generic");
}

#[test]
fn placeholders_and_low_entropy_values_are_ignored() {
    for text in [
        "password = ${DB_PASSWORD}",
        "password = changeme123",
        "password = aaaaaaaaaaaa",
        "password = <your-password>",
        "tok_xxxxxxxxxxxxxxxxxxxxxxxx",
        "password = 1111111122",
    ] {
        assert!(scan(text.as_bytes(), "x.env").is_empty(), "{text}");
    }
}

#[test]
fn inline_allow_and_baseline_suppress() {
    let text = format!("key = {TOKEN} # mantra:allow\n");
    assert!(scan(text.as_bytes(), "a.py").is_empty());
    let no_inline = ScanOptions {
        inline_allow: false,
        ..ScanOptions::default()
    };
    let found = scan_with(
        EngineKind::default_available(),
        no_inline,
        text.as_bytes(),
        "a.py",
    );
    assert_eq!(found.len(), 1);
    let mut with_baseline = ScanOptions::default();
    with_baseline.baseline.insert(found[0].fingerprint.clone());
    // The baseline matches on the secret, wherever it moves.
    let moved = format!("\n\n  other = 1\n  key = {TOKEN}\n");
    assert!(scan_with(
        EngineKind::default_available(),
        with_baseline,
        moved.as_bytes(),
        "b.py"
    )
    .is_empty());
}

#[test]
fn fingerprints_follow_the_organisation_key() {
    let a = scan(TOKEN.as_bytes(), "a");
    let org = ScanOptions {
        fingerprint_key: b"org-secret".to_vec(),
        ..ScanOptions::default()
    };
    let b = scan_with(EngineKind::default_available(), org, TOKEN.as_bytes(), "a");
    assert_ne!(a[0].fingerprint, b[0].fingerprint);
}

/// A buffer with secrets everywhere, including across chunk boundaries.
fn dense_corpus(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    let mut i = 0u64;
    while out.len() < len {
        i += 1;
        let pad = (i * 7919 % 97) as usize;
        out.extend(std::iter::repeat_n(b'.', pad));
        let tok = format!("tok_{:020}{}", i * 2654435761 % 100000000000000000, "Zq");
        match i % 5 {
            0 => out.extend_from_slice(format!("\"k\":\"v\\n{tok}\"\n").as_bytes()),
            1 => out.extend_from_slice(format!("{tok}\n").as_bytes()),
            2 => out.extend_from_slice(format!("password: Zx{i}!kq2Lm9Qe ").as_bytes()),
            3 => out.extend_from_slice(
                b"-----BEGIN TEST KEY-----\\nQUJDRA==\\n-----END TEST KEY-----\n",
            ),
            _ => out.extend_from_slice(format!("{tok} {tok}").as_bytes()),
        }
    }
    out
}

fn key(f: &Finding) -> (String, u64, u64, u64, String) {
    (
        f.rule_id.clone(),
        f.offset,
        f.line,
        f.column,
        f.fingerprint.clone(),
    )
}

#[test]
fn chunked_scanning_matches_a_single_pass() {
    let data = dense_corpus(3 * MIN_CHUNK_SIZE + 12345);
    let whole = ScanOptions {
        chunk_size: 64 * 1024 * 1024,
        json_views: JsonViews::Always,
        ..ScanOptions::default()
    };
    let small = ScanOptions {
        chunk_size: MIN_CHUNK_SIZE,
        json_views: JsonViews::Always,
        ..ScanOptions::default()
    };
    let expect: Vec<_> = scan_with(EngineKind::default_available(), whole, &data, "c")
        .iter()
        .map(key)
        .collect();
    let s = scanner_with(EngineKind::default_available(), small);
    let mut st = s.state().unwrap();
    let got: Vec<_> = s
        .scan_reader(&mut st, &data[..], "c")
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert!(expect.len() > 500);
    assert_eq!(got, expect);
}

#[test]
fn every_engine_reports_the_same_findings() {
    let data = dense_corpus(400_000);
    let results: Vec<Vec<_>> = EngineKind::available()
        .iter()
        .map(|&e| {
            scan_with(e, ScanOptions::default(), &data, "d.jsonl")
                .iter()
                .map(key)
                .collect()
        })
        .collect();
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
}

#[test]
fn bad_input_never_panics() {
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![0xff, 0xfe, 0x00, b't', b'o', b'k', b'_'],
        b"{\"a\":\"\\".to_vec(),
        b"{\"a\":\"\\u12".to_vec(),
        b"\"\\ud800\\udfff\\q".to_vec(),
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(50_000).into_bytes(),
        b"\x00\x00\x00tok_Ab3dE5gH7jK9mN1pQ3sT5v\x00".to_vec(),
    ];
    let mut invalid_utf8 = TOKEN.as_bytes().to_vec();
    invalid_utf8.extend_from_slice(&[0xc3, 0x28, b'\n']);
    inputs.push(invalid_utf8);
    for input in &inputs {
        for &e in EngineKind::available() {
            let _ = scan_with(e, ScanOptions::default(), input, "bad.jsonl");
        }
    }
    // Invalid UTF-8 around a secret does not hide it.
    let f = scan(&inputs[7], "x");
    assert_eq!(f.len(), 1);
}

#[test]
fn a_huge_single_line_streams_in_bounded_chunks() {
    // 200 MB on one line, generated on the fly: the scanner never holds more
    // than one chunk of it.
    struct Line {
        left: usize,
        emitted_secret: bool,
    }
    impl Read for Line {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Ok(0);
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(b'a');
            if !self.emitted_secret && self.left < 100_000_000 && n > 64 {
                buf[1] = b' ';
                buf[2..2 + TOKEN.len()].copy_from_slice(TOKEN.as_bytes());
                buf[2 + TOKEN.len()] = b' ';
                self.emitted_secret = true;
            }
            self.left -= n;
            Ok(n)
        }
    }
    let s = scanner_with(EngineKind::default_available(), ScanOptions::default());
    let mut st = s.state().unwrap();
    let found = s
        .scan_reader(
            &mut st,
            Line {
                left: 200 * 1024 * 1024,
                emitted_secret: false,
            },
            "huge.txt",
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, 1);
    assert!(found[0].column > 100_000_000);
}

#[test]
fn redaction_keeps_jsonl_valid() {
    let pem = "-----BEGIN TEST KEY-----\nQUJDRA==\n-----END TEST KEY-----";
    let line = serde_json::json!({"content": format!("k {pem} and {TOKEN}")}).to_string();
    let data = format!("{line}\n{line}\n");
    let found = scan(data.as_bytes(), "r.jsonl");
    assert_eq!(found.len(), 4);
    let mut out = Vec::new();
    let n = mantra_detect::redact::redact_stream(data.as_bytes(), &mut out, &found).unwrap();
    assert_eq!(n, 4);
    let text = String::from_utf8(out).unwrap();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let content = v["content"].as_str().unwrap();
        assert_eq!(content, "k [REDACTED:test-pem] and [REDACTED:test-token]");
    }
    assert!(scan(text.as_bytes(), "r.jsonl").is_empty());
}

#[test]
fn pathological_custom_rules_are_rejected_not_run() {
    let yaml = r#"
rules:
  - id: evil
    name: Evil
    severity: high
    pattern: '(a{1,500}){1,500}b'
    keywords: [a]
    examples: ['ab']
  - id: unbounded
    name: Unbounded
    severity: high
    pattern: 'x(a+)+b'
    keywords: [x]
    examples: ['xab']
"#;
    let mut b = RuleSetBuilder::new();
    b.add_yaml("custom.yaml", yaml);
    let (set, errors) = b.build();
    assert!(set.is_empty());
    assert_eq!(errors.len(), 2, "{errors:?}");
}
