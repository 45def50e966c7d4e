//! The periodic update check of the long-running agent: when the next
//! check is due (`updates.check_interval_hours` after the last one, which
//! is remembered across restarts), and the record of the last check that
//! `mantra doctor` and admins can read (`<data dir>/update-check.json`,
//! [`mantra_core::DataDir::update_state_file`]).
//!
//! Whether a check may touch the network is still decided by
//! [`check_for_update`] through the guard: with updates or the network
//! disabled the record says so and no socket was opened.

use std::path::Path;

use mantra_policy::Policy;
use serde::{Deserialize, Serialize};

use crate::check::{check_for_update, CheckOptions, CheckOutcome};

/// The last periodic check. Holds versions and an error message, never
/// anything about the machine's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    /// When it ran, seconds since the epoch.
    pub checked_at_unix: u64,
    /// `disabled`, `up_to_date`, `update_available` or `error`.
    pub result: String,
    /// The newest version the manifest offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// Why it was disabled, or what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Reads the record; `None` when there is none or it does not parse (the
/// next check then runs as if none had).
pub fn read(path: &Path) -> Option<LastCheck> {
    // A few hundred bytes when Mantra wrote it; bounded and non-blocking
    // whatever sits there instead.
    let text = mantra_core::fsio::read(path, 1024 * 1024).ok()?;
    serde_json::from_slice(&text).ok()
}

/// When the next check is due (seconds since the epoch): at once without
/// a record, else one interval after the last. `None`: never (an
/// interval of 0, which policy validation refuses; kept safe here).
pub fn next_due(last: Option<&LastCheck>, interval_hours: u32, now_unix: u64) -> Option<u64> {
    if interval_hours == 0 {
        return None;
    }
    Some(match last {
        None => now_unix,
        // A record from the future (clock moved back) does not postpone
        // checks for ever.
        Some(l) if l.checked_at_unix > now_unix => now_unix,
        Some(l) => l.checked_at_unix + u64::from(interval_hours) * 3600,
    })
}

/// Runs one check under `policy` and records its outcome at `path`
/// (atomically, `0600`). A failure to record is returned after the check.
pub fn check_and_record(
    policy: &Policy,
    opts: &CheckOptions,
    path: &Path,
    now_unix: u64,
) -> (LastCheck, std::io::Result<()>) {
    let (result, latest, detail) = match check_for_update(policy, opts) {
        Ok(CheckOutcome::Disabled { reason }) => ("disabled", None, Some(reason)),
        Ok(CheckOutcome::UpToDate { latest, .. }) => ("up_to_date", Some(latest), None),
        Ok(CheckOutcome::UpdateAvailable { latest, .. }) => {
            ("update_available", Some(latest), None)
        }
        Err(e) => ("error", None, Some(e.to_string())),
    };
    let last = LastCheck {
        checked_at_unix: now_unix,
        result: result.to_string(),
        latest,
        detail,
    };
    let written = serde_json::to_vec_pretty(&last)
        .map_err(std::io::Error::other)
        .and_then(|body| mantra_core::fsio::write_private_atomic(path, &body));
    (last, written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: u64) -> LastCheck {
        LastCheck {
            checked_at_unix: t,
            result: "up_to_date".into(),
            latest: Some("0.1.0".into()),
            detail: None,
        }
    }

    #[test]
    fn due_once_an_interval_after_the_last_check() {
        assert_eq!(next_due(None, 24, 1_000), Some(1_000));
        assert_eq!(next_due(Some(&at(1_000)), 24, 2_000), Some(1_000 + 86_400));
        assert_eq!(
            next_due(Some(&at(9_000)), 1, 2_000),
            Some(2_000),
            "future record"
        );
        assert_eq!(next_due(None, 0, 1_000), None, "interval 0: never");
    }

    #[test]
    fn a_disabled_check_is_recorded_private_and_sends_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = mantra_core::DataDir::new(tmp.path()).update_state_file();
        let mut policy = Policy::default();
        policy.network.enabled = false;
        let (last, written) = check_and_record(&policy, &CheckOptions::for_this_build(), &path, 42);
        written.expect("recorded");
        assert_eq!(last.result, "disabled");
        assert_eq!(read(&path), Some(last));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("m").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
