//! Two processes starting on a fresh data directory at once (the agent at
//! login while the user runs `mantra index`) both create the store: the key
//! is made once and the schema once, and both open it. Threads here, each
//! with its own connections, as two processes would have; many rounds, so
//! the race is met (without the fix most rounds fail with "table sources
//! already exists" or a key file that already exists).

use std::sync::{Arc, Barrier};

use mantra_agent::keys::FileKeys;
use mantra_agent::store::OpenMode;
use mantra_agent::DataDir;

#[test]
fn openers_racing_on_a_fresh_data_directory_all_get_the_same_store() {
    const ROUNDS: usize = 40;
    const OPENERS: usize = 4;
    for round in 0..ROUNDS {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = DataDir::new(tmp.path().join("data"));
        let start = Arc::new(Barrier::new(OPENERS));
        let handles: Vec<_> = (0..OPENERS)
            .map(|_| {
                let (data, start) = (data.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    let keys = FileKeys::new(data.key_file());
                    start.wait();
                    mantra_agent::lifecycle::open_store(&data, &keys, OpenMode::Create)
                        .map(|store| store.schema_version().expect("version"))
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            let opened = h.join().expect("no panic");
            assert_eq!(
                opened,
                Ok(mantra_agent::store::schema::CURRENT_VERSION),
                "round {round}"
            );
        }
        // One key, and it opens the store.
        let keys = FileKeys::new(data.key_file());
        mantra_agent::lifecycle::open_store(&data, &keys, OpenMode::Existing).expect("reopen");
    }
}
