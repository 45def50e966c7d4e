#![allow(clippy::unwrap_used)]
//! The installers, run for real: `installer/install.sh` with the real
//! `mantra` binary and real git into a temporary `--root`, with HOME, XDG,
//! MANTRA_HOME and the git config files isolated. A snapshot of the root
//! (every path, its type, mode and contents) proves that a second run
//! changes nothing and that `--uninstall` puts the machine back as it was.
//! Also: the service definition files, shellcheck over every shell script,
//! and a syntax check of install.ps1 where its parser is available.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{mode, write_executable, Agent, Machine, MANTRA};

/// A policy that requires both scanning hooks.
const POLICY: &str = "hooks:\n  required: [pre-commit, pre-push]\n";

fn installer_dir() -> PathBuf {
    support::workspace().join("installer")
}

/// A machine as the installer finds it: `/etc` with a file and
/// `/usr/local/bin` with another program (both must be exactly as they were
/// after `--uninstall`), a policy file to install, and a repository with a
/// hook of its own, which must survive everything.
fn machine() -> Machine {
    let m = Machine::new();
    std::fs::write(m.root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    write_executable(
        &m.root.join("usr/local/bin/other-tool"),
        "#!/bin/sh\necho other\n",
    );
    std::fs::write(m.policy_file(), POLICY).unwrap();
    m.git(m.path(), &["init", "-q", "repo"]);
    // The repository's own hook records that it ran.
    let marker = m.path().join("repo-hook-ran");
    write_executable(
        &m.repo_dir().join(".git/hooks/pre-commit"),
        &format!("#!/bin/sh\necho ran >> '{}'\n", marker.display()),
    );
    m
}

/// The installer's view of a [`Machine`].
trait Installer {
    /// The policy file given to `--policy`.
    fn policy_file(&self) -> PathBuf;
    /// The repository with a hook of its own.
    fn repo_dir(&self) -> PathBuf;
    fn install_sh(&self, args: &[&str]) -> Output;
    fn install_sh_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output;
    fn install_ok(&self, args: &[&str]) -> String;
    /// `git config --system core.hooksPath`, if set.
    fn system_hooks_path(&self) -> Option<String>;
    /// Everything an install could touch: the root (the user's home and
    /// global git config are in it), the repository's hooks.
    fn snapshot(&self) -> BTreeMap<String, String>;
    /// With modification times too: proves that nothing was even
    /// rewritten (an uninstall necessarily touches the directories it
    /// empties, so only the second-run comparison uses this).
    fn snapshot_with(&self, times: bool) -> BTreeMap<String, String>;
}

impl Installer for Machine {
    fn policy_file(&self) -> PathBuf {
        self.path().join("policy.yaml")
    }

    fn repo_dir(&self) -> PathBuf {
        self.path().join("repo")
    }

    fn install_sh(&self, args: &[&str]) -> Output {
        self.install_sh_env(args, &[])
    }

    /// `sh installer/install.sh --root <root> args`. TMPDIR is the
    /// machine's, outside the root, so the snapshot does not see template
    /// renderings.
    fn install_sh_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.command("sh");
        cmd.arg(installer_dir().join("install.sh"))
            .arg("--root")
            .arg(&self.root)
            .args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn install_ok(&self, args: &[&str]) -> String {
        let out = self.install_sh(args);
        assert!(
            out.status.success(),
            "install.sh {args:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn system_hooks_path(&self) -> Option<String> {
        let out = self
            .command("git")
            .args(["config", "--system", "--get", "core.hooksPath"])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn snapshot(&self) -> BTreeMap<String, String> {
        self.snapshot_with(false)
    }

    fn snapshot_with(&self, times: bool) -> BTreeMap<String, String> {
        let mut snap = BTreeMap::new();
        walk(&self.root, &self.root, "root", times, &mut snap);
        let hooks = self.repo_dir().join(".git/hooks");
        walk(&hooks, &hooks, "repo-hooks", times, &mut snap);
        snap
    }
}

/// Path -> "kind mode contents" for every entry under `dir`.
fn walk(base: &Path, dir: &Path, label: &str, times: bool, snap: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        let rel = format!("{label}/{}", path.strip_prefix(base).unwrap().display());
        let md = std::fs::symlink_metadata(&path).unwrap();
        let mut mode = format!("{:o}", md.permissions().mode() & 0o7777);
        if times {
            mode.push_str(&format!(" mtime {:?}", md.modified().unwrap()));
        }
        if md.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            snap.insert(rel, format!("link {}", target.display()));
        } else if md.is_dir() {
            snap.insert(rel, format!("dir {mode}"));
            walk(base, &path, label, times, snap);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            // Contents as text when they are, else their length and a hash
            // (the binary).
            let body = match String::from_utf8(bytes.clone()) {
                Ok(s) => s,
                Err(_) => format!("{} bytes crc {:08x}", bytes.len(), crc32fast::hash(&bytes)),
            };
            snap.insert(rel, format!("file {mode}\n{body}"));
        }
    }
}

fn assert_same(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>, what: &str) {
    let only_before: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let only_after: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        only_before.is_empty() && only_after.is_empty() && changed.is_empty(),
        "{what}: gone {only_before:?}, new {only_after:?}, changed {changed:?}"
    );
}

fn template(name: &str, bindir: &str) -> String {
    std::fs::read_to_string(installer_dir().join(name))
        .unwrap()
        .replace("@BINDIR@", bindir)
}

/// The ExecStart command line of a systemd unit, split on spaces (the
/// installer refuses prefixes that would need quoting).
fn exec_start(unit: &str) -> Vec<String> {
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    line.split_whitespace().map(str::to_string).collect()
}

fn has_systemctl() -> bool {
    Command::new("systemctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts the agent the way systemd would, from the installed unit's
/// ExecStart (the program re-rooted), once it holds its lock.
fn start_agent_from_unit(m: &Machine, unit: &str) -> Agent {
    let argv = exec_start(unit);
    let mut cmd = m.command(m.root.join(argv[0].trim_start_matches('/')));
    cmd.args(&argv[1..]);
    m.spawn_agent(cmd)
}

#[test]
fn install_twice_then_uninstall_leaves_the_machine_as_it_was() {
    let m = machine();
    let before = m.snapshot();
    let policy_file = m.policy_file();
    let policy = policy_file.to_str().unwrap();

    let out = m.install_ok(&["--binary", MANTRA, "--policy", policy, "--hooks"]);
    assert!(out.contains("Mantra installed"), "{out}");

    // The binary, runnable.
    let bin = m.root.join("usr/local/bin/mantra");
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(MANTRA).unwrap());
    assert_eq!(mode(&bin), 0o755);
    let version = m.command(&bin).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("mantra "));

    // The systemd user unit, with the real bindir (not the root's).
    let unit_path = m.root.join("etc/systemd/user/mantra-agent.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    assert_eq!(exec_start(&unit), ["/usr/local/bin/mantra", "agent", "run"]);
    assert_eq!(
        unit,
        template("linux/mantra-agent.service", "/usr/local/bin")
    );
    assert_eq!(mode(&unit_path), 0o644);
    // Enabled for every user (inside the root: systemctl --root), or the
    // manual step printed where systemctl is missing.
    let wants = m
        .root
        .join("etc/systemd/user/default.target.wants/mantra-agent.service");
    if has_systemctl() {
        assert_eq!(
            std::fs::read_link(&wants).unwrap(),
            Path::new("/etc/systemd/user/mantra-agent.service")
        );
    } else {
        assert!(
            out.contains("systemctl --global enable mantra-agent.service"),
            "{out}"
        );
    }

    // The policy.
    let installed_policy = m.root.join("etc/mantra/policy.yaml");
    assert_eq!(std::fs::read_to_string(&installed_policy).unwrap(), POLICY);
    assert_eq!(mode(&installed_policy), 0o644);

    // The hooks: system core.hooksPath at the shim directory, shims
    // executable, and they run the repository's own hook too.
    let shims = m.root.join("usr/local/lib/mantra/git-hooks");
    assert_eq!(
        m.system_hooks_path().as_deref(),
        Some(shims.to_str().unwrap())
    );
    for hook in ["pre-commit", "pre-push"] {
        let shim = shims.join(hook);
        assert_eq!(mode(&shim) & 0o111, 0o111, "{hook} executable");
        let text = std::fs::read_to_string(&shim).unwrap();
        assert!(text.contains("mantra-managed-hook"), "{hook} is a shim");
        assert!(text.contains(bin.to_str().unwrap()), "{hook} runs {bin:?}");
    }
    std::fs::write(m.repo_dir().join("notes.txt"), "nothing secret\n").unwrap();
    m.git(&m.repo_dir(), &["add", "notes.txt"]);
    m.git(&m.repo_dir(), &["commit", "-q", "-m", "notes"]);
    assert!(
        m.path().join("repo-hook-ran").exists(),
        "the repository's own pre-commit hook ran through the shim"
    );

    // The manifest records what was installed, nothing that was there.
    let manifest =
        std::fs::read_to_string(m.root.join("usr/local/lib/mantra/install-manifest")).unwrap();
    if has_systemctl() {
        assert!(manifest
            .lines()
            .any(|l| l == "systemd-global-enabled mantra-agent.service"));
    }
    for line in [
        "file /usr/local/bin/mantra",
        "policy /etc/mantra/policy.yaml",
        "file /etc/systemd/user/mantra-agent.service",
        "hooks /usr/local/lib/mantra/git-hooks",
        "dir /etc/mantra",
    ] {
        assert!(manifest.lines().any(|l| l == line), "{line} in\n{manifest}");
    }
    for pre_existing in ["dir /etc", "dir /usr/local/bin", "dir /usr"] {
        assert!(!manifest.lines().any(|l| l == pre_existing), "{manifest}");
    }

    // Second run: nothing changes.
    let installed = m.snapshot_with(true);
    let again = m.install_ok(&["--binary", MANTRA, "--policy", policy, "--hooks"]);
    assert!(again.contains("already installed"), "{again}");
    assert!(again.contains("nothing changed"), "{again}");
    assert!(
        !again.lines().any(|l| l.starts_with("installed ")),
        "{again}"
    );
    assert_same(&installed, &m.snapshot_with(true), "second run");

    // The agent, started with the unit's command line, runs; doctor is
    // green with that policy (test-roots builds read it from the root,
    // find the unit and the hooks there).
    {
        let _agent = start_agent_from_unit(&m, &unit);
        #[cfg(feature = "test-roots")]
        {
            // Its first pass (nothing to index here) ends with the exposure
            // list written; doctor checks that list.
            let exposures = m.data.join(mantra_core::exposure::EXPOSURE_FILE_NAME);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !exposures.exists() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the agent never wrote {exposures:?}"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let out = m
                .command(&bin)
                .args(["doctor", "--format", "json", "--repo"])
                .arg(m.repo_dir())
                .output()
                .unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(0), "mantra doctor: {doc:#}");
            assert_eq!(doc["compliant"], true);
            let check = |id: &str| {
                doc["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["id"] == id)
                    .unwrap()
                    .clone()
            };
            for id in ["policy", "hooks", "agent-running"] {
                assert_eq!(check(id)["status"], "ok", "{doc:#}");
            }
            if has_systemctl() {
                assert_eq!(check("agent-registered")["status"], "ok", "{doc:#}");
            }
        }
    }

    let out = m.install_ok(&["--uninstall"]);
    assert!(out.contains("Mantra uninstalled"), "{out}");
    assert_eq!(m.system_hooks_path(), None);
    assert_same(&before, &m.snapshot(), "after --uninstall");
    // The repository's own hook is still there and still its own.
    let own = std::fs::read_to_string(m.repo_dir().join(".git/hooks/pre-commit")).unwrap();
    assert!(own.contains("repo-hook-ran"), "{own}");
}

#[test]
fn existing_different_policy_is_kept_without_force_and_restored_by_uninstall() {
    let m = machine();
    let theirs = "hooks:\n  fail_closed: true\n";
    std::fs::create_dir_all(m.root.join("etc/mantra")).unwrap();
    std::fs::write(m.root.join("etc/mantra/policy.yaml"), theirs).unwrap();
    let before = m.snapshot();
    let policy_file = m.policy_file();
    let policy = policy_file.to_str().unwrap();

    let out = m.install_sh(&["--binary", MANTRA, "--policy", policy]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not replaced") && err.contains("--force"),
        "{err}"
    );
    assert_same(&before, &m.snapshot(), "a refused run changes nothing");

    let out = m.install_ok(&["--binary", MANTRA, "--policy", policy, "--force"]);
    assert!(out.contains("kept the existing policy"), "{out}");
    assert_eq!(
        std::fs::read_to_string(m.root.join("etc/mantra/policy.yaml")).unwrap(),
        POLICY
    );
    // Idempotent with --force too: the backup is not overwritten by ours.
    m.install_ok(&["--binary", MANTRA, "--policy", policy, "--force"]);
    m.install_ok(&["--uninstall"]);
    assert_eq!(
        std::fs::read_to_string(m.root.join("etc/mantra/policy.yaml")).unwrap(),
        theirs
    );
    assert_same(&before, &m.snapshot(), "after --uninstall");
}

#[test]
fn identical_pre_existing_policy_is_left_by_uninstall() {
    let m = machine();
    std::fs::create_dir_all(m.root.join("etc/mantra")).unwrap();
    std::fs::write(m.root.join("etc/mantra/policy.yaml"), POLICY).unwrap();
    let before = m.snapshot();
    let out = m.install_ok(&[
        "--binary",
        MANTRA,
        "--policy",
        m.policy_file().to_str().unwrap(),
    ]);
    assert!(out.contains("not installed by this script"), "{out}");
    m.install_ok(&["--uninstall"]);
    assert_same(&before, &m.snapshot(), "after --uninstall");
}

#[test]
fn foreign_system_hooks_path_is_kept_without_force_and_restored_by_uninstall() {
    let m = machine();
    let theirs = "[core]\n\thooksPath = /opt/corp-hooks\n";
    std::fs::write(&m.git_system, theirs).unwrap();
    let before = m.snapshot();

    let out = m.install_sh(&["--binary", MANTRA, "--hooks"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/opt/corp-hooks") && err.contains("--force"),
        "{err}"
    );
    assert_same(&before, &m.snapshot(), "a refused run changes nothing");

    m.install_ok(&["--binary", MANTRA, "--hooks", "--force"]);
    let shims = m.root.join("usr/local/lib/mantra/git-hooks");
    assert_eq!(
        m.system_hooks_path().as_deref(),
        Some(shims.to_str().unwrap())
    );
    m.install_ok(&["--uninstall"]);
    assert_eq!(m.system_hooks_path().as_deref(), Some("/opt/corp-hooks"));
    assert_same(&before, &m.snapshot(), "after --uninstall");
}

#[test]
fn dry_run_changes_nothing() {
    let m = machine();
    let before = m.snapshot();
    let out = m.install_ok(&[
        "--binary",
        MANTRA,
        "--policy",
        m.policy_file().to_str().unwrap(),
        "--hooks",
        "--dry-run",
    ]);
    assert!(
        out.contains("would install") && out.contains("nothing changed"),
        "{out}"
    );
    assert_same(&before, &m.snapshot(), "--dry-run");
    // Nothing recorded, so nothing to uninstall.
    let out = m.install_ok(&["--uninstall"]);
    assert!(out.contains("nothing to uninstall"), "{out}");

    // A dry-run uninstall of a real install changes nothing either.
    m.install_ok(&[
        "--binary",
        MANTRA,
        "--policy",
        m.policy_file().to_str().unwrap(),
    ]);
    let installed = m.snapshot();
    let out = m.install_ok(&["--uninstall", "--dry-run"]);
    assert!(
        out.contains("would remove") && out.contains("nothing changed"),
        "{out}"
    );
    assert_same(&installed, &m.snapshot(), "--uninstall --dry-run");
}

#[test]
fn no_service_installs_no_unit() {
    let m = machine();
    m.install_ok(&["--binary", MANTRA, "--no-service"]);
    assert!(m.root.join("usr/local/bin/mantra").exists());
    assert!(!m.root.join("etc/systemd").exists());
}

#[test]
fn macos_layout_under_a_root() {
    let m = machine();
    let before = m.snapshot();
    let policy_file = m.policy_file();
    let policy = policy_file.to_str().unwrap();
    let out = m.install_sh_env(
        &[
            "--binary",
            MANTRA,
            "--policy",
            policy,
            "--prefix",
            "/opt/mantra",
        ],
        &[("MANTRA_INSTALL_OS", "macos")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plist_path = m.root.join("Library/LaunchAgents/com.mantra.agent.plist");
    let plist = plist::Value::from_file(&plist_path).unwrap();
    let dict = plist.as_dictionary().unwrap();
    let args: Vec<&str> = dict["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect();
    assert_eq!(args, ["/opt/mantra/bin/mantra", "agent", "run"]);
    assert_eq!(
        std::fs::read_to_string(
            m.root
                .join("Library/Application Support/Mantra/policy.yaml")
        )
        .unwrap(),
        POLICY
    );
    assert!(m.root.join("opt/mantra/bin/mantra").exists());
    let out = m.install_sh_env(
        &["--uninstall", "--prefix", "/opt/mantra"],
        &[("MANTRA_INSTALL_OS", "macos")],
    );
    assert!(out.status.success());
    assert_same(&before, &m.snapshot(), "after --uninstall");
}

#[test]
fn bad_options_are_usage_errors() {
    let m = machine();
    let before = m.snapshot();
    for args in [
        &["--bogus"][..],
        &["--prefix", "relative/dir"],
        &["--prefix", "/opt/with space"],
        &["--binary"],
    ] {
        let out = m.install_sh(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = m.install_sh(&["--binary", "/nonexistent/mantra"]);
    assert_eq!(out.status.code(), Some(1));
    assert_same(&before, &m.snapshot(), "refused runs change nothing");
    let help = m.install_ok(&["--help"]);
    for option in [
        "--binary",
        "--prefix",
        "--root",
        "--policy",
        "--hooks",
        "--no-service",
        "--force",
        "--uninstall",
        "--dry-run",
    ] {
        assert!(help.contains(option), "--help documents {option}");
    }
}

#[test]
fn launch_agent_plist_has_the_background_agent_keys() {
    let plist =
        plist::Value::from_file(installer_dir().join("macos/com.mantra.agent.plist")).unwrap();
    let d = plist.as_dictionary().unwrap();
    assert_eq!(d["Label"].as_string(), Some("com.mantra.agent"));
    assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
    assert!(d["KeepAlive"].as_dictionary().is_some());
    assert_eq!(d["ProcessType"].as_string(), Some("Background"));
    assert_eq!(d["LowPriorityIO"].as_boolean(), Some(true));
    // One plist serves every user: a fixed output path (e.g. in /tmp) would
    // belong to the first user and make every other user's agent fail to
    // start. The agent logs to its own data directory instead.
    assert!(!d.contains_key("StandardOutPath") && !d.contains_key("StandardErrorPath"));
    let args = d["ProgramArguments"].as_array().unwrap();
    assert_eq!(args[0].as_string(), Some("@BINDIR@/mantra"));
}

#[test]
fn windows_task_runs_at_logon_for_users_and_restarts() {
    let text =
        std::fs::read_to_string(installer_dir().join("windows/mantra-agent-task.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .unwrap_or_else(|| panic!("<{name}>"))
    };
    assert!(find("LogonTrigger")
        .children()
        .all(|c| !c.has_tag_name("UserId")));
    assert_eq!(find("GroupId").text(), Some("S-1-5-32-545"));
    assert_eq!(find("RunLevel").text(), Some("LeastPrivilege"));
    assert!(find("RestartOnFailure")
        .children()
        .any(|c| c.has_tag_name("Count")));
    assert_eq!(find("Command").text(), Some("@BINDIR@\\mantra.exe"));
    assert_eq!(find("Arguments").text(), Some("agent run"));
}

#[test]
fn systemd_unit_verifies() {
    // systemd-analyze reports unknown or misplaced keys; it needs the
    // ExecStart program to exist, so point the unit at the built binary.
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bindir = Path::new(MANTRA).parent().unwrap().to_str().unwrap();
    let unit = tmp.path().join("mantra-agent.service");
    std::fs::write(&unit, template("linux/mantra-agent.service", bindir)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let own: Vec<&str> = err.lines().filter(|l| l.contains("mantra-agent")).collect();
    assert!(own.is_empty(), "systemd-analyze verify: {own:?}");
}

/// Every shell script the installer ships.
fn shell_scripts() -> Vec<PathBuf> {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                visit(&p, out);
            } else if p.extension().is_some_and(|x| x == "sh")
                || p.file_name().is_some_and(|n| n == "postinstall")
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    visit(&installer_dir(), &mut out);
    out.sort();
    out
}

#[test]
fn shell_scripts_are_shellcheck_clean() {
    let scripts = shell_scripts();
    for name in ["install.sh", "build-pkg.sh", "postinstall"] {
        assert!(
            scripts.iter().any(|p| p.ends_with(name)),
            "{name} among {scripts:?}"
        );
    }
    if Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "shellcheck is missing on CI (scripts/deps.sh installs it)"
        );
        eprintln!("skipped: shellcheck is not installed (apt-get install shellcheck)");
        return;
    }
    let out = Command::new("shellcheck")
        .args(["--severity=style", "--external-sources"])
        .args(&scripts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn install_ps1_parses() {
    // PowerShell itself cannot be installed here; the tree-sitter grammar
    // (pip install tree-sitter tree-sitter-powershell) catches syntax
    // errors. Skipped when the module is missing.
    let check = installer_dir().join("windows/check-ps1.py");
    let probe = Command::new("python3")
        .args(["-c", "import tree_sitter, tree_sitter_powershell"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with tree_sitter_powershell is not installed");
        return;
    }
    let out = Command::new("python3")
        .arg(&check)
        .arg(installer_dir().join("install.ps1"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The checker itself finds errors.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ps1");
    std::fs::write(&bad, "function f( { $x = \n").unwrap();
    let out = Command::new("python3")
        .arg(&check)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn default_binary_is_the_one_beside_the_script() {
    let m = machine();
    // A release archive: the installer folder with the binary in it.
    let dist = m.path().join("dist");
    support::copy_tree(&installer_dir(), &dist);
    std::fs::copy(MANTRA, dist.join("mantra")).unwrap();
    let out = m
        .command("sh")
        .arg(dist.join("install.sh"))
        .args(["--root"])
        .arg(&m.root)
        .arg("--no-service")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(m.root.join("usr/local/bin/mantra")).unwrap(),
        std::fs::read(MANTRA).unwrap()
    );
}

#[test]
fn upgrade_replaces_only_what_changed() {
    let m = machine();
    m.install_ok(&["--binary", MANTRA]);
    let unit = m.root.join("etc/systemd/user/mantra-agent.service");
    let unit_before = std::fs::metadata(&unit).unwrap().modified().unwrap();
    let manifest = m.root.join("usr/local/lib/mantra/install-manifest");
    let manifest_before = std::fs::read_to_string(&manifest).unwrap();

    // A "new version": the same program with bytes appended (ELF ignores
    // trailing data, so it still runs).
    let newer = m.path().join("mantra-newer");
    let mut bytes = std::fs::read(MANTRA).unwrap();
    bytes.extend_from_slice(b"\0newer build\0");
    std::fs::write(&newer, &bytes).unwrap();
    std::fs::set_permissions(&newer, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = m.install_ok(&["--binary", newer.to_str().unwrap()]);
    let bin = m.root.join("usr/local/bin/mantra");
    assert!(
        out.lines()
            .any(|l| l == format!("installed {}", bin.display())),
        "{out}"
    );
    assert!(out.contains("already installed"), "{out}");
    assert!(out.contains("Mantra installed"), "{out}");
    assert_eq!(std::fs::read(&bin).unwrap(), bytes);
    assert!(m
        .command(&bin)
        .arg("--version")
        .output()
        .unwrap()
        .status
        .success());
    assert_eq!(
        std::fs::metadata(&unit).unwrap().modified().unwrap(),
        unit_before,
        "the unit was not rewritten"
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), manifest_before);
    // No temporary file left behind by the atomic replace.
    let leftovers: Vec<_> = std::fs::read_dir(m.root.join("usr/local/bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".mantra"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_refusal_of_mantra_hooks_install_is_surfaced() {
    let m = machine();
    // Someone else's files where the shims would go: mantra hooks install
    // refuses to mix with them, and install.sh says so.
    let shims = m.root.join("usr/local/lib/mantra/git-hooks");
    std::fs::create_dir_all(&shims).unwrap();
    write_executable(&shims.join("pre-commit"), "#!/bin/sh\nexit 0\n");
    let out = m.install_sh(&["--binary", MANTRA, "--hooks"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a Mantra shim directory") && err.contains("hooks install failed"),
        "{err}"
    );
    assert_eq!(m.system_hooks_path(), None);
    // What was installed is recorded, so uninstall still cleans up, and the
    // foreign hook stays.
    m.install_ok(&["--uninstall"]);
    assert!(!m.root.join("usr/local/bin/mantra").exists());
    assert!(shims.join("pre-commit").exists());
}

#[test]
fn pkg_postinstall_records_its_files_for_uninstall() {
    // The .pkg payload as pkgbuild lays it down on a volume that is not the
    // boot volume (so postinstall loads nothing), then install.sh
    // --uninstall with macOS paths removes it by the recorded manifest.
    let m = machine();
    let target = &m.root;
    std::fs::create_dir_all(target.join("Library/LaunchAgents")).unwrap();
    std::fs::copy(MANTRA, target.join("usr/local/bin/mantra")).unwrap();
    std::fs::write(
        target.join("Library/LaunchAgents/com.mantra.agent.plist"),
        template("macos/com.mantra.agent.plist", "/usr/local/bin"),
    )
    .unwrap();
    let postinstall = installer_dir().join("macos/scripts/postinstall");
    for _ in 0..2 {
        let out = m
            .command("sh")
            .arg(&postinstall)
            .arg(installer_dir().join("Mantra.pkg"))
            .arg(target)
            .arg(target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let manifest =
        std::fs::read_to_string(target.join("usr/local/lib/mantra/install-manifest")).unwrap();
    assert_eq!(
        manifest,
        "dir /usr/local/lib/mantra\nfile /usr/local/bin/mantra\nfile /Library/LaunchAgents/com.mantra.agent.plist\n",
        "recorded once each"
    );
    let out = m.install_sh_env(&["--uninstall"], &[("MANTRA_INSTALL_OS", "macos")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.join("usr/local/bin/mantra").exists());
    assert!(!target
        .join("Library/LaunchAgents/com.mantra.agent.plist")
        .exists());
    assert!(!target.join("usr/local/lib/mantra").exists());
    // Directories that were there before the package stay.
    assert!(target.join("usr/local/bin/other-tool").exists());
}
