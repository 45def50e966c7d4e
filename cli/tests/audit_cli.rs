//! `mantra audit` end to end through the real binary: a real store built by
//! `mantra index` from Claude Code sessions holding a planted secret and a
//! canary message text, a real repository whose globally installed hook
//! blocks that secret once and lets it through by bypass once, then every
//! report format checked for its counts and for leaks.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use mantra_agent::Timestamp;
use serde_json::Value;
use support::*;

fn now_ms() -> i64 {
    Timestamp::from_system_time(std::time::SystemTime::now())
        .unwrap()
        .millis()
}

/// Writes a one-message Claude Code session of `project` at `ts_ms`.
fn claude_session(m: &Machine, project: &Path, session_id: &str, ts_ms: i64, text: &str) {
    std::fs::create_dir_all(project).unwrap();
    let cwd = project.display().to_string();
    m.claude_session(
        &cwd,
        session_id,
        &[user_line(
            session_id,
            &cwd,
            &format!("u-{session_id}"),
            &Timestamp(ts_ms).to_rfc3339(),
            text,
        )],
    );
}

fn audit(m: &Machine, args: &[&str]) -> String {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    m.ok(&all)
}

fn audit_json(m: &Machine, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&audit(m, &all)).unwrap()
}

/// Minimal RFC 4180 reader, to check the CSV parses as a spreadsheet would.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    rows
}

#[test]
fn a_machine_without_a_store_gets_a_report_of_zeros() {
    let m = Machine::new();
    let r = audit_json(&m, &[]);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["store"]["present"], false);
    assert_eq!(r["sessions"]["total"], 0);
    assert_eq!(r["findings"]["total"], 0);
    assert_eq!(r["git"]["blocks"], 0);
    assert!(r["host"]["mantra_version"].is_string());
    assert!(!r["policy"]["settings"].as_array().unwrap().is_empty());
    let html = audit(&m, &["--format", "html"]);
    assert!(html.contains("No session store yet"), "{html}");
}

#[test]
fn a_wrong_key_or_a_bad_time_is_a_clear_error_with_exit_2() {
    let m = Machine::new();
    let project = m.home.join("work/app");
    claude_session(&m, &project, "s-key", now_ms(), "hello");
    m.ok(["index"]);
    std::fs::write(m.data.join("store.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    let out = m.run(["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot decrypt"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    let out = m.run(["audit", "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid time"), "{}", stderr(&out));

    // No parser internals in the message.
    let out = m.run(["audit", "--since", "d"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("use RFC 3339"), "{err}");
    assert!(!err.contains("parse integer"), "{err}");

    // An empty period is a mistake, not an empty report.
    let out = m.run(["audit", "--since", "1d", "--until", "2d"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is later than --until"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// A report reads the store and changes nothing: the database file stays
/// byte-identical, no file appears in the data directory (no event, no
/// cache, no key), and a missing key is a clear error, never a new key.
#[test]
fn the_audit_leaves_the_store_untouched() {
    let m = Machine::new();
    let project = m.home.join("work/app");
    claude_session(&m, &project, "s-ro", now_ms(), "hello");
    m.ok(["index"]);
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(&m.data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let db = m.data.join("sessions.db");
    let (files, bytes) = (listing(), std::fs::read(&db).unwrap());
    for format in ["json", "html", "ocsf", "sarif", "csv"] {
        audit(&m, &["--format", format]);
    }
    assert_eq!(listing(), files, "no file created");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "store unchanged");

    std::fs::remove_file(m.data.join("store.key")).unwrap();
    let out = m.run(["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("key is missing"), "{}", stderr(&out));
    assert!(!m.data.join("store.key").exists(), "no key made up");
}

/// Needs the re-rooted policy file (bypass allowed, a retention period).
#[cfg(feature = "test-roots")]
#[test]
fn every_format_reports_the_counts_and_leaks_nothing() {
    let mut m = Machine::new();
    m.policy("hooks:\n  allow_bypass_env: true\nagent:\n  retention_days: 3650\n");

    let recent_token = github_token();
    let old_token = github_token();
    let canary = format!("zebra-canary-{}", bare_password());
    let now = now_ms();
    // A project path a CSV must quote: a comma and a double quote.
    let project = m.home.join("work/shop \"eu\", inc");
    let recent = "aaaaaaaa-0000-4000-8000-00000000a001";
    let old = "aaaaaaaa-0000-4000-8000-00000000a002";
    claude_session(
        &m,
        &project,
        recent,
        now - 3_600_000,
        &format!("{canary}: deploy with GITHUB_TOKEN={recent_token}"),
    );
    claude_session(
        &m,
        &project,
        old,
        now - 40 * 86_400_000,
        &format!("{canary} old: GITHUB_TOKEN={old_token}"),
    );
    m.ok(["index"]);

    // The organisation's hooks, installed at global scope.
    m.ok(["hooks", "install", "--scope", "global"]);
    let repo = m.repo("r", false);
    m.add(&repo, "deploy.env", format!("{recent_token}\n").as_bytes());
    assert_blocked(&m.commit(&repo, "blocked"));
    m.set_env("MANTRA_BYPASS", "release 12 hotfix");
    assert_ok(&m.commit(&repo, "bypassed"));
    m.remove_env("MANTRA_BYPASS");

    // JSON: the counts.
    let r = audit_json(&m, &[]);
    assert_eq!(r["store"]["present"], true);
    assert_eq!(r["sessions"]["total"], 2, "{r:#}");
    assert_eq!(r["sessions"]["by_assistant"][0]["key"], "claude-code");
    assert_eq!(r["findings"]["total"], 2);
    assert_eq!(r["findings"]["by_day"].as_array().unwrap().len(), 2);
    assert_eq!(r["findings"]["by_severity"][0]["count"], 2);
    assert_eq!(r["exposures"]["secrets"], 2);
    assert_eq!(r["git"]["blocks"], 1);
    assert_eq!(r["git"]["blocks_of_exposed"], 1);
    assert_eq!(r["git"]["bypasses"], 1);
    assert_eq!(r["git"]["bypasses_of_exposed"], 1);
    assert_eq!(r["git"]["exposed_secret_reached_git"], true);
    assert_eq!(r["git"]["events"][1]["reason"], "release 12 hotfix");
    let exposed: Vec<&Value> = r["exposures"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["bypassed"] == 1)
        .collect();
    assert_eq!(exposed.len(), 1, "{r:#}");
    assert_eq!(exposed[0]["blocked"], 1);
    assert_eq!(exposed[0]["sessions"][0], recent);
    assert_eq!(r["hooks"]["covered"], true, "{:#}", r["hooks"]);
    assert_eq!(r["index_runs"]["runs"], 1);
    assert_eq!(r["retention"]["days"], 3650);
    assert_eq!(r["retention"]["runs"], 1);
    let checks = r["checks"].as_array().unwrap();
    let status = |c: &str| {
        checks.iter().find(|x| x["control"] == c).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("MANTRA-HOOKS-01"), "pass");
    assert_eq!(status("MANTRA-HOOKS-02"), "fail");
    assert_eq!(status("MANTRA-RET-01"), "pass");

    // --since keeps the recent session only; --until the old one only.
    let r7 = audit_json(&m, &["--since", "7d"]);
    assert_eq!(r7["sessions"]["total"], 1);
    assert_eq!(r7["findings"]["total"], 1);
    assert_eq!(r7["exposures"]["secrets"], 1);
    assert_eq!(r7["findings"]["items"][0]["session_id"], recent);
    let until = audit_json(&m, &["--until", "7d"]);
    assert_eq!(until["findings"]["total"], 1);
    assert_eq!(until["findings"]["items"][0]["session_id"], old);
    assert_eq!(until["git"]["blocks"], 0);

    let mut outputs = vec![("json", serde_json::to_string(&r).unwrap())];
    // CSV: one row per finding, and the quoted project survives.
    let csv = audit(&m, &["--format", "csv"]);
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(rows[0][..3], ["host", "user", "day"]);
    assert!(rows[1..].iter().all(|row| row.len() == 10), "{rows:?}");
    // Each row names the machine and the user (the OS account, not $USER).
    assert_eq!(rows[1][0], r["host"]["hostname"].as_str().unwrap());
    assert_eq!(rows[1][1], r["host"]["user"].as_str().unwrap());
    assert!(!rows[1][1].is_empty());
    assert_eq!(rows[1][4], project.display().to_string());
    assert_eq!(rows[2][9], recent);
    assert_eq!(rows[2][6], "critical");
    outputs.push(("csv", csv));

    // HTML: self-contained, charts inline.
    let html = audit(&m, &["--format", "html"]);
    assert!(html.contains("<svg"), "no chart");
    // Nothing is fetched: no src/href at all (policy URLs appear as text),
    // no stylesheet link, no CSS url(), no script.
    for external in [
        "src=", "href=", "<link", "url(", "<script", "<img", "@import",
    ] {
        assert!(!html.contains(external), "html has {external}");
    }
    assert!(html.contains("shop &quot;eu&quot;, inc"), "not escaped");
    outputs.push(("html", html));

    // OCSF: every line an event with the required attributes.
    let ocsf = audit(&m, &["--format", "ocsf"]);
    let mut classes = Vec::new();
    for line in ocsf.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let class = e["class_uid"].as_u64().unwrap();
        let activity = e["activity_id"].as_u64().unwrap();
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["type_uid"].as_u64().unwrap(), class * 100 + activity);
        assert!(e["severity_id"].is_u64());
        assert!(e["time"].as_i64().unwrap() > 1_700_000_000_000);
        assert_eq!(e["metadata"]["version"], "1.3.0");
        for f in ["name", "vendor_name", "version"] {
            assert!(e["metadata"]["product"][f].is_string(), "{e}");
        }
        assert!(e["finding_info"]["uid"].is_string() && e["finding_info"]["title"].is_string());
        match class {
            2003 => assert!(e["compliance"]["status_id"].is_u64(), "{e}"),
            2006 => assert!(e["action_id"].is_u64(), "{e}"),
            other => panic!("unexpected class {other}"),
        }
        classes.push(class);
    }
    assert_eq!(classes.iter().filter(|c| **c == 2003).count(), 9);
    // Two findings and two exposed secrets.
    assert_eq!(classes.iter().filter(|c| **c == 2006).count(), 4);
    outputs.push(("ocsf", ocsf));

    // SARIF: the findings, located in their session files.
    let sarif = audit(&m, &["--format", "sarif"]);
    let s: Value = serde_json::from_str(&sarif).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with(".jsonl"), "{uri}");
    assert!(results[0]["partialFingerprints"]["mantraSecret/v1"].is_string());
    outputs.push(("sarif", sarif));

    for (format, text) in &outputs {
        for leak in [&recent_token, &old_token, &canary] {
            assert!(!text.contains(leak.as_str()), "{format} leaks {leak}");
        }
    }

    // --out: the file, nothing on stdout, 0644.
    let out_path = m.path().join("report.ocsf.jsonl");
    let out = m.run([
        "audit",
        "--format",
        "ocsf",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap().lines().count(),
        13
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    // Deletions and wipes are reported; after a wipe there is no store.
    m.ok(["delete", "--session", old, "--yes"]);
    let r = audit_json(&m, &[]);
    assert_eq!(r["deletions"][0]["sessions"], 1);
    assert_eq!(r["deletions"][0]["target"]["session"], old);
    assert_eq!(r["sessions"]["total"], 1);
    m.ok(["wipe", "--yes"]);
    let r = audit_json(&m, &[]);
    assert_eq!(r["store"]["present"], false);
    assert_eq!(r["wipes"].as_array().unwrap().len(), 1);
    assert_eq!(r["wipes"][0]["key_removed"], true);
    assert_eq!(r["wipes"][0]["trail_erased"], false);
    // The event log outlived the wipe: its deletions are still reported.
    assert_eq!(r["deletions"].as_array().unwrap().len(), 1);
    assert_eq!(r["event_log"]["chain"]["status"], "intact");
}

/// `audit merge`: the same secret pasted on two laptops is one incident
/// with two machines; an older report of a machine is superseded by its
/// newer one; a report from a newer schema, or not a report, is refused.
#[test]
fn merged_reports_make_one_incident_of_a_secret_on_several_machines() {
    let shared = github_token();
    let only_b = github_token();
    let report_of = |host: &str, secrets: &[&str]| -> Value {
        let m = Machine::new();
        let project = m.path().join("proj");
        for (i, s) in secrets.iter().enumerate() {
            claude_session(
                &m,
                &project,
                &format!("0000000{i}-aaaa-4000-8000-000000000000"),
                now_ms() - 3_600_000,
                &format!("deploy with {s} please"),
            );
        }
        m.ok(["index"]);
        let mut r = audit_json(&m, &[]);
        // Two machines of a fleet differ by name; these two run here.
        r["host"]["hostname"] = Value::from(host);
        r
    };
    let a = report_of("laptop-a", &[&shared]);
    let b = report_of("laptop-b", &[&shared, &only_b]);
    let mut a_old = a.clone();
    a_old["generated_at"] = Value::from("2020-01-01T00:00:00.000Z");

    let m = Machine::new();
    let dir = m.path().join("collected");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, r) in [("a.json", &a), ("b.json", &b), ("a-old.json", &a_old)] {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
        files.push(p.display().to_string());
    }
    let mut args = vec!["audit", "merge"];
    args.extend(files.iter().map(String::as_str));
    let o = m.run(&args);
    assert!(o.status.success(), "{o:?}");
    let fleet: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(fleet["kind"], "fleet");
    assert_eq!(fleet["totals"]["machines"], 2, "{fleet:#}");
    assert_eq!(fleet["totals"]["incidents"], 2, "{fleet:#}");
    let first = &fleet["incidents"][0];
    assert_eq!(
        first["machines"],
        serde_json::json!(["laptop-a", "laptop-b"])
    );
    assert_eq!(first["rule_id"], "github-pat");
    assert_eq!(
        fleet["incidents"][1]["machines"],
        serde_json::json!(["laptop-b"])
    );
    assert!(fleet["superseded"][0]
        .as_str()
        .unwrap()
        .ends_with("a-old.json"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a-old.json"));
    for c in fleet["controls"].as_array().unwrap() {
        let total = c["pass"].as_u64().unwrap()
            + c["warning"].as_u64().unwrap()
            + c["fail"].as_u64().unwrap();
        assert_eq!(total, 2, "every control counts both machines: {c}");
    }

    let mut csv_args = args.clone();
    csv_args.extend(["--format", "csv"]);
    let csv = m.ok(&csv_args);
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(rows[0][0], "host");
    assert_eq!(
        (rows[1][0].as_str(), rows[2][0].as_str()),
        ("laptop-a", "laptop-b")
    );

    let mut html_args = args.clone();
    html_args.extend(["--format", "html"]);
    let html = m.ok(&html_args);
    assert!(html.contains("laptop-a, laptop-b"), "{html}");
    for text in [
        &String::from_utf8_lossy(&o.stdout).into_owned(),
        &csv,
        &html,
    ] {
        assert_no_secret(text, &shared);
        assert_no_secret(text, &only_b);
    }

    // A newer schema, and something that is not a report.
    let mut newer = a.clone();
    newer["schema_version"] = Value::from(99);
    let newer_file = dir.join("newer.json");
    std::fs::write(&newer_file, newer.to_string()).unwrap();
    let o = m.run([
        "audit",
        "merge",
        files[0].as_str(),
        newer_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("newer Mantra"));
    let other = dir.join("other.json");
    std::fs::write(&other, "{\"hello\": 1}").unwrap();
    let o = m.run(["audit", "merge", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a Mantra audit report"));
    // A report cut short in transfer is named, not half-read.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let o = m.run(["audit", "merge", files[1].as_str(), cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cut.json") && err.contains("not JSON"),
        "{err}"
    );
    // A byte-order mark (a Windows collector's UTF-8) is no obstacle.
    let bom = dir.join("bom.json");
    std::fs::write(&bom, format!("\u{feff}{text}")).unwrap();
    let fleet: Value =
        serde_json::from_str(&m.ok(["audit", "merge", bom.to_str().unwrap()])).unwrap();
    assert_eq!(fleet["totals"]["machines"], 1);
}
