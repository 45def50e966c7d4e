//! The one harness of the `mantra` end-to-end tests (docs/testing.md).
//!
//! A [`Machine`] is a temporary directory standing in for a whole machine
//! and its one user. Every process it starts — `mantra` itself, `git`, `sh`,
//! an agent — gets a cleared environment plus only what the machine sets:
//!
//! | variable | value |
//! |---|---|
//! | `MANTRA_TEST_ROOT` | `root`, standing in for `/` (honoured by `test-roots` builds only) |
//! | `HOME` | `root/home`, where a rooted build looks for the user's config too |
//! | `XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_CACHE_HOME`, `XDG_STATE_HOME` | under `HOME` |
//! | `MANTRA_HOME` | `data`, the data directory (not created: the binary makes it) |
//! | `MANTRA_KEY_STORE` | `file`: no desktop keychain here |
//! | `GIT_CONFIG_GLOBAL` | `HOME/.gitconfig`, with a test identity and `main` as first branch |
//! | `GIT_CONFIG_SYSTEM` | `root/etc/gitconfig` (system-scope hooks are tested, so git must read one: ours) |
//! | `TMPDIR` | a directory of the machine, outside `root` |
//! | `PATH` | the caller's, to find `git`, `sh` and friends |
//! | `LC_ALL`=C, `TZ`=UTC, `USER`=`LOGNAME`=tester, `GIT_TERMINAL_PROMPT`=0 | fixed |
//!
//! Nothing else passes: no `MANTRA_*` (fingerprint key, bypass, log level),
//! `GIT_*` or `XDG_*` variable of the developer's, so their policy, data,
//! keys and git configuration can never leak in. A test adds variables
//! with [`Machine::set_env`]. In a default build (no `test-roots`) the
//! binary ignores `MANTRA_TEST_ROOT` and reads this machine's real
//! `/etc/mantra`: tests that depend on policy are `test-roots` only.
#![allow(dead_code)] // each test binary uses a part of it

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use mantra_core::exposure::{Exposure, ExposureList, ExposureSession, EXPOSURE_FILE_NAME};
use mantra_detect::filter::base62_fixed;
use mantra_detect::finding::{fingerprint, DEFAULT_FINGERPRINT_KEY};

/// The binary under test.
pub const MANTRA: &str = env!("CARGO_BIN_EXE_mantra");

/// A GitHub classic token with a valid checksum, fixed (for outputs that
/// must not change from run to run; never printed in clear).
pub const SECRET: &str = "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";

/// The repository's top directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ is inside the workspace")
        .to_path_buf()
}

/// `samples/`: eight planted secrets in AI session transcripts, and a
/// placeholder file without any.
pub fn samples() -> PathBuf {
    workspace().join("samples")
}

/// An isolated machine (see the module documentation).
pub struct Machine {
    tmp: tempfile::TempDir,
    /// `MANTRA_TEST_ROOT`: stands for `/`.
    pub root: PathBuf,
    /// `HOME` (`root/home`).
    pub home: PathBuf,
    /// `MANTRA_HOME`, the data directory; absent until something makes it.
    pub data: PathBuf,
    /// Where commands run unless told otherwise: outside any repository.
    pub work: PathBuf,
    /// `GIT_CONFIG_GLOBAL`.
    pub git_global: PathBuf,
    /// `GIT_CONFIG_SYSTEM` (not created: git makes it when written to).
    pub git_system: PathBuf,
    vars: BTreeMap<OsString, OsString>,
}

impl Default for Machine {
    fn default() -> Self {
        Machine::new()
    }
}

impl Machine {
    pub fn new() -> Machine {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let root = tmp.path().join("root");
        let home = root.join("home");
        let work = tmp.path().join("work");
        for dir in [&root, &home, &work, &tmp.path().join("tmp")] {
            std::fs::create_dir_all(dir).expect("machine directories");
        }
        // Policy files are refused under directories others may write.
        mkdirs_0755(&root, &root.join("etc"));
        let git_global = home.join(".gitconfig");
        std::fs::write(
            &git_global,
            "[user]\n\tname = Mantra Test\n\temail = test@example.invalid\n\
             [init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("global git config");
        Machine {
            git_system: root.join("etc/gitconfig"),
            data: tmp.path().join("data"),
            tmp,
            root,
            home,
            work,
            git_global,
            vars: BTreeMap::new(),
        }
    }

    /// The machine's top directory: scratch space outside `root`, for
    /// repositories, shim directories and files given as arguments.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Adds (or replaces) a variable for every process started from now on.
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.vars
            .insert(key.as_ref().to_owned(), value.as_ref().to_owned());
        self
    }

    /// Removes a variable set with [`Machine::set_env`] (or a base one).
    pub fn remove_env(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.vars.remove(key.as_ref());
        self
    }

    /// Every variable a process of this machine gets.
    pub fn vars(&self) -> BTreeMap<OsString, OsString> {
        let mut v: BTreeMap<OsString, OsString> = BTreeMap::new();
        let mut set = |k: &str, val: &OsStr| {
            v.insert(k.into(), val.to_owned());
        };
        set("PATH", &std::env::var_os("PATH").unwrap_or_default());
        set("HOME", self.home.as_os_str());
        set("USER", "tester".as_ref());
        set("LOGNAME", "tester".as_ref());
        set("XDG_CONFIG_HOME", self.home.join(".config").as_os_str());
        set("XDG_DATA_HOME", self.home.join(".local/share").as_os_str());
        set("XDG_CACHE_HOME", self.home.join(".cache").as_os_str());
        set("XDG_STATE_HOME", self.home.join(".local/state").as_os_str());
        set("TMPDIR", self.path().join("tmp").as_os_str());
        set("MANTRA_HOME", self.data.as_os_str());
        set("MANTRA_KEY_STORE", "file".as_ref());
        set("MANTRA_TEST_ROOT", self.root.as_os_str());
        set("GIT_CONFIG_GLOBAL", self.git_global.as_os_str());
        set("GIT_CONFIG_SYSTEM", self.git_system.as_os_str());
        set("GIT_TERMINAL_PROMPT", "0".as_ref());
        set("LC_ALL", "C".as_ref());
        set("TZ", "UTC".as_ref());
        v.extend(self.vars.clone());
        v
    }

    /// `program` with the machine's environment, run in [`Machine::work`],
    /// no standard input.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .envs(self.vars())
            .current_dir(&self.work)
            .stdin(Stdio::null());
        c
    }

    /// `mantra args`, ready to run or assert on.
    pub fn mantra<I, S>(&self, args: I) -> assert_cmd::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = self.command(MANTRA);
        c.args(args);
        assert_cmd::Command::from_std(c)
    }

    /// Runs `mantra args` in [`Machine::work`].
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.mantra(args).output().expect("run mantra")
    }

    /// Runs `mantra args` in `dir`.
    pub fn run_in<I, S>(&self, dir: &Path, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.mantra(args)
            .current_dir(dir)
            .output()
            .expect("run mantra")
    }

    /// Runs `mantra args`, requires success, returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let assert = self.mantra(args).assert().success();
        stdout(assert.get_output())
    }

    /// Runs `mantra args` in `dir`, requires success, returns stdout.
    pub fn ok_in<I, S>(&self, dir: &Path, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let assert = self.mantra(args).current_dir(dir).assert().success();
        stdout(assert.get_output())
    }

    /// Runs `mantra args`, requires success, parses stdout as JSON.
    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        serde_json::from_str(&self.ok(args)).expect("JSON on stdout")
    }

    // --- files -----------------------------------------------------------

    /// Writes `path` (making its directories).
    pub fn write(&self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("directories");
        }
        std::fs::write(path, contents).expect("write file");
    }

    /// Writes `rel` under the root as an administrator would: the file
    /// 0644, its directories 0755 (policy sources under group- or
    /// world-writable places are refused).
    pub fn write_rooted(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(rel);
        let dir = path.parent().expect("a file under the root");
        mkdirs_0755(&self.root, dir);
        std::fs::write(&path, contents).expect("write rooted file");
        chmod(&path, 0o644);
        path
    }

    /// Binds the machine's syslog socket, `/dev/log` under the root, where
    /// a `test-roots` build mirrors every compliance event.
    #[cfg(unix)]
    pub fn os_log(&self) -> OsLogSink {
        let path = self.root.join("dev/log");
        mkdirs_0755(&self.root, path.parent().expect("dev"));
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind /dev/log");
        socket.set_nonblocking(true).expect("non-blocking");
        OsLogSink { socket, path }
    }

    /// The machine's policy file, `/etc/mantra/policy.yaml` (test-roots
    /// builds read it).
    pub fn policy(&self, yaml: &str) -> PathBuf {
        self.write_rooted("etc/mantra/policy.yaml", yaml)
    }

    /// The user's `~/.config/mantra/config.yaml` (every build reads it: it
    /// is at `HOME/.config` and at `root/home/.config` alike).
    pub fn user_config(&self, yaml: &str) -> PathBuf {
        let path = self.home.join(".config/mantra/config.yaml");
        self.write(&path, yaml);
        path
    }

    /// Replaces the hook settings with this JSON of `HookConfig` fields
    /// (`MANTRA_HOOKS_CONFIG`; test-roots builds only).
    pub fn hooks_config(&mut self, json: &str) {
        let path = self.path().join("hooks-config.json");
        self.write(&path, json);
        self.set_env("MANTRA_HOOKS_CONFIG", path);
    }

    /// Appends JSONL `lines` to Claude Code session `sid` of project `cwd`
    /// (`~/.claude/projects/<cwd with / as ->/<sid>.jsonl`); returns its path.
    pub fn claude_session(&self, cwd: &str, sid: &str, lines: &[String]) -> PathBuf {
        let dir = self
            .home
            .join(".claude/projects")
            .join(cwd.replace('/', "-"));
        std::fs::create_dir_all(&dir).expect("session directory");
        let file = dir.join(format!("{sid}.jsonl"));
        let mut body = std::fs::read_to_string(&file).unwrap_or_default();
        body.extend(lines.iter().map(String::as_str));
        std::fs::write(&file, body).expect("write session");
        file
    }

    /// Writes the exposure list, as the agent does, with these
    /// `(secret, rule id)` exposed in Claude Code sessions
    /// `session-<i>-4f2a`.
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
        std::fs::create_dir_all(&self.data).expect("data directory");
        list.write(&self.data.join(EXPOSURE_FILE_NAME))
            .expect("write exposure list");
    }

    // --- git -------------------------------------------------------------

    /// `git args` in `dir`, run as is (hooks included).
    pub fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run git")
    }

    /// `git args` in `dir`; requires success, returns stdout trimmed.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out).trim().to_string()
    }

    /// A new repository `<path()>/<name>` (`sha256`: SHA-256 objects).
    pub fn repo(&self, name: &str, sha256: bool) -> PathBuf {
        let mut args = vec!["init", "-q"];
        if sha256 {
            args.push("--object-format=sha256");
        }
        args.push(name);
        self.git(self.path(), &args);
        self.path().join(name)
    }

    /// A bare remote `<name>.git` and a repository `<name>` with it as
    /// `origin`: `(remote, repo)`.
    pub fn remote_and_clone(&self, name: &str, sha256: bool) -> (PathBuf, PathBuf) {
        let bare = format!("{name}.git");
        let mut args = vec!["init", "-q", "--bare"];
        if sha256 {
            args.push("--object-format=sha256");
        }
        args.push(&bare);
        self.git(self.path(), &args);
        let repo = self.repo(name, sha256);
        let remote = self.path().join(&bare);
        self.git(
            &repo,
            &["remote", "add", "origin", remote.to_str().expect("utf-8")],
        );
        (remote, repo)
    }

    /// Writes `path` in `repo` and stages it.
    pub fn add(&self, repo: &Path, path: &str, content: &[u8]) {
        self.write(repo.join(path), content);
        self.git(repo, &["add", "--", path]);
    }

    /// `git commit` (hooks run); the output, success or not.
    pub fn commit(&self, repo: &Path, msg: &str) -> Output {
        self.git_output(repo, &["commit", "-q", "-m", msg])
    }

    /// `git commit --no-verify`, to set up history; must succeed.
    pub fn commit_no_verify(&self, repo: &Path, msg: &str) {
        self.git(repo, &["commit", "-q", "--no-verify", "-m", msg]);
    }

    /// `git push -q args` (hooks run); the output, success or not.
    pub fn push(&self, repo: &Path, args: &[&str]) -> Output {
        let mut all = vec!["push", "-q"];
        all.extend_from_slice(args);
        self.git_output(repo, &all)
    }

    /// `mantra hooks install --scope repo` in `repo`; its stdout.
    pub fn install_repo_hooks(&self, repo: &Path) -> String {
        self.ok_in(repo, ["hooks", "install", "--scope", "repo"])
    }

    /// `mantra hooks install --scope <scope> --dir <shims>` (`global` or
    /// `system`: `core.hooksPath` in that git config); its stdout.
    pub fn install_hooks(&self, scope: &str, shims: &Path) -> String {
        self.hooks_at_scope("install", scope, shims)
    }

    /// `mantra hooks uninstall --scope <scope> --dir <shims>`; its stdout.
    pub fn uninstall_hooks(&self, scope: &str, shims: &Path) -> String {
        self.hooks_at_scope("uninstall", scope, shims)
    }

    fn hooks_at_scope(&self, verb: &str, scope: &str, shims: &Path) -> String {
        let assert = self
            .mantra(["hooks", verb, "--scope", scope, "--dir"])
            .arg(shims)
            .assert()
            .success();
        stdout(assert.get_output())
    }

    /// Installs a hook of the repository's own that records each run (its
    /// arguments and stdin) in the returned marker file.
    pub fn existing_hook(&self, repo: &Path, hook: &str) -> PathBuf {
        let hooks = PathBuf::from(self.git(
            repo,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ))
        .join("hooks");
        let marker = self.path().join(format!(
            "{}-{hook}.marker",
            repo.file_name().and_then(|n| n.to_str()).unwrap_or("repo")
        ));
        let script = format!(
            "#!/bin/sh\n# the repository's own hook\necho \"ran $*\" >> '{m}'\ncat >> '{m}' || true\nexit 0\n",
            m = marker.display()
        );
        write_executable(&hooks.join(hook), &script);
        marker
    }

    // --- the agent -------------------------------------------------------

    /// `mantra agent run args`, once it holds its lock and watches.
    pub fn start_agent(&self, args: &[&str]) -> Agent {
        let mut cmd = self.command(MANTRA);
        cmd.args(["agent", "run"]).args(args);
        self.spawn_agent(cmd)
    }

    /// Starts `cmd` (an agent, however launched) with stdout discarded and
    /// stderr kept in a file, and waits until it holds `<data>/agent.lock`
    /// with its pid (the contract with doctor) and says it is watching: its
    /// start-up (the engine build) is over, so a stop from then on is a
    /// clean one. Fails when it exits first or takes over a minute.
    pub fn spawn_agent(&self, mut cmd: Command) -> Agent {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = self.path().join(format!("agent-{n}.stderr"));
        let err = std::fs::File::create(&log).expect("agent stderr file");
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn the agent");
        let pid = child.id().to_string();
        let lock = self.data.join("agent.lock");
        let deadline = Instant::now() + Duration::from_secs(60);
        let said = || std::fs::read_to_string(&log).unwrap_or_default();
        let started = || {
            std::fs::read_to_string(&lock).unwrap_or_default().trim() == pid
                && said().contains("agent watching")
        };
        while !started() {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("the agent exited at start: {status}\n{}", said());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the agent (pid {pid}) never started: {lock:?} holds {:?}; stderr:\n{}",
                    std::fs::read_to_string(&lock),
                    said()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Agent { child: Some(child) }
    }
}

/// A running agent; killed (SIGKILL) if still running when dropped.
pub struct Agent {
    child: Option<Child>,
}

impl Agent {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("a running agent")
    }

    /// SIGTERM, as a service manager stops it; its exit status (a minute
    /// at most, then the test fails).
    pub fn stop(self) -> ExitStatus {
        self.stop_within(Duration::from_secs(60))
    }

    /// SIGTERM; fails when it has not exited within `limit`.
    pub fn stop_within(mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("a running agent");
        signal(&child, "TERM");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the agent did not stop on SIGTERM within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("a running agent");
        child.kill().expect("SIGKILL");
        child.wait().expect("wait")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// --- processes -------------------------------------------------------------

/// Sends `SIG<sig>` (`"TERM"`, `"INT"`, …) to `child` with kill(1).
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -{sig} {}", child.id());
}

/// Waits for `child` at most `limit`; kills it and fails when it is still
/// running then (a hang, not a slow run: give a generous limit).
pub fn finish_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

// --- outputs ---------------------------------------------------------------

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the command was blocked by Mantra; returns its stderr.
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

/// Asserts success; returns stderr.
#[track_caller]
pub fn assert_ok(out: &Output) -> String {
    let err = stderr(out);
    assert!(out.status.success(), "expected success:\n{err}");
    err
}

/// The secret must never appear in `text`.
#[track_caller]
pub fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "secret leaked in output:\n{text}");
}

// --- test secrets, made at run time (never committed literals) -------------

fn random_u64() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A GitHub classic token with a valid checksum, random each call.
pub fn github_token() -> String {
    github_token_seeded(random_u64())
}

/// A GitHub classic token with a valid checksum, the same for a seed.
pub fn github_token_seeded(seed: u64) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed | 1;
    let body: String = (0..30)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BASE62[(x % 62) as usize] as char
        })
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

/// A password no rule matches on its own, random each call.
pub fn bare_password() -> String {
    format!("Tr0ub4dor{}horse", random_u64() % 1_000_000)
}

// --- session transcripts -----------------------------------------------------

/// One Claude Code user record, as a JSONL line.
pub fn user_line(sid: &str, cwd: &str, uuid: &str, ts: &str, text: &str) -> String {
    serde_json::json!({"type": "user", "sessionId": sid, "cwd": cwd, "uuid": uuid,
        "timestamp": ts, "message": {"role": "user", "content": text}})
    .to_string()
        + "\n"
}

/// One Claude Code assistant record (message `id`), as a JSONL line.
pub fn assistant_line(sid: &str, cwd: &str, uuid: &str, id: &str, ts: &str, text: &str) -> String {
    serde_json::json!({"type": "assistant", "sessionId": sid, "cwd": cwd, "uuid": uuid,
        "timestamp": ts,
        "message": {"id": id, "role": "assistant", "content": [{"type": "text", "text": text}]}})
    .to_string()
        + "\n"
}

// --- files -------------------------------------------------------------------

/// Copies the directory `from` to `to`, recursively (a fixture into a
/// machine, say).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory");
    for entry in std::fs::read_dir(from).expect("read directory") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

// --- file modes --------------------------------------------------------------

pub fn chmod(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

pub fn mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0
    }
}

/// Writes an executable (0755) script, making its directories.
pub fn write_executable(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("directories");
    }
    std::fs::write(path, text).expect("write script");
    chmod(path, 0o755);
}

/// Makes `dir` and its parents up to `top` (excluded), each 0755.
fn mkdirs_0755(top: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).expect("directories");
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| *p != top && p.starts_with(top)) {
        chmod(p, 0o755);
        d = p.parent();
    }
}

/// The machine's syslog socket ([`Machine::os_log`]); unbound when dropped.
#[cfg(unix)]
pub struct OsLogSink {
    socket: std::os::unix::net::UnixDatagram,
    path: PathBuf,
}

#[cfg(unix)]
impl OsLogSink {
    /// Every datagram received so far, in order.
    pub fn datagrams(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 128 * 1024];
        while let Ok(n) = self.socket.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        out
    }

    /// The mirrored events received so far: each datagram's message
    /// (`{"seq":…,"hash":…,"record":{…}}`), parsed.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.datagrams()
            .iter()
            .map(|d| {
                assert!(d.contains(" mantra["), "identifier: {d}");
                let message = d.split_once("]: ").expect("syslog header").1;
                serde_json::from_str(message).expect("a JSON message")
            })
            .collect()
    }
}

#[cfg(unix)]
impl Drop for OsLogSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
