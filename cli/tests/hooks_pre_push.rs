//! `mantra hook pre-push` on real repositories pushing to a real bare
//! remote: only commits the remote lacks are scanned.

mod support;

use std::path::{Path, PathBuf};

use support::*;

/// A clone with a pushed clean `main`, Mantra at repo scope over an
/// existing pre-push hook.
fn setup(m: &Machine, sha256: bool) -> (PathBuf, PathBuf, PathBuf) {
    let (remote, repo) = m.remote_and_clone("r", sha256);
    let marker = m.existing_hook(&repo, "pre-push");
    m.install_repo_hooks(&repo);
    m.add(&repo, "README.md", b"hello\n");
    assert_ok(&m.commit(&repo, "init"));
    assert_ok(&m.push(&repo, &["-u", "origin", "main"]));
    (remote, repo, marker)
}

fn secret_commit(m: &Machine, repo: &Path, file: &str) -> String {
    let token = github_token();
    m.add(repo, file, format!("x\ntoken: {token}\n").as_bytes());
    m.commit_no_verify(repo, &format!("add {file}"));
    token
}

fn remote_has(m: &Machine, remote: &Path, reference: &str) -> bool {
    m.git_output(remote, &["rev-parse", "--verify", "-q", reference])
        .status
        .success()
}

#[test]
fn clean_push_runs_the_existing_hook_with_stdin() {
    let m = Machine::new();
    let (_, _repo, marker) = setup(&m, false);
    let log = std::fs::read_to_string(&marker).expect("existing hook ran");
    assert!(log.contains("ran origin"), "{log}");
    assert!(log.contains("refs/heads/main"), "stdin reached it: {log}");
}

#[test]
fn new_branch_scans_only_commits_not_on_any_remote() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, false);
    // Old history with a secret, already on the remote (pushed without
    // hooks): a new branch from it is not blocked by it.
    let token = secret_commit(&m, &repo, "old.txt");
    m.git(&repo, &["push", "-q", "--no-verify", "origin", "main"]);
    m.git(&repo, &["checkout", "-q", "-b", "topic"]);
    m.add(&repo, "clean.txt", b"clean\n");
    assert_ok(&m.commit(&repo, "clean"));
    assert_ok(&m.push(&repo, &["origin", "topic"]));
    assert!(remote_has(&m, &remote, "refs/heads/topic"));

    // A new branch with a secret commit: blocked, naming file, line, commit.
    m.git(&repo, &["checkout", "-q", "-b", "leaky"]);
    let other = secret_commit(&m, &repo, "leak.txt");
    let out = m.push(&repo, &["origin", "leaky"]);
    let err = assert_blocked(&out);
    assert!(err.contains("leak.txt:2:"), "{err}");
    assert!(err.contains("(commit "), "{err}");
    assert!(!err.contains("old.txt"), "already on the remote: {err}");
    assert_no_secret(&err, &other);
    assert_no_secret(&err, &token);
    assert!(!remote_has(&m, &remote, "refs/heads/leaky"));

    // The block is in the compliance event log, with the commit, no secret.
    let log = std::fs::read_to_string(m.data.join("logs/audit.jsonl")).expect("event log");
    assert_no_secret(&log, &other);
    let event: serde_json::Value =
        serde_json::from_str(log.lines().last().expect("a line")).expect("json");
    assert_eq!(event["event"], "block");
    assert_eq!(event["hook"], "pre-push");
    assert_eq!(event["secrets"][0]["path"], "leak.txt");
    assert_eq!(event["secrets"][0]["line"], 2);
    assert!(event["secrets"][0]["commit"].is_string(), "{event}");
}

#[test]
fn several_refs_in_one_push() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, false);
    m.git(&repo, &["checkout", "-q", "-b", "a"]);
    m.add(&repo, "a.txt", b"a\n");
    assert_ok(&m.commit(&repo, "a"));
    m.git(&repo, &["checkout", "-q", "-b", "b", "main"]);
    secret_commit(&m, &repo, "b.txt");
    let err = assert_blocked(&m.push(&repo, &["origin", "a", "b"]));
    assert!(err.contains("b.txt:2:"), "{err}");
    // Git runs pre-push once for the whole push: nothing was sent.
    assert!(!remote_has(&m, &remote, "refs/heads/a"));
    assert_ok(&m.push(&repo, &["origin", "a"]));
}

#[test]
fn deletion_is_skipped_and_update_scans_the_range() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, false);
    // A branch with a secret already on the remote can be deleted.
    m.git(&repo, &["checkout", "-q", "-b", "old"]);
    secret_commit(&m, &repo, "s.txt");
    m.git(&repo, &["push", "-q", "--no-verify", "origin", "old"]);
    assert_ok(&m.push(&repo, &["origin", ":old"]));
    assert!(!remote_has(&m, &remote, "refs/heads/old"));

    // An update: only the new commits count.
    m.git(&repo, &["checkout", "-q", "main"]);
    m.add(&repo, "n.txt", b"n\n");
    assert_ok(&m.commit(&repo, "n"));
    assert_ok(&m.push(&repo, &["origin", "main"]));
    secret_commit(&m, &repo, "m.txt");
    let err = assert_blocked(&m.push(&repo, &["origin", "main"]));
    assert!(err.contains("m.txt:2:"), "{err}");
    // Removing the secret in a later commit is not enough.
    m.git(&repo, &["rm", "-q", "m.txt"]);
    m.commit_no_verify(&repo, "remove");
    let err = assert_blocked(&m.push(&repo, &["origin", "main"]));
    assert!(err.contains("m.txt:2:"), "{err}");
    // Rewriting history fixes it.
    m.git(&repo, &["reset", "-q", "--hard", "origin/main"]);
    assert_ok(&m.push(&repo, &["origin", "main"]));
}

#[test]
fn force_push() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, false);
    m.add(&repo, "f.txt", b"v1\n");
    assert_ok(&m.commit(&repo, "v1"));
    assert_ok(&m.push(&repo, &["origin", "main"]));
    // Rewrite the last commit to hold a secret and force-push.
    let token = github_token();
    m.add(&repo, "f.txt", format!("v2 {token}\n").as_bytes());
    m.git(
        &repo,
        &["commit", "-q", "--amend", "--no-verify", "-m", "v2"],
    );
    let err = assert_blocked(&m.push(&repo, &["--force", "origin", "main"]));
    assert!(err.contains("f.txt:1:"), "{err}");
    // The remote's commit unknown locally (someone else pushed it).
    let before = m.git(&remote, &["rev-parse", "refs/heads/main"]);
    m.add(&repo, "f.txt", b"v3\n");
    m.git(
        &repo,
        &["commit", "-q", "--amend", "--no-verify", "-m", "v3"],
    );
    assert_ok(&m.push(&repo, &["--force", "origin", "main"]));
    assert_ne!(before, m.git(&remote, &["rev-parse", "refs/heads/main"]));
}

#[test]
fn tags() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, false);
    // A lightweight tag on a pushed commit: nothing new.
    m.git(&repo, &["tag", "v1"]);
    assert_ok(&m.push(&repo, &["origin", "v1"]));
    assert!(remote_has(&m, &remote, "refs/tags/v1"));
    // An annotated tag on an unpushed commit holding a secret.
    secret_commit(&m, &repo, "t.txt");
    m.git(&repo, &["tag", "-a", "v2", "-m", "release"]);
    let err = assert_blocked(&m.push(&repo, &["origin", "v2"]));
    assert!(err.contains("t.txt:2:"), "{err}");
    assert!(!remote_has(&m, &remote, "refs/tags/v2"));
}

#[test]
fn sha256_repositories() {
    let m = Machine::new();
    let (remote, repo, _) = setup(&m, true);
    assert_eq!(m.git(&repo, &["rev-parse", "HEAD"]).len(), 64);
    // pre-commit too.
    let token = github_token();
    m.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    assert_blocked(&m.commit(&repo, "secret"));
    m.commit_no_verify(&repo, "secret");
    // New branch (64-char zero id) and update.
    m.git(&repo, &["checkout", "-q", "-b", "topic"]);
    let err = assert_blocked(&m.push(&repo, &["origin", "topic"]));
    assert!(err.contains("a.txt:1:"), "{err}");
    let err = assert_blocked(&m.push(&repo, &["origin", "topic:main"]));
    assert!(err.contains("a.txt:1:"), "{err}");
    m.git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    assert_ok(&m.push(&repo, &["origin", "topic"]));
    assert!(remote_has(&m, &remote, "refs/heads/topic"));
}

#[test]
fn merge_commits_report_only_their_own_lines() {
    let m = Machine::new();
    let (_, repo, _) = setup(&m, false);
    // A feature branch with a secret already on the remote.
    m.git(&repo, &["checkout", "-q", "-b", "feature"]);
    secret_commit(&m, &repo, "feature.txt");
    m.git(&repo, &["push", "-q", "--no-verify", "origin", "feature"]);
    // Merging it into main and pushing main: the merge adds nothing new.
    m.git(&repo, &["checkout", "-q", "main"]);
    m.add(&repo, "main.txt", b"main\n");
    assert_ok(&m.commit(&repo, "main"));
    m.git(
        &repo,
        &["merge", "-q", "--no-verify", "--no-edit", "feature"],
    );
    assert_ok(&m.push(&repo, &["origin", "main"]));

    // A conflict resolution that introduces a secret (an "evil merge").
    m.git(&repo, &["checkout", "-q", "-b", "side"]);
    m.add(&repo, "c.txt", b"side\n");
    assert_ok(&m.commit(&repo, "side"));
    m.git(&repo, &["checkout", "-q", "main"]);
    m.add(&repo, "c.txt", b"main\n");
    assert_ok(&m.commit(&repo, "main c"));
    let _ = m.git_output(&repo, &["merge", "-q", "side"]);
    let token = github_token();
    m.add(&repo, "c.txt", format!("main\nside\n{token}\n").as_bytes());
    m.commit_no_verify(&repo, "merge side");
    let err = assert_blocked(&m.push(&repo, &["origin", "main"]));
    assert!(err.contains("c.txt:3:"), "{err}");
    assert!(
        !err.contains("c.txt:1:") && !err.contains("feature.txt"),
        "{err}"
    );
}

#[test]
fn exposure_list_applies_to_pushes() {
    let m = Machine::new();
    let (_, repo, _) = setup(&m, false);
    let password = bare_password();
    m.expose(&[(&password, "generic-secret")]);
    m.add(&repo, "p.txt", format!("{password}\n").as_bytes());
    m.commit_no_verify(&repo, "password");
    let err = assert_blocked(&m.push(&repo, &["origin", "main"]));
    assert!(err.contains("session-0-4f2a"), "{err}");
    assert_no_secret(&err, &password);
}

#[test]
fn bad_stdin_follows_fail_closed() {
    let m = Machine::new();
    let repo = m.repo("r", false);
    let out = m
        .mantra(["hook", "pre-push", "origin", "url"])
        .current_dir(&repo)
        .write_stdin("garbage line\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn pre_commit_framework_environment() {
    // The pre-commit framework gives no ref lines; it sets PRE_COMMIT_*.
    let mut m = Machine::new();
    let (_, repo) = m.remote_and_clone("r", false);
    m.add(&repo, "a.txt", b"clean\n");
    m.commit_no_verify(&repo, "clean");
    let head = m.git(&repo, &["rev-parse", "HEAD"]);
    secret_commit(&m, &repo, "s.txt");
    m.set_env("PRE_COMMIT", "1");
    let to = m.git(&repo, &["rev-parse", "HEAD"]);
    m.set_env("PRE_COMMIT_TO_REF", to);
    m.set_env("PRE_COMMIT_FROM_REF", head);
    let out = m.run_in(&repo, ["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("s.txt:2:"), "{}", stderr(&out));
    // No refs at all (a branch starting at a root commit): HEAD against
    // the remote-tracking refs.
    m.remove_env("PRE_COMMIT_TO_REF")
        .remove_env("PRE_COMMIT_FROM_REF");
    let out = m.run_in(&repo, ["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Outside the framework, empty input means nothing is pushed.
    m.remove_env("PRE_COMMIT");
    let out = m.run_in(&repo, ["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
