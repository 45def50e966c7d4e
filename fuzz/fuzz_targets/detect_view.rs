//! The scanner's decoded JSON views (`mantra_detect::view`). The first byte
//! chooses the lexer state and the resume offset; the rest is the buffer.
//! Checks, at every nesting level the scanner uses: each decoded byte maps
//! back inside the buffer, in order; a byte mapped one to one is the byte
//! stored there; a byte mapped from several stored bytes comes from an
//! escape sequence (or is the newline + NUL separator standing for the
//! closing quote or raw newline that ended a string).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_detect::view::{decode_strings, LexState, MAX_DEPTH};

fuzz_target!(|data: &[u8]| {
    let [settings, input @ ..] = data else {
        return;
    };
    let state = LexState {
        in_string: settings & 1 == 1,
    };
    let resume_at = usize::from(settings >> 1).min(input.len());
    let (first, _) = decode_strings(input, state, resume_at);
    let mut level = first;
    let mut src = input.to_vec();
    for _ in 0..MAX_DEPTH {
        let mut last_start = 0;
        for i in 0..level.bytes.len() {
            let (s, e) = level.source_span(i, i + 1);
            assert!(
                s < e && e <= src.len(),
                "decoded byte {i} maps to {s}..{e} of {}",
                src.len()
            );
            assert!(
                s >= last_start,
                "decoded byte {i} maps before its predecessor"
            );
            last_start = s;
            if e - s == 1 {
                assert!(
                    src[s] == level.bytes[i]
                        || (matches!(level.bytes[i], b'\0' | b'\n')
                            && (matches!(src[s], b'"' | b'\n') || s + 1 == src.len())),
                    "decoded byte {i} is not the stored byte it maps to"
                );
            } else {
                assert_eq!(src[s], b'\\', "a multi-byte mapping that is not an escape");
            }
        }
        if level.bytes.len() > 1 {
            let (s, e) = level.source_span(0, level.bytes.len());
            assert!(s < e && e <= src.len());
        }
        src = std::mem::take(&mut level.bytes);
        level = decode_strings(&src, LexState::default(), src.len()).0;
        if level.is_empty() {
            break;
        }
    }
});
