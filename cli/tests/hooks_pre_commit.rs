//! `mantra hook pre-commit` through hooks installed at repository scope, on
//! real repositories: what exactly is scanned, what blocks, and the
//! messages.

mod support;

use support::*;

/// A repository with Mantra installed at repo scope over an existing
/// pre-commit hook (which must still run).
fn setup(m: &Machine) -> (std::path::PathBuf, std::path::PathBuf) {
    let repo = m.repo("r", false);
    let marker = m.existing_hook(&repo, "pre-commit");
    m.install_repo_hooks(&repo);
    (repo, marker)
}

#[test]
fn first_commit_with_and_without_secret() {
    let m = Machine::new();
    let (repo, marker) = setup(&m);
    let token = github_token();
    m.add(
        &repo,
        "config.py",
        format!("a = 1\nb = 2\ntoken = \"{token}\"\n").as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "first"));
    assert!(err.contains("config.py:3:"), "{err}");
    assert!(err.contains("github-pat"), "{err}");
    assert!(err.contains("mantra:allow"), "how to suppress: {err}");
    assert_no_secret(&err, &token);
    assert!(!marker.exists(), "chained hook must not run after a block");

    m.add(&repo, "config.py", b"a = 1\ntoken = os.environ['TOKEN']\n");
    assert_ok(&m.commit(&repo, "first"));
    assert!(marker.exists(), "the repository's own hook still runs");
}

#[test]
fn partial_staging_scans_the_index_not_the_worktree() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    m.add(&repo, "a.txt", b"base\n");
    assert_ok(&m.commit(&repo, "base"));
    let token = github_token();
    // Clean version staged, secret only in the working tree: allowed.
    m.add(&repo, "a.txt", b"base\nclean line\n");
    std::fs::write(repo.join("a.txt"), format!("base\nclean line\n{token}\n")).expect("write");
    assert_ok(&m.commit(&repo, "clean"));
    // Secret staged, removed from the working tree afterwards: blocked.
    m.add(
        &repo,
        "a.txt",
        format!("base\nclean line\nkey {token}\n").as_bytes(),
    );
    std::fs::write(repo.join("a.txt"), "base\nclean line\n").expect("write");
    let err = assert_blocked(&m.commit(&repo, "secret"));
    assert!(err.contains("a.txt:3:"), "{err}");
}

#[test]
fn renames_binary_deletions_and_line_numbers() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    let token = github_token();
    let mut body = String::new();
    for i in 1..=20 {
        body.push_str(&format!("line {i}\n"));
    }
    m.add(&repo, "old.txt", format!("{body}{token}\n").as_bytes());
    m.add(&repo, "gone.txt", format!("{token}\n").as_bytes());
    m.commit_no_verify(&repo, "history with a secret");

    // A pure rename adds no line: allowed.
    m.git(&repo, &["mv", "old.txt", "new.txt"]);
    assert_ok(&m.commit(&repo, "rename"));
    // Deleting a file holding a secret: allowed.
    m.git(&repo, &["rm", "-q", "gone.txt"]);
    assert_ok(&m.commit(&repo, "delete"));
    // Binary content (NUL bytes) is scanned too (see hooks_binary.rs).
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(token.as_bytes());
    m.add(&repo, "blob.bin", &bin);
    assert_blocked(&m.commit(&repo, "binary"));
    m.git(&repo, &["rm", "-q", "--cached", "blob.bin"]);

    // Rename plus an added secret: reported at its line in the new file.
    m.git(&repo, &["mv", "new.txt", "renamed.txt"]);
    let other = github_token();
    let mut content = std::fs::read_to_string(repo.join("renamed.txt")).expect("read");
    content = content.replacen("line 5\n", &format!("line 5\nsecret = {other}\n"), 1);
    m.add(&repo, "renamed.txt", content.as_bytes());
    let err = assert_blocked(&m.commit(&repo, "rename and edit"));
    assert!(err.contains("renamed.txt:6:"), "{err}");
    assert!(
        !err.contains("renamed.txt:22"),
        "old secret was not added: {err}"
    );
}

#[test]
fn merges_are_checked() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    m.add(&repo, "f.txt", b"one\n");
    assert_ok(&m.commit(&repo, "base"));
    m.git(&repo, &["checkout", "-q", "-b", "feature"]);
    let token = github_token();
    m.add(&repo, "feature.txt", format!("{token}\n").as_bytes());
    m.commit_no_verify(&repo, "feature with secret");
    m.git(&repo, &["checkout", "-q", "main"]);
    m.add(&repo, "main.txt", b"main\n");
    assert_ok(&m.commit(&repo, "main work"));
    // A merge without conflicts runs pre-merge-commit.
    let out = m.git_output(&repo, &["merge", "-q", "--no-edit", "feature"]);
    let err = assert_blocked(&out);
    assert!(err.contains("feature.txt:1:"), "{err}");
    m.git(&repo, &["merge", "--abort"]);

    // A conflicted merge resolved with a secret: `git commit` runs pre-commit.
    m.git(&repo, &["checkout", "-q", "-b", "side", "main"]);
    m.add(&repo, "f.txt", b"side\n");
    assert_ok(&m.commit(&repo, "side"));
    m.git(&repo, &["checkout", "-q", "main"]);
    m.add(&repo, "f.txt", b"main\n");
    assert_ok(&m.commit(&repo, "main edit"));
    let out = m.git_output(&repo, &["merge", "-q", "side"]);
    assert!(!out.status.success(), "expected a conflict");
    let other = github_token();
    m.add(&repo, "f.txt", format!("resolved {other}\n").as_bytes());
    let err = assert_blocked(&m.commit(&repo, "merge"));
    assert!(err.contains("f.txt:1:"), "{err}");
    m.add(&repo, "f.txt", b"resolved\n");
    assert_ok(&m.commit(&repo, "merge"));
}

#[test]
fn weird_file_names() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    for name in [
        "with space.txt",
        "new\nline.txt",
        "caf\u{e9}/\u{1f511} key.txt",
        "tab\there",
    ] {
        let token = github_token();
        m.add(&repo, name, format!("x\n{token}\n").as_bytes());
        let err = assert_blocked(&m.commit(&repo, "weird"));
        assert!(err.contains(&format!("{name}:2:")), "{name:?}: {err}");
        assert_no_secret(&err, &token);
        m.git(&repo, &["rm", "-q", "--cached", "--", name]);
    }
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn suppression_inline_and_baseline() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    let token = github_token();
    m.add(
        &repo,
        "a.py",
        format!("t = \"{token}\"  # mantra:allow\n").as_bytes(),
    );
    assert_ok(&m.commit(&repo, "inline allow"));

    let other = github_token();
    std::fs::write(repo.join("b.py"), format!("t = \"{other}\"\n")).expect("write");
    m.ok_in(
        &repo,
        ["baseline", "create", "b.py", "-o", ".mantra-baseline.json"],
    );
    m.git(&repo, &["add", "b.py", ".mantra-baseline.json"]);
    assert_ok(&m.commit(&repo, "baselined"));

    // Repository suppressions are ignored when policy says so.
    let mut m = m;
    m.hooks_config(r#"{"honour_repo_config": false}"#);
    let third = github_token();
    m.add(
        &repo,
        "c.py",
        format!("t = \"{third}\"  # mantra:allow\n").as_bytes(),
    );
    assert_blocked(&m.commit(&repo, "inline ignored"));
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn block_severity_threshold() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    m.hooks_config(r#"{"block_severity": "critical"}"#);
    // An AWS access key id is `high`: a warning only under `critical`.
    let key = aws_key_id();
    m.add(
        &repo,
        "aws.txt",
        format!("aws_access_key_id = {key}\n").as_bytes(),
    );
    let err = assert_ok(&m.commit(&repo, "aws"));
    assert!(err.contains("aws-access-key-id"), "warned: {err}");
    assert!(err.contains("allowed"), "{err}");
    // A GitHub token is critical: blocked.
    m.add(&repo, "gh.txt", format!("{}\n", github_token()).as_bytes());
    assert_blocked(&m.commit(&repo, "gh"));
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn exposed_secrets_name_the_session_and_always_block() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    let token = github_token();
    let password = bare_password();
    m.expose(&[(&token, "github-pat"), (&password, "generic-secret")]);
    // Even under a threshold that would let it through, and with an inline
    // allow marker.
    m.hooks_config(r#"{"block_severity": "critical"}"#);
    m.add(
        &repo,
        "a.py",
        format!("t = \"{token}\"  # mantra:allow\n").as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "exposed token"));
    assert!(err.contains("session-0-4f2a"), "{err}");
    assert!(err.contains("claude-code"), "{err}");
    assert!(err.contains("2026-11-20T09:15:00Z"), "{err}");
    assert_no_secret(&err, &token);
    m.git(&repo, &["rm", "-q", "--cached", "a.py"]);

    // A password no rule matches, committed bare.
    m.add(
        &repo,
        "notes.txt",
        format!("remember:\n{password}\n").as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "bare password"));
    assert!(err.contains("notes.txt:2:1"), "{err}");
    assert!(err.contains("session-1-4f2a"), "{err}");
    assert_no_secret(&err, &password);
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn ai_transcripts() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    let key = aws_key_id();
    let line = format!("{{\"type\":\"user\",\"message\":{{\"content\":\"my key is {key}\"}}}}\n");
    m.add(
        &repo,
        ".claude/projects/-home-dev/abc.jsonl",
        line.as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "transcript"));
    assert!(err.contains("transcript"), "{err}");
    assert!(err.contains("abc.jsonl:1:"), "{err}");
    m.git(&repo, &["rm", "-q", "-r", "--cached", ".claude"]);

    // A clean transcript is allowed by default, blocked under `always`.
    m.add(&repo, ".aider.chat.history.md", b"# aider chat\nhello\n");
    assert_ok(&m.commit(&repo, "clean transcript"));
    m.hooks_config(r#"{"block_ai_transcripts": "always"}"#);
    m.add(&repo, ".specstory/history/2026-11-20_chat.md", b"hello\n");
    let err = assert_blocked(&m.commit(&repo, "transcript always"));
    assert!(
        err.contains(".specstory/history/2026-11-20_chat.md"),
        "{err}"
    );
    assert!(err.contains("policy forbids"), "{err}");
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn bypass_is_policy_controlled_and_audited() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    let token = github_token();
    m.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    m.set_env("MANTRA_BYPASS", "prod incident 42");
    let err = assert_blocked(&m.commit(&repo, "bypass refused"));
    assert!(err.contains("does not allow"), "{err}");
    // The refused bypass is a block, recorded as one; no bypass is logged.
    let audit = m.data.join("logs/audit.jsonl");
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_no_secret(&log, &token);
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(events.len(), 1, "{log}");
    assert_eq!(events[0]["event"], "block");
    assert_eq!(events[0]["hook"], "pre-commit");
    assert_eq!(events[0]["secrets"][0]["rule_id"], "github-pat");
    assert_eq!(events[0]["secrets"][0]["severity"], "critical");
    assert_eq!(events[0]["secrets"][0]["exposed"], false);

    m.hooks_config(r#"{"allow_bypass_env": true}"#);
    let err = assert_ok(&m.commit(&repo, "bypass"));
    assert!(err.contains("logged"), "{err}");
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_no_secret(&log, &token);
    let record: serde_json::Value =
        serde_json::from_str(log.lines().last().expect("a line")).expect("json");
    assert_eq!(log.lines().count(), 2, "{log}");
    assert_eq!(record["event"], "bypass");
    assert_eq!(record["hook"], "pre-commit");
    assert_eq!(record["reason"], "prod incident 42");
    assert_eq!(record["would_block"], true);
    assert!(record["repo"].as_str().is_some_and(|r| r.ends_with("/r")));
    assert_eq!(record["secrets"][0]["rule_id"], "github-pat");
    assert_eq!(
        record["secrets"][0]["fingerprint"].as_str().map(str::len),
        Some(64)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&audit)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A `MANTRA_BYPASS` on a commit that would not have been blocked lets
/// nothing through: it is not recorded, the audit counts no bypass, and
/// the developer is told to unset it. A real one is recorded, and
/// mirrored to the OS log as a warning.
#[cfg(all(unix, feature = "test-roots"))]
#[test]
fn only_a_bypass_that_let_something_through_is_recorded() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    m.hooks_config(r#"{"allow_bypass_env": true}"#);
    m.set_env("MANTRA_BYPASS", "habit");
    let sink = m.os_log();
    m.add(&repo, "clean.txt", b"nothing secret\n");
    let err = assert_ok(&m.commit(&repo, "clean with bypass set"));
    assert!(err.contains("no bypass was needed or recorded"), "{err}");
    // A warning below the blocking severity does not need a bypass either.
    m.hooks_config(r#"{"allow_bypass_env": true, "block_severity": "critical"}"#);
    m.add(&repo, "key.txt", format!("{}\n", aws_key_id()).as_bytes());
    let err = assert_ok(&m.commit(&repo, "warned with bypass set"));
    assert!(err.contains("no bypass was needed"), "{err}");
    let audit = m.data.join("logs/audit.jsonl");
    assert!(!audit.exists(), "nothing recorded");
    assert!(sink.datagrams().is_empty());
    let r: serde_json::Value =
        serde_json::from_str(&m.ok(["audit", "--format", "json"])).expect("json");
    assert_eq!(r["git"]["bypasses"], 0, "{r:#}");

    m.hooks_config(r#"{"allow_bypass_env": true}"#);
    let token = github_token();
    m.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    let err = assert_ok(&m.commit(&repo, "real bypass"));
    assert!(err.contains("this bypass was logged"), "{err}");
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_eq!(log.lines().count(), 1, "{log}");
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["record"]["event"], "bypass");
    assert_eq!(events[0]["record"]["would_block"], true);
    assert_no_secret(&serde_json::to_string(&events).expect("json"), &token);
    let r: serde_json::Value =
        serde_json::from_str(&m.ok(["audit", "--format", "json"])).expect("json");
    assert_eq!(r["git"]["bypasses"], 1, "{r:#}");
    assert_eq!(r["git"]["bypasses_with_secrets"], 1, "{r:#}");
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn scanner_errors_follow_fail_closed() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    m.add(&repo, "a.txt", b"harmless\n");
    // An invalid allow regex stops the scanner from starting.
    m.hooks_config(r#"{"allow_regexes": ["("]}"#);
    let err = assert_blocked(&m.commit(&repo, "fail closed"));
    assert!(err.contains("could not run"), "{err}");
    m.hooks_config(r#"{"allow_regexes": ["("], "fail_closed": false}"#);
    let err = assert_ok(&m.commit(&repo, "fail open"));
    assert!(err.contains("fail-open"), "{err}");
}

#[test]
fn transcript_copied_under_another_name_is_recognised() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    let key = aws_key_id();
    let line = format!(
        "{{\"parentUuid\":null,\"sessionId\":\"0b1c\",\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"use {key}\"}}}}\n"
    );
    m.add(&repo, "debug/session-export.jsonl", line.as_bytes());
    let err = assert_blocked(&m.commit(&repo, "copied transcript"));
    assert!(err.contains("transcript"), "{err}");
    assert_no_secret(&err, &key);
}

/// Fail-closed (the default) is covered in hooks_binary.rs; fail-open
/// needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn exposure_list_under_another_key_is_warned_not_matched_when_fail_open() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    m.hooks_config(r#"{"fail_closed": false}"#);
    let password = bare_password();
    m.expose(&[(&password, "generic-secret")]);
    m.set_env("MANTRA_FINGERPRINT_KEY", "org-key-2026");
    m.add(&repo, "p.txt", format!("{password}\n").as_bytes());
    let err = assert_ok(&m.commit(&repo, "other key"));
    assert!(err.contains("mantra: warning: "), "{err}");
    assert!(err.contains("another fingerprint key"), "{err}");
}

/// The hooks obey the organisation's policy file: block severity and the
/// bypass switch come from `/etc/mantra/policy.yaml` (re-rooted).
#[cfg(feature = "test-roots")]
#[test]
fn hooks_follow_the_effective_policy_file() {
    let mut m = Machine::new();
    let (repo, _) = setup(&m);
    // An AWS access key id is a high-severity finding: blocked by default.
    m.add(&repo, "a.txt", format!("{}\n", aws_key_id()).as_bytes());
    assert_blocked(&m.commit(&repo, "default policy"));
    // Policy raises the bar to critical: the commit goes through, warned.
    m.policy("hooks:\n  block_severity: critical\n");
    assert_ok(&m.commit(&repo, "critical only"));
    // Bypass is refused by default and allowed (and audited) when policy says so.
    m.add(&repo, "b.txt", format!("{}\n", github_token()).as_bytes());
    m.set_env("MANTRA_BYPASS", "incident 7");
    m.policy("hooks:\n  block_severity: medium\n");
    let err = assert_blocked(&m.commit(&repo, "bypass refused"));
    assert!(err.contains("does not allow"), "{err}");
    m.policy("hooks:\n  allow_bypass_env: true\n");
    assert_ok(&m.commit(&repo, "bypass allowed"));
    assert!(m.data.join("logs/audit.jsonl").exists());
}

/// The hooks check a commit against the same rules as `mantra scan`: the
/// policy's custom rules apply and its disabled rules do not.
#[cfg(feature = "test-roots")]
#[test]
fn hooks_use_the_rules_policy_puts_in_force() {
    let m = Machine::new();
    let (repo, _) = setup(&m);
    m.policy(
        r#"rules:
  disabled: [github-pat]
  custom:
    - id: acme-internal-token
      name: ACME internal token
      severity: high
      pattern: '\b(acme_[a-z0-9]{24})\b'
      keywords: [acme_]
      examples: ['acme_k3j5h7g9f1d3s5a7p9o1i3u5']
"#,
    );
    m.add(&repo, "gh.txt", format!("{}\n", github_token()).as_bytes());
    assert_ok(&m.commit(&repo, "github-pat disabled by policy"));
    m.add(&repo, "acme.txt", b"acme_k3j5h7g9f1d3s5a7p9o1i3u5\n");
    let err = assert_blocked(&m.commit(&repo, "custom rule from policy"));
    assert!(err.contains("acme-internal-token"), "{err}");
}
