//! Damage is reported, never "fixed" by deletion: real corrupted pages in
//! the encrypted files. The search index is derived from the store, so a
//! damaged one is rebuilt from it (at open, at search, when applying a
//! batch); a damaged store is an error that says so and what to do, and
//! the file is left as it was.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use mantra_agent::store::search::index_path;
use mantra_agent::store::{Store, StoreError, CIPHER_LAYOUT};
use support::{hl, msg, session, source, Env};

const PAGE: u64 = CIPHER_LAYOUT.page_size as u64;

/// Enough text for many pages in both files.
fn fill(store: &mut Store, sessions: usize) {
    for n in 0..sessions {
        let path = format!("/x/{n}.jsonl");
        let messages = (0..40)
            .map(|i| {
                msg(
                    &format!("m{i}"),
                    i,
                    &format!("walrus{n} message {i} {}", "lorem ipsum dolor ".repeat(40)),
                )
            })
            .collect();
        store
            .write_batch(&[source(&path, vec![session(&path, "/p", messages)])])
            .expect("write");
    }
    // Everything into the main files (no WAL), as after a checkpoint.
    store.compact().expect("checkpoint");
}

/// Overwrites 64 bytes in the middle of each page `pages` (1-based) of
/// `file`: under SQLCipher the page then fails its HMAC.
fn corrupt_pages(file: &Path, pages: impl IntoIterator<Item = u64>) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .expect("open");
    for page in pages {
        f.seek(SeekFrom::Start((page - 1) * PAGE + PAGE / 2))
            .expect("seek");
        f.write_all(&[0xA5; 64]).expect("write");
    }
    f.sync_all().expect("sync");
}

fn page_count(file: &Path) -> u64 {
    std::fs::metadata(file).expect("meta").len() / PAGE
}

#[test]
fn a_damaged_index_page_met_by_a_search_is_rebuilt_and_the_search_answers() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 30);
    let index = index_path(&env.data.db_path());
    let pages = page_count(&index);
    assert!(pages > 4, "{pages} pages");
    // Under the open store: every page but the first (which the open read).
    corrupt_pages(&index, 2..=pages);
    let hits = store.search("walrus7", None, 100, &hl()).expect("search");
    assert_eq!(hits.len(), 40);
    store.verify_search_index().expect("rebuilt whole");
}

#[test]
fn a_damaged_index_is_rebuilt_when_the_store_is_opened() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 10);
    drop(store);
    let index = index_path(&env.data.db_path());
    corrupt_pages(&index, 1..=page_count(&index));
    let mut store = env.open();
    assert_eq!(
        store.search("walrus3", None, 100, &hl()).expect("s").len(),
        40
    );
    store.verify_search_index().expect("rebuilt whole");
}

#[test]
fn a_damaged_index_met_while_applying_a_batch_is_rebuilt_with_the_batch() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 20);
    let index = index_path(&env.data.db_path());
    corrupt_pages(&index, 2..=page_count(&index));
    // The write commits to the store whatever the index's state; applying
    // it meets the damage and rebuilds.
    store
        .write_batch(&[source(
            "/x/new.jsonl",
            vec![session("/x/new.jsonl", "/p", vec![msg("m1", 1, "narwhal")])],
        )])
        .expect("write");
    assert_eq!(
        store.search("narwhal", None, 10, &hl()).expect("s").len(),
        1
    );
    assert_eq!(
        store.search("walrus5", None, 100, &hl()).expect("s").len(),
        40
    );
    store.verify_search_index().expect("rebuilt whole");
}

#[test]
fn a_damaged_index_met_by_a_deletion_is_rebuilt_without_the_deleted_text() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 20);
    let index = index_path(&env.data.db_path());
    corrupt_pages(&index, 2..=page_count(&index));
    let id: i64 = store
        .connection()
        .query_row(
            "SELECT s.id FROM sessions s JOIN sources src ON src.id = s.source_id
             WHERE src.path = '/x/4.jsonl'",
            [],
            |r| r.get(0),
        )
        .expect("id");
    let n = store
        .delete(&mantra_agent::store::delete::DeleteScope::Session(id))
        .expect("delete");
    assert_eq!(n, 1);
    assert!(store
        .search("walrus4", None, 100, &hl())
        .expect("s")
        .is_empty());
    assert_eq!(
        store.search("walrus6", None, 100, &hl()).expect("s").len(),
        40
    );
    store.verify_search_index().expect("rebuilt whole");
}

/// Reading every message of the store (what a search for a common word
/// and an index rebuild do).
fn read_everything(store: &mut Store) -> Result<(), StoreError> {
    store.search("lorem", None, 100_000, &hl())?;
    store.sync_search()?;
    store
        .connection()
        .query_row("SELECT sum(length(text)) FROM messages", [], |r| {
            r.get::<_, i64>(0)
        })?;
    Ok(())
}

#[test]
fn a_damaged_store_page_is_reported_as_damage_and_the_file_is_kept() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 30);
    drop(store);
    let db = env.data.db_path();
    let pages = page_count(&db);
    corrupt_pages(&db, [pages / 2, pages / 2 + 1]);
    let before = std::fs::read(&db).expect("read");
    let err = match Store::open(&db, &env.keys(), mantra_agent::store::OpenMode::Existing) {
        Err(e) => e,
        Ok(mut store) => {
            let e = read_everything(&mut store).expect_err("the damage is met");
            // What the store still answers, it answers.
            assert!(store.counts().is_ok() || store.integrity_problem().is_some());
            assert!(store.integrity_problem().is_some(), "quick_check finds it");
            e
        }
    };
    assert!(matches!(err, StoreError::Damaged(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("session store is damaged"), "{text}");
    assert!(text.contains("Nothing was deleted"), "{text}");
    assert!(!text.contains("search index"), "{text}");
    assert_eq!(std::fs::read(&db).expect("read"), before, "left as it was");
}

#[test]
fn a_damaged_first_page_of_the_store_is_damage_not_a_wrong_key() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 3);
    drop(store);
    let db = env.data.db_path();
    corrupt_pages(&db, [1]);
    let before = std::fs::read(&db).expect("read");
    let err = Store::open(&db, &env.keys(), mantra_agent::store::OpenMode::Existing)
        .expect_err("page 1 unreadable");
    assert!(matches!(err, StoreError::Damaged(_)), "{err:?}");
    assert!(!err.to_string().contains("wipe"), "{err}");
    assert_eq!(std::fs::read(&db).expect("read"), before);
    // With another key it is still a wrong key.
    let other = mantra_agent::keys::StoreKey::generate().expect("key");
    let err = Store::open_with_key(&db, &other).expect_err("wrong key");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
}

#[test]
fn the_integrity_checks_tell_a_sound_store_and_index_from_damaged_ones() {
    let env = Env::new();
    let mut store = env.open();
    fill(&mut store, 10);
    drop(store);
    let db = env.data.db_path();
    let key = mantra_agent::keys::KeyProvider::get(&env.keys())
        .expect("key")
        .expect("a key");
    let inspect = || Store::open_read_only(&db, &key).expect("open read-only");
    assert_eq!(inspect().integrity_problem(), None);
    assert_eq!(inspect().search_index_problem(), None);
    let index = index_path(&db);
    corrupt_pages(&index, [page_count(&index) / 2]);
    assert_eq!(inspect().integrity_problem(), None);
    assert!(inspect().search_index_problem().is_some());
    corrupt_pages(&db, [page_count(&db) / 2]);
    assert!(inspect().integrity_problem().is_some());
}
