//! The long-running agent's periodic update check, on its own thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mantra_policy::Policy;
use mantra_update::check::CheckOptions;
use mantra_update::schedule;

/// Starts the agent's periodic update check on its own thread (a slow or
/// unreachable server never holds up indexing): the first after
/// `first_delay`, then every `updates.check_interval_hours`, counted from
/// the last check recorded at `state` so restarts do not ask again early.
/// Each outcome is recorded there and logged. With updates or the network
/// off by policy, each check records "disabled" without opening a socket.
pub fn spawn_periodic_checks(
    policy: Policy,
    state: PathBuf,
    first_delay: Duration,
    cancel: Arc<AtomicBool>,
) {
    let interval = policy.updates.check_interval_hours;
    if interval == 0 {
        return;
    }
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name("mantra-update-check".into())
        .spawn(move || {
            let opts = CheckOptions::for_this_build();
            loop {
                let now = unix_now();
                let due = schedule::next_due(schedule::read(&state).as_ref(), interval, now);
                let Some(due) = due else { return };
                let wait = Duration::from_secs(due.saturating_sub(now))
                    .max(first_delay.saturating_sub(started.elapsed()));
                if !sleep_unless_cancelled(wait, &cancel) {
                    return;
                }
                let (last, written) =
                    schedule::check_and_record(&policy, &opts, &state, unix_now());
                match last.result.as_str() {
                    "update_available" => tracing::info!(
                        latest = last.latest.as_deref().unwrap_or(""),
                        "a new version of Mantra is available"
                    ),
                    "error" => tracing::warn!(
                        detail = last.detail.as_deref().unwrap_or(""),
                        "update check failed"
                    ),
                    _ => tracing::debug!(result = %last.result, "update check"),
                }
                if let Err(e) = written {
                    // Without a record the next check would be due at once:
                    // stop rather than ask the server every second.
                    tracing::warn!("update check not recorded, periodic checks stop: {e}");
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("periodic update checks not started: {e}");
    }
}

/// Sleeps `wait` in short steps; false as soon as `cancel` is set.
fn sleep_unless_cancelled(wait: Duration, cancel: &AtomicBool) -> bool {
    let until = Instant::now() + wait;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_secs(1)));
    }
}

fn unix_now() -> u64 {
    u64::try_from(mantra_core::time::now_ms() / 1000).unwrap_or(0)
}
