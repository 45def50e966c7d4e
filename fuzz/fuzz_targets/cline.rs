//! A Cline task folder: `api_conversation_history.json`,
//! `ui_messages.json` and the extension's `state/taskHistory.json`, the
//! three parts of one input separated by `mantra_fuzz::SEP`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    let p = mantra_fuzz::parts(data, 3);
    let dir = mantra_fuzz::fresh_dir("cline");
    let task = dir.join("tasks/1726000000000");
    mantra_fuzz::write(&task, "api_conversation_history.json", p[0]);
    mantra_fuzz::write(&task, "ui_messages.json", p[1]);
    mantra_fuzz::write(&dir, "state/taskHistory.json", p[2]);
    mantra_fuzz::parse_path(Assistant::Cline, SourceKind::ClineTask, &task, 0);
});
