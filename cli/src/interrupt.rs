//! Stopping long-running commands on SIGINT and SIGTERM (Ctrl-C, `kill`,
//! a service manager's stop).
//!
//! The first signal sets the command's cancel flag: it stops at its next
//! safe point (a committed batch, the end of an idle tick). A worker deep in
//! one very large source may not reach one soon, so if the process is still
//! running a grace period later it exits anyway, after the command's
//! `on_forced_exit` (the agent clears its pid from its lock file, as a clean
//! exit does). That is safe: everything the store holds was written in
//! committed transactions (it survives `kill -9`), so the next run resumes
//! where this one stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

/// How long Ctrl-C on an interactive command waits for a safe point: a
/// person is waiting.
pub const INTERACTIVE_GRACE: Duration = Duration::from_millis(800);

/// How long a service manager's stop waits: long enough for the agent's
/// start-up (the engine build takes seconds on a loaded machine), well
/// within systemd's and launchd's own stop timeouts.
pub const SERVICE_GRACE: Duration = Duration::from_secs(10);

/// Exit code of a command stopped by a signal (128 + SIGINT, as shells do).
pub const INTERRUPTED: u8 = 130;

/// Installs the handler and returns the flag it sets. `forced_exit` is the
/// exit code used when the command does not stop within `grace`, after
/// `on_forced_exit` ran. Call once per process.
pub fn install(
    forced_exit: u8,
    grace: Duration,
    on_forced_exit: impl Fn() + Send + Sync + 'static,
) -> Result<Arc<AtomicBool>> {
    let on_forced_exit = Arc::new(on_forced_exit);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            return; // already stopping
        }
        // Not from the handler itself: it must return at once.
        let on_forced_exit = on_forced_exit.clone();
        let _ = std::thread::Builder::new()
            .name("mantra-stop".into())
            .spawn(move || {
                std::thread::sleep(grace);
                on_forced_exit();
                eprintln!("mantra: stopped; the next run resumes from the last committed batch");
                std::process::exit(i32::from(forced_exit));
            });
    })
    .context("cannot install the signal handler")?;
    Ok(cancel)
}
