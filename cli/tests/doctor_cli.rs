#![allow(clippy::unwrap_used)]
//! `mantra doctor` through the real binary, on an isolated [`Machine`]:
//! HOME, XDG_*, MANTRA_HOME, git's global and system config, the file key
//! store, and (in `test-roots` builds) MANTRA_TEST_ROOT for every system
//! path. Real store, real agent process, real git hooks.
//!
//! Tests that read policy or system paths need MANTRA_TEST_ROOT and are
//! `test-roots` only; the others look at single checks, which do not
//! depend on the machine's own policy.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{chmod, stdout as stdout_of, Machine};

/// Runs `doctor --format json [extra]`: exit code and report.
fn doctor(m: &Machine, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["doctor", "--format", "json"];
    args.extend_from_slice(extra);
    let o = m.run(&args);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor json: {e}\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap(), doc)
}

/// A Claude Code session of project `/work/<project>` with one message.
fn claude_session(m: &Machine, project: &str, sid: &str, text: &str) {
    let cwd = format!("/work/{project}");
    m.claude_session(
        &cwd,
        sid,
        &[support::user_line(
            sid,
            &cwd,
            "u1",
            "2026-01-01T10:00:00Z",
            text,
        )],
    );
}

/// A Claude Code session holding a GitHub token, then `mantra index`.
fn index_fixture(m: &Machine) -> String {
    let token = support::github_token();
    claude_session(
        m,
        "alpha",
        "aaaaaaaa-0000-4000-8000-000000000001",
        &format!("deploy with GITHUB_TOKEN={token}"),
    );
    m.ok(["index"]);
    token
}

/// Every path of the machine, for "nothing was created".
fn tree(m: &Machine) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            out.push(e.path());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), out);
            }
        }
    }
    let mut v = Vec::new();
    walk(m.path(), &mut v);
    v.sort();
    v
}

fn check<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {doc:#}"))
}

fn status(doc: &Value, id: &str) -> String {
    check(doc, id)["status"].as_str().unwrap().to_string()
}

fn detail(doc: &Value, id: &str) -> String {
    check(doc, id)["detail"].as_str().unwrap().to_string()
}

#[test]
fn doctor_creates_nothing_on_a_fresh_machine() {
    let m = Machine::new();
    let before = tree(&m);
    for format in ["human", "json", "jamf"] {
        let o = m.run(["doctor", "--format", format]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    }
    assert_eq!(tree(&m), before, "doctor wrote something");
    assert!(!m.data.exists());
}

#[test]
fn second_agent_is_refused_and_the_lock_goes_with_the_agent() {
    let m = Machine::new();
    let agent = m.start_agent(&[]);
    let pid = agent.pid();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "agent-running"), "ok", "{doc:#}");
    assert!(
        detail(&doc, "agent-running").contains(&format!("pid {pid}")),
        "{doc:#}"
    );

    let second = m.run(["agent", "run"]);
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already running"), "{err}");
    assert!(err.contains(&format!("pid {pid}")), "{err}");

    assert!(agent.stop().success(), "a stopped agent exits cleanly");
    let (_, doc) = doctor(&m, &[]);
    assert_ne!(status(&doc, "agent-running"), "ok", "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(m.data.join("agent.lock")).unwrap(),
        "",
        "a clean exit clears the pid"
    );

    // Killed outright, the lock is released all the same.
    m.start_agent(&[]).kill();
    let (_, doc) = doctor(&m, &[]);
    assert_ne!(status(&doc, "agent-running"), "ok", "{doc:#}");
    drop(m.start_agent(&[]));
}

#[test]
fn a_repo_that_is_not_one_means_doctor_cannot_run() {
    let m = Machine::new();
    let o = m.run(["doctor", "--repo", m.work.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a git repository"));
    assert!(o.stdout.is_empty());
}

#[test]
fn the_running_agent_keeps_the_exposure_list_current() {
    let m = Machine::new();
    let _agent = m.start_agent(&["--rediscover", "1"]);
    // Its first pass (nothing to index) publishes an empty list.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !m.data.join("exposures.json").exists() {
        assert!(Instant::now() < deadline, "no first pass");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A session without any secret: the list's content does not change,
    // but it must be rewritten to stay as recent as the store's index.
    claude_session(
        &m,
        "beta",
        "bbbbbbbb-0000-4000-8000-000000000002",
        "hello there",
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, doc) = doctor(&m, &[]);
        let indexed = detail(&doc, "store").contains("1 session(s)");
        if indexed && status(&doc, "exposures") == "ok" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the exposure list never caught up with the index: {doc:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[cfg(unix)]
#[test]
fn loose_log_permissions_fail_with_a_chmod_fix() {
    let m = Machine::new();
    index_fixture(&m);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "logs"), "ok", "{doc:#}");

    let logs = m.data.join("logs");
    let file = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    chmod(&file, 0o644);
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "logs"), "fail", "{doc:#}");
    assert!(detail(&doc, "logs").contains("(0644)"), "{doc:#}");
    let fix = check(&doc, "logs")["fix"].as_str().unwrap().to_string();
    assert!(fix.starts_with("chmod 700"), "{fix}");

    chmod(&file, 0o600);
    chmod(&logs, 0o755);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "logs"), "fail", "{doc:#}");
    assert!(detail(&doc, "logs").contains("0755"), "{doc:#}");
    chmod(&logs, 0o700);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "logs"), "ok", "{doc:#}");
}

/// The compliance event log's lines.
fn event_log(m: &Machine) -> Vec<String> {
    std::fs::read_to_string(m.data.join("logs/audit.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Replaces the compliance event log's lines, as someone editing it would.
fn rewrite_event_log(m: &Machine, lines: &[String]) {
    std::fs::write(m.data.join("logs/audit.jsonl"), lines.join("\n") + "\n").unwrap();
}

fn audit_json(m: &Machine) -> Value {
    serde_json::from_str(&m.ok(["audit", "--format", "json"])).unwrap()
}

#[test]
fn an_edited_event_log_fails_doctor_and_audit_at_its_position() {
    let m = Machine::new();
    for _ in 0..3 {
        m.ok(["index"]);
    }
    let lines = event_log(&m);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let head = mantra_core::audit_log::line_hash(lines[2].as_bytes());
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "event-log"), "ok", "{doc:#}");
    assert!(
        detail(&doc, "event-log")
            .contains(&format!("3 record(s) chained, head seq 3, hash {head}")),
        "{doc:#}"
    );
    let r = audit_json(&m);
    assert_eq!(r["event_log"]["chain"]["status"], "intact", "{r:#}");
    assert_eq!(r["event_log"]["chain"]["head_seq"], 3);
    assert_eq!(r["event_log"]["chain"]["head_hash"], head.as_str());

    // Someone makes the second index run look like it found a secret less.
    let mut edited = lines.clone();
    edited[1] = edited[1].replace("\"findings\":0", "\"findings\":1");
    assert_ne!(edited[1], lines[1]);
    rewrite_event_log(&m, &edited);
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(status(&doc, "event-log"), "fail", "{doc:#}");
    let d = detail(&doc, "event-log");
    assert!(
        d.contains("line 3 (seq 3) does not match the hash of line 2: line 2 was changed"),
        "{d}"
    );
    assert!(d.contains("2 record(s) verified before it"), "{d}");
    let human = m.run(["doctor"]);
    assert!(
        stdout_of(&human).contains("FAIL  event-log"),
        "{}",
        stdout_of(&human)
    );

    let r = audit_json(&m);
    let chain = &r["event_log"]["chain"];
    assert_eq!(chain["status"], "broken", "{r:#}");
    assert_eq!(chain["first_break"]["line"], 3);
    assert_eq!(chain["first_break"]["expected_seq"], 3);
    assert_eq!(chain["records"], 2);
    assert_eq!(chain["head_seq"], 2);
    let control = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "MANTRA-LOG-02")
        .unwrap();
    assert_eq!(control["status"], "fail", "{control:#}");
    assert!(
        control["detail"]
            .as_str()
            .unwrap()
            .contains("line 2 was changed"),
        "{control:#}"
    );
    let ocsf = m.ok(["audit", "--format", "ocsf"]);
    let finding: Value = ocsf
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["compliance"]["control"] == "MANTRA-LOG-02")
        .unwrap();
    assert_eq!(finding["compliance"]["status_id"], 3, "{finding:#}");
    assert_eq!(
        finding["unmapped"]["event_log_chain"]["head_seq"], 2,
        "{finding:#}"
    );
    let html = m.ok(["audit", "--format", "html"]);
    assert!(html.contains("MANTRA-LOG-02"), "html");
    assert!(html.contains("line 2 was changed"), "html");
    assert!(
        html.contains("hash chain broken, 2 record(s), head seq 2"),
        "html"
    );

    // Deleting the edited line instead is found as well.
    let mut cut = lines.clone();
    cut.remove(1);
    rewrite_event_log(&m, &cut);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "event-log"), "fail", "{doc:#}");
    assert!(
        detail(&doc, "event-log").contains("line 2 has seq 3 where seq 2 was expected"),
        "{doc:#}"
    );
}

#[test]
fn a_log_from_before_the_chain_warns_and_a_torn_write_stays_reported() {
    let m = Machine::new();
    // Two records as an older Mantra wrote them: no chain fields.
    let old = r#"{"time":"2026-01-01T00:00:00.000Z","user":"tester","event":"retention","days":30,"sessions":0}"#;
    let logs = m.data.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    chmod(&m.data, 0o700);
    chmod(&logs, 0o700);
    let path = logs.join("audit.jsonl");
    std::fs::write(&path, format!("{old}\n{old}\n")).unwrap();
    chmod(&path, 0o600);
    m.ok(["index"]);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "event-log"), "warn", "{doc:#}");
    let d = detail(&doc, "event-log");
    assert!(
        d.contains("2 line(s) from before the hash chain are not verifiable"),
        "{d}"
    );
    assert!(d.contains("1 record(s) chained, head seq 1"), "{d}");
    // A crash mid-write: the next record chains past the torn line, which
    // stays reported.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, br#"{"seq":2,"prev":"#).unwrap();
    drop(f);
    let (_, doc) = doctor(&m, &[]);
    assert!(
        detail(&doc, "event-log").contains("the last line is cut short"),
        "{doc:#}"
    );
    m.ok(["index"]);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "event-log"), "warn", "{doc:#}");
    let d = detail(&doc, "event-log");
    assert!(d.contains("torn or unreadable line(s) skipped: 4"), "{d}");
    assert!(d.contains("2 record(s) chained, head seq 2"), "{d}");
    assert_eq!(audit_json(&m)["event_log"]["chain"]["status"], "incomplete");
}

#[cfg(unix)]
#[test]
fn key_problems_fail_store_and_store_key() {
    let m = Machine::new();
    let token = index_fixture(&m);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "ok", "{doc:#}");
    assert!(detail(&doc, "store").contains("1 session(s)"), "{doc:#}");
    // The key-file fallback is a warning that says why (issue 4).
    assert_eq!(status(&doc, "store-key"), "warn", "{doc:#}");
    assert!(
        detail(&doc, "store-key").contains("OS keychain was unreachable"),
        "{doc:#}"
    );

    let key_file = m.data.join("store.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    chmod(&key_file, 0o644);
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "store-key"), "fail", "{doc:#}");
    assert!(check(&doc, "store-key")["fix"]
        .as_str()
        .unwrap()
        .starts_with("chmod 600"));

    // Another key: the store does not open; nothing is changed.
    let db_before = std::fs::read(m.data.join("sessions.db")).unwrap();
    let other: String = key
        .trim()
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    std::fs::write(&key_file, format!("{other}\n")).unwrap();
    chmod(&key_file, 0o600);
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    assert!(
        detail(&doc, "store").contains("key does not match"),
        "{doc:#}"
    );
    assert_eq!(
        std::fs::read(m.data.join("sessions.db")).unwrap(),
        db_before
    );

    // No key at all beside an existing store.
    std::fs::remove_file(&key_file).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store-key"), "fail", "{doc:#}");
    assert!(detail(&doc, "store-key").contains("key is missing"));
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    assert!(!key_file.exists(), "doctor never creates a key");

    // A plaintext database.
    std::fs::write(&key_file, key).unwrap();
    chmod(&key_file, 0o600);
    let mut plain = b"SQLite format 3\0".to_vec();
    plain.resize(4096, 0);
    std::fs::write(m.data.join("sessions.db"), plain).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    assert!(detail(&doc, "store").contains("unencrypted"), "{doc:#}");

    // A plaintext search index beside the store.
    std::fs::write(m.data.join("sessions.db"), &db_before).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "ok", "{doc:#}");
    let mut plain = b"SQLite format 3\0".to_vec();
    plain.resize(4096, 0);
    std::fs::write(m.data.join("sessions-search.db"), plain).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    assert!(
        detail(&doc, "store").contains("search index")
            && detail(&doc, "store").contains("unencrypted"),
        "{doc:#}"
    );

    let out = serde_json::to_string(&doc).unwrap();
    assert!(!out.contains(&token), "no secret in the report");
}

#[test]
fn exposure_list_missing_foreign_or_stale() {
    let m = Machine::new();
    index_fixture(&m);
    let path = m.data.join("exposures.json");
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "exposures"), "ok", "{doc:#}");
    assert!(
        detail(&doc, "exposures").contains("1 exposed secret(s)"),
        "{doc:#}"
    );
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();

    let mut stale = original.clone();
    stale["generated_at"] = "2020-01-01T00:00:00.000Z".into();
    std::fs::write(&path, stale.to_string()).unwrap();
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "exposures"), "warn", "{doc:#}");
    assert!(detail(&doc, "exposures").contains("stale"), "{doc:#}");
    assert_ne!(code, 2);

    let mut foreign = original.clone();
    foreign["fingerprint_key_id"] = "0000000000000000".into();
    std::fs::write(&path, foreign.to_string()).unwrap();
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "exposures"), "fail", "{doc:#}");
    assert!(
        detail(&doc, "exposures").contains("fingerprint key"),
        "{doc:#}"
    );

    std::fs::write(&path, "{not json").unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "exposures"), "fail", "{doc:#}");

    std::fs::remove_file(&path).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "exposures"), "fail", "{doc:#}");
    assert!(detail(&doc, "exposures").contains("missing"), "{doc:#}");

    // `mantra index` (what the fix says) makes it current again.
    m.ok(["index"]);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "exposures"), "ok", "{doc:#}");
}

#[cfg(feature = "test-roots")]
mod rooted {
    //! Tests that set the machine's policy and service files under
    //! MANTRA_TEST_ROOT.

    use super::*;
    use support::MANTRA;

    /// The systemd user unit as the installer writes it, enabled.
    fn register_unit(m: &Machine) {
        let unit = m.write_rooted(
            "etc/systemd/user/mantra-agent.service",
            format!(
                "[Unit]\nDescription=Mantra agent\n\n[Service]\nExecStart={MANTRA} agent run\n\
                 Restart=on-failure\n\n[Install]\nWantedBy=default.target\n"
            ),
        );
        let wants = m.root.join("etc/systemd/user/default.target.wants");
        std::fs::create_dir_all(&wants).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&unit, wants.join("mantra-agent.service")).unwrap();
    }

    fn install_system_hooks(m: &Machine) -> PathBuf {
        let shims = m.path().join("system-hooks");
        m.install_hooks("system", &shims);
        shims
    }

    fn failing(doc: &Value) -> Vec<String> {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    const REQUIRE_HOOKS: &str = "hooks:\n  required: [pre-commit, pre-push]\n";

    /// Hook coverage is checked by default (`hooks.required` is
    /// pre-commit and pre-push): a fresh machine lacks it too.
    #[test]
    fn fresh_machine_fails_exactly_store_agent_and_hooks() {
        let m = Machine::new();
        let (code, doc) = doctor(&m, &[]);
        assert_eq!(code, 1);
        assert_eq!(doc["compliant"], false);
        assert_eq!(
            failing(&doc),
            ["store", "agent-registered", "agent-running", "hooks"],
            "{doc:#}"
        );
        let jamf = m.run(["doctor", "--format", "jamf"]);
        assert_eq!(jamf.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&jamf.stdout),
            "<result>non-compliant: store, agent-registered, agent-running, hooks</result>\n"
        );
        let human = m.run(["doctor"]);
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(
            text.starts_with("ok  policy  built-in defaults only"),
            "{text}"
        );
        assert!(
            text.contains("\nFAIL  agent-running  no agent holds "),
            "{text}"
        );
        assert!(
            text.contains("\n  fix: systemctl --user start mantra-agent.service\n"),
            "{text}"
        );
    }

    #[test]
    fn with_every_agent_source_off_the_agent_is_not_required() {
        let m = Machine::new();
        m.policy(
            "agent:\n  sources: {claude_code: false, codex: false, gemini: false, cursor: false, \
             copilot_chat: false, cline: false, roo_code: false, continue: false, aider: false, \
             opencode: false}\nhooks:\n  required: []\n",
        );
        let (code, doc) = doctor(&m, &[]);
        assert_eq!(code, 0, "{doc:#}");
        assert_eq!(status(&doc, "store"), "warn");
        assert_eq!(status(&doc, "agent-running"), "ok");
        assert!(detail(&doc, "agent-running").contains("not required"));
    }

    #[test]
    fn installed_machine_is_compliant_until_the_agent_stops() {
        let m = Machine::new();
        m.policy(&format!("{REQUIRE_HOOKS}network:\n  enabled: false\n"));
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(
            failing(&doc),
            ["store", "agent-registered", "agent-running", "hooks"],
            "{doc:#}"
        );

        register_unit(&m);
        install_system_hooks(&m);
        index_fixture(&m);
        let agent = m.start_agent(&[]);
        let (code, doc) = doctor(&m, &[]);
        assert_eq!(failing(&doc), Vec::<String>::new(), "{doc:#}");
        assert_eq!(code, 0);
        assert_eq!(doc["compliant"], true);
        assert!(detail(&doc, "policy").contains("policy.yaml (policy_file, mandatory)"));
        assert!(detail(&doc, "hooks").contains("at system scope"), "{doc:#}");
        let network = detail(&doc, "network");
        assert!(network.starts_with("off (mandatory, from "), "{network}");
        assert!(network.contains("etc/mantra/policy.yaml:"), "{network}");
        assert!(detail(&doc, "updates").contains("network.enabled is false"));
        let jamf = m.run(["doctor", "--format", "jamf"]);
        assert_eq!(jamf.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&jamf.stdout),
            "<result>compliant</result>\n"
        );

        assert!(agent.stop().success());
        let (code, doc) = doctor(&m, &[]);
        assert_eq!(code, 1);
        assert_eq!(failing(&doc), ["agent-running"], "{doc:#}");
    }

    #[test]
    fn service_registration_is_read_from_the_unit_file() {
        let m = Machine::new();
        register_unit(&m);
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "agent-registered"), "ok", "{doc:#}");

        let dir = m.root.join("etc/systemd/user");
        std::fs::remove_file(dir.join("default.target.wants/mantra-agent.service")).unwrap();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "agent-registered"), "warn", "{doc:#}");
        assert!(detail(&doc, "agent-registered").contains("not enabled"));

        std::fs::write(
            dir.join("mantra-agent.service"),
            "[Service]\nExecStart=/bin/true\n",
        )
        .unwrap();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "agent-registered"), "fail", "{doc:#}");

        // A user unit counts too.
        std::fs::remove_file(dir.join("mantra-agent.service")).unwrap();
        let user = m.home.join(".config/systemd/user");
        std::fs::create_dir_all(user.join("default.target.wants")).unwrap();
        std::fs::write(
            user.join("mantra-agent.service"),
            format!("[Service]\nExecStart={MANTRA} agent run\n"),
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            user.join("mantra-agent.service"),
            user.join("default.target.wants/mantra-agent.service"),
        )
        .unwrap();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "agent-registered"), "ok", "{doc:#}");
        assert!(detail(&doc, "agent-registered").contains(".config/systemd/user"));
    }

    #[test]
    fn hooks_shadowed_by_a_repository_hooks_path_fail() {
        let m = Machine::new();
        m.policy(REQUIRE_HOOKS);
        install_system_hooks(&m);
        let repo = m.path().join("app");
        std::fs::create_dir_all(&repo).unwrap();
        m.git(&repo, &["init", "-q"]);
        let (_, doc) = doctor(&m, &["--repo", repo.to_str().unwrap()]);
        assert_eq!(status(&doc, "hooks"), "ok", "{doc:#}");

        m.git(&repo, &["config", "core.hooksPath", ".husky"]);
        std::fs::create_dir_all(repo.join(".husky")).unwrap();
        let (code, doc) = doctor(&m, &["--repo", repo.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_eq!(status(&doc, "hooks"), "fail", "{doc:#}");
        assert!(detail(&doc, "hooks").contains("hidden by"), "{doc:#}");
        assert!(check(&doc, "hooks")["fix"]
            .as_str()
            .unwrap()
            .contains("config --unset core.hooksPath"));

        // The repository holding the current directory is checked too.
        let o = m.run_in(&repo, ["doctor", "--format", "jamf"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("hooks"),
            "{o:?}"
        );
    }

    #[test]
    fn pending_crash_reports_warn_while_uploads_are_off() {
        let m = Machine::new();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "crash-reports"), "ok", "{doc:#}");
        let dir = m.data.join("crash-reports");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("crash-1-1.json"), "{}").unwrap();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "crash-reports"), "warn", "{doc:#}");
        let d = detail(&doc, "crash-reports");
        assert!(
            d.contains("uploads off: crash_reports.enabled is false (default)"),
            "{d}"
        );
        assert!(d.contains("1 crash report(s) pending locally"), "{d}");
    }

    #[test]
    fn policy_problems_fail_and_say_where() {
        let m = Machine::new();
        m.policy("network:\n  enabled: maybe\nno_such_key: 1\n");
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "policy"), "fail", "{doc:#}");
        let d = detail(&doc, "policy");
        assert!(d.contains("invalid network.enabled"), "{d}");
        assert!(d.contains("unknown key no_such_key"), "{d}");

        m.policy("no_such_key: 1\n");
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "policy"), "warn", "{doc:#}");

        // A policy file others may write is refused: fail-closed.
        #[cfg(unix)]
        {
            chmod(&m.root.join("etc/mantra/policy.yaml"), 0o666);
            let (code, doc) = doctor(&m, &[]);
            assert_eq!(code, 1);
            assert_eq!(status(&doc, "policy"), "fail", "{doc:#}");
            assert!(
                detail(&doc, "policy").contains("unreadable mandatory source"),
                "{doc:#}"
            );
        }
    }

    #[test]
    fn a_custom_rule_that_does_not_load_fails_the_engine() {
        let m = Machine::new();
        m.policy(
            "rules:\n  custom:\n    - id: acme-token\n      name: ACME token\n      \
             severity: high\n      pattern: 'acme_([a-z'\n      keywords: [acme_]\n      \
             examples: ['acme_k3j5h7g9f1d3s5a7p9o1i3u5']\n",
        );
        let (code, doc) = doctor(&m, &[]);
        assert_eq!(code, 1);
        assert_eq!(status(&doc, "engine"), "fail", "{doc:#}");
        let d = detail(&doc, "engine");
        assert!(d.contains("acme-token"), "{d}");
        assert!(
            !d.contains("missing field"),
            "the pattern is what fails: {d}"
        );

        m.policy(
            "rules:\n  custom:\n    - id: acme-token\n      name: ACME token\n      \
             severity: high\n      pattern: '\\b(acme_[a-z0-9]{24})\\b'\n      keywords: [acme_]\n      \
             examples: ['acme_k3j5h7g9f1d3s5a7p9o1i3u5']\n",
        );
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "engine"), "ok", "{doc:#}");
        assert!(detail(&doc, "engine").contains("111 rules"), "{doc:#}");
    }

    /// Every event reaches the OS log (here the machine's `/dev/log`, a
    /// socket the test binds) with its seq and hash; without one, doctor
    /// warns and the file chain is written all the same.
    #[test]
    fn events_are_mirrored_to_the_os_log_and_its_absence_is_warned() {
        let m = Machine::new();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "os-log"), "warn", "{doc:#}");
        assert!(
            detail(&doc, "os-log").contains("the OS log is unavailable"),
            "{doc:#}"
        );
        claude_session(&m, "alpha", "aaaaaaaa-0000-4000-8000-000000000002", "hello");
        m.ok(["index"]);
        assert_eq!(event_log(&m).len(), 1);
        let sink = m.os_log();
        let (_, doc) = doctor(&m, &[]);
        assert_eq!(status(&doc, "os-log"), "ok", "{doc:#}");
        assert!(detail(&doc, "os-log").contains("dev/log"), "{doc:#}");
        assert!(sink.datagrams().is_empty(), "doctor writes nothing");
        m.ok(["index"]);
        m.ok(["delete", "--before", "2026-06-01", "--yes"]);
        let lines = event_log(&m);
        let datagrams = sink.datagrams();
        assert_eq!(datagrams.len(), 2, "{datagrams:?}");
        assert!(
            datagrams.iter().all(|d| d.starts_with("<85>")),
            "authpriv.notice: {datagrams:?}"
        );
        let events: Vec<Value> = datagrams
            .iter()
            .map(|d| serde_json::from_str(d.split_once("]: ").unwrap().1).unwrap())
            .collect();
        for (e, n) in events.iter().zip([2usize, 3]) {
            let line = &lines[n - 1];
            assert_eq!(e["seq"], n, "{e:#}");
            assert_eq!(
                e["hash"],
                mantra_core::audit_log::line_hash(line.as_bytes()).as_str()
            );
            assert_eq!(e["record"], serde_json::from_str::<Value>(line).unwrap());
        }
        assert_eq!(events[1]["record"]["event"], "delete");
        let r: Value = serde_json::from_str(&m.ok(["audit", "--format", "json"])).unwrap();
        assert_eq!(r["event_log"]["os_log"]["available"], true, "{r:#}");
        assert_eq!(r["event_log"]["chain"]["head_seq"], 3);
        assert_eq!(r["event_log"]["chain"]["head_hash"], events[1]["hash"]);
        drop(sink);
        let r: Value = serde_json::from_str(&m.ok(["audit", "--format", "json"])).unwrap();
        let control = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == "MANTRA-LOG-03")
            .unwrap();
        assert_eq!(control["status"], "warning", "{control:#}");
    }

    #[test]
    fn log_retention_comes_from_policy() {
        let m = Machine::new();
        m.policy("logging:\n  retention_days: 2\n");
        let logs = m.data.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        for day in 1..=4 {
            std::fs::write(logs.join(format!("agent.2020-01-0{day}.log")), "old\n").unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        // Not an agent log: retention must leave it alone.
        std::fs::write(logs.join("notes.txt"), "").unwrap();
        m.ok(["index"]);
        let mut names: Vec<String> = std::fs::read_dir(&logs)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // Two daily agent logs kept (the newest old one and today's), the
        // compliance event log the index run appended to, and the stranger.
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(names[0], "agent.2020-01-04.log", "{names:?}");
        assert!(names[1].starts_with("agent.20") && names[1] != names[0]);
        assert_eq!(names[2], "audit.jsonl");
        assert_eq!(names[3], "notes.txt");
    }
}

/// Overwrites 64 bytes in the middle of page `page` (1-based) of `file`, a
/// database with the store's 16 KiB pages: the page then fails its HMAC.
fn corrupt_page(file: &Path, page: u64) {
    use std::io::{Seek, SeekFrom, Write};
    const PAGE: u64 = 16384;
    let mut f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    f.seek(SeekFrom::Start((page - 1) * PAGE + PAGE / 2))
        .unwrap();
    f.write_all(&[0xA5; 64]).unwrap();
    f.sync_all().unwrap();
}

fn middle_page(file: &Path) -> u64 {
    (std::fs::metadata(file).unwrap().len() / 16384 / 2).max(2)
}

#[test]
fn damaged_search_index_and_damaged_store_fail_with_what_to_do() {
    let m = Machine::new();
    let token = index_fixture(&m);
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "ok", "{doc:#}");

    // A damaged page in the search index: reported, with the fix.
    let index = m.data.join("sessions-search.db");
    corrupt_page(&index, middle_page(&index));
    let (code, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    assert_ne!(code, 0);
    let d = detail(&doc, "store");
    assert!(d.contains("search index") && d.contains("damaged"), "{d}");
    assert!(d.contains("the store itself is sound"), "{d}");
    let fix = check(&doc, "store")["fix"].as_str().unwrap().to_string();
    assert!(fix.contains("mantra index"), "{fix}");
    // A search rebuilds it from the store and answers.
    let found = m.ok(["search", "deploy", "--all-projects"]);
    assert!(found.contains("deploy"), "{found}");
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "ok", "{doc:#}");

    // A damaged page in the store: reported, never deleted.
    let db = m.data.join("sessions.db");
    corrupt_page(&db, middle_page(&db));
    let before = std::fs::read(&db).unwrap();
    let (_, doc) = doctor(&m, &[]);
    assert_eq!(status(&doc, "store"), "fail", "{doc:#}");
    let d = detail(&doc, "store");
    assert!(d.contains("session store") && d.contains("damaged"), "{d}");
    let fix = check(&doc, "store")["fix"].as_str().unwrap().to_string();
    assert!(
        fix.contains("nothing was deleted") && fix.contains("backup"),
        "{fix}"
    );
    let _ = m.run(["search", "deploy", "--all-projects"]);
    let _ = m.run(["index"]);
    let after = std::fs::read(&db).expect("the damaged store is kept");
    assert!(after.len() >= before.len(), "the damaged store is kept");

    let out = serde_json::to_string(&doc).unwrap();
    assert!(!out.contains(&token), "no secret in the report");
}
