//! `git diff -U0` / `git diff-tree -p --cc -U0` output as the hooks parse it.
//! Checks: every added line is a line of the patch (its bytes occur in the
//! input). Line numbers come from the hunk headers as written: a header git
//! never writes (`+0,5`) numbers its lines from 0, which is not checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_hooks::diff::parse_patch;

fuzz_target!(|data: &[u8]| {
    for file in parse_patch(data) {
        for (_, line) in file.lines() {
            assert!(mantra_fuzz::contains(data, line));
        }
    }
});
