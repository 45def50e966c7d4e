//! `agent-registered` and `agent-running`: the per-user service the
//! installer registers (systemd user unit, LaunchAgent, scheduled task) and
//! the live agent, told by the lock it holds on `<data dir>/agent.lock`.
//!
//! Both fail only when the agent is required: when policy enables any
//! `agent.sources.*` (the agent is the product). With every source off they
//! are informational.

#[cfg(not(windows))]
use std::path::{Path, PathBuf};

use mantra_agent::lock::{agent_state, AgentState};

use super::{Check, Context};

const REGISTERED: &str = "agent-registered";
const RUNNING: &str = "agent-running";

/// systemd user unit name.
pub const SYSTEMD_UNIT: &str = "mantra-agent.service";
/// launchd label (the plist is `<label>.plist`).
pub const LAUNCHD_LABEL: &str = "com.mantra.agent";
/// Windows scheduled task name.
pub const WINDOWS_TASK: &str = "Mantra Agent";

pub fn checks(ctx: &Context) -> Vec<Check> {
    vec![registered(ctx), running(ctx)]
}

#[cfg(not(windows))]
/// Where the installer may have put the service definition, system paths
/// under `root`, user paths from HOME / XDG_CONFIG_HOME.
fn registration_paths(root: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    if cfg!(target_os = "macos") {
        let plist = format!("{LAUNCHD_LABEL}.plist");
        let mut v = vec![root.join("Library/LaunchAgents").join(&plist)];
        v.extend(home.map(|h| h.join("Library/LaunchAgents").join(&plist)));
        v
    } else {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.map(|h| h.join(".config")));
        let mut v = vec![
            root.join("etc/systemd/user").join(SYSTEMD_UNIT),
            root.join("usr/lib/systemd/user").join(SYSTEMD_UNIT),
        ];
        v.extend(config.map(|c| c.join("systemd/user").join(SYSTEMD_UNIT)));
        v
    }
}

#[cfg(not(windows))]
/// Whether a service definition starts `mantra agent run`.
fn runs_the_agent(text: &str) -> bool {
    if cfg!(target_os = "macos") {
        text.contains("<string>agent</string>") && text.contains("<string>run</string>")
    } else {
        text.lines()
            .map(str::trim)
            .filter(|l| l.starts_with("ExecStart="))
            .any(|l| l.contains(" agent run"))
    }
}

#[cfg(not(windows))]
/// systemd: enabled when `default.target.wants` beside the unit links it.
fn enabled_next_to(unit: &Path) -> bool {
    unit.parent().is_some_and(|d| {
        d.join("default.target.wants")
            .join(SYSTEMD_UNIT)
            .symlink_metadata()
            .is_ok()
    })
}

#[cfg(not(windows))]
fn registered(ctx: &Context) -> Check {
    let found: Vec<PathBuf> = registration_paths(ctx.system_root)
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    let fix = if cfg!(target_os = "macos") {
        "run the Mantra installer (installer/install.sh), which installs \
             /Library/LaunchAgents/com.mantra.agent.plist"
    } else {
        "run the Mantra installer (installer/install.sh), which installs \
             /etc/systemd/user/mantra-agent.service and enables it with \
             `systemctl --global enable mantra-agent.service`"
    };
    let Some(first) = found.first() else {
        let detail = format!(
            "no agent service registered (looked in {})",
            registration_paths(ctx.system_root)
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return not_required_or(ctx, REGISTERED, detail, fix);
    };
    // A service definition is a few hundred bytes; bounded and
    // non-blocking whatever sits there.
    let text = mantra_core::fsio::read_to_string(first, 1024 * 1024).unwrap_or_default();
    if !runs_the_agent(&text) {
        return Check::fail(
            REGISTERED,
            format!("{} does not start `mantra agent run`", first.display()),
            fix,
        );
    }
    if !cfg!(target_os = "macos") && !found.iter().any(|p| enabled_next_to(p)) {
        return Check::warn(
            REGISTERED,
            format!("{} registered but not enabled", first.display()),
            "systemctl --global enable mantra-agent.service (all users), or \
                 systemctl --user enable --now mantra-agent.service",
        );
    }
    Check::ok(REGISTERED, format!("registered: {}", first.display()))
}

#[cfg(windows)]
fn registered(ctx: &Context) -> Check {
    let ok = std::process::Command::new("schtasks")
        .args(["/Query", "/TN", WINDOWS_TASK])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Check::ok(
            REGISTERED,
            format!("scheduled task \"{WINDOWS_TASK}\" registered"),
        )
    } else {
        not_required_or(
            ctx,
            REGISTERED,
            format!("no scheduled task \"{WINDOWS_TASK}\""),
            "run installer\\install.ps1, which registers the task at logon",
        )
    }
}

fn running(ctx: &Context) -> Check {
    match agent_state(ctx.data) {
        Ok(AgentState::Running { pid }) => Check::ok(
            RUNNING,
            format!(
                "running{} (holds {})",
                pid.map(|p| format!(", pid {p}")).unwrap_or_default(),
                mantra_agent::lock::lock_path(ctx.data).display()
            ),
        ),
        Ok(AgentState::NotRunning) => not_required_or(
            ctx,
            RUNNING,
            format!(
                "no agent holds {}",
                mantra_agent::lock::lock_path(ctx.data).display()
            ),
            &if cfg!(target_os = "macos") {
                format!("launchctl kickstart gui/$(id -u)/{LAUNCHD_LABEL}")
            } else if cfg!(windows) {
                format!("schtasks /Run /TN \"{WINDOWS_TASK}\"")
            } else {
                format!("systemctl --user start {SYSTEMD_UNIT}")
            },
        ),
        Err(e) => Check::fail(
            RUNNING,
            e.to_string(),
            "check the data directory's permissions",
        ),
    }
}

/// A fail when the agent is required, else an ok that says why not.
fn not_required_or(ctx: &Context, id: &'static str, detail: String, fix: &str) -> Check {
    if ctx.agent_required() {
        Check::fail(id, detail, fix)
    } else {
        Check::ok(
            id,
            format!("{detail}; not required: every agent.sources.* is off"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn a_unit_runs_the_agent_only_through_exec_start() {
        assert!(runs_the_agent(
            "[Service]\nExecStart=/usr/local/bin/mantra agent run\n"
        ));
        assert!(!runs_the_agent(
            "[Service]\nExecStart=/usr/local/bin/mantra index\n"
        ));
        assert!(!runs_the_agent("# ExecStart=/bin/mantra agent run\n"));
    }
}
