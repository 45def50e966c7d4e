//! The headline flow, end to end through the real binary: a secret pasted
//! into a Claude Code session is indexed by `mantra index`, which writes the
//! exposure list; a later commit of that secret — bare, where no rule
//! matches it — is blocked and the message names the session.

mod hooks_common;

use hooks_common::*;

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
    let mut w = World::new();
    // The store key goes to a 0600 file: the test must not depend on a
    // desktop keychain.
    w.extra_env.push(("MANTRA_KEY_STORE".into(), "file".into()));
    if let Some(key) = fingerprint_key {
        w.extra_env
            .push(("MANTRA_FINGERPRINT_KEY".into(), key.into()));
    }
    let password = bare_password();
    let session_id = "5f2a9c1e-0000-4000-8000-0000000000e2";
    let project = w.home.join("work/shop");
    std::fs::create_dir_all(&project).expect("project");
    let sessions = w.home.join(".claude/projects/-work-shop");
    std::fs::create_dir_all(&sessions).expect("sessions");
    let record = serde_json::json!({
        "type": "user",
        "cwd": project.display().to_string(),
        "sessionId": session_id,
        "uuid": "u-1",
        "timestamp": "2026-11-20T09:00:00.000Z",
        "message": {"role": "user", "content": format!("the db login fails, DB_PASSWORD={password}")},
    });
    std::fs::write(
        sessions.join(format!("{session_id}.jsonl")),
        format!("{record}\n"),
    )
    .expect("session");

    let out = w.mantra(w.path(), &["index"]);
    assert!(
        out.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list =
        std::fs::read_to_string(w.mantra_home.join("exposures.json")).expect("exposure list");
    assert!(list.contains(session_id), "{list}");
    assert_no_secret(&list, &password);

    let (repo, _) = {
        let repo = w.repo("r", false);
        w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
        (repo, ())
    };
    // Committed bare: no rule matches "Tr0ub4dor…horse" on its own line.
    w.add(&repo, "notes.txt", format!("{password}\n").as_bytes());
    let err = assert_blocked(&w.commit(&repo, "add notes"));
    assert!(
        err.contains("already exposed in an AI assistant session"),
        "{err}"
    );
    assert!(err.contains(session_id), "{err}");
    assert_no_secret(&err, &password);

    // Something never pasted into a session goes through.
    w.git(&repo, &["reset", "-q"]);
    w.add(&repo, "other.txt", b"nothing secret here\n");
    assert_ok(&w.commit(&repo, "other"));
}

/// A rule the organisation adds by policy applies to indexing as it does
/// to `scan` and the hooks: its secret is redacted at rest, listed as
/// exposed, and its commit blocked as exposed. (The agent used to build
/// its scanner from the built-in rules alone.)
#[test]
fn a_custom_policy_rule_applies_to_indexing_exposure_and_commits() {
    let mut w = World::new();
    w.extra_env.push(("MANTRA_KEY_STORE".into(), "file".into()));
    let config = w.home.join(".config/mantra/config.yaml");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &config,
        r#"rules:
  custom:
    - id: acme-internal-token
      name: ACME internal token
      severity: high
      pattern: '\b(acme_[a-z0-9]{24})\b'
      keywords: [acme_]
      examples: ['ACME_TOKEN=acme_k3j5h7g9f1d3s5a7p9o1i3u5']
"#,
    )
    .expect("config");
    let token = "acme_q8w7e6r5t4y3u2i1o9p8a7s6";
    let session_id = "5f2a9c1e-0000-4000-8000-0000000000e3";
    let sessions = w.home.join(".claude/projects/-work-shop");
    std::fs::create_dir_all(&sessions).expect("sessions");
    let record = serde_json::json!({
        "type": "user", "cwd": "/work/shop", "sessionId": session_id, "uuid": "u-1",
        "timestamp": "2026-11-20T09:00:00.000Z",
        "message": {"role": "user", "content": format!("use ACME_TOKEN={token} for the deploy")},
    });
    std::fs::write(
        sessions.join(format!("{session_id}.jsonl")),
        format!("{record}\n"),
    )
    .expect("session");
    let out = w.mantra_ok(w.path(), &["index", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["findings"], 1, "{report}");
    let list =
        std::fs::read_to_string(w.mantra_home.join("exposures.json")).expect("exposure list");
    assert!(list.contains("acme-internal-token"), "{list}");
    assert_no_secret(&list, token);
    // Redacted at rest: what the store shows has the marker, not the token.
    let shown = w.mantra_ok(
        w.path(),
        &["sessions", "show", session_id, "--all-projects"],
    );
    assert!(shown.contains("[REDACTED:acme-internal-token]"), "{shown}");
    assert_no_secret(&shown, token);
    let repo = w.repo("r", false);
    w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
    w.add(
        &repo,
        "deploy.env",
        format!("ACME_TOKEN={token}\n").as_bytes(),
    );
    let err = assert_blocked(&w.commit(&repo, "deploy"));
    assert!(
        err.contains("already exposed in an AI assistant session"),
        "{err}"
    );
    assert_no_secret(&err, token);
}
