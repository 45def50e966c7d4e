//! Proving rules against their own examples.
//!
//! Every positive example must be found by its rule and by no other, every
//! negative example by no rule at all, and every match must contain one of
//! the rule's keywords (what the pure-Rust engine relies on). The built-in
//! rule test and `mantra rules check` run exactly this.

use std::sync::Arc;

use crate::engine::{EngineError, EngineKind};
use crate::ruleset::RuleSet;
use crate::scanner::{JsonViews, ScanOptions, Scanner};

/// One way a rule failed its examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub example: String,
    pub problem: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rule {}: {} in example {:?}",
            self.rule_id, self.problem, self.example
        )
    }
}

/// Checks the examples of the rules named in `only` (all rules when empty)
/// against the whole rule set.
pub fn check_examples(
    rules: Arc<RuleSet>,
    engine: EngineKind,
    only: &[String],
) -> Result<Vec<ExampleFailure>, EngineError> {
    let options = ScanOptions {
        json_views: JsonViews::Always,
        inline_allow: false,
        ..ScanOptions::default()
    };
    let scanner = Scanner::new(rules.clone(), engine, options)?;
    let mut state = scanner.state()?;
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let def = &rule.def;
        if !only.is_empty() && !only.contains(&def.id) {
            continue;
        }
        let fail = |example: &str, problem: String| ExampleFailure {
            rule_id: def.id.clone(),
            example: example.to_string(),
            problem,
        };
        if def.examples.is_empty() {
            failures.push(fail("", "the rule has no examples".into()));
        }
        for example in &def.examples {
            let found = match scanner.scan_bytes(&mut state, example.as_bytes(), "example") {
                Ok(f) => f,
                Err(e) => {
                    failures.push(fail(example, format!("scan failed: {e}")));
                    continue;
                }
            };
            if !found.iter().any(|f| f.rule_id == def.id) {
                failures.push(fail(example, "not found by the rule".into()));
            }
            let others: Vec<&str> = found
                .iter()
                .filter(|f| f.rule_id != def.id)
                .map(|f| f.rule_id.as_str())
                .collect();
            if !others.is_empty() {
                failures.push(fail(
                    example,
                    format!("also found by {}", others.join(", ")),
                ));
            }
            if let Some(compiled) = rule.compiled() {
                for m in compiled.regex.find_iter(example.as_bytes()) {
                    let text = example.as_bytes()[m.range()].to_ascii_lowercase();
                    let has_keyword = def.keywords.iter().any(|k| {
                        memchr::memmem::find(&text, k.to_ascii_lowercase().as_bytes()).is_some()
                    });
                    if !has_keyword {
                        failures.push(fail(
                            example,
                            "a match contains none of the rule's keywords".into(),
                        ));
                    }
                }
            }
        }
        for example in &def.negative_examples {
            match scanner.scan_bytes(&mut state, example.as_bytes(), "example") {
                Ok(found) if !found.is_empty() => {
                    let ids: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
                    failures.push(fail(
                        example,
                        format!("negative example found by {}", ids.join(", ")),
                    ));
                }
                Ok(_) => {}
                Err(e) => failures.push(fail(example, format!("scan failed: {e}"))),
            }
        }
    }
    Ok(failures)
}
