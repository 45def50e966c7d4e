//! Indexing: deciding what changed, parsing and scanning it on worker
//! threads, and writing it to the store in batched transactions.
//!
//! Per source the store keeps size, mtime and the byte offset reached. An
//! unchanged source costs one `stat`; an append-only source that grew is
//! read from its offset; a rewritten source is parsed whole and replaces
//! its earlier sessions. Each batch commits its rows together with the
//! sources' new state, so a run killed at any point resumes cleanly.
//! Every message is scanned by the detection engine before it is written.
//! Nothing here logs message text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

use mantra_detect::{Finding, Scanner};

use crate::config::AgentConfig;
use crate::discovery::{ResumeMode, SourceFile};
use crate::error::SourceError;
use crate::model::{Message, ParseStats, Session};
use crate::store::checkpoint::Checkpointer;
use crate::store::ingest::{
    PreparedMessage, PreparedSession, PreparedSource, SourceState, StoredFinding,
};
use crate::store::search::{SearchBatch, SearchWriter};
use crate::store::{Store, StoreError};

/// Sources per transaction, at most.
const BATCH_SOURCES: usize = 256;
/// Bytes of source content per transaction, at most (roughly).
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// How often a writer waiting for prepared sources checks for a stop
/// request and for a worker waiting for the bytes its partial batch holds.
const WRITER_POLL: Duration = Duration::from_millis(20);

/// What an index run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexReport {
    pub sources_seen: u64,
    pub sources_indexed: u64,
    pub sources_unchanged: u64,
    /// Sources that could not be read (kept as they were).
    pub sources_failed: u64,
    /// Source bytes read.
    pub bytes: u64,
    pub sessions: u64,
    pub messages: u64,
    pub findings: u64,
    pub parse: ParseStats,
    /// Per failed source: path and reason (no content).
    pub errors: Vec<(PathBuf, String)>,
    /// True when the run stopped early on request.
    pub cancelled: bool,
}

/// Progress notifications for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexEvent {
    /// The work is planned: this many sources and bytes will be read.
    Planned { sources: u64, bytes: u64 },
    /// One source was written.
    Done { bytes: u64 },
}

/// Errors that stop a run (a single bad source never does).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("detection engine: {0}")]
    Engine(String),
    #[error("cannot start an index worker thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A source with the decision of how to read it.
#[derive(Debug, Clone)]
struct Work {
    source: SourceFile,
    size: u64,
    mtime_ns: i64,
    from: u64,
    replace: bool,
}

/// Size and mtime (ns) of a source. Directories (task folders, storage
/// trees) sum their files' sizes and take the latest mtime, a few levels
/// deep; SQLite sources include their WAL.
pub fn source_stat(path: &Path) -> std::io::Result<(u64, i64)> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        let mut acc = (0u64, mtime_ns(&meta));
        stat_dir(path, 4, &mut acc);
        return Ok(acc);
    }
    let mut size = meta.len();
    let mut mtime = mtime_ns(&meta);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(m) = std::fs::metadata(PathBuf::from(wal)) {
        size += m.len();
        mtime = mtime.max(mtime_ns(&m));
    }
    Ok((size, mtime))
}

fn stat_dir(dir: &Path, depth: usize, acc: &mut (u64, i64)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(m) = e.metadata() else { continue };
        acc.1 = acc.1.max(mtime_ns(&m));
        if m.is_dir() {
            if depth > 0 {
                stat_dir(&e.path(), depth - 1, acc);
            }
        } else {
            acc.0 += m.len();
        }
    }
}

fn mtime_ns(m: &std::fs::Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// Decides how to read `source` given its stored state. `None`: unchanged.
fn plan(source: &SourceFile, state: Option<&SourceState>) -> std::io::Result<Option<Work>> {
    let (size, mtime_ns) = source_stat(&source.path)?;
    let mut w = Work {
        source: source.clone(),
        size,
        mtime_ns,
        from: 0,
        replace: true,
    };
    let Some(st) = state else {
        return Ok(Some(w));
    };
    if st.size == size && st.mtime_ns == mtime_ns {
        return Ok(None);
    }
    if source.resume_mode() == ResumeMode::Append
        && size >= st.offset
        && size >= st.size
        && unchanged_before_offset(&source.path, st)
    {
        w.from = st.offset;
        w.replace = false;
    }
    Ok(Some(w))
}

/// Bytes hashed just before an append source's offset.
const TAIL_WINDOW: u64 = 4096;

/// A hash of the (up to 4 KiB of) bytes of `path` just before `offset`,
/// with their count. An append leaves them as they were; a file truncated
/// and rewritten, even to a larger size, almost never does.
fn tail_hash(path: &Path, offset: u64) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let start = offset.saturating_sub(TAIL_WINDOW);
    let mut f = mantra_core::fsio::open_file(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(TAIL_WINDOW as usize);
    f.take(offset - start).read_to_end(&mut buf)?;
    Ok(fnv_bytes(&buf) ^ (buf.len() as u64).rotate_left(32))
}

/// Whether the bytes before the stored offset are still the ones read
/// then. Unknown (stored before tail hashes existed): assumed so, as
/// before. Unreadable: no, so the file is read again whole.
fn unchanged_before_offset(path: &Path, st: &SourceState) -> bool {
    match st.tail_hash {
        None => true,
        Some(h) => tail_hash(path, st.offset).is_ok_and(|now| now == h),
    }
}

/// The text of a message as stored and searched: its text, then thinking,
/// tool calls and tool results, each under a bracketed label.
pub fn message_body(m: &Message) -> String {
    let mut out = String::with_capacity(m.text.len());
    let mut push = |label: Option<String>, text: &str| {
        if text.trim().is_empty() && label.is_none() {
            return;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        if let Some(l) = label {
            out.push_str(&l);
            out.push('\n');
        }
        out.push_str(text);
    };
    push(None, &m.text);
    if let Some(t) = m.thinking.as_deref().filter(|t| !t.trim().is_empty()) {
        push(Some("[thinking]".into()), t);
    }
    for c in &m.tool_calls {
        push(Some(format!("[tool call: {}]", c.name)), &c.input_text);
    }
    for r in &m.tool_results {
        let label = if r.is_error {
            "[tool error]"
        } else {
            "[tool result]"
        };
        push(Some(label.into()), &r.text);
    }
    out
}

/// Replaces each `(start, end, rule)` byte span of `text` with
/// `[REDACTED:rule]`. Spans are clamped to the text and widened to
/// character boundaries first, then planned by the one redaction rule
/// ([`mantra_detect::redact::plan`]): overlapping spans merge into the
/// first, so no byte of any secret stays in clear.
pub fn redact_spans(text: &str, spans: &[(usize, usize, &str)]) -> String {
    let widened: Vec<(usize, usize, &str)> = spans
        .iter()
        .map(|&(start, end, rule)| {
            let mut start = start.min(text.len());
            let mut end = end.min(text.len());
            while start > 0 && !text.is_char_boundary(start) {
                start -= 1;
            }
            while end < text.len() && !text.is_char_boundary(end) {
                end += 1;
            }
            (start, end, rule)
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0usize;
    for (start, end, rule) in mantra_detect::redact::plan(&widened) {
        out.push_str(&text[pos..start]);
        out.push_str(&mantra_detect::redact::marker(rule));
        pos = end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Scans the bodies of one session's messages (one scan over their
/// concatenation) and returns, per message, its findings as byte spans of
/// its own body.
fn scan_bodies(
    scanner: &Scanner,
    state: &mut mantra_detect::ScanState,
    bodies: &[String],
) -> Result<Vec<Vec<Finding>>, IndexError> {
    let mut buf = String::with_capacity(bodies.iter().map(|b| b.len() + 2).sum());
    let mut starts = Vec::with_capacity(bodies.len());
    for b in bodies {
        starts.push(buf.len());
        buf.push_str(b);
        buf.push_str("\n\n");
    }
    let findings = scanner
        .scan_bytes(state, buf.as_bytes(), "session.txt")
        .map_err(|e| IndexError::Engine(e.to_string()))?;
    let mut per: Vec<Vec<Finding>> = vec![Vec::new(); bodies.len()];
    for mut f in findings {
        let off = usize::try_from(f.offset).unwrap_or(usize::MAX);
        let i = match starts.binary_search(&off) {
            Ok(i) => i,
            Err(0) => continue,
            Err(i) => i - 1,
        };
        let local = off - starts[i];
        let body_len = bodies[i].len();
        if local >= body_len {
            continue;
        }
        let len = usize::try_from(f.length)
            .unwrap_or(usize::MAX)
            .min(body_len - local);
        f.offset = local as u64;
        f.length = len as u64;
        per[i].push(f);
    }
    Ok(per)
}

/// Turns one parsed session into rows: bodies, scan, redaction.
fn prepare_session(
    scanner: &Scanner,
    state: &mut mantra_detect::ScanState,
    config: &AgentConfig,
    s: &Session,
) -> Result<PreparedSession, IndexError> {
    let msgs: Vec<&Message> = s.messages.iter().filter(|m| !m.is_empty()).collect();
    let bodies: Vec<String> = msgs.iter().map(|m| message_body(m)).collect();
    let per = scan_bodies(scanner, state, &bodies)?;
    let mut messages = Vec::with_capacity(msgs.len());
    for ((m, body), findings) in msgs.into_iter().zip(bodies).zip(per) {
        let stored: Vec<StoredFinding> = findings
            .iter()
            .map(|f| StoredFinding::new(f, f.offset, f.length))
            .collect();
        let (text, redacted_text) = if findings.is_empty() {
            (body, None)
        } else {
            let spans: Vec<(usize, usize, &str)> = findings
                .iter()
                .map(|f| {
                    let st = f.offset as usize;
                    (st, st + f.length as usize, f.rule_id.as_str())
                })
                .collect();
            let red = redact_spans(&body, &spans);
            if config.redact_at_rest {
                (red, None)
            } else {
                (body, Some(red))
            }
        };
        let native_id = if m.id.is_empty() {
            format!("auto:{}:{:016x}", m.timestamp.millis(), fnv(&text))
        } else {
            m.id.clone()
        };
        messages.push(PreparedMessage {
            native_id,
            role: m.role,
            ts: m.timestamp.millis(),
            ts_estimated: m.timestamp_estimated,
            text,
            redacted_text,
            findings: stored,
        });
    }
    let metadata = serde_json::to_string(&s.metadata).unwrap_or_else(|_| "{}".into());
    Ok(PreparedSession {
        native_id: s.id.clone(),
        project: s.project.clone(),
        title: s.title.clone(),
        started_at: s.started_at.map(|t| t.millis()),
        metadata,
        messages,
    })
}

fn fnv(s: &str) -> u64 {
    fnv_bytes(s.as_bytes())
}

/// 64-bit FNV-1a.
fn fnv_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Parses and scans one planned source.
fn prepare(
    scanner: &Scanner,
    state: &mut mantra_detect::ScanState,
    config: &AgentConfig,
    mut w: Work,
) -> Result<(PreparedSource, ParseStats, u64), (PathBuf, String)> {
    let err = |e: &dyn std::fmt::Display| (w.source.path.clone(), e.to_string());
    let out = match crate::sources::parse(&w.source, w.from) {
        Ok(o) => o,
        Err(SourceError::OffsetBeyondEnd { .. }) => {
            w.from = 0;
            w.replace = true;
            crate::sources::parse(&w.source, 0).map_err(|e| err(&e))?
        }
        Err(e) => return Err(err(&e)),
    };
    if w.replace {
        if let Some(reason) = nothing_readable(&out) {
            return Err(err(&reason));
        }
    }
    let mut sessions = Vec::with_capacity(out.sessions.len());
    for s in &out.sessions {
        sessions.push(prepare_session(scanner, state, config, s).map_err(|e| err(&e))?);
    }
    if out.stats.skipped_oversized > 0 {
        let end = match w.source.resume_mode() {
            ResumeMode::Append => out.next_offset,
            ResumeMode::Reparse => w.size,
        };
        let placeholders = oversized_placeholders(scanner, state, &w, end).map_err(|e| err(&e))?;
        match sessions.first_mut() {
            Some(s) => s.messages.extend(placeholders),
            None => sessions.push(PreparedSession {
                // The parsers name a one-file session after its file.
                native_id: w
                    .source
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                project: None,
                title: None,
                started_at: None,
                metadata: "{}".into(),
                messages: placeholders,
            }),
        }
    }
    let read = w.size.saturating_sub(w.from);
    let next_offset = match w.source.resume_mode() {
        ResumeMode::Append => out.next_offset,
        ResumeMode::Reparse => w.size,
    };
    // Hashed after parsing: bytes appended meanwhile lie past the offset,
    // and a rewrite meanwhile makes the next run read the file again.
    let tail = match w.source.resume_mode() {
        ResumeMode::Append => tail_hash(&w.source.path, next_offset).ok(),
        ResumeMode::Reparse => None,
    };
    Ok((
        PreparedSource {
            source: w.source,
            size: w.size,
            mtime_ns: w.mtime_ns,
            next_offset,
            tail_hash: tail,
            replace: w.replace,
            sessions,
        },
        out.stats,
        read,
    ))
}

/// Placeholder messages, with their findings, for the records of `w` too
/// long to parse (see [`crate::oversized`]). A compressed source is scanned
/// whole, decompressed as a stream: its records have no file offsets.
fn oversized_placeholders(
    scanner: &Scanner,
    state: &mut mantra_detect::ScanState,
    w: &Work,
    end: u64,
) -> Result<Vec<PreparedMessage>, String> {
    let path = &w.source.path;
    let ts = w.mtime_ns / 1_000_000;
    if w.source.kind == crate::SourceKind::CodexJsonlZst {
        let file = mantra_core::fsio::open_file(path).map_err(|e| e.to_string())?;
        let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| e.to_string())?;
        let findings = scanner
            .scan_reader(state, decoder, "record.json")
            .map_err(|e| e.to_string())?;
        return Ok(vec![crate::oversized::placeholder(0..0, &findings, ts)]);
    }
    let records =
        crate::oversized::find_long_lines(path, w.from, end, crate::oversized::RECORD_LIMIT)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    crate::oversized::placeholder_messages(scanner, state, path, &records, ts)
}

/// Why a source that has records but not one readable message is a failed
/// source rather than an empty one (`None`: it may replace). Replacing
/// deletes every session read from the source before: a transcript
/// overwritten by garbage, or a file that is not what its name says, must
/// not take them with it. A source with no records at all (an emptied
/// file, a database without chats) is empty, and replaces.
fn nothing_readable(out: &crate::sources::ParseOutput) -> Option<String> {
    let s = &out.stats;
    let messages: usize = out.sessions.iter().map(|s| s.messages.len()).sum();
    // Oversized records are not unreadable: they are scanned and stored
    // as placeholders (`crate::oversized`).
    let unreadable = s.skipped_corrupt;
    (messages == 0 && s.skipped_oversized == 0 && unreadable > 0 && unreadable >= s.records).then(
        || {
            format!(
                "nothing in it could be read ({} of {} records corrupt): it is damaged or not \
                 in the format expected; what was indexed from it before is kept",
                unreadable, s.records
            )
        },
    )
}

/// Runs that read fewer bytes than this build the search index on the
/// writer's thread, right after each commit, with no search or checkpoint
/// thread: the agent's runs are mostly a few appended lines, and two more
/// threads and four more connections would cost more than they save.
pub const SEARCH_THREAD_MIN_BYTES: u64 = 4 * 1024 * 1024;

/// Options of one run.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Worker threads for parsing and scanning (0: one per core, at most 4).
    pub threads: usize,
    /// Runs reading at least this many bytes get a search index thread and
    /// a checkpoint thread ([`SEARCH_THREAD_MIN_BYTES`] by default).
    pub search_thread_min_bytes: u64,
}

impl Default for IndexOptions {
    fn default() -> IndexOptions {
        IndexOptions {
            threads: 0,
            search_thread_min_bytes: SEARCH_THREAD_MIN_BYTES,
        }
    }
}

/// Indexes `sources` into `store`. Stops early, after the current batch,
/// when `cancel` is set.
pub fn index_sources(
    store: &mut Store,
    scanner: &Arc<Scanner>,
    config: &AgentConfig,
    sources: &[SourceFile],
    opts: &IndexOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(IndexEvent),
) -> Result<IndexReport, IndexError> {
    let mut report = IndexReport::default();
    let states: HashMap<String, SourceState> = store.source_states()?;
    let mut work = Vec::new();
    for s in sources {
        if !config.enabled_sources.contains(&s.assistant) {
            continue;
        }
        report.sources_seen += 1;
        let key = s.path.to_string_lossy();
        match plan(s, states.get(key.as_ref())) {
            Ok(Some(w)) => work.push(w),
            Ok(None) => report.sources_unchanged += 1,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    report.sources_failed += 1;
                    report.errors.push((s.path.clone(), e.to_string()));
                }
            }
        }
    }
    // Biggest first: better balance across workers.
    work.sort_by_key(|w| std::cmp::Reverse(w.size.saturating_sub(w.from)));
    let total: u64 = work.iter().map(|w| w.size.saturating_sub(w.from)).sum();
    progress(IndexEvent::Planned {
        sources: work.len() as u64,
        bytes: total,
    });
    if work.is_empty() {
        return Ok(report);
    }
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)
    } else {
        opts.threads
    }
    .min(work.len())
    .max(1);

    type Item = Result<(PreparedSource, ParseStats, u64), (PathBuf, String)>;
    let pipeline = if total >= opts.search_thread_min_bytes {
        let parts = (store.search_writer()?, store.checkpointer()?);
        store.set_autocheckpoint(false)?;
        Some(parts)
    } else {
        None
    };
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let budget = &InFlight::new(2 * BATCH_BYTES);
    let work = &work;
    let result: Result<(), IndexError> = std::thread::scope(|scope| {
        // Unbounded in items, bounded in bytes (`budget`): workers run up to two
        // batches ahead, so they parse and scan the next batch while the
        // writer commits this one (with only a few items of slack they sat
        // idle through every commit, and the run took writer + worker time
        // instead of the larger of the two).
        let (tx, rx) = mpsc::channel::<Item>();
        let side = match pipeline {
            Some((search_writer, checkpointer)) => {
                SearchSide::start(scope, search_writer, checkpointer, cancel)?
            }
            None => SearchSide::Inline,
        };
        let mut handles = Vec::new();
        for n in 0..threads {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            // Named so profilers and debuggers tell workers from the writer.
            let worker = std::thread::Builder::new().name(format!("mantra-index-{n}"));
            let spawned = worker.spawn_scoped(scope, move || -> Result<(), IndexError> {
                let mut state = scanner
                    .state()
                    .map_err(|e| IndexError::Engine(e.to_string()))?;
                loop {
                    if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(w) = work.get(i) else { return Ok(()) };
                    let item = prepare(scanner, &mut state, config, w.clone());
                    let bytes = item.as_ref().map_or(0, |(_, _, read)| *read);
                    if !budget.acquire(bytes, stop) || tx.send(item).is_err() {
                        return Ok(());
                    }
                }
            });
            match spawned {
                Ok(h) => handles.push(h),
                // No thread at all: nothing can run. Fewer than asked: the
                // ones started do the work.
                Err(e) if handles.is_empty() => return Err(IndexError::Thread(e)),
                Err(_) => break,
            }
        }
        drop(tx);
        let mut batch: Vec<PreparedSource> = Vec::new();
        let mut batch_bytes = 0u64;
        let mut pending_progress = Vec::new();
        let mut write_err = None;
        loop {
            // Polled, not blocking: a stop request is seen within a poll
            // even while every worker is deep in a large source.
            let commit_now = match rx.recv_timeout(WRITER_POLL) {
                Ok(Ok((prepared, stats, read))) => {
                    report.parse.add(&stats);
                    report.bytes += read;
                    batch_bytes += read;
                    pending_progress.push(read);
                    batch.push(prepared);
                    batch.len() >= BATCH_SOURCES
                        || batch_bytes >= batch_target(report.bytes - batch_bytes, total)
                }
                Ok(Err((path, reason))) => {
                    tracing::warn!(path = %path.display(), %reason, "source not indexed");
                    report.sources_failed += 1;
                    report.errors.push((path, reason));
                    pending_progress.push(0);
                    false
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.load(Ordering::Relaxed) {
                        report.cancelled = true;
                        break;
                    }
                    // A worker waits for room that only this held, not yet
                    // full batch would free: commit it now, or both wait
                    // for each other for ever.
                    !batch.is_empty() && budget.has_waiters()
                }
            };
            if !commit_now {
                continue;
            }
            let flushed = flush(store, &mut batch, &side, &mut report);
            budget.release(batch_bytes);
            batch_bytes = 0;
            if let Err(e) = flushed {
                write_err = Some(e);
                break;
            }
            for b in pending_progress.drain(..) {
                progress(IndexEvent::Done { bytes: b });
            }
            if cancel.load(Ordering::Relaxed) {
                report.cancelled = true;
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        budget.wake_all();
        drop(rx);
        if write_err.is_none() && !report.cancelled {
            if let Err(e) = flush(store, &mut batch, &side, &mut report) {
                write_err = Some(e);
            }
            for b in pending_progress.drain(..) {
                progress(IndexEvent::Done { bytes: b });
            }
        }
        for h in handles {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    write_err.get_or_insert(e);
                }
                Err(_) => {
                    write_err.get_or_insert(IndexError::Engine("an index worker panicked".into()));
                }
            }
        }
        if let Err(e) = side.finish(store) {
            write_err.get_or_insert(e);
        }
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
        }
        match write_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    });
    // Back to automatic checkpoints whatever happened above.
    let restored = store.set_autocheckpoint(true);
    result?;
    restored?;
    tracing::info!(
        seen = report.sources_seen,
        indexed = report.sources_indexed,
        unchanged = report.sources_unchanged,
        failed = report.sources_failed,
        bytes = report.bytes,
        messages = report.messages,
        findings = report.findings,
        "index run finished"
    );
    Ok(report)
}

/// How many bytes the batch being filled should hold: [`BATCH_BYTES`],
/// less at both ends of a run. A batch is the unit each later stage
/// waits for: small first batches get the search index thread working
/// sooner, and small last ones leave it less to finish alone once the
/// store writer is done (on two cores, a tenth of a run was spent with
/// one of them idle at the ends).
fn batch_target(committed: u64, total: u64) -> u64 {
    let remaining = total.saturating_sub(committed);
    (committed / 2)
        .min(remaining / 3)
        .clamp(BATCH_BYTES / 8, BATCH_BYTES)
}

/// Bytes of prepared sources between the workers and the store: a worker
/// waits before handing over more once `limit` is reached, and the writer
/// gives bytes back as it commits them. One source larger than the limit
/// still passes when nothing else is in flight; and since the writer may
/// hold bytes in a batch it has not filled yet, it asks
/// [`InFlight::has_waiters`] and commits early rather than wait for items a
/// blocked worker can never send.
struct InFlight {
    state: Mutex<Held>,
    freed: Condvar,
    limit: u64,
}

#[derive(Default)]
struct Held {
    bytes: u64,
    waiting: usize,
}

impl InFlight {
    fn new(limit: u64) -> InFlight {
        InFlight {
            state: Mutex::new(Held::default()),
            freed: Condvar::new(),
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `n` more bytes fit. False when `stop` was set meanwhile.
    fn acquire(&self, n: u64, stop: &AtomicBool) -> bool {
        let mut held = self.lock();
        if held.bytes > 0 && held.bytes + n > self.limit {
            held.waiting += 1;
            while held.bytes > 0 && held.bytes + n > self.limit {
                if stop.load(Ordering::Relaxed) {
                    held.waiting -= 1;
                    return false;
                }
                // Timed, so a stop raised between the check and the wait
                // is seen promptly even without a wake-up.
                held = self
                    .freed
                    .wait_timeout(held, Duration::from_millis(50))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            held.waiting -= 1;
        }
        held.bytes += n;
        true
    }

    fn release(&self, n: u64) {
        let mut held = self.lock();
        held.bytes = held.bytes.saturating_sub(n);
        self.freed.notify_all();
    }

    /// Whether a worker is waiting for bytes to be given back.
    fn has_waiters(&self) -> bool {
        self.lock().waiting > 0
    }

    fn wake_all(&self) {
        self.freed.notify_all();
    }
}

/// Where a run's search index work goes.
enum SearchSide<'scope> {
    /// Applied by the writer right after each commit (small runs).
    Inline,
    /// Applied by the search thread, in parallel with the writer, with
    /// both databases checkpointed by the checkpoint thread.
    Threads {
        batches: mpsc::SyncSender<SearchBatch>,
        commits: mpsc::Sender<()>,
        search: std::thread::ScopedJoinHandle<'scope, Result<(), StoreError>>,
        checkpoints: std::thread::ScopedJoinHandle<'scope, ()>,
    },
}

impl<'scope> SearchSide<'scope> {
    /// Starts the search and checkpoint threads.
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        mut writer: SearchWriter,
        checkpointer: Checkpointer,
        cancel: &'env AtomicBool,
    ) -> Result<SearchSide<'scope>, IndexError> {
        // Six batches of slack: FTS5 merges its segments in bursts, and
        // with two the writer, then the workers, stopped behind every
        // merge, leaving a core idle (about 7 % of a first index).
        let (batches, queued) = mpsc::sync_channel::<SearchBatch>(6);
        // Told of every commit of either database.
        let (commits, committed) = mpsc::channel::<()>();
        let checkpoints = std::thread::Builder::new()
            .name("mantra-checkpoint".into())
            .spawn_scoped(scope, move || checkpointer.run(committed))
            .map_err(IndexError::Thread)?;
        let search_commits = commits.clone();
        let search = std::thread::Builder::new()
            .name("mantra-search".into())
            .spawn_scoped(scope, move || -> Result<(), StoreError> {
                while let Ok(first) = queued.recv() {
                    // A stopping run leaves what is queued to the backlog.
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let mut all = vec![first];
                    all.extend(queued.try_iter());
                    writer.apply_all(all)?;
                    let _ = search_commits.send(());
                }
                Ok(())
            })
            .map_err(IndexError::Thread)?;
        Ok(SearchSide::Threads {
            batches,
            commits,
            search,
            checkpoints,
        })
    }

    /// Hands over one committed batch's search work.
    fn committed(&self, store: &mut Store, work: SearchBatch) -> Result<(), IndexError> {
        match self {
            SearchSide::Inline => {
                // The store has the batch; the index can catch up later
                // (from the backlog), so a busy or failing index must not
                // stop the run, nor the agent that runs it.
                if let Err(e) = store.apply_search_batch(work) {
                    tracing::warn!(error = %e, "search index not updated; it catches up at its next update");
                }
                Ok(())
            }
            SearchSide::Threads {
                batches, commits, ..
            } => {
                // If the search thread has stopped, the store's backlog
                // keeps the work for the catch-up in `finish`.
                if !work.is_empty() {
                    let _ = batches.send(work);
                }
                let _ = commits.send(());
                Ok(())
            }
        }
    }

    /// Waits for the threads. When the search thread failed, catches the
    /// index up from the store's backlog instead.
    fn finish(self, store: &mut Store) -> Result<(), IndexError> {
        let SearchSide::Threads {
            batches,
            commits,
            search,
            checkpoints,
        } = self
        else {
            return Ok(());
        };
        drop(batches);
        let searched = search.join();
        drop(commits);
        if checkpoints.join().is_err() {
            tracing::warn!("checkpoint thread panicked; left to the next automatic checkpoint");
        }
        let searched = searched.unwrap_or_else(|_| {
            Err(StoreError::Invalid(
                "the search index thread panicked".into(),
            ))
        });
        if let Err(e) = searched {
            tracing::warn!(error = %e, "search index thread failed; catching up from the store");
            store.sync_search()?;
        }
        Ok(())
    }
}

/// Writes `batch` (emptying it) and hands its search work on.
fn flush(
    store: &mut Store,
    batch: &mut Vec<PreparedSource>,
    search: &SearchSide<'_>,
    report: &mut IndexReport,
) -> Result<(), IndexError> {
    if batch.is_empty() {
        return Ok(());
    }
    let (stats, work) = store.write_batch_deferred(std::mem::take(batch))?;
    search.committed(store, work)?;
    report.sources_indexed += stats.sources;
    report.sessions += stats.sessions;
    report.messages += stats.messages;
    report.findings += stats.findings;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_bytes_wait_for_the_writer_and_never_deadlock() {
        let stop = AtomicBool::new(false);
        let budget = InFlight::new(10);
        // One source larger than the whole budget passes when alone.
        assert!(budget.acquire(25, &stop));
        std::thread::scope(|s| {
            let waiter = s.spawn(|| budget.acquire(5, &stop));
            // It can only finish once the writer gives the bytes back.
            budget.release(25);
            assert!(waiter.join().expect("join"));
        });
        assert!(budget.acquire(5, &stop));
        // Full: a worker waiting for room gives up when the run stops.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| budget.acquire(5, &stop));
            stop.store(true, Ordering::Relaxed);
            budget.wake_all();
            assert!(!waiter.join().expect("join"));
        });
    }

    #[test]
    fn batches_are_smaller_at_both_ends_of_a_run() {
        let total = 100 * BATCH_BYTES;
        assert_eq!(batch_target(0, total), BATCH_BYTES / 8);
        assert_eq!(batch_target(BATCH_BYTES, total), BATCH_BYTES / 2);
        assert_eq!(batch_target(50 * BATCH_BYTES, total), BATCH_BYTES);
        assert_eq!(
            batch_target(total - 3 * BATCH_BYTES / 2, total),
            BATCH_BYTES / 2
        );
        assert_eq!(batch_target(total, total), BATCH_BYTES / 8);
        // A run smaller than one batch still commits in few batches.
        assert_eq!(batch_target(0, 1024), BATCH_BYTES / 8);
    }

    #[test]
    fn redaction_replaces_spans_on_char_boundaries() {
        let t = "key=ghp_abc é end";
        assert_eq!(
            redact_spans(t, &[(4, 11, "github-pat")]),
            "key=[REDACTED:github-pat] é end"
        );
        // A span ending inside a multi-byte character is widened.
        let e = t.find('é').expect("é");
        assert_eq!(
            redact_spans(t, &[(e, e + 1, "x")]),
            "key=ghp_abc [REDACTED:x] end"
        );
        // Overlaps merge; out-of-range spans are clamped.
        assert_eq!(
            redact_spans("abcdef", &[(1, 3, "a"), (2, 5, "b")]),
            "a[REDACTED:a]f"
        );
        assert_eq!(redact_spans("abc", &[(1, 99, "a")]), "a[REDACTED:a]");
        // A longer secret starting inside an earlier one is covered to its
        // end, not left in clear.
        assert_eq!(
            redact_spans("x=AAAABBBBCCCC y", &[(2, 10, "a"), (6, 14, "b")]),
            "x=[REDACTED:a] y"
        );
        // Spans that only overlap once widened to a character boundary
        // merge too (planned after widening).
        let t = "xé-secret";
        let e = t.find('é').expect("é");
        assert_eq!(
            redact_spans(t, &[(0, e + 1, "a"), (e + 1, t.len(), "b")]),
            "[REDACTED:a]"
        );
    }

    #[test]
    fn body_holds_text_thinking_tools_and_results() {
        let m = Message {
            id: "m".into(),
            role: crate::model::Role::Assistant,
            timestamp: crate::time::Timestamp(0),
            timestamp_estimated: false,
            text: "hello".into(),
            thinking: Some("hmm".into()),
            tool_calls: vec![crate::model::ToolCall {
                id: "t".into(),
                name: "Bash".into(),
                input_text: "cat .env".into(),
            }],
            tool_results: vec![crate::model::ToolResult {
                call_id: "t".into(),
                text: "A=1".into(),
                is_error: false,
            }],
            raw_kind: "assistant".into(),
        };
        assert_eq!(
            message_body(&m),
            "hello\n\n[thinking]\nhmm\n\n[tool call: Bash]\ncat .env\n\n[tool result]\nA=1"
        );
    }
}
