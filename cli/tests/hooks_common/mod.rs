//! Shared set-up for the git hook end-to-end tests: isolated git
//! configuration (global, system, HOME), a Mantra data directory, real
//! repositories and a real bare remote, and test secrets generated at run
//! time (never committed literals).
#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mantra_core::exposure::{Exposure, ExposureList, ExposureSession, EXPOSURE_FILE_NAME};
use mantra_detect::filter::base62_fixed;
use mantra_detect::finding::{fingerprint, DEFAULT_FINGERPRINT_KEY};

pub const MANTRA: &str = env!("CARGO_BIN_EXE_mantra");

fn random_u64() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub classic token with a valid checksum, random each call.
pub fn github_token() -> String {
    let body: String = (0..30)
        .map(|_| BASE62[(random_u64() % 62) as usize] as char)
        .collect();
    let crc = base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), 6);
    format!("ghp_{body}{crc}")
}

/// An AWS access key id, random each call.
pub fn aws_key_id() -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = (0..16)
        .map(|_| B32[(random_u64() % 32) as usize] as char)
        .collect();
    format!("AKIA{tail}")
}

/// A password no rule matches on its own.
pub fn bare_password() -> String {
    format!("Tr0ub4dor{}horse", random_u64() % 1_000_000)
}

/// An isolated world: HOME, global and system git config files, Mantra's
/// data directory.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub global_config: PathBuf,
    pub system_config: PathBuf,
    pub mantra_home: PathBuf,
    pub hooks_config: Option<PathBuf>,
    pub extra_env: Vec<(String, String)>,
}

impl World {
    pub fn new() -> World {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let mantra_home = tmp.path().join("mantra-home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&mantra_home).expect("mantra home");
        let global_config = tmp.path().join("gitconfig-global");
        let system_config = tmp.path().join("gitconfig-system");
        std::fs::write(
            &global_config,
            "[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("global config");
        std::fs::write(&system_config, "").expect("system config");
        World {
            tmp,
            home,
            global_config,
            system_config,
            mantra_home,
            hooks_config: None,
            extra_env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Sets hook configuration (JSON of `HookConfig` fields).
    pub fn set_hooks_config(&mut self, json: &str) {
        let p = self.tmp.path().join("hooks-config.json");
        std::fs::write(&p, json).expect("hooks config");
        self.hooks_config = Some(p);
    }

    pub fn env(&self, cmd: &mut Command) {
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_CONFIG_NOSYSTEM",
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_COUNT",
            "MANTRA_BYPASS",
            "MANTRA_HOOKS_CONFIG",
            "MANTRA_FINGERPRINT_KEY",
            "MANTRA_HOOK_RAN",
            "XDG_CONFIG_HOME",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.global_config)
            .env("GIT_CONFIG_SYSTEM", &self.system_config)
            .env("MANTRA_HOME", &self.mantra_home)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C");
        if let Some(c) = &self.hooks_config {
            cmd.env("MANTRA_HOOKS_CONFIG", c);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    pub fn git_output(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir).args(args);
        self.env(&mut cmd);
        run(cmd, stdin)
    }

    /// Runs git and requires success.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args, None);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn mantra(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(MANTRA);
        cmd.current_dir(dir).args(args);
        self.env(&mut cmd);
        run(cmd, None)
    }

    pub fn mantra_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.mantra(dir, args);
        assert!(
            out.status.success(),
            "mantra {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// A new repository (`sha256`: SHA-256 object format).
    pub fn repo(&self, name: &str, sha256: bool) -> PathBuf {
        let dir = self.tmp.path().join(name);
        let mut args = vec!["init", "-q"];
        if sha256 {
            args.push("--object-format=sha256");
        }
        args.push(name);
        self.git(self.tmp.path(), &args);
        dir
    }

    /// A bare remote and a clone of it with `origin` set.
    pub fn remote_and_clone(&self, name: &str, sha256: bool) -> (PathBuf, PathBuf) {
        let bare = format!("{name}.git");
        let mut args = vec!["init", "-q", "--bare"];
        if sha256 {
            args.push("--object-format=sha256");
        }
        args.push(&bare);
        self.git(self.tmp.path(), &args);
        let repo = self.repo(name, sha256);
        let remote = self.tmp.path().join(&bare);
        self.git(
            &repo,
            &["remote", "add", "origin", remote.to_str().expect("utf8")],
        );
        (remote, repo)
    }

    /// Writes a file (creating directories) and stages it.
    pub fn add(&self, repo: &Path, path: &str, content: &[u8]) {
        let p = repo.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("dirs");
        }
        std::fs::write(&p, content).expect("write");
        self.git(repo, &["add", "--", path]);
    }

    /// `git commit`; returns the output (hooks run).
    pub fn commit(&self, repo: &Path, msg: &str) -> Output {
        self.git_output(repo, &["commit", "-q", "-m", msg], None)
    }

    /// Commit skipping hooks (to set up history).
    pub fn commit_no_verify(&self, repo: &Path, msg: &str) {
        self.git(repo, &["commit", "-q", "--no-verify", "-m", msg]);
    }

    pub fn push(&self, repo: &Path, args: &[&str]) -> Output {
        let mut all = vec!["push", "-q"];
        all.extend_from_slice(args);
        self.git_output(repo, &all, None)
    }

    /// Installs a repository hook that records its run (and its stdin)
    /// in `<repo>/../<name>-<hook>.marker`.
    pub fn existing_hook(&self, repo: &Path, hook: &str) -> PathBuf {
        let hooks = PathBuf::from(self.git(
            repo,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ))
        .join("hooks");
        std::fs::create_dir_all(&hooks).expect("hooks dir");
        let marker = self.tmp.path().join(format!(
            "{}-{hook}.marker",
            repo.file_name().and_then(|n| n.to_str()).unwrap_or("repo")
        ));
        let script = format!(
            "#!/bin/sh\n# the repository's own hook\necho \"ran $*\" >> '{m}'\ncat >> '{m}' || true\nexit 0\n",
            m = marker.display()
        );
        let path = hooks.join(hook);
        std::fs::write(&path, script).expect("hook");
        make_executable(&path);
        marker
    }

    /// Writes the exposure list, as the agent does, with these secrets
    /// exposed in a Claude Code session.
    pub fn expose(&self, secrets: &[(&str, &str)]) {
        let mut list = ExposureList::new("2026-11-23T10:00:00Z".into(), DEFAULT_FINGERPRINT_KEY);
        for (i, (secret, rule)) in secrets.iter().enumerate() {
            list.exposures.push(Exposure {
                fingerprint: fingerprint(DEFAULT_FINGERPRINT_KEY, secret.as_bytes()),
                rule_id: (*rule).to_string(),
                redacted: mantra_detect::finding::redact(secret),
                first_seen: "2026-11-20T09:15:00Z".into(),
                last_seen: "2026-11-20T09:15:00Z".into(),
                sessions: vec![ExposureSession {
                    assistant: "claude-code".into(),
                    session_id: format!("session-{i}-4f2a"),
                    project: Some("/home/dev/shop".into()),
                    title: Some("Fix the payment webhook".into()),
                    seen_at: "2026-11-20T09:15:00Z".into(),
                }],
            });
        }
        list.write(&self.mantra_home.join(EXPOSURE_FILE_NAME))
            .expect("write exposure list");
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let (Some(data), Some(mut sin)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        sin.write_all(data.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("wait")
}

pub fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Asserts the command was blocked by Mantra and returns its stderr.
#[track_caller]
pub fn assert_blocked(out: &Output) -> String {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "expected a block, got success:\n{err}"
    );
    assert!(err.contains("mantra"), "blocked, but not by mantra:\n{err}");
    err
}

/// Asserts success and returns stderr.
#[track_caller]
pub fn assert_ok(out: &Output) -> String {
    let err = stderr(out);
    assert!(out.status.success(), "expected success:\n{err}");
    err
}

/// The secret must never appear in any output.
#[track_caller]
pub fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "secret leaked in output:\n{text}");
}
