//! Hooks installed at user (global) and system scope through
//! `core.hooksPath`, chaining to each repository's own hooks; install,
//! re-install, uninstall and `--force`; a missing mantra binary.

mod hooks_common;

use std::path::{Path, PathBuf};

use hooks_common::*;

fn install(w: &World, scope: &str, dir: &Path) -> String {
    w.mantra_ok(
        w.path(),
        &[
            "hooks",
            "install",
            "--scope",
            scope,
            "--dir",
            dir.to_str().expect("utf8"),
        ],
    )
}

fn config_file(w: &World, scope: &str) -> PathBuf {
    match scope {
        "global" => w.global_config.clone(),
        _ => w.system_config.clone(),
    }
}

fn commit_and_push_through(scope: &str) {
    let w = World::new();
    let shims = w.path().join(format!("{scope}-shims"));
    let out = install(&w, scope, &shims);
    assert!(out.contains("core.hooksPath"), "{out}");
    let cfg = std::fs::read_to_string(config_file(&w, scope)).expect("config");
    assert!(cfg.contains("hooksPath"), "{cfg}");

    let (_, repo) = w.remote_and_clone("r", false);
    let pre_commit = w.existing_hook(&repo, "pre-commit");
    let pre_push = w.existing_hook(&repo, "pre-push");
    let commit_msg = w.existing_hook(&repo, "commit-msg");

    let token = github_token();
    w.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    let err = assert_blocked(&w.commit(&repo, "secret"));
    assert!(err.contains("a.txt:1:"), "{err}");
    assert_eq!(err.matches("commit blocked").count(), 1, "{err}");
    assert!(!pre_commit.exists());

    w.add(&repo, "a.txt", b"clean\n");
    assert_ok(&w.commit(&repo, "clean"));
    assert!(pre_commit.exists(), "repository pre-commit hook chained");
    assert!(commit_msg.exists(), "other repository hooks still run");

    assert_ok(&w.push(&repo, &["origin", "main"]));
    let log = std::fs::read_to_string(&pre_push).expect("pre-push chained");
    assert!(
        log.contains("refs/heads/main"),
        "stdin given to both: {log}"
    );

    secret_commit_and_blocked_push(&w, &repo);

    // A linked worktree: the common hooks directory is chained.
    let wt = w.path().join("wt");
    w.git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "wt-branch",
            wt.to_str().expect("utf8"),
        ],
    );
    std::fs::remove_file(&pre_commit).expect("reset marker");
    w.add(&wt, "w.txt", b"clean\n");
    assert_ok(&w.commit(&wt, "from worktree"));
    assert!(
        pre_commit.exists(),
        "worktree commit chains to the common hooks dir"
    );
    w.add(&wt, "w.txt", format!("{}\n", github_token()).as_bytes());
    assert_blocked(&w.commit(&wt, "secret from worktree"));

    // Uninstall restores the config.
    w.mantra_ok(
        w.path(),
        &[
            "hooks",
            "uninstall",
            "--scope",
            scope,
            "--dir",
            shims.to_str().expect("utf8"),
        ],
    );
    let cfg = std::fs::read_to_string(config_file(&w, scope)).expect("config");
    assert!(!cfg.contains("hooksPath"), "{cfg}");
    assert!(!shims.exists());
}

fn secret_commit_and_blocked_push(w: &World, repo: &Path) {
    let token = github_token();
    w.add(repo, "b.txt", format!("{token}\n").as_bytes());
    w.commit_no_verify(repo, "secret");
    let err = assert_blocked(&w.push(repo, &["origin", "main"]));
    assert!(err.contains("b.txt:1:"), "{err}");
    w.git(repo, &["reset", "-q", "--hard", "HEAD~1"]);
}

#[test]
fn global_scope() {
    commit_and_push_through("global");
}

#[test]
fn system_scope() {
    commit_and_push_through("system");
}

#[test]
fn global_and_repo_scope_together_scan_once() {
    let w = World::new();
    let shims = w.path().join("shims");
    install(&w, "global", &shims);
    let repo = w.repo("r", false);
    let marker = w.existing_hook(&repo, "pre-commit");
    w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
    w.add(&repo, "a.txt", format!("{}\n", github_token()).as_bytes());
    let err = assert_blocked(&w.commit(&repo, "secret"));
    assert_eq!(err.matches("commit blocked").count(), 1, "{err}");
    w.add(&repo, "a.txt", b"clean\n");
    assert_ok(&w.commit(&repo, "clean"));
    let log = std::fs::read_to_string(&marker).expect("marker");
    assert_eq!(log.matches("ran").count(), 1, "own hook ran once: {log}");
}

#[test]
fn never_clobber_without_force_and_restore_on_uninstall() {
    let w = World::new();
    let other = w.path().join("corp-hooks");
    std::fs::create_dir_all(&other).expect("dir");
    w.git(
        w.path(),
        &[
            "config",
            "--global",
            "core.hooksPath",
            other.to_str().expect("utf8"),
        ],
    );
    let shims = w.path().join("shims");
    let out = w.mantra(
        w.path(),
        &[
            "hooks",
            "install",
            "--scope",
            "global",
            "--dir",
            shims.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        w.git(w.path(), &["config", "--global", "core.hooksPath"]),
        other.to_str().expect("utf8")
    );
    w.mantra_ok(
        w.path(),
        &[
            "hooks",
            "install",
            "--scope",
            "global",
            "--force",
            "--dir",
            shims.to_str().expect("utf8"),
        ],
    );
    // Idempotent.
    let again = install(&w, "global", &shims);
    assert!(again.contains("already installed"), "{again}");
    w.mantra_ok(
        w.path(),
        &[
            "hooks",
            "uninstall",
            "--scope",
            "global",
            "--dir",
            shims.to_str().expect("utf8"),
        ],
    );
    assert_eq!(
        w.git(w.path(), &["config", "--global", "core.hooksPath"]),
        other.to_str().expect("utf8")
    );

    // Repository scope: the existing hook is moved aside and restored
    // exactly.
    let repo = w.repo("r", false);
    let hook_path = repo.join(".git/hooks/pre-commit");
    w.existing_hook(&repo, "pre-commit");
    let original = std::fs::read(&hook_path).expect("hook");
    w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
    assert!(repo.join(".git/hooks/pre-commit.mantra-chained").exists());
    let again = w.mantra_ok(&repo, &["hooks", "install", "--scope", "repo"]);
    assert!(again.contains("already installed"), "{again}");
    w.mantra_ok(&repo, &["hooks", "uninstall", "--scope", "repo"]);
    assert_eq!(std::fs::read(&hook_path).expect("restored"), original);
    assert!(!repo.join(".git/hooks/pre-commit.mantra-chained").exists());
    assert!(!repo.join(".git/hooks/pre-push").exists());
}

#[test]
fn missing_mantra_follows_fail_closed() {
    let w = World::new();
    let repo = w.repo("r", false);
    let hooks = repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks).expect("hooks");
    for (fail_closed, blocked) in [(true, true), (false, false)] {
        let script = mantra_hooks::install::shim_script(
            "pre-commit",
            Path::new("/nonexistent/mantra"),
            fail_closed,
            mantra_hooks::install::Chain::Sibling,
        );
        let path = hooks.join("pre-commit");
        std::fs::write(&path, script).expect("shim");
        make_executable(&path);
        w.add(&repo, "a.txt", format!("{fail_closed}\n").as_bytes());
        let out = w.commit(&repo, "x");
        let err = stderr(&out);
        assert!(err.contains("mantra program is missing"), "{err}");
        assert_eq!(!out.status.success(), blocked, "{err}");
    }
}
