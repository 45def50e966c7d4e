//! Hooks installed at user (global) and system scope through
//! `core.hooksPath`, chaining to each repository's own hooks; install,
//! re-install, uninstall and `--force`; a missing mantra binary.

mod support;

use std::path::{Path, PathBuf};

use support::*;

fn config_file(m: &Machine, scope: &str) -> PathBuf {
    match scope {
        "global" => m.git_global.clone(),
        _ => m.git_system.clone(),
    }
}

fn commit_and_push_through(scope: &str) {
    let m = Machine::new();
    let shims = m.path().join(format!("{scope}-shims"));
    let out = m.install_hooks(scope, &shims);
    assert!(out.contains("core.hooksPath"), "{out}");
    let cfg = std::fs::read_to_string(config_file(&m, scope)).expect("config");
    assert!(cfg.contains("hooksPath"), "{cfg}");

    let (_, repo) = m.remote_and_clone("r", false);
    let pre_commit = m.existing_hook(&repo, "pre-commit");
    let pre_push = m.existing_hook(&repo, "pre-push");
    let commit_msg = m.existing_hook(&repo, "commit-msg");

    let token = github_token();
    m.add(&repo, "a.txt", format!("{token}\n").as_bytes());
    let err = assert_blocked(&m.commit(&repo, "secret"));
    assert!(err.contains("a.txt:1:"), "{err}");
    assert_eq!(err.matches("commit blocked").count(), 1, "{err}");
    assert!(!pre_commit.exists());

    m.add(&repo, "a.txt", b"clean\n");
    assert_ok(&m.commit(&repo, "clean"));
    assert!(pre_commit.exists(), "repository pre-commit hook chained");
    assert!(commit_msg.exists(), "other repository hooks still run");

    assert_ok(&m.push(&repo, &["origin", "main"]));
    let log = std::fs::read_to_string(&pre_push).expect("pre-push chained");
    assert!(
        log.contains("refs/heads/main"),
        "stdin given to both: {log}"
    );

    secret_commit_and_blocked_push(&m, &repo);

    // A linked worktree: the common hooks directory is chained.
    let wt = m.path().join("wt");
    m.git(
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
    m.add(&wt, "w.txt", b"clean\n");
    assert_ok(&m.commit(&wt, "from worktree"));
    assert!(
        pre_commit.exists(),
        "worktree commit chains to the common hooks dir"
    );
    m.add(&wt, "w.txt", format!("{}\n", github_token()).as_bytes());
    assert_blocked(&m.commit(&wt, "secret from worktree"));

    // Uninstall restores the config.
    m.uninstall_hooks(scope, &shims);
    let cfg = std::fs::read_to_string(config_file(&m, scope)).expect("config");
    assert!(!cfg.contains("hooksPath"), "{cfg}");
    assert!(!shims.exists());
}

fn secret_commit_and_blocked_push(m: &Machine, repo: &Path) {
    let token = github_token();
    m.add(repo, "b.txt", format!("{token}\n").as_bytes());
    m.commit_no_verify(repo, "secret");
    let err = assert_blocked(&m.push(repo, &["origin", "main"]));
    assert!(err.contains("b.txt:1:"), "{err}");
    m.git(repo, &["reset", "-q", "--hard", "HEAD~1"]);
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
    let m = Machine::new();
    let shims = m.path().join("shims");
    m.install_hooks("global", &shims);
    let repo = m.repo("r", false);
    let marker = m.existing_hook(&repo, "pre-commit");
    m.install_repo_hooks(&repo);
    m.add(&repo, "a.txt", format!("{}\n", github_token()).as_bytes());
    let err = assert_blocked(&m.commit(&repo, "secret"));
    assert_eq!(err.matches("commit blocked").count(), 1, "{err}");
    m.add(&repo, "a.txt", b"clean\n");
    assert_ok(&m.commit(&repo, "clean"));
    let log = std::fs::read_to_string(&marker).expect("marker");
    assert_eq!(log.matches("ran").count(), 1, "own hook ran once: {log}");
}

#[test]
fn never_clobber_without_force_and_restore_on_uninstall() {
    let m = Machine::new();
    let other = m.path().join("corp-hooks");
    std::fs::create_dir_all(&other).expect("dir");
    m.git(
        m.path(),
        &[
            "config",
            "--global",
            "core.hooksPath",
            other.to_str().expect("utf8"),
        ],
    );
    let shims = m.path().join("shims");
    let out = m
        .mantra(["hooks", "install", "--scope", "global", "--dir"])
        .arg(&shims)
        .output()
        .expect("run mantra");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        m.git(m.path(), &["config", "--global", "core.hooksPath"]),
        other.to_str().expect("utf8")
    );
    m.mantra(["hooks", "install", "--scope", "global", "--force", "--dir"])
        .arg(&shims)
        .assert()
        .success();
    // Idempotent.
    let again = m.install_hooks("global", &shims);
    assert!(again.contains("already installed"), "{again}");
    m.uninstall_hooks("global", &shims);
    assert_eq!(
        m.git(m.path(), &["config", "--global", "core.hooksPath"]),
        other.to_str().expect("utf8")
    );

    // Repository scope: the existing hook is moved aside and restored
    // exactly.
    let repo = m.repo("r", false);
    let hook_path = repo.join(".git/hooks/pre-commit");
    m.existing_hook(&repo, "pre-commit");
    let original = std::fs::read(&hook_path).expect("hook");
    m.install_repo_hooks(&repo);
    assert!(repo.join(".git/hooks/pre-commit.mantra-chained").exists());
    let again = m.install_repo_hooks(&repo);
    assert!(again.contains("already installed"), "{again}");
    m.ok_in(&repo, ["hooks", "uninstall", "--scope", "repo"]);
    assert_eq!(std::fs::read(&hook_path).expect("restored"), original);
    assert!(!repo.join(".git/hooks/pre-commit.mantra-chained").exists());
    assert!(!repo.join(".git/hooks/pre-push").exists());
}

#[test]
fn missing_mantra_follows_fail_closed() {
    let m = Machine::new();
    let repo = m.repo("r", false);
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
        chmod(&path, 0o755);
        m.add(&repo, "a.txt", format!("{fail_closed}\n").as_bytes());
        let out = m.commit(&repo, "x");
        let err = stderr(&out);
        assert!(err.contains("mantra program is missing"), "{err}");
        assert_eq!(!out.status.success(), blocked, "{err}");
    }
}

/// A repository whose own `core.hooksPath` points into its work tree
/// (Husky's `.husky`) keeps its tracked files: repo-scope install refuses,
/// names the manager and says how to call Mantra from it.
#[test]
fn repo_install_never_writes_into_a_tracked_hooks_folder() {
    let m = Machine::new();
    let repo = m.repo("husky", false);
    m.add(&repo, ".husky/pre-commit", b"npx lint-staged\n");
    assert!(m.commit(&repo, "husky").status.success());
    m.git(&repo, &["config", "core.hooksPath", ".husky"]);
    let before = std::fs::read(repo.join(".husky/pre-commit")).expect("hook");

    let o = m.run_in(&repo, ["hooks", "install", "--scope", "repo"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("managed by husky"), "{err}");
    assert!(err.contains("`mantra hook pre-commit`"), "{err}");
    assert_eq!(
        std::fs::read(repo.join(".husky/pre-commit")).expect("hook"),
        before
    );
    let entries: Vec<_> = std::fs::read_dir(repo.join(".husky"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 1, "nothing added: {entries:?}");
    assert_eq!(m.git(&repo, &["status", "--porcelain"]), "");
    // --force does not change that.
    let o = m.run_in(&repo, ["hooks", "install", "--scope", "repo", "--force"]);
    assert_eq!(o.status.code(), Some(2));
}
