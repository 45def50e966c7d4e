//! Crash reports: a panic hook writes a small local report; upload happens
//! only through the network guard, when policy allows.
//!
//! A report holds the version, OS, architecture, panic location and the
//! panic message truncated and scrubbed (token-like runs and the home
//! directory removed): never secrets, never session content. Files are
//! written `0600`, atomically (temp file + rename), under
//! `<data dir>/crash-reports/` ([`mantra_core::DataDir::crash_reports_dir`]).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mantra_policy::Policy;
use serde::{Deserialize, Serialize};

use crate::guard::{self, Denied, HttpError, NetworkGuard, Purpose};

/// Longest message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashReport {
    pub version: String,
    pub os: String,
    pub arch: String,
    /// `file:line:column` of the panic, in Mantra's own source.
    pub location: String,
    pub message: String,
    pub time_unix: u64,
}

/// Removes what could be a secret or identify the user from a message, and
/// truncates it.
pub fn scrub(message: &str) -> String {
    let mut text = message.to_string();
    if let Some(home) = std::env::var_os("HOME")
        .and_then(|h| h.into_string().ok())
        .filter(|h| h.len() > 1)
    {
        text = text.replace(&home, "~");
    }
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        // Long runs of token characters (keys, hashes, base64) are dropped
        // whole; short words stay readable.
        if run.chars().count() >= 16 {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { ' ' } else { c });
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > MAX_MESSAGE_CHARS {
        out = out.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
    }
    out
}

impl CrashReport {
    pub fn new(location: String, message: &str) -> Self {
        CrashReport {
            version: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            location,
            message: scrub(message),
            time_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// The largest crash report read back for upload: reports are a few
/// hundred bytes; anything far larger was not written by Mantra.
const REPORT_LIMIT: u64 = 1024 * 1024;

/// Writes a report atomically with mode 0600 (its directory `0700`);
/// returns its path.
pub fn write_report(dir: &Path, report: &CrashReport) -> std::io::Result<PathBuf> {
    let name = format!("crash-{}-{}.json", report.time_unix, std::process::id());
    let dest = dir.join(name);
    let body = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    mantra_core::fsio::write_private_atomic(&dest, &body)?;
    Ok(dest)
}

/// Installs a panic hook that writes a report into `reports_dir` and then
/// runs the previous hook (so the user still sees the panic).
pub fn install_panic_hook(reports_dir: PathBuf) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "unknown".into());
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into());
        // A failure to write must not turn into a second panic.
        let _ = write_report(&reports_dir, &CrashReport::new(location, &message));
        previous(info);
    }));
}

/// Pending (not yet uploaded) reports, oldest first.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    v
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum UploadOutcome {
    Disabled { reason: String, pending: usize },
    Uploaded { count: usize },
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Uploads pending reports when policy allows, moving each sent one to
/// `sent/`. Reports are re-parsed before sending, so only the report fields
/// ever leave the machine.
pub fn upload_pending(policy: &Policy, dir: &Path) -> Result<UploadOutcome, UploadError> {
    let files = pending(dir);
    let permit = match NetworkGuard::new(policy).permit(Purpose::CrashReportUpload) {
        Ok(p) => p,
        Err(Denied { reason, .. }) => {
            return Ok(UploadOutcome::Disabled {
                reason: reason.to_string(),
                pending: files.len(),
            })
        }
    };
    let sent = dir.join("sent");
    let mut count = 0;
    for path in files {
        let io = |e| UploadError::Io {
            path: path.clone(),
            source: e,
        };
        let bytes = mantra_core::fsio::read(&path, REPORT_LIMIT).map_err(|e| io(e.into()))?;
        let Ok(report) = serde_json::from_slice::<CrashReport>(&bytes) else {
            continue;
        };
        let body = serde_json::to_vec(&report).map_err(|e| io(std::io::Error::other(e)))?;
        guard::post_json(&permit, &policy.crash_reports.url, &body)?;
        std::fs::create_dir_all(&sent).map_err(io)?;
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        std::fs::rename(&path, sent.join(name)).map_err(io)?;
        count += 1;
    }
    Ok(UploadOutcome::Uploaded { count })
}
