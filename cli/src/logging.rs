//! Where `tracing` output goes: the daily rolling file under the data
//! directory for the commands that index or delete (what an admin reads
//! later), stderr for the rest.

use mantra_agent::logging::OneLine;
use tracing_appender::non_blocking::WorkerGuard;

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
