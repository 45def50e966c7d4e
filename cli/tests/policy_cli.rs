//! The `mantra policy|update` subcommands, run as the real binary against
//! files under `MANTRA_TEST_ROOT` (test-roots builds) and, in default
//! builds, proof that the variable is ignored.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn mantra() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mantra"));
    c.env_remove("MANTRA_TEST_PLATFORM").env(
        "MANTRA_HOME",
        std::env::temp_dir().join("mantra-cli-test-home"),
    );
    c
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut d = p.parent();
    while let Some(dir) = d.filter(|d| *d != root) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        d = dir.parent();
    }
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn validate_reports_line_numbered_problems_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.yaml");
    std::fs::write(
        &f,
        "network:\n  enabled: maybe\nlogging:\n  levle: debug\nmandatory:\n  x: 1\n",
    )
    .unwrap();
    let out = mantra()
        .args(["policy", "validate"])
        .arg(&f)
        .output()
        .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.yaml");
    std::fs::write(&f, "network:\n  enabled: false\n  x: [1,\n").unwrap();
    let out = mantra()
        .args(["policy", "validate"])
        .arg(&f)
        .output()
        .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("com.gonewx.mantra.plist");
    let mut d = plist::Dictionary::new();
    let mut net = plist::Dictionary::new();
    net.insert("enabled".into(), plist::Value::Boolean(false));
    d.insert("network".into(), plist::Value::Dictionary(net));
    plist::to_file_binary(&f, &plist::Value::Dictionary(d)).unwrap();
    let out = mantra()
        .args(["policy", "validate", "--json"])
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
    let out = mantra()
        .args(["policy", "validate", "/nonexistent/p.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_is_json_with_every_key() {
    let out = mantra().args(["policy", "schema"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["properties"]["network"]["properties"]["enabled"]["type"],
        "boolean"
    );
    assert!(v["properties"]["recommended"]["properties"]["hooks"].is_object());
}

#[cfg(not(feature = "test-roots"))]
#[test]
fn default_build_ignores_mantra_test_root() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "etc/mantra/policy.yaml",
        "network: {enabled: false}\n",
    );
    let out = mantra()
        .args(["policy", "show", "--json"])
        .env("MANTRA_TEST_ROOT", root.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(&root.path().display().to_string()),
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
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            "etc/mantra/policy.yaml",
            "network:\n  enabled: false\nhooks: {block_severity: nope}\nextra: 1\n",
        );
        write(
            root.path(),
            "home/.config/mantra/config.yaml",
            "network: {enabled: true}\n",
        );
        let out = mantra()
            .args(["policy", "show", "--json"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "linux")
            .output()
            .unwrap();
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

        let table = mantra()
            .args(["policy", "show"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "linux")
            .output()
            .unwrap();
        let t = String::from_utf8_lossy(&table.stdout);
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
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            "Library/Managed Preferences/com.gonewx.mantra.plist",
            "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>telemetry</key><true/><key>storage</key><dict><key>key_fallback</key><string>deny</string></dict></dict></plist>",
        );
        let out = mantra()
            .args(["policy", "show", "--json"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "macos")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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

        write(
            root.path(),
            "registry.reg",
            "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Gonewx\\Mantra\\logging]\n\"level\"=\"warn\"\n",
        );
        let out = mantra()
            .args(["policy", "show", "--json"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "windows")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            "etc/mantra/policy.yaml",
            &format!("network: {{enabled: false}}\nupdates: {{enabled: true, url: \"http://{addr}/m.json\"}}\n"),
        );
        let out = mantra()
            .args(["update", "check", "--json"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "linux")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"], "disabled");
        assert_eq!(hits.load(Ordering::SeqCst), 0);

        // Allowed: the binary reaches the server (which answers 404: exit 2).
        write(
            root.path(),
            "etc/mantra/policy.yaml",
            &format!("updates: {{url: \"http://{addr}/m.json\"}}\n"),
        );
        let out = mantra()
            .args(["update", "check"])
            .env("MANTRA_TEST_ROOT", root.path())
            .env("MANTRA_TEST_PLATFORM", "linux")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
