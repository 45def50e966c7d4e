//! The agent's log file: `tracing-appender` daily rolling files in
//! `<data dir>/logs`, owner-only, plus the usual stderr output in the
//! `mantra: warning: …` style of every message Mantra prints there
//! ([`OneLine`]; colour only on a terminal).
//!
//! What is logged is decided by the call sites, which log paths, counts and
//! rule ids — never message text or secret values.

use std::path::Path;

use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// File name prefix of the logs (`agent.YYYY-MM-DD.log`).
pub const LOG_PREFIX: &str = "agent";

/// Installs the global subscriber: stderr at `stderr_level`, and the
/// rolling file at `info` (or `stderr_level` if more verbose). Keep the
/// guard alive for the program's life. Fails when a subscriber is already
/// set or the directory cannot be made.
///
/// One file per day is kept for `retention_days` days (policy
/// `logging.retention_days`): older agent logs are deleted now and at each
/// daily rotation.
pub fn init(
    log_dir: &Path,
    stderr_level: &str,
    retention_days: u32,
) -> std::io::Result<WorkerGuard> {
    let appender = rolling_appender(log_dir, retention_days)?;
    restrict_log_files(log_dir);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let stderr_filter = EnvFilter::try_new(stderr_level).unwrap_or_else(|_| EnvFilter::new("warn"));
    let verbose = matches!(
        stderr_level.trim().to_ascii_lowercase().as_str(),
        "debug" | "trace"
    );
    let file_filter = EnvFilter::new(if verbose { stderr_level } else { "info" });
    tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .event_format(OneLine)
                .with_writer(std::io::stderr)
                .with_filter(stderr_filter),
        )
        .with(
            fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(file_filter),
        )
        .try_init()
        .map_err(std::io::Error::other)?;
    Ok(guard)
}

/// The daily rolling appender of `log_dir` (created `0700`), keeping
/// `retention_days` files (at least one): creating it prunes older
/// `agent.*.log` files; other files of the directory are left alone.
pub fn rolling_appender(
    log_dir: &Path,
    retention_days: u32,
) -> std::io::Result<RollingFileAppender> {
    mantra_core::datadir::ensure_private_dir(log_dir)?;
    let keep = usize::try_from(retention_days.max(1)).unwrap_or(usize::MAX);
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_PREFIX)
        .filename_suffix("log")
        .max_log_files(keep)
        .build(log_dir)
        .map_err(std::io::Error::other)
}

/// Sets `0600` on every log file (the appender creates files with the
/// process umask). Called at start-up and periodically by the watcher, so
/// a file rotated in mid-run is tightened too; the directory is `0700`
/// meanwhile.
pub fn restrict_log_files(log_dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(log_dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        for f in files {
            let _ = std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = log_dir;
}

/// Log lines on stderr read like every other message Mantra prints there:
/// `mantra: warning: …`, with the event's fields after the message.
pub struct OneLine;

impl<S, N> FormatEvent<S, N> for OneLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(
            writer,
            "mantra: {}: ",
            level_name(*event.metadata().level())
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stderr_lines_use_the_mantra_prefix_and_no_colour() {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(OneLine)
            .with_writer(move || SharedBuf(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(path = "a.jsonl", "cannot read the source");
        });
        let text = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(
            text,
            "mantra: warning: cannot read the source path=\"a.jsonl\"\n"
        );
    }

    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn retention_prunes_the_oldest_agent_logs_only() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("logs");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for day in 1..=5 {
            std::fs::write(dir.join(format!("agent.2020-01-0{day}.log")), "old\n").expect("w");
            // Distinct creation times: the appender prunes oldest first.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(dir.join("hooks-audit.jsonl"), "{}\n").expect("w");

        let _appender = rolling_appender(&dir, 3).expect("appender");
        let left = names(&dir);
        let agent_logs: Vec<&String> = left.iter().filter(|n| n.starts_with("agent.")).collect();
        assert_eq!(agent_logs.len(), 3, "{left:?}");
        assert!(
            left.contains(&"agent.2020-01-04.log".to_string()),
            "{left:?}"
        );
        assert!(
            left.contains(&"agent.2020-01-05.log".to_string()),
            "{left:?}"
        );
        assert!(
            !left.contains(&"agent.2020-01-03.log".to_string()),
            "{left:?}"
        );
        assert!(
            left.contains(&"hooks-audit.jsonl".to_string()),
            "other files stay"
        );

        // Zero (not a valid policy value) still keeps today's file.
        let _appender = rolling_appender(&dir, 0).expect("appender");
        let left = names(&dir);
        assert_eq!(
            left.iter().filter(|n| n.starts_with("agent.")).count(),
            1,
            "{left:?}"
        );
    }
}
