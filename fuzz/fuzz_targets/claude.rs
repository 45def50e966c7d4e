//! Claude Code transcript (JSONL), read whole and then resumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(
        Assistant::ClaudeCode,
        SourceKind::ClaudeJsonl,
        "projects/-home-dev-proj/5f2a9c1e-0000-4000-8000-000000000001.jsonl",
        data,
    );
});
