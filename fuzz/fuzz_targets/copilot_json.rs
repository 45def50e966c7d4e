//! Copilot Chat session (whole JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(
        Assistant::CopilotChat,
        SourceKind::CopilotJson,
        "workspaceStorage/abc123/chatSessions/7d1e0c55-aaaa-4bbb-8ccc-000000000001.json",
        data,
    );
});
