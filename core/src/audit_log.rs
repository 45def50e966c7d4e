//! The compliance event log: `<data_dir>/logs/audit.jsonl`.
//!
//! One append-only file, owner-only (`0600`), one JSON object per line, that
//! the git hooks and the session agent both write and `mantra audit` reads:
//! commits blocked, bypasses granted, sessions deleted, retention applied,
//! wipes, index runs. It lives in the ground floor, below both writers, like
//! the exposure list; its path is [`crate::datadir::DataDir::audit_log`].
//!
//! **Hash chain.** Every record starts with `seq` (1, 2, 3, …) and `prev`,
//! the lowercase hex SHA-256 of the previous line's exact bytes (without
//! its newline); the first record's `prev` is [`GENESIS`]. Editing,
//! deleting, inserting or reordering a line, or cutting the file mid-line,
//! is found by [`read`] ([`Chain::broken`], [`Chain::torn_tail`]) at its
//! first bad position. Lines written before the chain existed (no `seq`)
//! are a legacy prefix: counted, not verifiable, and the chain starts after
//! them, its first `prev` being the hash of the last legacy line. The chain
//! alone cannot show that the newest records were removed whole, or that
//! someone rewrote the whole chain: its length and head hash, reported by
//! `doctor` and `audit`, are compared with the copy in the OS log.
//!
//! **Appending** ([`append`]) takes an advisory lock on the file, reads
//! only its tail to find the last record, writes the new line in one
//! write, and mirrors it to the OS log ([`crate::os_log`]) before letting
//! go of the lock, so concurrent writers (hooks, agent, commands) neither
//! interleave nor fork the chain, and the OS log sees records in order.
//! After a torn write (a crash mid-line) the next record starts on a new
//! line and chains to the last record that parses: the torn line stays in
//! the file and is reported, but the chain goes on.
//!
//! It never holds a secret or a session's message text: secrets appear by
//! rule, severity, redacted preview and keyed fingerprint only; files by
//! path. A line that does not parse (a torn write at a crash, a hand edit)
//! is skipped and counted, never fatal, so one bad line cannot hide the rest.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::os_log::{self, OsLog};

/// A secret a hook blocked or let through, named without showing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedSecret {
    pub fingerprint: String,
    pub rule_id: String,
    /// `None` when only the exposure list knows the secret (no rule matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Repository-relative path of the file it is in.
    pub path: String,
    pub line: u64,
    /// The commit it is in (pre-push); absent for staged changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// It was already exposed in an AI assistant session.
    pub exposed: bool,
}

/// What a hook saw: the repository, the secrets, the AI transcript files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookActivity {
    /// `pre-commit` or `pre-push`.
    pub hook: String,
    /// Repository root.
    pub repo: String,
    #[serde(default)]
    pub secrets: Vec<LoggedSecret>,
    /// AI transcript files in the change (paths only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcripts: Vec<String>,
}

/// Which sessions a `mantra delete` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteTarget {
    /// Every session of this project (path).
    Project(String),
    /// Sessions idle since before this RFC 3339 time.
    Before(String),
    /// One session (the assistant's id).
    Session(String),
}

/// One kind of event, tagged by `event` in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A hook blocked a commit or push.
    Block {
        #[serde(flatten)]
        activity: HookActivity,
    },
    /// `MANTRA_BYPASS` let through a commit or push that would have been
    /// blocked (an unneeded `MANTRA_BYPASS` is not recorded).
    Bypass {
        #[serde(flatten)]
        activity: HookActivity,
        /// The reason the developer gave.
        reason: String,
        /// Would the hook have blocked without the bypass: always true
        /// since bypasses are recorded only then; `false` in older logs.
        would_block: bool,
    },
    /// `mantra delete`.
    Delete { target: DeleteTarget, sessions: u64 },
    /// The retention period applied by an index run.
    Retention { days: u32, sessions: u64 },
    /// `mantra wipe`, after the store, key and caches went: appended to
    /// the kept log, or the first record of a fresh one when policy
    /// (`logging.wipe_erases_trail`) had the old log erased.
    Wipe {
        items: u64,
        key_removed: bool,
        /// The old log was erased (and [`AuditEvent::TrailErased`] sent
        /// to the OS log first).
        #[serde(default)]
        trail_erased: bool,
    },
    /// Written just before `mantra wipe` erases this log, as policy
    /// allows: its copy in the OS log records where the erased chain ended.
    TrailErased,
    /// An index run's summary.
    Index {
        /// Session files seen and (re)indexed.
        files_seen: u64,
        files_indexed: u64,
        files_failed: u64,
        messages: u64,
        findings: u64,
        duration_ms: u64,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC.
    pub time: String,
    /// The OS user who caused it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// How each record is written: the chain fields first, then the record.
#[derive(Serialize)]
struct ChainedLine<'a> {
    seq: u64,
    prev: &'a str,
    #[serde(flatten)]
    record: &'a AuditRecord,
}

/// The `prev` of the first record of a log: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash that links a line to the next: lowercase hex SHA-256 of its
/// exact bytes, without the newline.
pub fn line_hash(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

/// What a line of the log is, as far as the chain is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// A record with its chain fields.
    Chained { seq: u64, prev: String },
    /// A JSON object without chain fields: written before the chain.
    Legacy,
    /// Not a JSON object, or chain fields of the wrong shape: a torn
    /// write, garbage, a hand edit.
    Unreadable,
}

fn classify(line: &[u8]) -> Link {
    #[derive(Deserialize)]
    struct Fields {
        seq: Option<serde_json::Value>,
        prev: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Fields>(line) {
        Ok(Fields {
            seq: None,
            prev: None,
        }) => Link::Legacy,
        Ok(Fields {
            seq: Some(serde_json::Value::Number(n)),
            prev: Some(serde_json::Value::String(prev)),
        }) if n.as_u64().is_some_and(|s| s > 0)
            && prev.len() == 64
            && prev.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Link::Chained {
                seq: n.as_u64().unwrap_or_default(),
                prev,
            }
        }
        _ => Link::Unreadable,
    }
}

/// Where the next record chains to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tail {
    /// The next record's `seq`.
    seq: u64,
    /// The next record's `prev`.
    prev: String,
    /// The file does not end with a newline (a torn write).
    torn: bool,
}

/// What [`append`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// [`line_hash`] of the new line: the chain's new head.
    pub hash: String,
    /// The OS log copy: `Err` says why there is none (the file record
    /// stands either way).
    pub mirrored: Result<(), String>,
}

/// How long [`append`] waits for another writer's lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The most [`append`] reads from the end of the file to find the last
/// record: far beyond any record Mantra writes, so it is reached only when
/// megabytes of garbage were appended by hand (then the chain restarts, and
/// [`read`] reports the break).
pub const MAX_TAIL_BYTES: u64 = 16 << 20;

/// Appends one record, chained to the last, creating the file (`0600`) and
/// its directories (`0700`), then mirrors it to `os_log`. Concurrent
/// appenders wait for each other (advisory lock, at most
/// [`LOCK_TIMEOUT`]); only the file's tail is read.
pub fn append(path: &Path, os_log: &OsLog, record: &AuditRecord) -> std::io::Result<Appended> {
    // Non-blocking, regular files only, no symlink: a FIFO planted here
    // would otherwise hang the hook that records a block.
    let mut file = crate::fsio::open_append_private(path)?;
    lock(&file, path)?;
    let tail = tail(&mut file)?;
    let line = serde_json::to_vec(&ChainedLine {
        seq: tail.seq,
        prev: &tail.prev,
        record,
    })
    .map_err(std::io::Error::other)?;
    let hash = line_hash(&line);
    let mut bytes = Vec::with_capacity(line.len() + 2);
    if tail.torn {
        // Close the torn line: the new record starts on a line of its own.
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(&line);
    bytes.push(b'\n');
    // One write of whole lines, under the lock.
    file.write_all(&bytes)?;
    file.sync_data()?;
    // Mirrored before the lock goes, so the OS log sees the chain's order.
    let mirrored = os_log.send(
        mirror_severity(&record.event),
        &os_log::event_message(tail.seq, &hash, &line),
    );
    drop(file); // unlocks
    Ok(Appended {
        seq: tail.seq,
        hash,
        mirrored,
    })
}

/// Blocks and bypasses, and erasing the trail, are warnings in the OS
/// log; the rest notices.
fn mirror_severity(event: &AuditEvent) -> os_log::Severity {
    match event {
        AuditEvent::Block { .. } | AuditEvent::Bypass { .. } | AuditEvent::TrailErased => {
            os_log::Severity::Warning
        }
        _ => os_log::Severity::Notice,
    }
}

/// Takes the exclusive advisory lock on the log, waiting at most
/// [`LOCK_TIMEOUT`] (a writer stopped while holding it must not hang every
/// hook for ever).
fn lock(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{} stayed locked by another process for {} s",
                        path.display(),
                        LOCK_TIMEOUT.as_secs()
                    ),
                ))
            }
        }
    }
}

/// Finds where the next record chains to by reading the file backwards
/// from its end, a growing window at a time, up to [`MAX_TAIL_BYTES`]:
/// after the last line that parses (a chained record, or a legacy line
/// that ends a legacy prefix), skipping unreadable ones.
fn tail(file: &mut std::fs::File) -> std::io::Result<Tail> {
    let len = file.metadata()?.len();
    let genesis = |torn| Tail {
        seq: 1,
        prev: GENESIS.to_string(),
        torn,
    };
    if len == 0 {
        return Ok(genesis(false));
    }
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let mut buf = Vec::with_capacity((len - start) as usize);
        file.seek(SeekFrom::Start(start))?;
        (&mut *file).take(len - start).read_to_end(&mut buf)?;
        let torn = buf.last() != Some(&b'\n');
        let mut lines: Vec<&[u8]> = buf.split(|b| *b == b'\n').collect();
        if !torn {
            lines.pop(); // the empty piece after the final newline
        }
        if start > 0 {
            lines.remove(0); // the window starts mid-line
        }
        for line in lines.iter().rev() {
            match classify(line) {
                Link::Chained { seq, .. } => {
                    return Ok(Tail {
                        seq: seq + 1,
                        prev: line_hash(line),
                        torn,
                    })
                }
                Link::Legacy => {
                    return Ok(Tail {
                        seq: 1,
                        prev: line_hash(line),
                        torn,
                    })
                }
                Link::Unreadable => {}
            }
        }
        if start == 0 || window >= MAX_TAIL_BYTES {
            return Ok(genesis(torn));
        }
        window *= 2;
    }
}

/// What went wrong at the chain's first bad line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The line's `seq` is not the one that follows: records were deleted,
    /// inserted or reordered before it.
    Sequence { expected: u64, found: u64 },
    /// The line's `prev` is not the hash of the record before it (line
    /// `previous_line`, or [`GENESIS`] when 0): that line was changed.
    Hash { previous_line: u64 },
    /// A line without chain fields after the chain began (inserted by
    /// hand, or written by an older Mantra during an upgrade).
    Unchained,
}

/// The first bad position of a broken chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// 1-based line number in the file.
    pub line: u64,
    /// The `seq` the chain expected there.
    pub expected_seq: u64,
    pub problem: Problem,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (line, expected) = (self.line, self.expected_seq);
        match &self.problem {
            Problem::Sequence { found, .. } => write!(
                f,
                "line {line} has seq {found} where seq {expected} was expected: records were deleted, inserted or reordered"
            ),
            Problem::Hash { previous_line: 0 } => write!(
                f,
                "line {line} (seq {expected}) does not chain to the start of the log: the log's start was changed"
            ),
            Problem::Hash { previous_line } => write!(
                f,
                "line {line} (seq {expected}) does not match the hash of line {previous_line}: line {previous_line} was changed"
            ),
            Problem::Unchained => write!(
                f,
                "line {line} has no chain fields where seq {expected} was expected: a line was inserted (or written by an older Mantra)"
            ),
        }
    }
}

/// The chain's last record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    /// [`line_hash`] of its line: what the next record's `prev` will be,
    /// and what the OS log copy of it carries as `hash`.
    pub hash: String,
    /// Its 1-based line number.
    pub line: u64,
}

/// What verifying the chain found (see [`read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Chained records verified (up to the first break).
    pub records: u64,
    /// The last verified record; `None` when no record is chained.
    pub head: Option<Head>,
    /// Lines before the chain began (legacy records, and unreadable lines
    /// among them): not verifiable.
    pub legacy_lines: u64,
    /// Line numbers of unreadable lines after the chain began that the
    /// chain skips over (torn writes): reported, not a break.
    pub unreadable_lines: Vec<u64>,
    /// The file does not end with a newline: its last write was torn, or
    /// the file was cut mid-line.
    pub torn_tail: bool,
    /// The first bad position; verification stops there.
    pub broken: Option<Break>,
}

impl Chain {
    /// Nothing wrong and nothing unverifiable.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
            && !self.torn_tail
            && self.legacy_lines == 0
            && self.unreadable_lines.is_empty()
    }
}

/// Follows the chain line by line.
#[derive(Default)]
struct Verifier {
    chain: Chain,
    /// Hash and line number of the last legacy line (before the chain
    /// began).
    last_legacy: Option<(String, u64)>,
    line: u64,
}

impl Verifier {
    fn line(&mut self, bytes: &[u8]) {
        self.line += 1;
        if self.chain.broken.is_some() {
            return;
        }
        let started = self.chain.head.is_some();
        let expected_seq = self.chain.head.as_ref().map_or(1, |h| h.seq + 1);
        let broken = |problem| {
            Some(Break {
                line: self.line,
                expected_seq,
                problem,
            })
        };
        match classify(bytes) {
            Link::Unreadable if started => self.chain.unreadable_lines.push(self.line),
            Link::Unreadable => self.chain.legacy_lines += 1,
            Link::Legacy if started => self.chain.broken = broken(Problem::Unchained),
            Link::Legacy => {
                self.chain.legacy_lines += 1;
                self.last_legacy = Some((line_hash(bytes), self.line));
            }
            Link::Chained { seq, prev } => {
                let (expected_prev, previous_line) = match (&self.chain.head, &self.last_legacy) {
                    (Some(h), _) => (h.hash.as_str(), h.line),
                    (None, Some((hash, line))) => (hash.as_str(), *line),
                    (None, None) => (GENESIS, 0),
                };
                if seq != expected_seq {
                    self.chain.broken = broken(Problem::Sequence {
                        expected: expected_seq,
                        found: seq,
                    });
                } else if prev != expected_prev {
                    self.chain.broken = broken(Problem::Hash { previous_line });
                } else {
                    self.chain.records += 1;
                    self.chain.head = Some(Head {
                        seq,
                        hash: line_hash(bytes),
                        line: self.line,
                    });
                }
            }
        }
    }
}

/// What [`read`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditLog {
    pub records: Vec<AuditRecord>,
    /// Lines that did not parse as a record (torn last line, garbage, an
    /// event of a newer Mantra), skipped.
    pub skipped_lines: usize,
    /// The hash chain's verification.
    pub chain: Chain,
}

/// The largest log [`read`] accepts. A record is about 300 to 800 bytes, so
/// 1 GiB is over a million blocks, bypasses and index runs: years of a busy
/// machine (the log is meant to be shipped to the SIEM and rotated), while
/// a file past it, or a device, is refused instead of read for ever.
pub const MAX_AUDIT_LOG_BYTES: u64 = 1 << 30;

/// Reads every record and verifies the hash chain. A missing file is an
/// empty log; lines that do not parse are counted in
/// [`AuditLog::skipped_lines`]. The file is opened without blocking (a
/// FIFO, a device or a socket in its place is refused with a clear error),
/// bounded by [`MAX_AUDIT_LOG_BYTES`], and read line by line, never held
/// whole.
pub fn read(path: &Path) -> std::io::Result<AuditLog> {
    let file = match crate::fsio::open_file(path) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(AuditLog::default()),
        Err(e) => return Err(e.into()),
    };
    if file.metadata()?.len() > MAX_AUDIT_LOG_BYTES {
        return Err(crate::InputError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_AUDIT_LOG_BYTES,
        }
        .into());
    }
    let mut reader = std::io::BufReader::new(file.take(MAX_AUDIT_LOG_BYTES));
    let mut log = AuditLog::default();
    let mut verifier = Verifier::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if std::io::BufRead::read_until(&mut reader, b'\n', &mut line)? == 0 {
            break;
        }
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
        }
        verifier.chain.torn_tail = !ended;
        verifier.line(&line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(&line) {
            Ok(r) => log.records.push(r),
            Err(_) => log.skipped_lines += 1,
        }
    }
    log.chain = verifier.chain;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datadir::{DataDir, AUDIT_LOG_FILE_NAME};

    #[cfg(unix)]
    #[test]
    fn a_device_or_fifo_in_place_of_the_log_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(AUDIT_LOG_FILE_NAME);
        std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
        let e = read(&path).expect_err("device");
        assert!(e.to_string().contains("character device"), "{e}");
        std::fs::remove_file(&path).expect("rm");
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let e = read(&path).expect_err("fifo");
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    fn block() -> AuditRecord {
        AuditRecord {
            time: "2026-11-20T09:00:00Z".into(),
            user: Some("dev".into()),
            event: AuditEvent::Block {
                activity: HookActivity {
                    hook: "pre-commit".into(),
                    repo: "/src/app".into(),
                    secrets: vec![LoggedSecret {
                        fingerprint: "ab".repeat(32),
                        rule_id: "github-pat".into(),
                        severity: Some("high".into()),
                        path: "a.txt".into(),
                        line: 3,
                        commit: None,
                        exposed: true,
                    }],
                    transcripts: vec![],
                },
            },
        }
    }

    #[test]
    fn every_event_round_trips_with_its_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        let events = [
            block().event,
            AuditEvent::Bypass {
                activity: HookActivity {
                    hook: "pre-push".into(),
                    repo: "/src/app".into(),
                    secrets: vec![],
                    transcripts: vec![".aider.chat.history.md".into()],
                },
                reason: "incident 7".into(),
                would_block: true,
            },
            AuditEvent::Delete {
                target: DeleteTarget::Project("/src/app".into()),
                sessions: 2,
            },
            AuditEvent::Retention {
                days: 30,
                sessions: 1,
            },
            AuditEvent::Wipe {
                items: 4,
                key_removed: true,
                trail_erased: false,
            },
            AuditEvent::TrailErased,
            AuditEvent::Index {
                files_seen: 3,
                files_indexed: 2,
                files_failed: 0,
                messages: 10,
                findings: 1,
                duration_ms: 12,
            },
        ];
        for event in &events {
            let record = AuditRecord {
                time: "2026-11-20T09:00:00Z".into(),
                user: None,
                event: event.clone(),
            };
            append(&path, &OsLog::Off, &record).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for tag in [
            "block",
            "bypass",
            "delete",
            "retention",
            "wipe",
            "trail_erased",
            "index",
        ] {
            assert!(text.contains(&format!("\"event\":\"{tag}\"")), "{text}");
        }
        let log = read(&path).unwrap();
        assert_eq!(log.skipped_lines, 0);
        let back: Vec<AuditEvent> = log.records.into_iter().map(|r| r.event).collect();
        assert_eq!(back, events);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn torn_and_garbage_lines_are_counted_and_the_rest_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        append(&path, &OsLog::Off, &block()).unwrap();
        // A crash mid-write leaves a torn line without its newline.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"not json\n\xff\xfe\n{\"time\":\"2026-11-2")
            .unwrap();
        drop(f);
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 1);
        assert_eq!(log.skipped_lines, 3);
        // The next append closes the torn line first and is itself readable.
        append(&path, &OsLog::Off, &block()).unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.skipped_lines, 3);
    }

    #[test]
    fn a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let log = read(&dir.path().join("none.jsonl")).unwrap();
        assert_eq!(log, AuditLog::default());
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_log_is_brought_back_to_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_LOG_FILE_NAME);
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        append(&path, &OsLog::Off, &block()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A log of `n` chained block records, and its lines.
    fn chained(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        for i in 0..n {
            let mut r = block();
            r.time = format!("2026-11-20T09:00:{i:02}Z");
            append(&path, &OsLog::Off, &r).unwrap();
        }
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn rewrite(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn every_record_is_chained_to_the_one_before() {
        let (_dir, path) = chained(5);
        let lines = lines(&path);
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["seq"], 1);
        assert_eq!(first["prev"], GENESIS);
        assert!(
            lines[0].starts_with(r#"{"seq":1,"prev":"000"#),
            "{}",
            lines[0]
        );
        for (i, pair) in lines.windows(2).enumerate() {
            let next: serde_json::Value = serde_json::from_str(&pair[1]).unwrap();
            assert_eq!(next["seq"], i as u64 + 2);
            assert_eq!(next["prev"], line_hash(pair[0].as_bytes()));
        }
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 5);
        assert_eq!(log.skipped_lines, 0);
        assert!(log.chain.is_intact(), "{:?}", log.chain);
        assert_eq!(log.chain.records, 5);
        assert_eq!(
            log.chain.head,
            Some(Head {
                seq: 5,
                hash: line_hash(lines[4].as_bytes()),
                line: 5
            })
        );
    }

    #[test]
    fn an_edited_line_is_found_at_its_position() {
        let (_dir, path) = chained(5);
        let mut l = lines(&path);
        l[2] = l[2].replace("\"line\":3", "\"line\":4");
        rewrite(&path, &l);
        let chain = read(&path).unwrap().chain;
        let b = chain.broken.expect("broken");
        assert_eq!(
            b,
            Break {
                line: 4,
                expected_seq: 4,
                problem: Problem::Hash { previous_line: 3 }
            }
        );
        assert!(b.to_string().contains("line 3 was changed"), "{b}");
        assert_eq!(chain.records, 3, "verified up to the break");
        // Editing the first record's own chain fields is found too.
        let (_dir, path) = chained(2);
        let mut l = lines(&path);
        l[0] = l[0].replace(GENESIS, &"1".repeat(64));
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(b.line, 1);
        assert_eq!(b.problem, Problem::Hash { previous_line: 0 });
    }

    #[test]
    fn a_deleted_or_inserted_line_is_found() {
        let (_dir, path) = chained(5);
        let mut l = lines(&path);
        l.remove(1);
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(
            b,
            Break {
                line: 2,
                expected_seq: 2,
                problem: Problem::Sequence {
                    expected: 2,
                    found: 3
                }
            }
        );
        assert!(b.to_string().contains("deleted"), "{b}");
        // Deleting the first record.
        let mut l = lines(&path);
        l.remove(0);
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(b.line, 1);
        // A record without chain fields slipped in after the chain began.
        let (_dir, path) = chained(3);
        let mut l = lines(&path);
        l.insert(2, serde_json::to_string(&block()).unwrap());
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(b.line, 3);
        assert_eq!(b.problem, Problem::Unchained);
    }

    #[test]
    fn reordered_lines_are_found() {
        let (_dir, path) = chained(4);
        let mut l = lines(&path);
        l.swap(1, 2);
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(b.line, 2);
        assert_eq!(
            b.problem,
            Problem::Sequence {
                expected: 2,
                found: 3
            }
        );
    }

    #[test]
    fn removing_the_newest_records_changes_the_head() {
        // The chain alone cannot see it: the head (seq, hash) the OS log
        // holds no longer matches the file's.
        let (_dir, path) = chained(4);
        let before = read(&path).unwrap().chain.head.expect("head");
        let mut l = lines(&path);
        l.pop();
        rewrite(&path, &l);
        let chain = read(&path).unwrap().chain;
        assert!(chain.broken.is_none());
        let after = chain.head.expect("head");
        assert_eq!((before.seq, after.seq), (4, 3));
        assert_ne!(before.hash, after.hash);
    }

    #[test]
    fn a_log_cut_mid_line_is_reported_and_the_chain_goes_on() {
        let (_dir, path) = chained(5);
        let bytes = std::fs::read(&path).unwrap();
        let l = lines(&path);
        let cut = bytes.len() - l[4].len() / 2 - 1;
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let chain = read(&path).unwrap().chain;
        assert!(chain.torn_tail);
        assert_eq!(chain.unreadable_lines, [5]);
        assert!(chain.broken.is_none());
        assert_eq!(chain.head.as_ref().map(|h| h.seq), Some(4));
        // The next record starts on a line of its own and chains to the
        // last complete one; the torn line stays reported.
        let a = append(&path, &OsLog::Off, &block()).unwrap();
        assert_eq!(a.seq, 5);
        let log = read(&path).unwrap();
        let chain = &log.chain;
        assert!(!chain.torn_tail);
        assert!(chain.broken.is_none(), "{chain:?}");
        assert_eq!(chain.unreadable_lines, [5]);
        assert_eq!(chain.records, 5);
        assert_eq!(chain.head.as_ref().map(|h| (h.seq, h.line)), Some((5, 6)));
        assert!(!chain.is_intact());
        assert_eq!(log.records.len(), 5);
        assert_eq!(log.skipped_lines, 1);
        // A torn write that lost only the newline is a whole record.
        let (_dir, path) = chained(2);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(read(&path).unwrap().chain.torn_tail);
        assert_eq!(append(&path, &OsLog::Off, &block()).unwrap().seq, 3);
        let chain = read(&path).unwrap().chain;
        assert!(chain.is_intact(), "{chain:?}");
    }

    #[test]
    fn a_legacy_prefix_is_counted_and_the_chain_starts_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = serde_json::to_string(&block()).unwrap();
        std::fs::write(&path, format!("{old}\nnot json\n{old}\n")).unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.chain.legacy_lines, 3);
        assert_eq!(log.chain.head, None);
        assert!(log.chain.broken.is_none());
        append(&path, &OsLog::Off, &block()).unwrap();
        append(&path, &OsLog::Off, &block()).unwrap();
        let l = lines(&path);
        let first: serde_json::Value = serde_json::from_str(&l[3]).unwrap();
        assert_eq!(first["seq"], 1);
        assert_eq!(first["prev"], line_hash(old.as_bytes()));
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 4);
        assert_eq!(log.chain.legacy_lines, 3);
        assert_eq!(log.chain.records, 2);
        assert!(log.chain.broken.is_none(), "{:?}", log.chain);
        assert!(!log.chain.is_intact());
        // The last legacy line is bound to the chain.
        let mut l = l;
        l[2] = l[2].replace("\"line\":3", "\"line\":9");
        rewrite(&path, &l);
        let b = read(&path).unwrap().chain.broken.expect("broken");
        assert_eq!(b.line, 4);
        assert_eq!(b.problem, Problem::Hash { previous_line: 3 });
    }

    #[test]
    fn concurrent_threads_neither_lose_nor_fork_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..25 {
                        append(&path, &OsLog::Off, &block()).unwrap();
                    }
                });
            }
        });
        assert_whole_chain(&path, 200);
    }

    /// Appends [`CHILD_APPENDS`] records to `MANTRA_TEST_APPEND_TO` when
    /// run as a child by the test below; passes at once otherwise.
    #[test]
    fn child_appender() {
        let Some(path) = std::env::var_os("MANTRA_TEST_APPEND_TO") else {
            return;
        };
        for _ in 0..CHILD_APPENDS {
            append(Path::new(&path), &OsLog::Off, &block()).unwrap();
        }
    }

    const CHILD_APPENDS: u64 = 40;

    #[test]
    fn concurrent_processes_neither_lose_nor_fork_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--exact", "audit_log::tests::child_appender", "--quiet"])
                    .env("MANTRA_TEST_APPEND_TO", &path)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        assert_whole_chain(&path, 4 * CHILD_APPENDS);
    }

    /// Exactly `n` records, seq 1 to `n` in order, one chain.
    fn assert_whole_chain(path: &Path, n: u64) {
        let log = read(path).unwrap();
        assert!(log.chain.is_intact(), "{:?}", log.chain);
        assert_eq!(log.chain.records, n);
        assert_eq!(log.records.len() as u64, n);
        let seqs: Vec<u64> = lines(path)
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    }

    #[test]
    fn only_the_tail_is_read_to_append() {
        // Far more legacy lines than the tail window: the chain still
        // starts right after the last one.
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = serde_json::to_string(&block()).unwrap();
        let body = format!("{old}\n").repeat(4000);
        assert!(body.len() > 4 * 64 * 1024);
        std::fs::write(&path, &body).unwrap();
        // Unreadable lines at the end are skipped back over.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(format!("{}\n", "x".repeat(100 * 1024)).as_bytes())
            .unwrap();
        drop(f);
        append(&path, &OsLog::Off, &block()).unwrap();
        let chain = read(&path).unwrap().chain;
        assert_eq!(chain.legacy_lines, 4001);
        assert_eq!(chain.records, 1);
        assert!(chain.broken.is_none(), "{chain:?}");
    }

    #[cfg(unix)]
    #[test]
    fn each_record_is_mirrored_with_its_seq_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = DataDir::new(dir.path()).audit_log();
        let socket = dir.path().join("log.sock");
        // No OS log: the file chain is written all the same.
        let a = append(&path, &OsLog::Socket(socket.clone()), &block()).unwrap();
        assert!(a.mirrored.is_err());
        let server = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
        let a = append(&path, &OsLog::Socket(socket.clone()), &block()).unwrap();
        assert_eq!(a.mirrored, Ok(()));
        let mut buf = vec![0u8; 64 * 1024];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.starts_with("<84>"), "a block is a warning: {got}");
        let message = got.split_once(": ").unwrap().1;
        let v: serde_json::Value = serde_json::from_str(message).unwrap();
        assert_eq!(v["seq"], 2);
        assert_eq!(v["hash"], a.hash.as_str());
        let l = lines(&path);
        assert_eq!(v["hash"], line_hash(l[1].as_bytes()).as_str());
        assert_eq!(v["record"]["prev"], line_hash(l[0].as_bytes()).as_str());
        assert!(message.contains(&l[1]), "the exact line: {message}");
        assert_eq!(read(&path).unwrap().chain.records, 2);
    }
}
