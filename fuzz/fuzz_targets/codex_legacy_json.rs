//! Codex's older whole-JSON session file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(
        Assistant::Codex,
        SourceKind::CodexJson,
        "sessions/rollout-2025-04-01-243232f1-a7ab-44e6-b2c3-045b673746ea.json",
        data,
    );
});
