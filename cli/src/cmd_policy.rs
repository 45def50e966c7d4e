//! `mantra policy show|validate|schema`: the effective policy with its
//! provenance, checking a policy file before pushing it, and the schema.
//! The policy itself is loaded once, in [`Settings`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use mantra_policy::merge::{Report, Status};

use crate::settings::Settings;

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

/// Runs a policy subcommand; returns the exit code.
pub fn run(settings: &Settings, cmd: &PolicyCmd) -> Result<u8> {
    match cmd {
        PolicyCmd::Show { json } => {
            let eff = &settings.effective;
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
            // The error names the file already.
            let v = mantra_policy::validate_file(file)?;
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
fn render(report: &Report) -> String {
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
