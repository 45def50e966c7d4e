//! `network`, `updates`, `crash-reports`: the effective state of Mantra's
//! only network activity and where the deciding value comes from (e.g.
//! "off (mandatory, from /etc/mantra/policy.yaml:3)"). Decided by the same
//! guard the network code asks ([`mantra_update::NetworkGuard`]); nothing
//! here opens a socket. Crash reports waiting on disk while uploads are off
//! warn: they stay local until someone looks at them. The agent's last
//! periodic update check (`update-check.json`) is shown with `updates`.

use mantra_update::{crash, schedule, NetworkGuard, Purpose};

use super::{Check, Context};

pub fn checks(ctx: &Context) -> Vec<Check> {
    let policy = &ctx.effective.policy;
    let guard = NetworkGuard::new(policy);
    let mut checks = vec![Check::ok(
        "network",
        format!(
            "{} ({})",
            on_off(policy.network.enabled),
            provenance(ctx, "network.enabled")
        ),
    )];
    let updates = match guard.permit(Purpose::UpdateCheck) {
        Ok(_) => format!(
            "update checks allowed, every {} h on the {} channel ({})",
            policy.updates.check_interval_hours,
            policy.updates.channel.as_str(),
            provenance(ctx, "updates.enabled")
        ),
        Err(d) => format!(
            "update checks off: {} ({})",
            d.reason,
            provenance(ctx, deciding_key(policy.network.enabled, "updates.enabled"))
        ),
    };
    let last = schedule::read(&ctx.data.update_state_file());
    let updates = match last {
        Some(l) => format!(
            "{updates}; last check {}: {}{}",
            mantra_core::time::Timestamp(
                i64::try_from(l.checked_at_unix)
                    .unwrap_or(0)
                    .saturating_mul(1000)
            ),
            l.result.replace('_', " "),
            l.latest.map(|v| format!(" ({v})")).unwrap_or_default()
        ),
        None => format!("{updates}; no periodic check recorded yet"),
    };
    checks.push(Check::ok("updates", updates));
    let upload = guard.permit(Purpose::CrashReportUpload);
    let pending = crash::pending(&ctx.data.crash_reports_dir()).len();
    let state = match &upload {
        Ok(_) => format!(
            "uploads allowed ({})",
            provenance(ctx, "crash_reports.enabled")
        ),
        Err(d) => format!(
            "uploads off: {} ({})",
            d.reason,
            provenance(
                ctx,
                deciding_key(policy.network.enabled, "crash_reports.enabled")
            )
        ),
    };
    checks.push(match (pending, upload.is_ok()) {
        (0, _) => Check::ok("crash-reports", format!("{state}; none pending")),
        (n, false) => Check::warn(
            "crash-reports",
            format!("{state}; {n} crash report(s) pending locally"),
            "look at them with `mantra crash-reports list` and delete them once read \
             (they hold no secrets and never leave the machine while uploads are off)",
        ),
        (n, true) => Check::warn(
            "crash-reports",
            format!("{state}; {n} crash report(s) not uploaded yet"),
            "mantra crash-reports upload",
        ),
    });
    checks
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The kill switch decides when it is off; otherwise the feature key.
fn deciding_key(network_on: bool, feature: &'static str) -> &'static str {
    if network_on {
        feature
    } else {
        "network.enabled"
    }
}

/// "default", or "mandatory, from <origin>" / "user, from <origin>".
fn provenance(ctx: &Context, key: &str) -> String {
    match ctx.effective.report.row(key) {
        Some(row) if row.level != mantra_policy::Level::Default => format!(
            "{}, from {}",
            row.level.as_str(),
            row.origin.as_deref().unwrap_or(row.source.as_str())
        ),
        _ => "default".to_string(),
    }
}
