//! `mantra policy show|validate|schema`, and how the binary finds its
//! policy: [`load_options`] / [`effective`] are what every other subcommand
//! should call to get the effective policy.
//!
//! `MANTRA_TEST_ROOT` re-roots every system path (and the user config) only
//! in builds with the `test-roots` cargo feature; a default build ignores
//! it, so a user cannot escape policy by setting a variable.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, Result};
use mantra_policy::merge::{Report, Status};
use mantra_policy::LoadOptions;
#[cfg(feature = "test-roots")]
use mantra_policy::Platform;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCmd {
    /// Every key's effective value with its level, scope, source, origin and
    /// the values it overrode (like chrome://policy); unknown keys, invalid
    /// values and unreadable sources.
    Show {
        /// Machine-readable JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a policy before pushing it: YAML, plist (XML or binary),
    /// .mobileconfig or .reg. Exit 1 when anything is wrong.
    Validate {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of policy documents.
    Schema,
}

/// Where this process reads policy from.
pub fn load_options() -> LoadOptions {
    load_options_from(&|k| std::env::var_os(k))
}

/// The effective policy of this process, with provenance.
pub fn effective() -> mantra_policy::Effective {
    mantra_policy::load(&load_options())
}

fn load_options_from(env: &dyn Fn(&str) -> Option<OsString>) -> LoadOptions {
    #[cfg(feature = "test-roots")]
    if let Some(root) = env("MANTRA_TEST_ROOT").filter(|r| !r.is_empty()) {
        return test_root_options(PathBuf::from(root), env);
    }
    let _ = env;
    LoadOptions::system()
}

/// Test builds only: every path under the root, files owned by whoever runs
/// the test, the platform from `MANTRA_TEST_PLATFORM`, and on "windows" the
/// registry from `<root>/registry.reg`.
#[cfg(feature = "test-roots")]
fn test_root_options(root: PathBuf, env: &dyn Fn(&str) -> Option<OsString>) -> LoadOptions {
    let platform = match env("MANTRA_TEST_PLATFORM")
        .and_then(|p| p.into_string().ok())
        .as_deref()
    {
        Some("macos") => Platform::MacOs,
        Some("windows") => Platform::Windows,
        Some("linux") => Platform::Linux,
        _ => Platform::current(),
    };
    let uid = current_uid();
    let mut opts = LoadOptions::rooted(&root, platform, uid);
    if platform == Platform::Windows {
        opts.registry = std::fs::read(root.join("registry.reg"))
            .ok()
            .and_then(|b| mantra_policy::MemRegistry::from_reg_bytes(&b).ok())
            .map(|r| {
                std::sync::Arc::new(r) as std::sync::Arc<dyn mantra_policy::Registry + Send + Sync>
            });
    }
    opts
}

#[cfg(all(feature = "test-roots", unix))]
fn current_uid() -> u32 {
    mantra_policy::files::effective_uid().unwrap_or(0)
}

#[cfg(all(feature = "test-roots", not(unix)))]
fn current_uid() -> u32 {
    0
}

/// Runs a policy subcommand; returns the exit code.
pub fn run(cmd: &PolicyCmd) -> Result<u8> {
    match cmd {
        PolicyCmd::Show { json } => {
            let eff = effective();
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&eff.report).context("serialising the report")?
                );
            } else {
                print!("{}", render(&eff.report));
            }
            Ok(0)
        }
        PolicyCmd::Validate { file, json } => {
            let v = mantra_policy::validate_file(file)
                .with_context(|| format!("reading {}", file.display()))?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).context("serialising the result")?
                );
            } else {
                for p in &v.problems {
                    match p.line {
                        Some(l) => println!("{}:{l}: {}", file.display(), p.message),
                        None => println!("{}: {}", file.display(), p.message),
                    }
                }
                if v.is_ok() {
                    println!("{}: OK ({} keys)", file.display(), v.valid_keys);
                } else {
                    println!("{}: {} problem(s)", file.display(), v.problems.len());
                }
            }
            Ok(if v.is_ok() { 0 } else { 1 })
        }
        PolicyCmd::Schema => {
            let schema = mantra_policy::json_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).context("serialising the schema")?
            );
            Ok(0)
        }
    }
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 48 {
        s.chars().take(45).collect::<String>() + "..."
    } else {
        s
    }
}

/// The `policy show` table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let header = ["KEY", "VALUE", "LEVEL", "SCOPE", "SOURCE", "STATUS"];
    let rows: Vec<[String; 6]> = report
        .rows
        .iter()
        .map(|r| {
            let status = match &r.status {
                Status::Ok => "ok".to_string(),
                Status::Default => "default".to_string(),
                Status::RestrictiveFallback { .. } => "invalid: restrictive value used".to_string(),
                Status::FailClosed { .. } => {
                    "source unreadable: restrictive value used".to_string()
                }
            };
            [
                r.key.clone(),
                short(&r.value),
                r.level.as_str().to_string(),
                r.scope.map(|s| s.as_str()).unwrap_or("-").to_string(),
                r.source.as_str().to_string(),
                status,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(header));
    for (r, cells) in report.rows.iter().zip(&rows) {
        out.push_str(&line(cells.each_ref().map(String::as_str)));
        if let Some(o) = &r.origin {
            out.push_str(&format!("    from {o}\n"));
        }
        for c in &r.conflicts {
            out.push_str(&format!(
                "    {:?}: {} (level {}, scope {}, source {}, {})\n",
                c.kind,
                short(&c.value),
                c.level.as_str(),
                c.scope.as_str(),
                c.source,
                c.origin
            ));
        }
    }
    if !report.unknown.is_empty() {
        out.push_str("\nUnknown keys (ignored):\n");
        for u in &report.unknown {
            out.push_str(&format!("  {}  ({}, {})\n", u.key, u.source, u.origin));
        }
    }
    if !report.invalid.is_empty() {
        out.push_str("\nInvalid values (rejected):\n");
        for i in &report.invalid {
            let applied = i
                .restrictive_applied
                .as_ref()
                .map(|v| format!("; restrictive value {v} used"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}: {}{applied}  ({}, {})\n",
                i.key, i.reason, i.source, i.origin
            ));
        }
    }
    if !report.errors.is_empty() {
        out.push_str("\nSources that could not be read:\n");
        for e in &report.errors {
            let fc = if e.fail_closed {
                " (failed closed: restrictive values applied)"
            } else {
                ""
            };
            out.push_str(&format!("  {}{fc}\n", e.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_root(k: &str) -> Option<OsString> {
        (k == "MANTRA_TEST_ROOT").then(|| OsString::from("/tmp/mantra-escape"))
    }

    #[cfg(not(feature = "test-roots"))]
    #[test]
    fn default_build_ignores_mantra_test_root() {
        let opts = load_options_from(&env_with_root);
        assert_eq!(opts.system_root, PathBuf::from("/"));
        assert_eq!(opts.owner, mantra_policy::OwnerRule::ROOT);
        assert!(!opts.policy_file_paths().0.starts_with("/tmp/mantra-escape"));
    }

    #[cfg(feature = "test-roots")]
    #[test]
    fn test_roots_build_reroots_everything() {
        let opts = load_options_from(&env_with_root);
        assert_eq!(opts.system_root, PathBuf::from("/tmp/mantra-escape"));
        assert!(opts
            .user_config
            .as_ref()
            .is_some_and(|p| p.starts_with("/tmp/mantra-escape")));
    }
}
