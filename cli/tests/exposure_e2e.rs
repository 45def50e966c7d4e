//! The headline flow, end to end through the real binary: a secret pasted
//! into a Claude Code session is indexed by `mantra index`, which writes the
//! exposure list; a later commit of that secret — bare, where no rule
//! matches it — is blocked and the message names the session.

mod support;

use support::*;

#[test]
fn a_secret_pasted_into_a_session_blocks_its_commit_and_names_the_session() {
    pasted_secret_blocks_its_bare_commit(None);
}

/// With the organisation's key from the environment (no policy key), the
/// agent's exposure list and the hook fingerprint alike, so the match holds.
#[test]
fn the_environment_s_fingerprint_key_is_shared_by_agent_and_hooks() {
    pasted_secret_blocks_its_bare_commit(Some("org-key-2026"));
}

fn pasted_secret_blocks_its_bare_commit(fingerprint_key: Option<&str>) {
    // The machine keeps the store key in a 0600 file (MANTRA_KEY_STORE):
    // the test must not depend on a desktop keychain.
    let mut m = Machine::new();
    if let Some(key) = fingerprint_key {
        m.set_env("MANTRA_FINGERPRINT_KEY", key);
    }
    let password = bare_password();
    let session_id = "5f2a9c1e-0000-4000-8000-0000000000e2";
    let project = m.home.join("work/shop");
    std::fs::create_dir_all(&project).expect("project");
    m.claude_session(
        &project.display().to_string(),
        session_id,
        &[user_line(
            session_id,
            &project.display().to_string(),
            "u-1",
            "2026-11-20T09:00:00.000Z",
            &format!("the db login fails, DB_PASSWORD={password}"),
        )],
    );

    let out = m.run(["index"]);
    assert!(
        out.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = std::fs::read_to_string(m.data.join("exposures.json")).expect("exposure list");
    assert!(list.contains(session_id), "{list}");
    assert_no_secret(&list, &password);

    let repo = m.repo("r", false);
    m.install_repo_hooks(&repo);
    // Committed bare: no rule matches "Tr0ub4dor…horse" on its own line.
    m.add(&repo, "notes.txt", format!("{password}\n").as_bytes());
    let err = assert_blocked(&m.commit(&repo, "add notes"));
    assert!(
        err.contains("already exposed in an AI assistant session"),
        "{err}"
    );
    assert!(err.contains(session_id), "{err}");
    assert_no_secret(&err, &password);

    // Something never pasted into a session goes through.
    m.git(&repo, &["reset", "-q"]);
    m.add(&repo, "other.txt", b"nothing secret here\n");
    assert_ok(&m.commit(&repo, "other"));
}

/// A rule the organisation adds by policy applies to indexing as it does
/// to `scan` and the hooks: its secret is redacted at rest, listed as
/// exposed, and its commit blocked as exposed. (The agent used to build
/// its scanner from the built-in rules alone.)
#[test]
fn a_custom_policy_rule_applies_to_indexing_exposure_and_commits() {
    let m = Machine::new();
    m.user_config(
        r#"rules:
  custom:
    - id: acme-internal-token
      name: ACME internal token
      severity: high
      pattern: '\b(acme_[a-z0-9]{24})\b'
      keywords: [acme_]
      examples: ['ACME_TOKEN=acme_k3j5h7g9f1d3s5a7p9o1i3u5']
"#,
    );
    let token = "acme_q8w7e6r5t4y3u2i1o9p8a7s6";
    let session_id = "5f2a9c1e-0000-4000-8000-0000000000e3";
    m.claude_session(
        "/work/shop",
        session_id,
        &[user_line(
            session_id,
            "/work/shop",
            "u-1",
            "2026-11-20T09:00:00.000Z",
            &format!("use ACME_TOKEN={token} for the deploy"),
        )],
    );
    let out = m.ok(["index", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["findings"], 1, "{report}");
    let list = std::fs::read_to_string(m.data.join("exposures.json")).expect("exposure list");
    assert!(list.contains("acme-internal-token"), "{list}");
    assert_no_secret(&list, token);
    // Redacted at rest: what the store shows has the marker, not the token.
    let shown = m.ok(["sessions", "show", session_id, "--all-projects"]);
    assert!(shown.contains("[REDACTED:acme-internal-token]"), "{shown}");
    assert_no_secret(&shown, token);
    let repo = m.repo("r", false);
    m.install_repo_hooks(&repo);
    m.add(
        &repo,
        "deploy.env",
        format!("ACME_TOKEN={token}\n").as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "deploy"));
    assert!(
        err.contains("already exposed in an AI assistant session"),
        "{err}"
    );
    assert_no_secret(&err, token);
}
