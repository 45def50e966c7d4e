//! `store-key` and `store`: the session store is encrypted, its key is
//! reachable through the real key provider (OS keychain or the `0600` key
//! file fallback), and the key opens it. Read-only: the key is looked up,
//! never created, and the store is opened read-only.

use mantra_agent::keys::{KeyError, KeyProvider, StoreKey};
use mantra_agent::store::{Store, StoreError, PLAINTEXT_HEADER};

use super::{loose_mode, Check, Context};

const KEY: &str = "store-key";
const STORE: &str = "store";

/// The store checks and what later checks need from them.
pub struct Probe {
    pub checks: Vec<Check>,
    /// The database file exists and is not empty.
    pub present: bool,
    /// Last index time (ms) when the store could be read.
    pub last_indexed_at: Option<i64>,
}

pub fn probe(ctx: &Context) -> Probe {
    let db = ctx.data.db_path();
    let present = std::fs::metadata(&db).is_ok_and(|m| m.len() > 0);
    let (key_check, key) = key_check(ctx, present);
    let (store_check, last_indexed_at) = store_check(ctx, present, key.as_ref());
    Probe {
        checks: vec![key_check, store_check],
        present,
        last_indexed_at,
    }
}

fn key_check(ctx: &Context, db_present: bool) -> (Check, Option<StoreKey>) {
    let key_file = ctx.data.key_file();
    if let Ok(meta) = std::fs::metadata(&key_file) {
        if let Some(mode) = loose_mode(&meta) {
            return (
                Check::fail(
                    KEY,
                    format!(
                        "key file {} is mode {mode:04o}: others can read the store key",
                        key_file.display()
                    ),
                    format!("chmod 600 '{}'", key_file.display()),
                ),
                None,
            );
        }
    }
    let keys = match mantra_agent::lifecycle::system_keys(ctx.data, ctx.agent_config) {
        Ok(k) => k,
        Err(e) => {
            return (
                Check::fail(KEY, e.to_string(), "unset or correct MANTRA_KEY_STORE"),
                None,
            )
        }
    };
    match keys.get() {
        Ok(Some(key)) => {
            let warnings = keys.warnings();
            let check = if warnings.is_empty() {
                Check::ok(KEY, format!("store key in the {}", keys.describe()))
            } else {
                Check::warn(
                    KEY,
                    warnings.join("; "),
                    "make an OS keychain reachable (Secret Service on Linux desktops) and \
                     re-create the store (`mantra wipe --yes`, then `mantra index`), or keep \
                     the 0600 key file; policy storage.key_fallback: deny forbids it",
                )
            };
            (check, Some(key))
        }
        Ok(None) if db_present => (
            Check::fail(
                KEY,
                format!(
                    "the store exists but its key is missing ({})",
                    keys.describe()
                ),
                "restore the key (keychain entry or store.key), or start over with \
                 `mantra wipe --yes` and `mantra index`",
            ),
            None,
        ),
        Ok(None) => (
            Check::ok(
                KEY,
                "no key yet: it is created with the store on the first index",
            ),
            None,
        ),
        Err(e @ KeyError::KeychainDenied { .. }) => (
            Check::fail(
                KEY,
                e.to_string(),
                "make the OS keychain reachable for this user, or allow the key file \
                 (policy storage.key_fallback: file)",
            ),
            None,
        ),
        Err(e) => (
            Check::fail(
                KEY,
                e.to_string(),
                "fix access to the key store named above",
            ),
            None,
        ),
    }
}

fn store_check(ctx: &Context, present: bool, key: Option<&StoreKey>) -> (Check, Option<i64>) {
    let db = ctx.data.db_path();
    if !present {
        let detail = format!("no session store at {}: not indexed yet", db.display());
        let fix = "start the agent (see agent-running) or run `mantra index`";
        return if ctx.agent_required() {
            (Check::fail(STORE, detail, fix), None)
        } else {
            (
                Check::warn(
                    STORE,
                    format!("{detail} (the agent is not required: every agent.sources.* is off)"),
                    fix,
                ),
                None,
            )
        };
    }
    if starts_plaintext(&db) {
        return (
            Check::fail(
                STORE,
                format!("{} is an unencrypted SQLite database", db.display()),
                "move it away and run `mantra index` to build an encrypted store",
            ),
            None,
        );
    }
    let index = mantra_agent::store::search::index_path(&db);
    if starts_plaintext(&index) {
        return (
            Check::fail(
                STORE,
                format!(
                    "the search index {} is an unencrypted SQLite database",
                    index.display()
                ),
                "delete it; the next `mantra index` rebuilds it, encrypted, from the store",
            ),
            None,
        );
    }
    let Some(key) = key else {
        return (
            Check::fail(
                STORE,
                format!(
                    "{} is encrypted but cannot be opened: no usable key (see store-key)",
                    db.display()
                ),
                "fix store-key first",
            ),
            None,
        );
    };
    match Store::open_read_only(&db, key) {
        Ok(store) => {
            if let Some(problem) = store.integrity_problem() {
                return (damaged_store(&db, &problem), None);
            }
            if let Some(problem) = store.search_index_problem() {
                let files = mantra_agent::store::search::index_files(&db)
                    .iter()
                    .map(|f| format!("'{}'", f.display()))
                    .collect::<Vec<_>>()
                    .join(" ");
                return (
                    Check::fail(
                        STORE,
                        format!(
                            "the search index {} is damaged ({problem}); the store itself is sound",
                            index.display()
                        ),
                        format!(
                            "the index holds nothing the store does not: remove it (`rm -f {files}`) \
                             and run `mantra index`, which rebuilds it from the store (`mantra search` \
                             also rebuilds it when it meets the damage)"
                        ),
                    ),
                    None,
                );
            }
            let counts = store.counts();
            let last = store.last_indexed_at().ok().flatten();
            let detail = match counts {
                Ok(c) => format!(
                    "encrypted store {} opens with its key: {} session(s), {} message(s), last indexed {}",
                    db.display(),
                    c.sessions,
                    c.messages,
                    last.map(|ms| mantra_core::time::Timestamp::from_millis(ms).to_rfc3339())
                        .unwrap_or_else(|| "never".into())
                ),
                Err(e) => format!("encrypted store {} opens with its key ({e})", db.display()),
            };
            (Check::ok(STORE, detail), last)
        }
        Err(StoreError::Damaged(e)) => (damaged_store(&db, &e.to_string()), None),
        Err(e @ StoreError::WrongKey { .. }) => (
            Check::fail(
                STORE,
                e.to_string(),
                "restore the key the store was made with, or start over with \
                 `mantra wipe --yes` and `mantra index`",
            ),
            None,
        ),
        Err(e) => (
            Check::fail(
                STORE,
                e.to_string(),
                "see the error above; `mantra index` re-opens and repairs what it can",
            ),
            None,
        ),
    }
}

/// The store fails its integrity check: what to do, without deleting it.
fn damaged_store(db: &std::path::Path, problem: &str) -> Check {
    Check::fail(
        STORE,
        format!("the session store {} is damaged: {problem}", db.display()),
        format!(
            "nothing was deleted. Stop the agent and keep a copy (`cp '{db}'* <backup dir>`); then \
             restore the store from a backup, or move it aside and run `mantra index` to build a \
             new one from the transcripts still on disk (sessions whose transcripts are gone \
             cannot be recovered that way)",
            db = db.display()
        ),
    )
}

fn starts_plaintext(db: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    mantra_core::fsio::open_file(db)
        .map_err(std::io::Error::from)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == PLAINTEXT_HEADER)
}
