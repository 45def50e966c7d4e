//! A Continue session file and the `sessions.json` index beside it, the two
//! parts of one input separated by `mantra_fuzz::SEP`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mantra_agent::discovery::SourceKind;
use mantra_agent::model::Assistant;

fuzz_target!(|data: &[u8]| {
    let p = mantra_fuzz::parts(data, 2);
    let dir = mantra_fuzz::fresh_dir("continue");
    let session = mantra_fuzz::write(
        &dir,
        "sessions/9b2f6a4e-0000-4000-8000-000000000001.json",
        p[0],
    );
    mantra_fuzz::write(&dir, "sessions/sessions.json", p[1]);
    mantra_fuzz::parse_path(Assistant::Continue, SourceKind::ContinueJson, &session, 0);
});
