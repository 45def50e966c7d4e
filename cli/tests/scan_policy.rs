#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! `mantra scan` obeys the effective policy: a real policy file under a
//! re-rooted `/etc` (test-roots builds only).
#![cfg(feature = "test-roots")]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn scan(root: &Path, home: &Path) -> Vec<Value> {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let out = Command::new(env!("CARGO_BIN_EXE_mantra"))
        .args(["scan", "--format", "json"])
        .arg(samples)
        .env("MANTRA_TEST_ROOT", root)
        .env("MANTRA_HOME", home)
        .env("HOME", home)
        .env_remove("MANTRA_FINGERPRINT_KEY")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn scan_applies_disabled_rules_allowlists_severity_and_the_org_key() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let baseline = scan(root.path(), home.path());
    assert_eq!(baseline.len(), 8);

    let policy = root.path().join("etc/mantra/policy.yaml");
    std::fs::create_dir_all(policy.parent().unwrap()).unwrap();
    std::fs::write(
        &policy,
        "rules:\n  disabled: [github-pat]\nallowlist:\n  paths: ['.aider.chat.history.md']\n  regexes: ['^AKIA']\nfingerprint_key: acme-org-key-2026\n",
    )
    .unwrap();
    let found = scan(root.path(), home.path());
    let ids: Vec<&str> = found
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"github-pat")
            && !ids.contains(&"aws-access-key-id")
            && !ids.contains(&"stripe-live-secret-key")
    );
    // With its own rule disabled, the GitHub token in the remote URL is still
    // a credential embedded in a URL.
    assert!(ids.contains(&"url-embedded-credentials"), "{ids:?}");
    assert_eq!(found.len(), 6, "{ids:?}");
    // Same secret, organisation key: a different fingerprint.
    let anthropic = |v: &[Value]| {
        v.iter()
            .find(|f| f["rule_id"] == "anthropic-api-key")
            .map(|f| f["fingerprint"].clone())
            .unwrap()
    };
    assert_ne!(anthropic(&found), anthropic(&baseline));

    std::fs::write(&policy, "rules:\n  min_severity: critical\n").unwrap();
    let found = scan(root.path(), home.path());
    assert!(found.iter().all(|f| f["severity"] == "critical"));
    assert!(found.len() < 8 && !found.is_empty());
}
