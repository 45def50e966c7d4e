//! The Scanner on arbitrary bytes read as JSON/JSONL (decoded views on), with
//! the pure-Rust engine. Checks every finding: its span lies inside the
//! input; its line and columns are those of its first and last characters;
//! a raw finding's stored bytes are the secret; a decoded finding's stored
//! bytes, unescaped as many times as its view is deep, hold the secret.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mantra_detect::{EngineKind, JsonViews, RuleSet, ScanOptions, Scanner, ViewKind};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let (rules, errors) = RuleSet::builtin();
        assert!(errors.is_empty(), "built-in rules load");
        let options = ScanOptions {
            reveal_secrets: true,
            inline_allow: false,
            json_views: JsonViews::Always,
            ..ScanOptions::default()
        };
        Scanner::new(Arc::new(rules), EngineKind::Rust, options).expect("scanner")
    })
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    let mut state = scanner.state().expect("scan state");
    let findings = scanner
        .scan_bytes(&mut state, data, "fuzz.jsonl")
        .expect("scanning memory cannot fail");
    for f in findings {
        let start = usize::try_from(f.offset).expect("offset");
        let end = start + usize::try_from(f.length).expect("length");
        assert!(
            f.length > 0 && end <= data.len(),
            "{} span {start}..{end} outside {}",
            f.rule_id,
            data.len()
        );
        let stored = &data[start..end];
        assert_eq!(
            (f.line, f.column),
            mantra_fuzz::line_column(data, start),
            "{} start position",
            f.rule_id
        );
        let mut last = end - 1;
        while last > start && end - 1 - last < 3 && data[last] & 0xC0 == 0x80 {
            last -= 1;
        }
        assert_eq!(
            (f.end_line, f.end_column),
            mantra_fuzz::line_column(data, last),
            "{} end position",
            f.rule_id
        );
        let secret = f.secret.as_deref().expect("revealed").as_bytes();
        match f.view {
            ViewKind::Raw => {
                assert_eq!(
                    String::from_utf8_lossy(stored).as_bytes(),
                    secret,
                    "{} raw bytes",
                    f.rule_id
                );
            }
            ViewKind::Json { depth } => {
                let mut decoded = stored.to_vec();
                for _ in 0..depth {
                    decoded = mantra_fuzz::unescape(&decoded);
                }
                let decoded = String::from_utf8_lossy(&decoded).into_owned();
                assert!(
                    mantra_fuzz::contains(decoded.as_bytes(), secret),
                    "{} at depth {depth}: the stored bytes do not decode to the secret",
                    f.rule_id
                );
            }
        }
    }
});
