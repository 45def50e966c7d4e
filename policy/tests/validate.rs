//! `validate_file` on each format, with line numbers.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use mantra_policy::validate::Format;
use mantra_policy::validate_file;

fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn xml_plist_problems_carry_their_line() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "x.plist",
        "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n  <key>hooks</key>\n  <dict>\n    <key>fail_closed</key>\n    <string>yes</string>\n  </dict>\n  <key>bogus</key><true/>\n</dict>\n</plist>\n",
    );
    let v = validate_file(&p).unwrap();
    assert_eq!(v.format, Format::Plist);
    let lines: Vec<(Option<usize>, Option<&str>)> = v
        .problems
        .iter()
        .map(|p| (p.line, p.key.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [
            (Some(6), Some("hooks.fail_closed")),
            (Some(9), Some("bogus"))
        ]
    );
}

#[test]
fn broken_xml_plist_reports_the_line_of_the_error() {
    let d = tempfile::tempdir().unwrap();
    let p = file(d.path(), "x.plist", "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n  <key>a</key>\n</dic>\n</plist>\n");
    let v = validate_file(&p).unwrap();
    assert_eq!(v.problems.len(), 1);
    assert_eq!(v.problems[0].line, Some(5));
}

#[test]
fn mobileconfig_payload_is_validated_with_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "m.mobileconfig",
        "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n<key>PayloadContent</key>\n<array>\n<dict>\n<key>PayloadType</key><string>com.gonewx.mantra</string>\n<key>network</key><dict><key>enabled</key><integer>2</integer></dict>\n</dict>\n</array>\n<key>PayloadType</key><string>Configuration</string>\n</dict>\n</plist>\n",
    );
    let v = validate_file(&p).unwrap();
    assert_eq!(v.format, Format::Mobileconfig);
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
    assert_eq!(v.problems[0].line, Some(8));
    assert!(v.problems[0].message.contains("restrictive value false"));
}

#[test]
fn profile_without_a_mantra_payload_is_a_problem() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "m.mobileconfig",
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>PayloadContent</key><array/></dict></plist>",
    );
    assert!(validate_file(&p).unwrap().problems[0]
        .message
        .contains("com.gonewx.mantra"));
}

#[test]
fn reg_files_are_validated_per_hive() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "x.reg",
        "Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\SOFTWARE\\Policies\\Gonewx\\Mantra\\logging]\n\"level\"=dword:00000001\n",
    );
    let v = validate_file(&p).unwrap();
    assert_eq!(v.format, Format::Reg);
    assert!(
        v.problems[0]
            .message
            .starts_with("HKEY_CURRENT_USER: `logging.level`"),
        "{:?}",
        v.problems
    );

    let p = file(
        d.path(),
        "y.reg",
        "Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\X]\n\"a\"=bogus:1\n",
    );
    let v = validate_file(&p).unwrap();
    assert_eq!(v.problems[0].line, Some(3));
}

#[test]
fn yaml_recommended_values_are_validated_too() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "p.yaml",
        "recommended:\n  agent:\n    retention_days: -3\n",
    );
    let v = validate_file(&p).unwrap();
    assert_eq!(
        v.problems[0].key.as_deref(),
        Some("recommended.agent.retention_days")
    );
    assert_eq!(v.problems[0].line, Some(3));
}

#[test]
fn shipped_profiles_validate_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mdm-profiles");
    for rel in [
        "policy.example.yaml",
        "com.gonewx.mantra.mobileconfig",
        "windows/mantra-policy.reg",
    ] {
        let v = validate_file(&dir.join(rel)).unwrap();
        // The one thing an admin must change before pushing a template:
        // its placeholder fingerprint key, which validation refuses.
        let keys: Vec<Option<&str>> = v.problems.iter().map(|p| p.key.as_deref()).collect();
        assert_eq!(keys, [Some("fingerprint_key")], "{rel}: {:?}", v.problems);
        assert!(
            v.problems[0].message.contains("placeholder"),
            "{rel}: {:?}",
            v.problems
        );
        assert_eq!(v.valid_keys, mantra_policy::KEYS.len(), "{rel}");
    }
}

#[test]
fn placeholder_and_short_fingerprint_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (value, why) in [
        ("replace-with-your-organisation-key", "placeholder"),
        ("CHANGEME-0123456789abcdef", "placeholder"),
    ] {
        let p = dir.path().join("p.yaml");
        std::fs::write(&p, format!("fingerprint_key: '{value}'\n")).unwrap();
        let v = validate_file(&p).unwrap();
        assert_eq!(v.problems.len(), 1, "{value}: {:?}", v.problems);
        assert!(v.problems[0].message.contains(why), "{:?}", v.problems);
        assert_eq!(v.problems[0].line, Some(1));
    }
    let p = dir.path().join("ok.yaml");
    std::fs::write(&p, "fingerprint_key: 'k7Qz1vN3pR8sT2wX5yB9cD4fG6hJ0mL'\n").unwrap();
    assert!(validate_file(&p).unwrap().is_ok());
}
