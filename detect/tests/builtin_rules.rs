#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The built-in rules against their own examples, and the two engines
//! against each other on everything the repository ships as test content.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mantra_detect::check::check_examples;
use mantra_detect::walk::{scan_paths, FileOutcome, WalkOptions};
use mantra_detect::{EngineKind, RuleSet, ScanOptions, Scanner};

fn builtin() -> Arc<RuleSet> {
    let (set, errors) = RuleSet::builtin();
    assert!(errors.is_empty(), "built-in rules failed to load: {errors:#?}");
    Arc::new(set)
}

#[test]
fn every_builtin_rule_validates_and_has_examples() {
    let set = builtin();
    assert!(!set.is_empty());
    let mut ids = std::collections::HashSet::new();
    for rule in set.rules() {
        assert!(ids.insert(rule.def.id.clone()), "duplicate id {}", rule.def.id);
        mantra_detect::ruleset::check_definition(&rule.def)
            .unwrap_or_else(|e| panic!("rule {}: {e}", rule.def.id));
        assert!(!rule.def.examples.is_empty(), "rule {} has no examples", rule.def.id);
    }
}

#[test]
fn every_builtin_rule_passes_its_examples_on_every_engine() {
    for &engine in EngineKind::available() {
        let failures = check_examples(builtin(), engine, &[]).unwrap();
        let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert!(report.is_empty(), "{} engine:\n{}", engine.name(), report.join("\n"));
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Everything the repository ships as test content, plus every rule
/// example written out as a file.
fn corpus() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = String::new();
    let mut jsonl = String::new();
    for rule in builtin().rules() {
        for ex in rule.def.examples.iter().chain(&rule.def.negative_examples) {
            plain.push_str(ex);
            plain.push('\n');
            jsonl.push_str(&serde_json::json!({"type": "user", "content": ex}).to_string());
            jsonl.push('\n');
        }
    }
    std::fs::write(dir.path().join("examples.txt"), plain).unwrap();
    std::fs::write(dir.path().join("examples.jsonl"), jsonl).unwrap();
    let mut roots = vec![dir.path().to_path_buf(), repo_root().join("samples")];
    let fixtures = repo_root().join("detect/tests/fixtures");
    if fixtures.exists() {
        roots.push(fixtures);
    }
    (dir, roots)
}

fn findings_by(engine: EngineKind, roots: &[PathBuf]) -> Vec<(String, u64, u64, String, String)> {
    let scanner = Scanner::new(builtin(), engine, ScanOptions::default()).unwrap();
    let out = std::sync::Mutex::new(Vec::new());
    scan_paths(&scanner, roots, &WalkOptions::default(), |o| {
        if let FileOutcome::Scanned { findings, .. } = o {
            out.lock().unwrap().extend(
                findings
                    .into_iter()
                    .map(|f| (f.path, f.line, f.column, f.rule_id, f.fingerprint)),
            );
        }
    })
    .unwrap();
    let mut v = out.into_inner().unwrap();
    v.sort();
    v
}

#[test]
fn both_engines_report_identical_findings_on_the_test_corpus() {
    let (_dir, roots) = corpus();
    let all: Vec<_> = EngineKind::available().iter().map(|&e| findings_by(e, &roots)).collect();
    assert!(all[0].len() > 50, "corpus too small to mean anything: {}", all[0].len());
    for other in &all[1..] {
        assert_eq!(other, &all[0]);
    }
}

#[test]
fn the_bundled_samples_report_their_planted_secrets_and_no_decoy() {
    let found = findings_by(EngineKind::default_available(), &[repo_root().join("samples")]);
    let in_file = |name: &str| found.iter().filter(|f| f.0.contains(name)).count();
    assert_eq!(in_file("config.example.env"), 0, "{found:#?}");
    assert!(in_file(".claude") >= 6, "{found:#?}");
    assert!(in_file(".codex") >= 1, "{found:#?}");
    assert!(in_file(".aider") >= 1, "{found:#?}");
}
