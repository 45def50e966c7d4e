//! What a person reads, pinned with insta snapshots (`snapshots/`): the
//! `--help` of every command and subcommand, and the human output of
//! `scan`, a blocked commit, `doctor`, `policy show`, `sessions list` and
//! `hooks status`. A change to any of them shows up as a diff to review;
//! docs/testing.md says how to accept one. What varies from run to run or
//! machine to machine (the temporary directory, timings, the Hyperscan
//! version) is replaced by a placeholder before comparing.

mod support;

use std::collections::BTreeSet;

use support::{github_token_seeded, samples, stderr, stdout, Machine};

/// Insta settings for output of `m`: its paths become `[HOME]`, `[ROOT]`,
/// `[DATA]` and `[TMP]`, timings `[TIME]` and `[RATE]`, the engine and its
/// version `[ENGINE]`.
fn settings(m: &Machine) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    // Innermost first: filters apply in order.
    for (path, name) in [
        (m.home.display(), "[HOME]"),
        (m.root.display(), "[ROOT]"),
        (m.data.display(), "[DATA]"),
        (m.path().display(), "[TMP]"),
    ] {
        s.add_filter(&regex::escape(&path.to_string()), name);
    }
    // `scan` and `index` summaries: seconds and throughput vary.
    s.add_filter(r"\bin \d+(\.\d+)? s\b", "in [TIME] s");
    s.add_filter(r"\b\d+(\.\d+)? MB/s", "[RATE] MB/s");
    // Which engine runs, and the library's version, depend on the machine.
    s.add_filter(r"\b(hyperscan|rust) engine\b", "[ENGINE] engine");
    s.add_filter(r"engine  (hyperscan|pure-Rust)[^,]*,", "engine  [ENGINE],");
    s.set_omit_expression(true);
    s
}

/// The subcommands listed under `Commands:` in `mantra <path> --help`.
fn subcommands(m: &Machine, path: &[String]) -> Vec<String> {
    let help = m.ok(path.iter().map(String::as_str).chain(["--help"]));
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

/// `--help` of every command, found by walking `mantra --help`: one
/// snapshot per command, named after its path (`help_mantra_hooks_install`).
/// A new command gets a new snapshot to review; a removed one fails here
/// until its snapshot file is deleted.
#[test]
fn help_of_every_command() {
    let m = Machine::new();
    let mut todo = vec![Vec::<String>::new()];
    let mut seen = BTreeSet::new();
    while let Some(path) = todo.pop() {
        let help = m.ok(path.iter().map(String::as_str).chain(["--help"]));
        let command: Vec<&str> = ["mantra"]
            .into_iter()
            .chain(path.iter().map(String::as_str))
            .collect();
        let name = format!("help_{}", command.join("_"));
        let mut s = settings(&m);
        s.set_description(format!("{} --help", command.join(" ")));
        s.bind(|| insta::assert_snapshot!(name.as_str(), help));
        for sub in subcommands(&m, &path) {
            let mut child = path.clone();
            child.push(sub);
            todo.push(child);
        }
        seen.insert(name);
    }
    assert!(
        seen.len() > 30,
        "only {} commands found: {seen:?}",
        seen.len()
    );
    // No snapshot of a command that is gone.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(&dir).expect("snapshots directory") {
        let file = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(name) = file
            .strip_prefix("snapshots_cli__")
            .and_then(|f| f.strip_suffix(".snap"))
            .filter(|n| n.starts_with("help_"))
        {
            assert!(
                seen.contains(name),
                "{file}: no such command any more; delete the snapshot"
            );
        }
    }
}

/// `mantra scan` over the samples, run from inside them (relative paths):
/// the findings on stdout, the summary on stderr. Redacted previews and
/// fingerprints only, never a secret.
#[test]
fn scan_human_output() {
    let m = Machine::new();
    let out = m
        .mantra(["scan", "."])
        .current_dir(samples())
        .assert()
        .code(1);
    let out = out.get_output();
    let text = format!("--- stdout\n{}--- stderr\n{}", stdout(out), stderr(out));
    // Nothing in clear: every secret, as `--show-secrets` gives it.
    let shown = m
        .mantra(["scan", "--format", "json", "--show-secrets", "."])
        .current_dir(samples())
        .output()
        .expect("run mantra");
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&shown.stdout).expect("JSON findings");
    assert_eq!(findings.len(), 8);
    for f in &findings {
        let secret = f["secret"].as_str().expect("secret");
        support::assert_no_secret(&text, &secret[..secret.len().min(16)]);
    }
    settings(&m).bind(|| insta::assert_snapshot!("scan_samples", text));
}

/// A commit of a secret, blocked by the pre-commit hook installed in a real
/// repository, then the same commit of a secret already exposed in an AI
/// session: git's stderr, which is what the developer sees.
#[test]
fn pre_commit_block_messages() {
    let m = Machine::new();
    let repo = m.repo("shop", false);
    m.install_repo_hooks(&repo);
    let token = github_token_seeded(0x5eed_0042);
    m.add(
        &repo,
        "config.py",
        format!("a = 1\ntoken = \"{token}\"\n").as_bytes(),
    );
    let blocked = support::assert_blocked(&m.commit(&repo, "add config"));
    support::assert_no_secret(&blocked, &token);
    settings(&m).bind(|| insta::assert_snapshot!("pre_commit_block", blocked));

    m.expose(&[(&token, "github-pat")]);
    let exposed = support::assert_blocked(&m.commit(&repo, "add config"));
    support::assert_no_secret(&exposed, &token);
    settings(&m).bind(|| insta::assert_snapshot!("pre_commit_block_exposed", exposed));
}

/// `mantra sessions list` after indexing the sample sessions (Claude Code
/// and Codex), and the index summary.
#[test]
fn sessions_list_table() {
    let m = Machine::new();
    for assistant in [".claude", ".codex"] {
        support::copy_tree(&samples().join(assistant), &m.home.join(assistant));
    }
    let indexed = m.mantra(["index"]).assert().success();
    let summary = stderr(indexed.get_output());
    let table = m.ok(["sessions", "list", "--all-projects"]);
    let settings = settings(&m);
    settings.bind(|| insta::assert_snapshot!("index_summary", summary));
    settings.bind(|| insta::assert_snapshot!("sessions_list", table));
}

/// Outputs that depend on the machine's policy: only where the binary
/// reads it from the machine's root.
#[cfg(feature = "test-roots")]
mod rooted {
    use super::*;

    /// A policy that requires the hooks and turns the network off.
    const POLICY: &str = "hooks:\n  required: [pre-commit, pre-push]\nnetwork:\n  enabled: false\n";

    /// `mantra doctor` on a machine with that policy and nothing installed:
    /// the checks that fail and what to do about them.
    #[test]
    fn doctor_human_output() {
        let m = Machine::new();
        m.policy(POLICY);
        let out = m.mantra(["doctor"]).assert().code(1);
        let text = stdout(out.get_output());
        settings(&m).bind(|| insta::assert_snapshot!("doctor", text));
    }

    /// `mantra policy show`: every key with its level, scope and source,
    /// a user setting overridden by the mandatory policy, an unknown key and
    /// an invalid value.
    #[test]
    fn policy_show_table() {
        let mut m = Machine::new();
        m.set_env("MANTRA_TEST_PLATFORM", "linux");
        m.policy(&format!("{POLICY}hooks_typo: 1\n"));
        m.user_config("network:\n  enabled: true\nlogging:\n  level: loud\n");
        let text = m.ok(["policy", "show"]);
        settings(&m).bind(|| insta::assert_snapshot!("policy_show", text));
    }

    /// `mantra hooks status` over three repositories: hooks installed,
    /// hidden by husky's `core.hooksPath`, and missing.
    #[test]
    fn hooks_status_report() {
        let m = Machine::new();
        m.policy(POLICY);
        let roots = m.path().join("src");
        std::fs::create_dir_all(&roots).expect("roots");
        for name in ["good", "husky", "plain"] {
            m.git(&roots, &["init", "-q", name]);
        }
        m.install_repo_hooks(&roots.join("good"));
        std::fs::create_dir_all(roots.join("husky/.husky")).expect("husky");
        m.git(
            &roots.join("husky"),
            &["config", "core.hooksPath", ".husky"],
        );
        let out = m
            .mantra(["hooks", "status", "--roots"])
            .arg(&roots)
            .assert()
            .code(1);
        let text = stdout(out.get_output());
        settings(&m).bind(|| insta::assert_snapshot!("hooks_status", text));
    }
}
