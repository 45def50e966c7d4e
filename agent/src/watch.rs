//! `mantra agent run`: keep the store current while assistants write.
//!
//! File-system notifications (`notify`: inotify, FSEvents,
//! ReadDirectoryChangesW) on the folders holding known sources trigger an
//! incremental index of just the sources touched, after a short debounce.
//! A periodic re-discovery (default every 60 s) picks up new folders and
//! catches anything notifications missed; it costs one `stat` per source.
//! Idle, the loop wakes once a second to check for cancellation and
//! nothing else, so CPU and memory stay flat.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mantra_detect::Scanner;
use notify::{RecursiveMode, Watcher};

use crate::config::AgentConfig;
use crate::discovery::{DiscoveryEnv, SourceFile};
use crate::index::{index_sources, IndexError, IndexOptions, IndexReport};
use crate::store::Store;
use mantra_core::datadir::DataDir;

/// Timing of the watch loop.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Quiet time after the last event before indexing.
    pub debounce: Duration,
    /// Longest wait after the first event of a burst.
    pub max_delay: Duration,
    /// Period of full re-discovery.
    pub rediscover: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(400),
            max_delay: Duration::from_secs(3),
            rediscover: Duration::from_secs(60),
        }
    }
}

/// Errors that end the watch loop.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("cannot watch for changes: {0}")]
    Notify(String),
}

/// Runs until `cancel` is set. `on_run` is told about every index pass
/// that read something; `on_rediscover` gets the store after every full
/// re-discovery (at start and every `opts.rediscover`), for the periodic
/// work the caller owns, such as applying the retention period.
#[allow(clippy::too_many_arguments)] // the loop's whole context, passed once
pub fn run(
    env: &DiscoveryEnv,
    store: &mut Store,
    scanner: &Arc<Scanner>,
    config: &AgentConfig,
    dir: &DataDir,
    opts: &WatchOptions,
    cancel: &AtomicBool,
    on_run: &mut dyn FnMut(&IndexReport),
    on_rediscover: &mut dyn FnMut(&mut Store),
) -> Result<(), WatchError> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            for p in ev.paths {
                let _ = tx.send(p);
            }
        }
    })
    .map_err(|e| WatchError::Notify(e.to_string()))?;
    let mut watched: HashSet<(PathBuf, bool)> = HashSet::new();
    let mut by_path: HashMap<PathBuf, SourceFile> = HashMap::new();
    let mut last_discovery = Instant::now() - opts.rediscover;
    let mut pending: HashSet<PathBuf> = HashSet::new();
    let mut first_event: Option<Instant> = None;
    let mut last_event = Instant::now();
    let index_opts = IndexOptions::default();

    while !cancel.load(Ordering::Relaxed) {
        if last_discovery.elapsed() >= opts.rediscover {
            let sources = crate::sources::discover_all(env);
            by_path = sources
                .iter()
                .map(|s| (s.path.clone(), s.clone()))
                .collect();
            update_watches(&mut watcher, &mut watched, &sources);
            let report =
                index_and_publish(store, scanner, config, dir, &sources, &index_opts, cancel)?;
            if report.sources_indexed > 0 || report.sources_failed > 0 {
                on_run(&report);
            }
            crate::logging::restrict_log_files(&dir.log_dir());
            on_rediscover(store);
            last_discovery = Instant::now();
        }
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(p) => {
                pending.insert(p);
                while let Ok(p) = rx.try_recv() {
                    pending.insert(p);
                }
                first_event.get_or_insert_with(Instant::now);
                last_event = Instant::now();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(WatchError::Notify("the watcher stopped".into()))
            }
        }
        let Some(first) = first_event else { continue };
        if last_event.elapsed() < opts.debounce && first.elapsed() < opts.max_delay {
            continue;
        }
        let mut touched: Vec<SourceFile> = Vec::new();
        let mut unknown = false;
        for p in pending.drain() {
            match source_for(&by_path, &p) {
                Some(s) => {
                    if !touched.contains(s) {
                        touched.push(s.clone());
                    }
                }
                None => unknown = true,
            }
        }
        first_event = None;
        if unknown {
            // Something new appeared: re-discover on the next turn.
            last_discovery = Instant::now() - opts.rediscover;
        }
        if !touched.is_empty() {
            let report =
                index_and_publish(store, scanner, config, dir, &touched, &index_opts, cancel)?;
            if report.sources_indexed > 0 || report.sources_failed > 0 {
                on_run(&report);
            }
        }
    }
    Ok(())
}

fn index_and_publish(
    store: &mut Store,
    scanner: &Arc<Scanner>,
    config: &AgentConfig,
    dir: &DataDir,
    sources: &[SourceFile],
    opts: &IndexOptions,
    cancel: &AtomicBool,
) -> Result<IndexReport, WatchError> {
    let report = index_sources(store, scanner, config, sources, opts, cancel, &mut |_| {})?;
    // Rewritten after every pass that indexed something, so its time stamp
    // says how current it is (`mantra doctor` compares it with the store's
    // last index).
    if report.sources_indexed > 0 || report.findings > 0 || !dir.exposure_file().exists() {
        if let Err(e) = crate::lifecycle::write_exposures(store, dir, &config.fingerprint_key) {
            tracing::warn!("exposure list not written: {e}");
        }
    }
    Ok(report)
}

/// The source a changed path belongs to: the path itself, a SQLite
/// companion file, or a file inside a folder source.
fn source_for<'a>(by_path: &'a HashMap<PathBuf, SourceFile>, p: &Path) -> Option<&'a SourceFile> {
    if let Some(s) = by_path.get(p) {
        return Some(s);
    }
    let s = p.to_string_lossy();
    for suffix in ["-wal", "-shm", "-journal"] {
        if let Some(base) = s.strip_suffix(suffix) {
            if let Some(src) = by_path.get(Path::new(base)) {
                return Some(src);
            }
        }
    }
    p.ancestors()
        .skip(1)
        .take(5)
        .find_map(|a| by_path.get(a).filter(|src| src.path.is_dir()))
}

fn update_watches(
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut HashSet<(PathBuf, bool)>,
    sources: &[SourceFile],
) {
    let mut want: HashSet<(PathBuf, bool)> = HashSet::new();
    for s in sources {
        if s.path.is_dir() {
            want.insert((s.path.clone(), true));
        } else if let Some(parent) = s.path.parent() {
            want.insert((parent.to_path_buf(), false));
        }
    }
    for w in want.difference(&watched.clone()) {
        let mode = if w.1 {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        match watcher.watch(&w.0, mode) {
            Ok(()) => {
                watched.insert(w.clone());
            }
            Err(e) => tracing::debug!(path = %w.0.display(), "not watched: {e}"),
        }
    }
    let gone: Vec<(PathBuf, bool)> = watched.difference(&want).cloned().collect();
    for w in gone {
        let _ = watcher.unwatch(&w.0);
        watched.remove(&w);
    }
}
