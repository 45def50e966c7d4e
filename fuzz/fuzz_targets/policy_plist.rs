//! macOS managed preferences and `.mobileconfig` profiles (XML or binary
//! property lists): parsed as the loader does, key lines found, and
//! validated as `mantra policy validate` does (from a file).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mantra_policy::{plist_src, validate};

fuzz_target!(|data: &[u8]| {
    let _ = plist_src::parse(Path::new("com.gonewx.mantra.plist"), data);
    if plist_src::is_xml(data) {
        let _ = plist_src::key_lines(data);
    }
    let dir = mantra_fuzz::fresh_dir("policy-plist");
    let path = mantra_fuzz::write(&dir, "com.gonewx.mantra.plist", data);
    let _ = validate::validate_file(&path);
    let path = mantra_fuzz::write(&dir, "profile.mobileconfig", data);
    let _ = validate::validate_file(&path);
});
