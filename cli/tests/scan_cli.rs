#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! `mantra scan`, `redact`, `baseline` and `rules` driven through the real
//! binary, on the bundled samples and on files made here. Each test runs on
//! its own isolated [`Machine`](support::Machine): no developer's policy,
//! data or `MANTRA_*` variable reaches the binary.

mod support;

use predicates::prelude::*;
use serde_json::Value;
use support::{github_token_seeded, stdout, Machine, SECRET};

fn samples() -> String {
    support::samples().display().to_string()
}

fn json_findings(m: &Machine, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    let out = m.run(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// The secrets in the samples, in clear, as only `--show-secrets` gives them.
fn sample_secrets(m: &Machine) -> Vec<String> {
    json_findings(m, &["--show-secrets", &samples()])
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scanning_the_samples_reports_findings_with_exit_code_1() {
    let m = Machine::new();
    let findings = json_findings(&m, &[&samples()]);
    assert_eq!(findings.len(), 8);
    for f in &findings {
        for field in [
            "rule_id",
            "severity",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "redacted",
            "fingerprint",
        ] {
            assert!(!f[field].is_null(), "{field} missing in {f}");
        }
        assert!(f.get("secret").is_none());
    }
    assert!(!findings
        .iter()
        .any(|f| f["path"].as_str().unwrap().contains("config.example.env")));
}

#[test]
fn no_output_format_ever_shows_a_secret_unless_asked() {
    let m = Machine::new();
    let secrets = sample_secrets(&m);
    assert_eq!(secrets.len(), 8);
    for format in ["human", "json", "jsonl", "sarif"] {
        let out = m.run(["scan", "--format", format, &samples()]);
        let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        for s in &secrets {
            // Long enough a prefix that a redacted preview cannot contain it.
            let probe = &s[..s.len().min(24)];
            assert!(!text.contains(probe), "{format} output leaks a secret");
        }
    }
}

#[test]
fn sarif_is_a_valid_code_scanning_log() {
    let m = Machine::new();
    let out = m.run(["scan", "--format", "sarif", &samples()]);
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(
            r["partialFingerprints"]["mantraSecret/v1"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(
            region["endColumn"].as_u64().unwrap() > region["startColumn"].as_u64().unwrap()
                || region["endLine"] != region["startLine"]
        );
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(!uri.contains(' ') && !uri.contains('\\'));
    }
}

#[test]
fn jsonl_output_has_one_finding_per_line() {
    let m = Machine::new();
    let out = m.run(["scan", "--format", "jsonl", &samples()]);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
}

#[test]
fn both_engines_give_the_same_report() {
    let m = Machine::new();
    let a = json_findings(&m, &["--engine", "rust", &samples()]);
    let out = m.run(["version", "--json"]);
    let version: Value = serde_json::from_slice(&out.stdout).unwrap();
    if version["engines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "hyperscan")
    {
        assert_eq!(version["engine"], "hyperscan");
        let b = json_findings(&m, &["--engine", "hyperscan", &samples()]);
        assert_eq!(a, b);
    }
}

#[test]
fn clean_input_exits_0_and_stdin_is_scanned() {
    let m = Machine::new();
    std::fs::write(m.path().join("clean.txt"), "nothing to see\n").unwrap();
    let out = m.run(["scan", m.path().join("clean.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));

    let secret = sample_secrets(&m)
        .into_iter()
        .find(|s| s.starts_with("ghp_"))
        .unwrap();
    let out = m
        .mantra(["scan", "--format", "json", "-"])
        .write_stdin(format!("token: {secret}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["path"], "<stdin>");
    assert_eq!(v[0]["rule_id"], "github-pat");
}

#[test]
fn unreadable_paths_are_reported_and_the_scan_goes_on() {
    let m = Machine::new();
    let missing = m.path().join("does-not-exist");
    let out = m.run([
        "scan",
        "--format",
        "json",
        missing.to_str().unwrap(),
        &samples(),
    ]);
    assert_eq!(out.status.code(), Some(1), "findings still reported");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist"));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 8);
    // Only errors: exit code 2.
    let out = m.run(["scan", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn symlink_loops_do_not_hang() {
    let m = Machine::new();
    let dir = m.path().join("loop");
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("a/back")).unwrap();
    std::fs::write(dir.join("a/f.txt"), "hello\n").unwrap();
    let out = m.run(["scan", "--follow", dir.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0) | Some(2)), "{out:?}");
    let out = m.run(["scan", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_baseline_suppresses_accepted_secrets_wherever_they_move() {
    let m = Machine::new();
    let baseline = m.path().join("baseline.json");
    let out = m.run([
        "baseline",
        "create",
        "--out",
        baseline.to_str().unwrap(),
        &samples(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&baseline).unwrap();
    for s in sample_secrets(&m) {
        assert!(
            !text.contains(&s[..s.len().min(24)]),
            "the baseline holds a secret"
        );
    }
    let out = m.run(["scan", "--baseline", baseline.to_str().unwrap(), &samples()]);
    assert_eq!(out.status.code(), Some(0));
    // Same secret, another file and line: still accepted.
    let secret = sample_secrets(&m)
        .into_iter()
        .find(|s| s.starts_with("ghp_"))
        .unwrap();
    std::fs::write(m.path().join("moved.txt"), format!("\n\n\nx = {secret}\n")).unwrap();
    let out = m.run([
        "scan",
        "--baseline",
        baseline.to_str().unwrap(),
        m.path().join("moved.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    // A damaged baseline is an error, not an empty baseline.
    std::fs::write(&baseline, "{not json").unwrap();
    let out = m.run(["scan", "--baseline", baseline.to_str().unwrap(), &samples()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn redact_writes_valid_jsonl_without_secrets() {
    let m = Machine::new();
    let session = support::samples()
        .join(".claude/projects/-home-dev-shop/7d1c2b3a-0000-4000-8000-00000000a001.jsonl");
    let out_path = m.path().join("redacted.jsonl");
    let out = m.run([
        "redact",
        session.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    assert!(text.contains("[REDACTED:private-key]"));
    assert!(text.contains("[REDACTED:anthropic-api-key]"));
    let out = m.run(["scan", out_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// `redact` streams: from stdin (spooled, not held), over a file larger
/// than one scan chunk, and onto the file it reads (`-o` the same path:
/// written beside it, then renamed, so the input is read whole first).
#[test]
fn redact_streams_stdin_large_files_and_in_place() {
    let m = Machine::new();
    let secret = SECRET;
    let filler = "lorem ipsum dolor sit amet\n".repeat(400_000); // ~11 MB
    let body = format!("{{\"a\":\"{filler}\"}}\n{{\"b\":\"token {secret} end\"}}\n");
    let p = m.path().join("big.jsonl");
    std::fs::write(&p, &body).unwrap();
    let out = m.run(["redact", p.to_str().unwrap(), "-o", p.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(!text.contains(secret));
    assert!(
        text.contains("token [REDACTED:github-pat] end"),
        "{}",
        &text[text.len() - 80..]
    );
    assert_eq!(
        text.len(),
        body.len() - secret.len() + "[REDACTED:github-pat]".len()
    );

    // assert_cmd writes stdin from a thread while it reads stdout.
    let out = m
        .mantra(["redact", "-"])
        .write_stdin(body.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

/// A rule file of the wrong shape is described in a rule author's words,
/// not by the Rust type the parser expected.
#[test]
fn a_malformed_rule_file_names_no_internal_type() {
    let m = Machine::new();
    let p = m.path().join("rules.yaml");
    for text in ["just a string\n", "rules: 3\n", "- id: x\n"] {
        std::fs::write(&p, text).unwrap();
        let out = m.run(["rules", "check", p.to_str().unwrap()]);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{text}: {all}");
        assert!(!all.contains("struct"), "{text}: {all}");
    }
}

#[test]
fn custom_rules_are_added_checked_and_bad_ones_named() {
    let m = Machine::new();
    let good = m.path().join("good.yaml");
    std::fs::write(
        &good,
        r#"rules:
  - id: acme-internal-token
    name: ACME internal token
    severity: high
    pattern: '\b(acme_[a-z0-9]{24})\b'
    keywords: [acme_]
    examples: ['ACME_TOKEN=acme_k3j5h7g9f1d3s5a7p9o1i3u5']
    negative_examples: ['acme_short']
"#,
    )
    .unwrap();
    let out = m.run(["rules", "check", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    std::fs::write(m.path().join("t.txt"), "x acme_k3j5h7g9f1d3s5a7p9o1i3u5\n").unwrap();
    let out = m.run([
        "scan",
        "--rules",
        good.to_str().unwrap(),
        m.path().join("t.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("acme-internal-token"));
    let out = m.run([
        "scan",
        "--rules",
        good.to_str().unwrap(),
        "--disable-rule",
        "acme-internal-token",
        m.path().join("t.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));

    let bad = m.path().join("bad.yaml");
    std::fs::write(
        &bad,
        r#"rules:
  - id: broken-rule
    name: Broken
    severity: high
    pattern: '(unclosed'
    keywords: [x]
    examples: ['x']
  - id: wrong-example
    name: Wrong example
    severity: high
    pattern: '\b(zz_[0-9]{6})\b'
    keywords: [zz_]
    examples: ['zz_12']
"#,
    )
    .unwrap();
    let out = m.run(["rules", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("broken-rule") && text.contains("wrong-example"),
        "{text}"
    );
    // Scanning still works, with the bad rule left out and named.
    let out = m.run(["scan", "--rules", bad.to_str().unwrap(), &samples()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken-rule"));
}

#[test]
fn version_names_the_engine_and_rules_list_is_complete() {
    let m = Machine::new();
    let out = m.run(["version"]);
    assert!(stdout(&out).contains("engine:"));
    let out = m.run(["rules", "list", "--json"]);
    let rules: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules.len() >= 100);
    for id in [
        "openai-api-key",
        "anthropic-api-key",
        "github-pat",
        "aws-access-key-id",
        "private-key",
    ] {
        assert!(rules.iter().any(|r| r["id"] == id), "{id}");
    }
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_argument_is_reported_not_ignored() {
    let m = Machine::new();
    let link = m.path().join("dangling");
    std::os::unix::fs::symlink(m.path().join("nowhere"), &link).unwrap();
    m.mantra(["scan"])
        .arg(&link)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dangling"));
}

/// The binary content policy: a NUL byte in the first 8 KiB of a JSONL
/// does not make it skipped (it used to be "0 file(s)" and no finding), a
/// binary blob is scanned with the high-confidence rules and counted, and
/// the generic rule stays off binary noise.
#[test]
fn nul_bytes_and_binary_blobs_are_scanned_not_skipped() {
    let m = Machine::new();
    let token = github_token_seeded(0x5eed_0001);
    let jsonl = m.path().join("session.jsonl");
    std::fs::write(
        &jsonl,
        format!("{{\"type\":\"user\",\"text\":\"a\u{0}b\"}}\n{{\"type\":\"user\",\"text\":\"use {token}\"}}\n"),
    )
    .unwrap();
    let out = m.run(["scan", "--format", "json", jsonl.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["rule_id"], "github-pat");
    assert_eq!(v[0]["line"], 2);
    assert!(err.contains("in 1 of 1 file(s) scanned"), "{err}");
    assert!(!stdout(&out).contains(&token));

    // A PNG header, random-looking bytes, a token and a generic secret.
    let other = github_token_seeded(0x5eed_0002);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        png.push((x >> 24) as u8);
    }
    png.extend_from_slice(format!("\n{other}\nDB_PASSWORD=2vk6cKRP1QTP7Bpz\n").as_bytes());
    std::fs::write(m.path().join("image.png"), &png).unwrap();
    let out = m.run([
        "scan",
        "--format",
        "json",
        m.path().join("image.png").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v.iter().filter_map(|f| f["rule_id"].as_str()).collect();
    assert_eq!(rules, ["github-pat"], "{v:?}");
    assert!(
        err.contains("1 binary file(s) scanned with the high-confidence rules only"),
        "{err}"
    );
}

/// Files left out (an excluded path) are counted in the summary, never
/// silently missing from it.
#[test]
fn skipped_files_are_counted_in_the_summary() {
    let m = Machine::new();
    let dir = m.path().join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("b.lock"), "hello\n").unwrap();
    let out = m.run(["scan", "--exclude", "*.lock", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("in 0 of 1 file(s) scanned"), "{err}");
    assert!(err.contains("1 file(s) skipped"), "{err}");
}

/// `mantra scan` obeys the effective policy: a real policy file under the
/// re-rooted `/etc`.
#[cfg(feature = "test-roots")]
mod rooted {
    use super::*;

    fn scan(m: &Machine) -> Vec<Value> {
        let out = m
            .mantra(["scan", "--format", "json"])
            .arg(support::samples())
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
        let m = Machine::new();
        let baseline = scan(&m);
        assert_eq!(baseline.len(), 8);

        m.policy(
            "rules:\n  disabled: [github-pat]\nallowlist:\n  paths: ['.aider.chat.history.md']\n  regexes: ['^AKIA']\nfingerprint_key: acme-org-key-2026\n",
        );
        let found = scan(&m);
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

        m.policy("rules:\n  min_severity: critical\n");
        let found = scan(&m);
        assert!(found.iter().all(|f| f["severity"] == "critical"));
        assert!(found.len() < 8 && !found.is_empty());
    }
}
