//! `mantra hook pre-push` on real repositories pushing to a real bare
//! remote: only commits the remote lacks are scanned.

mod hooks_common;

use std::path::{Path, PathBuf};

use hooks_common::*;

/// A clone with a pushed clean `main`, Mantra at repo scope over an
/// existing pre-push hook.
fn setup(w: &World, sha256: bool) -> (PathBuf, PathBuf, PathBuf) {
    let (remote, repo) = w.remote_and_clone("r", sha256);
    let marker = w.existing_hook(&repo, "pre-push");
    w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
    w.add(&repo, "README.md", b"hello\n");
    assert_ok(&w.commit(&repo, "init"));
    assert_ok(&w.push(&repo, &["-u", "origin", "main"]));
    (remote, repo, marker)
}

fn secret_commit(w: &World, repo: &Path, file: &str) -> String {
    let token = github_token();
    w.add(repo, file, format!("x\ntoken: {token}\n").as_bytes());
    w.commit_no_verify(repo, &format!("add {file}"));
    token
}

fn remote_has(w: &World, remote: &Path, reference: &str) -> bool {
    w.git_output(remote, &["rev-parse", "--verify", "-q", reference], None)
        .status
        .success()
}

#[test]
fn clean_push_runs_the_existing_hook_with_stdin() {
    let w = World::new();
    let (_, _repo, marker) = setup(&w, false);
    let log = std::fs::read_to_string(&marker).expect("existing hook ran");
    assert!(log.contains("ran origin"), "{log}");
    assert!(log.contains("refs/heads/main"), "stdin reached it: {log}");
}

#[test]
fn new_branch_scans_only_commits_not_on_any_remote() {
    let w = World::new();
    let (remote, repo, _) = setup(&w, false);
    // Old history with a secret, already on the remote (pushed without
    // hooks): a new branch from it is not blocked by it.
    let token = secret_commit(&w, &repo, "old.txt");
    w.git(&repo, &["push", "-q", "--no-verify", "origin", "main"]);
    w.git(&repo, &["checkout", "-q", "-b", "topic"]);
    w.add(&repo, "clean.txt", b"clean\n");
    assert_ok(&w.commit(&repo, "clean"));
    assert_ok(&w.push(&repo, &["origin", "topic"]));
    assert!(remote_has(&w, &remote, "refs/heads/topic"));

    // A new branch with a secret commit: blocked, naming file, line, commit.
    w.git(&repo, &["checkout", "-q", "-b", "leaky"]);
    let other = secret_commit(&w, &repo, "leak.txt");
    let out = w.push(&repo, &["origin", "leaky"]);
    let err = assert_blocked(&out);
    assert!(err.contains("leak.txt:2:"), "{err}");
    assert!(err.contains("(commit "), "{err}");
    assert!(!err.contains("old.txt"), "already on the remote: {err}");
    assert_no_secret(&err, &other);
    assert_no_secret(&err, &token);
    assert!(!remote_has(&w, &remote, "refs/heads/leaky"));

    // The block is in the compliance event log, with the commit, no secret.
    let log = std::fs::read_to_string(w.mantra_home.join("logs/audit.jsonl")).expect("event log");
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
    let w = World::new();
    let (remote, repo, _) = setup(&w, false);
    w.git(&repo, &["checkout", "-q", "-b", "a"]);
    w.add(&repo, "a.txt", b"a\n");
    assert_ok(&w.commit(&repo, "a"));
    w.git(&repo, &["checkout", "-q", "-b", "b", "main"]);
    secret_commit(&w, &repo, "b.txt");
    let err = assert_blocked(&w.push(&repo, &["origin", "a", "b"]));
    assert!(err.contains("b.txt:2:"), "{err}");
    // Git runs pre-push once for the whole push: nothing was sent.
    assert!(!remote_has(&w, &remote, "refs/heads/a"));
    assert_ok(&w.push(&repo, &["origin", "a"]));
}

#[test]
fn deletion_is_skipped_and_update_scans_the_range() {
    let w = World::new();
    let (remote, repo, _) = setup(&w, false);
    // A branch with a secret already on the remote can be deleted.
    w.git(&repo, &["checkout", "-q", "-b", "old"]);
    secret_commit(&w, &repo, "s.txt");
    w.git(&repo, &["push", "-q", "--no-verify", "origin", "old"]);
    assert_ok(&w.push(&repo, &["origin", ":old"]));
    assert!(!remote_has(&w, &remote, "refs/heads/old"));

    // An update: only the new commits count.
    w.git(&repo, &["checkout", "-q", "main"]);
    w.add(&repo, "n.txt", b"n\n");
    assert_ok(&w.commit(&repo, "n"));
    assert_ok(&w.push(&repo, &["origin", "main"]));
    secret_commit(&w, &repo, "m.txt");
    let err = assert_blocked(&w.push(&repo, &["origin", "main"]));
    assert!(err.contains("m.txt:2:"), "{err}");
    // Removing the secret in a later commit is not enough.
    w.git(&repo, &["rm", "-q", "m.txt"]);
    w.commit_no_verify(&repo, "remove");
    let err = assert_blocked(&w.push(&repo, &["origin", "main"]));
    assert!(err.contains("m.txt:2:"), "{err}");
    // Rewriting history fixes it.
    w.git(&repo, &["reset", "-q", "--hard", "origin/main"]);
    assert_ok(&w.push(&repo, &["origin", "main"]));
}

#[test]
fn force_push() {
    let w = World::new();
    let (remote, repo, _) = setup(&w, false);
    w.add(&repo, "f.txt", b"v1\n");
    assert_ok(&w.commit(&repo, "v1"));
    assert_ok(&w.push(&repo, &["origin", "main"]));
    // Rewrite the last commit to hold a secret and force-push.
    let token = github_token();
    w.add(&repo, "f.txt", format!("v2 {token}\n").as_bytes());
    w.git(
        &repo,
        &["commit", "-q", "--amend", "--no-verify", "-m", "v2"],
    );
    let err = assert_blocked(&w.push(&repo, &["--force", "origin", "main"]));
    assert!(err.contains("f.txt:1:"), "{err}");
    // The remote's commit unknown locally (someone else pushed it).
    let before = w.git(&remote, &["rev-parse", "refs/heads/main"]);
    w.add(&repo, "f.txt", b"v3\n");
    w.git(
        &repo,
        &["commit", "-q", "--amend", "--no-verify", "-m", "v3"],
    );
    assert_ok(&w.push(&repo, &["--force", "origin", "main"]));
    assert_ne!(before, w.git(&remote, &["rev-parse", "refs/heads/main"]));
}

#[test]
fn tags() {
    let w = World::new();
    let (remote, repo, _) = setup(&w, false);
    // A lightweight tag on a pushed commit: nothing new.
    w.git(&repo, &["tag", "v1"]);
    assert_ok(&w.push(&repo, &["origin", "v1"]));
    assert!(remote_has(&w, &remote, "refs/tags/v1"));
    // An annotated tag on an unpushed commit holding a secret.
    secret_commit(&w, &repo, "t.txt");
    w.git(&repo, &["tag", "-a", "v2", "-m", "release"]);
    let err = assert_blocked(&w.push(&repo, &["origin", "v2"]));
    assert!(err.contains("t.txt:2:"), "{err}");
    assert!(!remote_has(&w, &remote, "refs/tags/v2"));
}

#[test]
fn sha256_repositories() {
    let w = World::new();
    let (remote, repo, _) = setup(&w, true);
    assert_eq!(w.git(&repo, &["rev-parse", "HEAD"]).len(), 64);
    // pre-commit too.
    let token = github_token();
    w.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    assert_blocked(&w.commit(&repo, "secret"));
    w.commit_no_verify(&repo, "secret");
    // New branch (64-char zero id) and update.
    w.git(&repo, &["checkout", "-q", "-b", "topic"]);
    let err = assert_blocked(&w.push(&repo, &["origin", "topic"]));
    assert!(err.contains("a.txt:1:"), "{err}");
    let err = assert_blocked(&w.push(&repo, &["origin", "topic:main"]));
    assert!(err.contains("a.txt:1:"), "{err}");
    w.git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    assert_ok(&w.push(&repo, &["origin", "topic"]));
    assert!(remote_has(&w, &remote, "refs/heads/topic"));
}

#[test]
fn merge_commits_report_only_their_own_lines() {
    let w = World::new();
    let (_, repo, _) = setup(&w, false);
    // A feature branch with a secret already on the remote.
    w.git(&repo, &["checkout", "-q", "-b", "feature"]);
    secret_commit(&w, &repo, "feature.txt");
    w.git(&repo, &["push", "-q", "--no-verify", "origin", "feature"]);
    // Merging it into main and pushing main: the merge adds nothing new.
    w.git(&repo, &["checkout", "-q", "main"]);
    w.add(&repo, "main.txt", b"main\n");
    assert_ok(&w.commit(&repo, "main"));
    w.git(
        &repo,
        &["merge", "-q", "--no-verify", "--no-edit", "feature"],
    );
    assert_ok(&w.push(&repo, &["origin", "main"]));

    // A conflict resolution that introduces a secret (an "evil merge").
    w.git(&repo, &["checkout", "-q", "-b", "side"]);
    w.add(&repo, "c.txt", b"side\n");
    assert_ok(&w.commit(&repo, "side"));
    w.git(&repo, &["checkout", "-q", "main"]);
    w.add(&repo, "c.txt", b"main\n");
    assert_ok(&w.commit(&repo, "main c"));
    let _ = w.git_output(&repo, &["merge", "-q", "side"], None);
    let token = github_token();
    w.add(&repo, "c.txt", format!("main\nside\n{token}\n").as_bytes());
    w.commit_no_verify(&repo, "merge side");
    let err = assert_blocked(&w.push(&repo, &["origin", "main"]));
    assert!(err.contains("c.txt:3:"), "{err}");
    assert!(
        !err.contains("c.txt:1:") && !err.contains("feature.txt"),
        "{err}"
    );
}

#[test]
fn exposure_list_applies_to_pushes() {
    let w = World::new();
    let (_, repo, _) = setup(&w, false);
    let password = bare_password();
    w.expose(&[(&password, "generic-secret")]);
    w.add(&repo, "p.txt", format!("{password}\n").as_bytes());
    w.commit_no_verify(&repo, "password");
    let err = assert_blocked(&w.push(&repo, &["origin", "main"]));
    assert!(err.contains("session-0-4f2a"), "{err}");
    assert_no_secret(&err, &password);
}

#[test]
fn bad_stdin_follows_fail_closed() {
    let w = World::new();
    let repo = w.repo("r", false);
    let mut cmd_out = std::process::Command::new(MANTRA);
    cmd_out
        .current_dir(&repo)
        .args(["hook", "pre-push", "origin", "url"]);
    w.env(&mut cmd_out);
    let out = cmd_out
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut s) = c.stdin.take() {
                s.write_all(b"garbage line\n")?;
            }
            c.wait_with_output()
        })
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn pre_commit_framework_environment() {
    // The pre-commit framework gives no ref lines; it sets PRE_COMMIT_*.
    let mut w = World::new();
    let (_, repo) = w.remote_and_clone("r", false);
    w.add(&repo, "a.txt", b"clean\n");
    w.commit_no_verify(&repo, "clean");
    let head = w.git(&repo, &["rev-parse", "HEAD"]);
    secret_commit(&w, &repo, "s.txt");
    w.extra_env.push(("PRE_COMMIT".into(), "1".into()));
    w.extra_env.push((
        "PRE_COMMIT_TO_REF".into(),
        w.git(&repo, &["rev-parse", "HEAD"]),
    ));
    w.extra_env.push(("PRE_COMMIT_FROM_REF".into(), head));
    let out = w.mantra(&repo, &["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("s.txt:2:"), "{}", stderr(&out));
    // No refs at all (a branch starting at a root commit): HEAD against
    // the remote-tracking refs.
    w.extra_env.clear();
    w.extra_env.push(("PRE_COMMIT".into(), "1".into()));
    let out = w.mantra(&repo, &["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Outside the framework, empty input means nothing is pushed.
    w.extra_env.clear();
    let out = w.mantra(&repo, &["hook", "pre-push", "origin", "url"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
