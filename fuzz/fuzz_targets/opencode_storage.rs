//! opencode's older `storage/` tree. Part 0 of the input (parts separated by
//! `mantra_fuzz::SEP`) is `session/prj/ses_01.json`, part 1 the message
//! `message/ses_01/msg_01.json`, parts 2.. its parts under `part/msg_01/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    let p: Vec<&[u8]> = data.split(|&b| b == mantra_fuzz::SEP).take(16).collect();
    let dir = mantra_fuzz::fresh_dir("opencode-storage");
    mantra_fuzz::write(&dir, "session/prj/ses_01.json", p[0]);
    if let Some(m) = p.get(1) {
        mantra_fuzz::write(&dir, "message/ses_01/msg_01.json", m);
    }
    for (i, part) in p.iter().enumerate().skip(2) {
        mantra_fuzz::write(&dir, &format!("part/msg_01/prt_{i:02}.json"), part);
    }
    mantra_fuzz::parse_path(Assistant::Opencode, SourceKind::OpencodeStorage, &dir, 0);
});
