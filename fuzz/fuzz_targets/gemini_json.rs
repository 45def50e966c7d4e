//! Gemini CLI session (whole JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(
        Assistant::GeminiCli,
        SourceKind::GeminiJson,
        "tmp/proj/chats/session-2026-05-01T10-00-3f9a1b2c.json",
        data,
    );
});
