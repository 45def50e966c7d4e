//! Windows `.reg` files (REGEDIT4 / version 5.00, UTF-8 or UTF-16LE):
//! parsed into the in-memory registry and validated as `mantra policy
//! validate` does (from a file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_policy::registry::MemRegistry;
use mantra_policy::validate;

fuzz_target!(|data: &[u8]| {
    let _ = MemRegistry::from_reg_bytes(data);
    let dir = mantra_fuzz::fresh_dir("policy-reg");
    let path = mantra_fuzz::write(&dir, "policy.reg", data);
    let _ = validate::validate_file(&path);
});
