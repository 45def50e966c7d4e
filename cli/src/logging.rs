//! Where `tracing` output goes: the daily rolling file under the data
//! directory for the commands that index or delete (what an admin reads
//! later), stderr for the rest.

use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::settings::Settings;

/// Sets up logging once. Keep the returned guard alive until exit: it
/// flushes the file log.
pub fn init(settings: &Settings, to_file: bool, level: &str) -> Option<WorkerGuard> {
    if to_file {
        if let Ok(dir) = settings.data_dir() {
            let retention = settings.policy().logging.retention_days;
            if let Ok(guard) = mantra_agent::logging::init(&dir.log_dir(), level, retention) {
                return Some(guard);
            }
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colour codes only for a person at a terminal: a log file, a CI log
    // or an MDM's capture of stderr gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .event_format(OneLine)
        .with_writer(std::io::stderr)
        .try_init();
    None
}

/// Log lines on stderr read like every other message Mantra prints there:
/// `mantra: warning: …`, with the event's fields after the message.
struct OneLine;

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
    use super::*;

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
}
