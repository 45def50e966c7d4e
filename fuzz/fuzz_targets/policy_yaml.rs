//! Policy and user configuration YAML: parsed as the loader does, key lines
//! found, and validated as `mantra policy validate` does (from a file).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mantra_policy::{validate, yaml};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = yaml::parse(Path::new("policy.yaml"), text);
        let _ = yaml::key_lines(text);
    }
    let dir = mantra_fuzz::fresh_dir("policy-yaml");
    let path = mantra_fuzz::write(&dir, "policy.yaml", data);
    let _ = validate::validate_file(&path);
});
