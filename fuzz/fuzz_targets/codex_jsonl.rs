//! Codex rollout (JSONL), read whole and then resumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(Assistant::Codex, SourceKind::CodexJsonl, "sessions/2025/09/18/rollout-2025-09-18T00-16-27-243232f1-a7ab-44e6-b2c3-045b673746ea.jsonl", data);
});
