//! git's pre-push standard input (`<local ref> <local id> <remote ref>
//! <remote id>` lines). Checks: every accepted ref carries object ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_hooks::collect::parse_push_refs;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(refs) = parse_push_refs(text) {
        for r in refs {
            for id in [&r.local_id, &r.remote_id] {
                assert!(id.len() >= 40 && id.bytes().all(|b| b.is_ascii_hexdigit()));
            }
            let _ = (r.is_deletion(), r.is_new());
        }
    }
});
