//! `logs`: the agent's log directory is owner-only (`0700`) and every file
//! in it `0600`; logs hold paths and rule ids, never secrets, but they are
//! the user's.

use super::{loose_mode, Check, Context};

const ID: &str = "logs";

pub fn check(ctx: &Context) -> Check {
    let dir = ctx.data.log_dir();
    let meta = match std::fs::metadata(&dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let detail = format!("no log directory yet at {}", dir.display());
            return if ctx.agent_required() {
                Check::warn(
                    ID,
                    format!("{detail}: the agent has not run"),
                    "start the agent (see agent-running)",
                )
            } else {
                Check::ok(ID, detail)
            };
        }
        Err(e) => {
            return Check::fail(
                ID,
                format!("{}: {e}", dir.display()),
                "check the data directory's permissions",
            )
        }
    };
    if !meta.is_dir() {
        return Check::fail(
            ID,
            format!("{} is not a directory", dir.display()),
            format!("remove '{}'; the agent re-creates it", dir.display()),
        );
    }
    let chmod = format!("chmod 700 '{0}' && chmod 600 '{0}'/*", dir.display());
    if let Some(mode) = loose_mode(&meta) {
        return Check::fail(
            ID,
            format!(
                "log directory {} is mode {mode:04o}, not 0700",
                dir.display()
            ),
            chmod,
        );
    }
    let mut loose = Vec::new();
    let mut files = 0usize;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let Ok(m) = entry.metadata() else { continue };
        if !m.is_file() {
            continue;
        }
        files += 1;
        if let Some(mode) = loose_mode(&m) {
            loose.push(format!(
                "{} ({mode:04o})",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    if !loose.is_empty() {
        loose.sort();
        return Check::fail(
            ID,
            format!(
                "log files readable by others in {}: {}",
                dir.display(),
                loose.join(", ")
            ),
            chmod,
        );
    }
    Check::ok(
        ID,
        format!(
            "{} owner-only, {files} file(s); kept {} day(s) (logging.retention_days)",
            dir.display(),
            ctx.effective.policy.logging.retention_days
        ),
    )
}
