//! `mantra doctor`: a read-only health and compliance check of this machine,
//! one line per check and a fix for each failure.
//!
//! Exit codes (Intune remediation detection semantics): 0 compliant
//! (warnings allowed), 1 not compliant, 2 the doctor itself could not run.
//! `--format jamf` prints one `<result>…</result>` line for a Jamf
//! extension attribute; `--format json` is for everything else.
//!
//! Read-only by construction: no check creates the data directory, the
//! store, a key, a log file or an engine cache, and none opens a socket.
//! Each group of checks lives in its own module below and gets everything
//! it needs from [`Context`].

mod agent;
mod engine;
mod exposures;
mod hooks;
mod logs;
mod network;
mod policy;
mod store;
mod trail;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use mantra_agent::AgentConfig;
use mantra_core::datadir::DataDir;
use serde::Serialize;

use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Output: human (one line per check), json, or jamf (one
    /// `<result>…</result>` line for a Jamf extension attribute).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also check the git hooks of this repository (default: the
    /// repository holding the current directory, if any).
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Jamf,
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Worth knowing; does not make the machine non-compliant.
    Warn,
    /// Not compliant.
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(id: &'static str, detail: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(id: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(id: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// What every check reads: the settings `main` resolved, and the
/// repository to check.
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub effective: &'a mantra_policy::Effective,
    pub agent_config: &'a AgentConfig,
    pub data: &'a DataDir,
    /// `/` in production; the test root in `test-roots` builds. Unused on
    /// Windows, where registration is the task scheduler's, not a file's.
    #[cfg_attr(windows, allow(dead_code))]
    pub system_root: &'a Path,
    pub repo: Option<PathBuf>,
}

impl<'a> Context<'a> {
    fn gather(settings: &'a Settings, args: &DoctorArgs) -> Result<Context<'a>> {
        let repo = match &args.repo {
            Some(r) => Some(
                mantra_hooks::Git::in_dir(r)
                    .toplevel()
                    .with_context(|| format!("--repo {}: not a git repository", r.display()))?,
            ),
            None => None,
        };
        Ok(Context {
            settings,
            effective: &settings.effective,
            agent_config: &settings.agent,
            data: settings.data_dir()?,
            system_root: &settings.policy_sources.system_root,
            repo,
        })
    }

    /// The agent is the product: it must run whenever policy enables any
    /// of its sources.
    pub fn agent_required(&self) -> bool {
        !self.agent_config.enabled_sources.is_empty()
    }
}

/// Every check, in report order.
fn run_checks(ctx: &Context) -> Vec<Check> {
    let mut checks = vec![policy::check(ctx), engine::check(ctx)];
    let probe = store::probe(ctx);
    checks.extend(probe.checks.iter().cloned());
    checks.extend(agent::checks(ctx));
    checks.push(hooks::check(ctx));
    checks.extend(network::checks(ctx));
    checks.push(logs::check(ctx));
    checks.extend(trail::checks(ctx));
    checks.push(exposures::check(ctx, &probe));
    checks
}

/// `mantra doctor`.
pub fn run(settings: &Settings, args: &DoctorArgs) -> Result<u8> {
    let ctx = Context::gather(settings, args)?;
    let checks = run_checks(&ctx);
    let failing: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id)
        .collect();
    let compliant = failing.is_empty();
    match args.format {
        Format::Human => print!("{}", human(&checks)),
        Format::Json => {
            let doc = serde_json::json!({
                "compliant": compliant,
                "checks": checks,
                "version": env!("CARGO_PKG_VERSION"),
                "data_dir": ctx.data.root.display().to_string(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).context("serialising the report")?
            );
        }
        Format::Jamf => println!("{}", jamf(&failing)),
    }
    Ok(if compliant { 0 } else { 1 })
}

/// `ok|warn|FAIL  <id>  <detail>`, and `  fix: …` under warnings and
/// failures.
fn human(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!(
            "{}  {}  {}\n",
            c.status.label(),
            c.id,
            one_line(&c.detail)
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("  fix: {}\n", one_line(fix)));
        }
    }
    out
}

/// The Jamf extension attribute value.
fn jamf(failing: &[&str]) -> String {
    if failing.is_empty() {
        "<result>compliant</result>".to_string()
    } else {
        format!("<result>non-compliant: {}</result>", failing.join(", "))
    }
}

/// Keeps the one-line-per-check shape whatever a detail holds.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Group or other permission bits of a Unix mode (`None` elsewhere, where
/// the data directory's ACLs are the user's).
pub fn loose_mode(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_shapes_follow_the_contract() {
        let checks = vec![
            Check::ok("policy", "defaults"),
            Check::warn("store-key", "fallback\nfile", "use a keychain"),
            Check::fail("agent-running", "not running", "start it"),
        ];
        assert_eq!(
            human(&checks),
            "ok  policy  defaults\nwarn  store-key  fallback file\n  fix: use a keychain\n\
             FAIL  agent-running  not running\n  fix: start it\n"
        );
        assert_eq!(jamf(&[]), "<result>compliant</result>");
        assert_eq!(
            jamf(&["store", "hooks"]),
            "<result>non-compliant: store, hooks</result>"
        );
        let json = serde_json::to_value(&checks[0]).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"id": "policy", "status": "ok", "detail": "defaults"})
        );
    }
}
