//! Aider chat history (Markdown).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    mantra_fuzz::parse_file(
        Assistant::Aider,
        SourceKind::AiderMarkdown,
        "proj/.aider.chat.history.md",
        data,
    );
});
