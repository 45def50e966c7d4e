//! The `mantra policy|update` subcommands, run as the real binary on an
//! isolated [`Machine`]: policy files under its root (`MANTRA_TEST_ROOT`,
//! test-roots builds) and, in default builds, proof that the variable is
//! ignored.

#![allow(clippy::unwrap_used)]

mod support;

use support::Machine;

#[test]
fn validate_reports_line_numbered_problems_and_exit_1() {
    let m = Machine::new();
    let f = m.path().join("p.yaml");
    std::fs::write(
        &f,
        "network:\n  enabled: maybe\nlogging:\n  levle: debug\nmandatory:\n  x: 1\n",
    )
    .unwrap();
    let out = m.mantra(["policy", "validate"]).arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("p.yaml:2: `network.enabled`: expected true or false"),
        "{text}"
    );
    assert!(
        text.contains("p.yaml:4: unknown key `logging.levle`"),
        "{text}"
    );
    assert!(
        text.contains("p.yaml:5: unknown key `mandatory` (top-level keys are mandatory already"),
        "{text}"
    );
}

#[test]
fn validate_reports_yaml_syntax_errors_with_their_line() {
    let m = Machine::new();
    let f = m.path().join("p.yaml");
    std::fs::write(&f, "network:\n  enabled: false\n  x: [1,\n").unwrap();
    let out = m.mantra(["policy", "validate"]).arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("YAML syntax error"), "{text}");
    assert!(
        text.contains("p.yaml:4:") || text.contains("p.yaml:3:"),
        "{text}"
    );
}

#[test]
fn validate_accepts_a_good_plist_and_json_output() {
    let m = Machine::new();
    let f = m.path().join("com.gonewx.mantra.plist");
    let mut d = plist::Dictionary::new();
    let mut net = plist::Dictionary::new();
    net.insert("enabled".into(), plist::Value::Boolean(false));
    d.insert("network".into(), plist::Value::Dictionary(net));
    plist::to_file_binary(&f, &plist::Value::Dictionary(d)).unwrap();
    let out = m
        .mantra(["policy", "validate", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid_keys"], 1);
    assert_eq!(v["format"], "plist");
}

#[test]
fn validate_of_a_missing_file_is_a_runtime_error() {
    let m = Machine::new();
    let out = m.run(["policy", "validate", "/nonexistent/p.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_is_json_with_every_key() {
    let m = Machine::new();
    let v = m.json(["policy", "schema"]);
    assert_eq!(
        v["properties"]["network"]["properties"]["enabled"]["type"],
        "boolean"
    );
    assert!(v["properties"]["recommended"]["properties"]["hooks"].is_object());
}

#[cfg(not(feature = "test-roots"))]
#[test]
fn default_build_ignores_mantra_test_root() {
    // The machine sets MANTRA_TEST_ROOT for every process.
    let m = Machine::new();
    m.policy("network: {enabled: false}\n");
    let out = m.run(["policy", "show", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(&m.root.display().to_string()),
        "the test root was read: {text}"
    );
}

#[cfg(feature = "test-roots")]
mod rooted {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn show_json_has_provenance_conflicts_unknown_and_invalid() {
        let mut m = Machine::new();
        m.set_env("MANTRA_TEST_PLATFORM", "linux");
        m.policy("network:\n  enabled: false\nhooks: {block_severity: nope}\nextra: 1\n");
        m.user_config("network: {enabled: true}\n");
        let out = m.run(["policy", "show", "--json"]);
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "network.enabled")
            .unwrap();
        assert_eq!(row["value"], false);
        assert_eq!(row["level"], "mandatory");
        assert_eq!(row["scope"], "machine");
        assert_eq!(row["source"], "policy_file");
        assert_eq!(row["status"], "ok");
        assert!(row["origin"]
            .as_str()
            .unwrap()
            .ends_with("etc/mantra/policy.yaml:2"));
        assert_eq!(row["conflicts"][0]["source"], "user_config");
        assert_eq!(row["conflicts"][0]["type"], "override");
        assert_eq!(v["unknown"][0]["key"], "extra");
        assert_eq!(v["invalid"][0]["key"], "hooks.block_severity");

        let t = m.ok(["policy", "show"]);
        assert!(
            t.contains("network.enabled") && t.contains("Override"),
            "{t}"
        );
        assert!(
            t.contains("Unknown keys") && t.contains("Invalid values"),
            "{t}"
        );
    }

    #[test]
    fn macos_and_windows_sources_through_the_binary() {
        let mut m = Machine::new();
        m.write_rooted(
            "Library/Managed Preferences/com.gonewx.mantra.plist",
            "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>telemetry</key><true/><key>storage</key><dict><key>key_fallback</key><string>deny</string></dict></dict></plist>",
        );
        m.set_env("MANTRA_TEST_PLATFORM", "macos");
        let v = m.json(["policy", "show", "--json"]);
        let row = |k: &str| {
            v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == k)
                .unwrap()
                .clone()
        };
        assert_eq!(row("storage.key_fallback")["value"], "deny");
        assert_eq!(row("storage.key_fallback")["source"], "macos_mdm");
        assert_eq!(row("telemetry")["value"], false);
        assert_eq!(row("telemetry")["status"], "restrictive_fallback");

        m.write_rooted(
            "registry.reg",
            "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Gonewx\\Mantra\\logging]\n\"level\"=\"warn\"\n",
        );
        m.set_env("MANTRA_TEST_PLATFORM", "windows");
        let v = m.json(["policy", "show", "--json"]);
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "logging.level")
            .unwrap();
        assert_eq!(row["value"], "warn");
        assert_eq!(row["source"], "windows_registry");
    }

    #[test]
    fn update_check_with_network_disabled_opens_no_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                h.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut s) = s {
                    let _ = s.write_all(
                        b"HTTP/1.1 404 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        });
        let mut m = Machine::new();
        m.set_env("MANTRA_TEST_PLATFORM", "linux");
        m.policy(&format!(
            "network: {{enabled: false}}\nupdates: {{enabled: true, url: \"http://{addr}/m.json\"}}\n"
        ));
        let out = m.run(["update", "check", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"], "disabled");
        assert_eq!(hits.load(Ordering::SeqCst), 0);

        // Allowed: the binary reaches the server (which answers 404: exit 2).
        m.policy(&format!("updates: {{url: \"http://{addr}/m.json\"}}\n"));
        let out = m.run(["update", "check"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
