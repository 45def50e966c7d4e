//! The compliance event log: `<data_dir>/logs/audit.jsonl`.
//!
//! One append-only file, owner-only (`0600`), one JSON object per line, that
//! the git hooks and the session agent both write and `mantra audit` reads:
//! commits blocked, bypasses granted, sessions deleted, retention applied,
//! wipes, index runs. It lives in the ground floor, below both writers, like
//! the exposure list; its path is [`crate::datadir::DataDir::audit_log`].
//!
//! It never holds a secret or a session's message text: secrets appear by
//! rule, severity, redacted preview and keyed fingerprint only; files by
//! path. A line that does not parse (a torn write at a crash, a hand edit)
//! is skipped and counted, never fatal, so one bad line cannot hide the rest.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

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
    /// `MANTRA_BYPASS` let a commit or push through.
    Bypass {
        #[serde(flatten)]
        activity: HookActivity,
        /// The reason the developer gave.
        reason: String,
        /// Would the hook have blocked without the bypass.
        would_block: bool,
    },
    /// `mantra delete`.
    Delete { target: DeleteTarget, sessions: u64 },
    /// The retention period applied by an index run.
    Retention { days: u32, sessions: u64 },
    /// `mantra wipe`: written into the fresh log after everything else went.
    Wipe { items: u64, key_removed: bool },
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

/// What [`read`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditLog {
    pub records: Vec<AuditRecord>,
    /// Lines that did not parse (torn last line, garbage), skipped.
    pub skipped_lines: usize,
}

/// Appends one record, creating the file (`0600`) and its directories
/// (`0700`). A
/// torn last line (no final newline) is closed first, so the new record
/// stays readable.
pub fn append(path: &Path, record: &AuditRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    // Non-blocking, regular files only, no symlink: a FIFO planted here
    // would otherwise hang the hook that records a block.
    let mut file = crate::fsio::open_append_private(path)?;
    if file.metadata()?.len() > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    // One write of whole lines: concurrent appenders do not interleave.
    file.write_all(&line)?;
    file.sync_data()?;
    Ok(())
}

/// The largest log [`read`] accepts. A record is about 300 to 800 bytes, so
/// 1 GiB is over a million blocks, bypasses and index runs: years of a busy
/// machine (the log is meant to be shipped to the SIEM and rotated), while
/// a file past it, or a device, is refused instead of read for ever.
pub const MAX_AUDIT_LOG_BYTES: u64 = 1 << 30;

/// Reads every record. A missing file is an empty log; lines that do not
/// parse are counted in [`AuditLog::skipped_lines`]. The file is opened
/// without blocking (a FIFO, a device or a socket in its place is refused
/// with a clear error), bounded by [`MAX_AUDIT_LOG_BYTES`], and read line
/// by line, never held whole.
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
    let mut line = Vec::new();
    loop {
        line.clear();
        if std::io::BufRead::read_until(&mut reader, b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(&line) {
            Ok(r) => log.records.push(r),
            Err(_) => log.skipped_lines += 1,
        }
    }
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
            },
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
            append(&path, &record).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for tag in ["block", "bypass", "delete", "retention", "wipe", "index"] {
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
        append(&path, &block()).unwrap();
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
        append(&path, &block()).unwrap();
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
        append(&path, &block()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
