//! `mantra policy show|validate|schema`: the effective policy with its
//! provenance, checking a policy file before pushing it, and the schema.
//! The policy itself is loaded once, in [`Settings`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use std::sync::Arc;

use mantra_detect::check::check_examples;
use mantra_detect::{EngineKind, RuleSetBuilder};
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
            let mut v = mantra_policy::validate_file(file)?;
            check_rules(&mut v)?;
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

/// What policy validation cannot see below the detection crate: every
/// custom rule compiles and passes its own examples against the whole rule
/// set (what `scan` would otherwise drop, and doctor fail, once deployed),
/// and every id in `rules.disabled` names a rule.
fn check_rules(v: &mut mantra_policy::Validation) -> Result<()> {
    let values = |key: &str| -> Vec<serde_json::Value> {
        v.entries
            .iter()
            .filter(|e| e.key == key)
            .filter_map(|e| e.value.as_array().cloned())
            .flatten()
            .collect()
    };
    let custom = values("rules.custom");
    let disabled: Vec<String> = values("rules.disabled")
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    if custom.is_empty() && disabled.is_empty() {
        return Ok(());
    }
    let mut builder = RuleSetBuilder::with_builtin();
    builder.add_values("rules.custom", &custom);
    let (set, errors) = builder.build();
    let set = Arc::new(set);
    for e in &errors {
        // The error names `rules.custom` (its origin) already.
        v.problem_at("rules.custom", one_line(&e.to_string()));
    }
    let loaded: Vec<String> = custom
        .iter()
        .filter_map(|r| r.get("id").and_then(|id| id.as_str()))
        .filter(|id| set.get(id).is_some())
        .map(str::to_owned)
        .collect();
    if !loaded.is_empty() {
        // The pure-Rust engine: it starts at once, and findings are the
        // same on both engines.
        for f in check_examples(set.clone(), EngineKind::Rust, &loaded)? {
            v.problem_at("rules.custom", one_line(&format!("`rules.custom`: {f}")));
        }
    }
    for id in disabled {
        if set.get(&id).is_none() {
            v.problem_at(
                "rules.disabled",
                format!(
                    "`rules.disabled`: no rule `{id}` (built in or custom): \
                     `mantra rules list` shows the ids"
                ),
            );
        }
    }
    Ok(())
}

/// A multi-line message (a regex error draws a caret under the pattern)
/// as one line, for the `file:line: problem` shape.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == '~'))
        .collect::<Vec<_>>()
        .join(" ")
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
