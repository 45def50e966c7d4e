//! The operating system's log, where every compliance event is mirrored so
//! that the user who owns `<data dir>/logs/audit.jsonl` cannot edit or
//! remove the copy an MDM or SIEM collects.
//!
//! - **Linux and other Unixes**: one RFC 3164 datagram per event to the
//!   local syslog socket `/dev/log` (journald, rsyslog and syslog-ng all
//!   listen there), facility `authpriv`, identifier `mantra`, in the form
//!   glibc's `syslog(3)` writes: `<PRI>Mmm dd hh:mm:ss mantra[PID]: MSG`.
//!   Written with std's `UnixDatagram`, no extra crate: the whole protocol
//!   is this one line, and the socket path must be replaceable by a test.
//!   journald adds the trusted fields `_UID`, `_PID` and `_COMM` itself.
//! - **macOS** (not tested here): `/usr/bin/logger -p authpriv.notice -t
//!   mantra`, which writes through `syslog(3)` into the unified log.
//! - **Windows** (not tested here): `eventcreate /L APPLICATION /SO mantra`
//!   into the Application event log. Creating the `mantra` source needs an
//!   administrator once (`installer/install.ps1` does it with `eventcreate`,
//!   which writes only to sources it created); after that any user writes.
//!
//! MSG is `{"seq":N,"hash":"<hex>","record":<the line, byte for byte>}`:
//! the sequence number and the SHA-256 of the record lead, so even a
//! receiver that cuts long messages keeps what identifies the record.
//!
//! Nothing here blocks for long: a socket send waits at most
//! [`SEND_TIMEOUT`], and failure is returned to the caller, which keeps
//! the file chain regardless.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The identifier (syslog tag, event source) every mirrored event carries.
pub const IDENT: &str = "mantra";

/// The local syslog socket on Linux and other Unixes.
pub const DEV_LOG: &str = "/dev/log";

/// How long a send may wait for a busy syslog daemon.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Messages longer than this are sent as their leading fields only
/// (sequence number, hash, length): syslog daemons cut or drop datagrams
/// past a few kilobytes to 64 KiB.
pub const MAX_MESSAGE_BYTES: usize = 60 * 1024;

/// Where events are mirrored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OsLog {
    /// The platform's log (see the module documentation).
    System,
    /// A syslog datagram socket at this path (Unix): what a test binds.
    Socket(PathBuf),
    /// Not mirrored: library tests, which must not write to the machine's
    /// log. The command line always resolves one of the others.
    #[default]
    Off,
}

/// Syslog severities used (RFC 5424 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warning = 4,
    Notice = 5,
}

/// `authpriv`: security messages, kept out of world-readable files.
const FACILITY_AUTHPRIV: u8 = 10;

impl OsLog {
    /// Where this mirror writes, for messages (`syslog /dev/log`).
    pub fn describe(&self) -> String {
        match self {
            OsLog::System => system_description(),
            OsLog::Socket(p) => format!("syslog socket {}", p.display()),
            OsLog::Off => "no OS log".to_string(),
        }
    }

    /// Sends one message. `Err` says why it could not be (no syslog
    /// socket, no `logger`, a daemon that did not take it in time).
    pub fn send(&self, severity: Severity, message: &str) -> Result<(), String> {
        match self {
            OsLog::Off => Ok(()),
            OsLog::Socket(path) => send_datagram(path, severity, message),
            OsLog::System => send_system(severity, message),
        }
    }

    /// Whether events can be mirrored, without writing anything: the
    /// socket accepts a connection, or the program exists. `Ok` describes
    /// the target.
    pub fn probe(&self) -> Result<String, String> {
        match self {
            OsLog::Off => Err("mirroring is off".to_string()),
            OsLog::Socket(path) => probe_socket(path),
            OsLog::System => probe_system(),
        }
    }
}

/// The message mirrored for one record: its sequence number and hash
/// first, then the record line itself (valid JSON, embedded unchanged so
/// its hash can be recomputed from the copy). Too long a record is
/// replaced by its length.
pub fn event_message(seq: u64, hash: &str, line: &[u8]) -> String {
    let head = format!("{{\"seq\":{seq},\"hash\":\"{hash}\"");
    match std::str::from_utf8(line) {
        Ok(text) if head.len() + text.len() + 12 <= MAX_MESSAGE_BYTES => {
            format!("{head},\"record\":{text}}}")
        }
        _ => format!("{head},\"record_bytes\":{}}}", line.len()),
    }
}

/// The RFC 3164 datagram glibc's `syslog(3)` would send: priority,
/// timestamp (UTC here; journald and rsyslog use their own receive time),
/// identifier with pid, message.
pub fn syslog_datagram(severity: Severity, message: &str, now_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, month, day, h, m, s) = crate::time::Timestamp(now_ms).utc_parts();
    let mon = MONTHS[(month.clamp(1, 12) - 1) as usize];
    let pri = FACILITY_AUTHPRIV * 8 + severity as u8;
    format!(
        "<{pri}>{mon} {day:>2} {h:02}:{m:02}:{s:02} {IDENT}[{}]: {message}",
        std::process::id()
    )
}

#[cfg(unix)]
fn send_datagram(path: &Path, severity: Severity, message: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let sock = std::os::unix::net::UnixDatagram::unbound().map_err(fail)?;
    sock.set_write_timeout(Some(SEND_TIMEOUT)).map_err(fail)?;
    let datagram = syslog_datagram(severity, message, crate::time::now_ms());
    sock.send_to(datagram.as_bytes(), path).map_err(fail)?;
    Ok(())
}

#[cfg(not(unix))]
fn send_datagram(path: &Path, _: Severity, _: &str) -> Result<(), String> {
    Err(format!(
        "{}: syslog sockets exist only on Unix",
        path.display()
    ))
}

#[cfg(unix)]
fn probe_socket(path: &Path) -> Result<String, String> {
    let sock = std::os::unix::net::UnixDatagram::unbound().map_err(|e| e.to_string())?;
    sock.connect(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("syslog socket {}", path.display()))
}

#[cfg(not(unix))]
fn probe_socket(path: &Path) -> Result<String, String> {
    send_datagram(path, Severity::Notice, "").map(|()| String::new())
}

#[cfg(all(unix, not(target_os = "macos")))]
fn system_description() -> String {
    format!("syslog {DEV_LOG}")
}

#[cfg(all(unix, not(target_os = "macos")))]
fn send_system(severity: Severity, message: &str) -> Result<(), String> {
    send_datagram(Path::new(DEV_LOG), severity, message)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn probe_system() -> Result<String, String> {
    probe_socket(Path::new(DEV_LOG))
}

/// macOS: `logger` writes through `syslog(3)`, which the unified log
/// receives. Untested here (no macOS in CI).
#[cfg(target_os = "macos")]
const LOGGER: &str = "/usr/bin/logger";

#[cfg(target_os = "macos")]
fn system_description() -> String {
    format!("unified log ({LOGGER})")
}

#[cfg(target_os = "macos")]
fn send_system(severity: Severity, message: &str) -> Result<(), String> {
    let priority = match severity {
        Severity::Warning => "authpriv.warning",
        Severity::Notice => "authpriv.notice",
    };
    run_quietly(
        std::process::Command::new(LOGGER).args(["-p", priority, "-t", IDENT, "--", message]),
    )
}

#[cfg(target_os = "macos")]
fn probe_system() -> Result<String, String> {
    if Path::new(LOGGER).is_file() {
        Ok(system_description())
    } else {
        Err(format!("{LOGGER} is missing"))
    }
}

/// Windows: the Application event log through `eventcreate`. Untested
/// here (no Windows in CI). Event ids 1 (notice) and 2 (warning).
#[cfg(windows)]
fn system_description() -> String {
    format!("Windows Application event log (source {IDENT})")
}

#[cfg(windows)]
fn send_system(severity: Severity, message: &str) -> Result<(), String> {
    let (kind, id) = match severity {
        Severity::Warning => ("WARNING", "2"),
        Severity::Notice => ("INFORMATION", "1"),
    };
    run_quietly(std::process::Command::new("eventcreate").args([
        "/L",
        "APPLICATION",
        "/T",
        kind,
        "/SO",
        IDENT,
        "/ID",
        id,
        "/D",
        message,
    ]))
}

#[cfg(windows)]
fn probe_system() -> Result<String, String> {
    let found = std::env::var_os("SystemRoot")
        .map(|r| PathBuf::from(r).join("System32").join("eventcreate.exe"))
        .is_some_and(|p| p.is_file());
    if found {
        Ok(system_description())
    } else {
        Err("eventcreate.exe is missing".to_string())
    }
}

#[cfg(not(any(unix, windows)))]
fn system_description() -> String {
    "no OS log on this platform".to_string()
}

#[cfg(not(any(unix, windows)))]
fn send_system(_: Severity, _: &str) -> Result<(), String> {
    Err(system_description())
}

#[cfg(not(any(unix, windows)))]
fn probe_system() -> Result<String, String> {
    Err(system_description())
}

/// Runs a logging program with no input or output; its failure is the
/// error.
#[cfg(any(target_os = "macos", windows))]
fn run_quietly(cmd: &mut std::process::Command) -> Result<(), String> {
    use std::process::Stdio;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_is_what_syslog_3_sends() {
        // 2026-11-20T09:05:07Z
        let ms = 1_795_165_507_000;
        let d = syslog_datagram(Severity::Notice, "{\"seq\":1}", ms);
        let pid = std::process::id();
        assert_eq!(
            d,
            format!("<85>Nov 20 09:05:07 mantra[{pid}]: {{\"seq\":1}}")
        );
        let d = syslog_datagram(Severity::Warning, "x", ms - 19 * 86_400_000);
        assert!(d.starts_with("<84>Nov  1 09:05:07 mantra["), "{d}");
    }

    #[test]
    fn a_message_embeds_the_line_or_only_its_length() {
        let line = br#"{"seq":3,"prev":"00","event":"index"}"#;
        let m = event_message(3, "ab", line);
        assert_eq!(
            m,
            r#"{"seq":3,"hash":"ab","record":{"seq":3,"prev":"00","event":"index"}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&m).expect("json");
        assert_eq!(v["record"]["event"], "index");
        let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_MESSAGE_BYTES));
        let m = event_message(4, "cd", long.as_bytes());
        assert_eq!(
            m,
            format!(
                "{{\"seq\":4,\"hash\":\"cd\",\"record_bytes\":{}}}",
                long.len()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_bound_socket_receives_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        let missing = OsLog::Socket(path.clone());
        assert!(missing.probe().is_err());
        let e = missing.send(Severity::Notice, "m").expect_err("no socket");
        assert!(e.contains("log"), "{e}");
        let server = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        let log = OsLog::Socket(path.clone());
        assert!(log.probe().is_ok());
        log.send(Severity::Warning, "hello").expect("send");
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).expect("recv");
        let got = std::str::from_utf8(&buf[..n]).expect("utf8");
        assert!(got.starts_with("<84>"), "{got}");
        assert!(got.ends_with(": hello"), "{got}");
        assert!(got.contains(" mantra["), "{got}");
        assert_eq!(OsLog::Off.send(Severity::Notice, "x"), Ok(()));
        assert!(OsLog::Off.probe().is_err());
    }
}
