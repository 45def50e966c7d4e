//! `mantra rules list|check`: the rules in effect, and checking a rule file
//! against its own examples.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::Subcommand;
use mantra_detect::check::check_examples;
use mantra_detect::RuleSetBuilder;

use crate::rule_args::{read_rule_file, RuleArgs};
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Compile a rule file and run its examples against every rule in effect.
    Check {
        /// The rule file (YAML `rules: [...]`).
        file: PathBuf,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

pub fn run(settings: &Settings, cmd: RulesCommand) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules, json } => {
            let set = rules.rule_set(settings)?;
            if json {
                let list: Vec<_> = set
                    .rules()
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.def.id, "name": r.def.name, "severity": r.def.severity,
                            "keywords": r.def.keywords, "origin": r.origin, "generic": r.def.generic,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for r in set.rules() {
                    println!(
                        "{:<40} {:<9} {}",
                        r.def.id,
                        r.def.severity.as_str(),
                        r.def.name
                    );
                }
                eprintln!("{} rule(s)", set.len());
            }
            Ok(0)
        }
        RulesCommand::Check { file, rules } => check(&file, &rules),
    }
}

fn check(file: &std::path::Path, args: &RuleArgs) -> Result<u8> {
    let text = read_rule_file(file)?;
    let origin = file.display().to_string();
    let ids = mantra_detect::ruleset::rule_ids(&text);
    let mut builder = RuleSetBuilder::with_builtin();
    builder.add_yaml(&origin, &text);
    builder.disable(args.disabled.iter().cloned());
    let (set, errors) = builder.build();
    let mut failed = !errors.is_empty();
    for e in &errors {
        println!("error: {e}");
    }
    if let Err(e) = &ids {
        if errors.is_empty() {
            println!("error: {origin}: {e}");
            failed = true;
        }
    }
    let ids = ids.unwrap_or_default();
    let loaded: Vec<String> = ids
        .iter()
        .filter(|id| set.get(id).is_some())
        .cloned()
        .collect();
    if !loaded.is_empty() {
        let failures = check_examples(Arc::new(set), args.engine()?, &loaded)?;
        for f in &failures {
            println!("error: {f}");
        }
        failed |= !failures.is_empty();
    }
    println!(
        "{}: {} rule(s) checked, {}",
        origin,
        ids.len(),
        if failed { "FAILED" } else { "ok" }
    );
    Ok(if failed { 1 } else { 0 })
}
