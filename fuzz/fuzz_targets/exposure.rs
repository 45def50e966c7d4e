//! The exposure list the agent writes and the hooks read
//! (`exposures.json`), read from a file as the hook does, then indexed; and
//! the candidate tokens of an input line, which must be pieces of the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_core::exposure::{candidate_fingerprints, ExposureList};

fuzz_target!(|data: &[u8]| {
    let dir = mantra_fuzz::fresh_dir("exposure");
    let path = mantra_fuzz::write(&dir, "exposures.json", data);
    if let Ok(list) = ExposureList::read(&path) {
        let _ = list.index();
        let _ = list.made_with(b"key");
    }
    for (token, fp) in candidate_fingerprints(b"key", data, 8) {
        assert!(token.len() >= 8 && mantra_fuzz::contains(data, token));
        assert_eq!(fp.len(), 64);
    }
});
