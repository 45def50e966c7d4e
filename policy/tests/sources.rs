//! Every source read for real from files under an injected root, merged with
//! provenance. Unix only: they set file modes and owners, which the
//! policy loader checks on Unix (Windows uses ACLs, not checked yet).
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mantra_policy::merge::{ConflictKind, Status};
use mantra_policy::registry::POLICY_KEY;
use mantra_policy::{
    files, load, Hive, Level, LoadOptions, MemRegistry, Platform, RegValue, Scope, Severity,
    SourceKind,
};
use serde_json::json;

struct Root {
    dir: tempfile::TempDir,
    platform: Platform,
}

impl Root {
    fn new(platform: Platform) -> Self {
        Root {
            dir: tempfile::tempdir().unwrap(),
            platform,
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        self.write_bytes(rel, text.as_bytes())
    }
    fn write_bytes(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // Directories made by a test may inherit a permissive umask: pin them.
        let mut d = p.parent();
        while let Some(dir) = d {
            if dir == self.path() {
                break;
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            d = dir.parent();
        }
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p
    }
    fn opts(&self) -> LoadOptions {
        LoadOptions::rooted(self.path(), self.platform, files::effective_uid().unwrap())
    }
    fn load(&self) -> mantra_policy::Effective {
        load(&self.opts())
    }
}

const USER: &str = "home/.config/mantra/config.yaml";
const ETC: &str = "etc/mantra/policy.yaml";

#[test]
fn nothing_configured_gives_defaults() {
    let r = Root::new(Platform::Linux);
    let e = r.load();
    assert_eq!(e.policy, mantra_policy::Policy::default());
    assert!(!e.report.has_problems(), "{:?}", e.report);
    let row = e.report.row("network.enabled").unwrap();
    assert_eq!(row.source, SourceKind::Default);
    assert_eq!(row.status, Status::Default);
}

#[test]
fn mandatory_policy_beats_user_config_and_keeps_the_loser_as_conflict() {
    let r = Root::new(Platform::Linux);
    r.write(
        USER,
        "network:\n  enabled: true\nlogging:\n  level: debug\n",
    );
    r.write(ETC, "network:\n  enabled: false\n");
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert_eq!(
        e.policy.logging.level,
        mantra_policy::LogLevel::Debug,
        "user config applies where no admin set"
    );
    let row = e.report.row("network.enabled").unwrap();
    assert_eq!(
        (row.level, row.scope, row.source),
        (
            Level::Mandatory,
            Some(Scope::Machine),
            SourceKind::PolicyFile
        )
    );
    assert_eq!(
        row.origin.as_deref(),
        Some(format!("{}:2", r.path().join(ETC).display()).as_str())
    );
    assert_eq!(row.conflicts.len(), 1);
    assert_eq!(row.conflicts[0].source, SourceKind::UserConfig);
    assert_eq!(row.conflicts[0].kind, ConflictKind::Override);
    assert_eq!(row.conflicts[0].value, json!(true));
}

#[test]
fn user_config_overrides_recommended_but_not_mandatory() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "hooks: {block_severity: high}\nrecommended:\n  logging: {level: warn}\n  hooks: {block_severity: low}\n");
    r.write(
        USER,
        "logging: {level: trace}\nhooks: {block_severity: info}\n",
    );
    let e = r.load();
    assert_eq!(e.policy.logging.level, mantra_policy::LogLevel::Trace);
    assert_eq!(e.policy.hooks.block_severity, Severity::High);
    let hooks = e.report.row("hooks.block_severity").unwrap();
    assert_eq!(hooks.conflicts.len(), 2, "{:?}", hooks.conflicts);
}

#[test]
fn recommended_applies_when_the_user_sets_nothing() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "recommended:\n  agent:\n    retention_days: 30\n");
    let e = r.load();
    assert_eq!(e.policy.agent.retention_days, 30);
    assert_eq!(
        e.report.row("agent.retention_days").unwrap().level,
        Level::Recommended
    );
}

#[test]
fn user_config_recommended_section_is_unknown() {
    let r = Root::new(Platform::Linux);
    r.write(USER, "recommended:\n  network: {enabled: false}\n");
    let e = r.load();
    assert!(e.policy.network.enabled);
    assert_eq!(e.report.unknown[0].key, "recommended");
}

#[test]
fn dropins_apply_in_lexical_order_after_the_main_file() {
    let r = Root::new(Platform::Linux);
    r.write(
        ETC,
        "logging: {retention_days: 5}\nagent: {retention_days: 1}\n",
    );
    r.write(
        "etc/mantra/policy.d/20-b.yaml",
        "logging: {retention_days: 20}\n",
    );
    r.write(
        "etc/mantra/policy.d/10-a.yaml",
        "logging: {retention_days: 10}\nagent: {retention_days: 7}\n",
    );
    r.write("etc/mantra/policy.d/README", "ignored");
    let e = r.load();
    assert_eq!(e.policy.logging.retention_days, 20);
    assert_eq!(e.policy.agent.retention_days, 7);
    assert_eq!(e.report.sources.len(), 3);
}

#[test]
fn world_writable_policy_file_is_refused_and_fails_closed() {
    let r = Root::new(Platform::Linux);
    let p = r.write(ETC, "network: {enabled: true}\nlogging: {level: debug}\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = r.load();
    assert!(
        !e.policy.network.enabled && !e.policy.updates.enabled && !e.policy.crash_reports.enabled
    );
    assert_eq!(
        e.policy.logging.level,
        mantra_policy::LogLevel::Info,
        "nothing from a refused file is used"
    );
    assert_eq!(e.report.errors.len(), 1);
    assert!(e.report.errors[0].fail_closed);
    assert!(
        e.report.errors[0]
            .message
            .contains("writable by group or others"),
        "{}",
        e.report.errors[0].message
    );
    assert!(matches!(
        e.report.row("network.enabled").unwrap().status,
        Status::FailClosed { .. }
    ));
}

#[test]
fn group_writable_directory_is_refused() {
    let r = Root::new(Platform::Linux);
    r.write("etc/mantra/policy.d/a.yaml", "network: {enabled: true}\n");
    std::fs::set_permissions(
        r.path().join("etc/mantra/policy.d"),
        std::fs::Permissions::from_mode(0o775),
    )
    .unwrap();
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert!(e.report.errors[0].message.contains("policy.d"));
}

#[test]
fn policy_not_owned_by_the_expected_owner_is_refused() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "network: {enabled: true}\n");
    let mut opts = r.opts();
    opts.owner.uid = opts.owner.uid.wrapping_add(1);
    let e = load(&opts);
    assert!(!e.policy.network.enabled);
    assert!(e.report.errors[0].message.contains("owned by uid"));
}

#[test]
fn unparsable_policy_fails_closed_with_line_number() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "network:\n  enabled: false\n bad: [\n");
    let e = r.load();
    assert!(!e.policy.network.enabled && !e.policy.updates.enabled);
    assert_eq!(e.policy.hooks.required.len(), 2);
    let msg = &e.report.errors[0].message;
    assert!(msg.contains(":3:") || msg.contains(":4:"), "{msg}");
}

#[test]
fn unparsable_user_config_is_reported_but_not_restrictive() {
    let r = Root::new(Platform::Linux);
    r.write(USER, "network: [\n");
    let e = r.load();
    assert!(e.policy.network.enabled);
    assert!(!e.report.errors[0].fail_closed);
}

#[test]
fn each_key_is_validated_alone_and_restrictive_keys_fail_closed() {
    let r = Root::new(Platform::Linux);
    r.write(
        ETC,
        "network:\n  enabled: \"nope\"\nlogging:\n  level: loud\n  retention_days: 3\nrules:\n  min_severity: high\nstorage: {encryption: maybe}\n",
    );
    let e = r.load();
    assert!(
        !e.policy.network.enabled,
        "invalid restrictive key takes its restrictive value"
    );
    assert_eq!(
        e.policy.logging.level,
        mantra_policy::LogLevel::Info,
        "invalid ordinary key keeps the default"
    );
    assert_eq!(e.policy.logging.retention_days, 3, "siblings are kept");
    assert_eq!(e.policy.rules.min_severity, Severity::High);
    let mut inv: Vec<&str> = e.report.invalid.iter().map(|i| i.key.as_str()).collect();
    inv.sort();
    assert_eq!(
        inv,
        ["logging.level", "network.enabled", "storage.encryption"]
    );
    let net = e
        .report
        .invalid
        .iter()
        .find(|i| i.key == "network.enabled")
        .unwrap();
    assert_eq!(net.restrictive_applied, Some(json!(false)));
    assert!(net.origin.ends_with(":2"), "{}", net.origin);
    let level = e
        .report
        .invalid
        .iter()
        .find(|i| i.key == "logging.level")
        .unwrap();
    assert!(level.restrictive_applied.is_none());
    assert!(matches!(
        e.report.row("network.enabled").unwrap().status,
        Status::RestrictiveFallback { .. }
    ));
}

#[test]
fn user_config_cannot_loosen_an_invalid_mandatory_restrictive_key() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "updates: {enabled: 17}\n");
    r.write(USER, "updates: {enabled: true}\n");
    assert!(!r.load().policy.updates.enabled);
}

#[test]
fn section_with_a_scalar_is_malformed_and_fails_closed_below_it() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "network: false\n");
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert_eq!(e.report.invalid[0].key, "network");
}

#[test]
fn unknown_keys_are_listed_with_origin_and_skipped() {
    let r = Root::new(Platform::Linux);
    r.write(
        ETC,
        "network:\n  enabled: false\n  proxy: x\nfrobnicate: 1\n",
    );
    let e = r.load();
    let unk: Vec<(&str, bool)> = e
        .report
        .unknown
        .iter()
        .map(|u| {
            (
                u.key.as_str(),
                u.origin.ends_with(":3") || u.origin.ends_with(":4"),
            )
        })
        .collect();
    assert_eq!(unk, [("frobnicate", true), ("network.proxy", true)]);
    assert!(!e.policy.network.enabled);
}

#[test]
fn allowlists_merge_across_sources_or_admin_only() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "allowlist:\n  paths: ['admin/**']\n");
    r.write(USER, "allowlist:\n  paths: ['mine/**', 'admin/**']\n");
    let e = r.load();
    assert_eq!(e.policy.allowlist.paths, ["admin/**", "mine/**"]);
    assert_eq!(
        e.report.row("allowlist.paths").unwrap().conflicts[0].kind,
        ConflictKind::Merged
    );

    r.write(
        ETC,
        "allowlist:\n  paths: ['admin/**']\n  merge: admin_only\n",
    );
    let e = r.load();
    assert_eq!(e.policy.allowlist.paths, ["admin/**"]);
    assert_eq!(
        e.report.row("allowlist.paths").unwrap().conflicts[0].kind,
        ConflictKind::Ignored
    );
}

#[test]
fn admin_only_with_only_user_entries_leaves_the_list_empty() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "allowlist: {merge: admin_only}\n");
    r.write(USER, "allowlist: {regexes: ['x']}\n");
    let e = r.load();
    assert!(e.policy.allowlist.regexes.is_empty());
}

#[test]
fn fingerprint_key_is_never_shown() {
    let r = Root::new(Platform::Linux);
    r.write(ETC, "fingerprint_key: super-secret-org-key-123\n");
    let e = r.load();
    assert_eq!(
        e.policy.fingerprint_key.as_deref(),
        Some("super-secret-org-key-123")
    );
    let shown = serde_json::to_string(&e.report).unwrap();
    assert!(!shown.contains("super-secret"), "{shown}");
}

#[test]
fn custom_rules_pass_through_opaque() {
    let r = Root::new(Platform::Linux);
    r.write(
        ETC,
        "rules:\n  custom:\n    - id: corp\n      pattern: 'CORP_[A-Z]{8}'\n      severity: high\n",
    );
    let e = r.load();
    assert_eq!(
        e.policy.rules.custom,
        vec![json!({"id": "corp", "pattern": "CORP_[A-Z]{8}", "severity": "high"})]
    );
}

const PLIST_DEVICE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadUUID</key><string>x</string>
  <key>network</key>
  <dict>
    <key>enabled</key><true/>
  </dict>
  <key>hooks</key>
  <dict>
    <key>required</key><array><string>pre-commit</string></array>
    <key>block_severity</key><string>bogus</string>
  </dict>
  <key>recommended</key>
  <dict>
    <key>logging</key><dict><key>level</key><string>warn</string></dict>
  </dict>
</dict>
</plist>
"#;

#[test]
fn macos_device_plist_is_mandatory_machine_and_beats_policy_file() {
    let r = Root::new(Platform::MacOs);
    r.write(
        "Library/Application Support/Mantra/policy.yaml",
        "network: {enabled: false}\nupdates: {channel: beta}\n",
    );
    r.write(
        "Library/Managed Preferences/com.gonewx.mantra.plist",
        PLIST_DEVICE,
    );
    let e = r.load();
    assert!(e.policy.network.enabled, "MDM beats the policy file");
    assert_eq!(e.policy.updates.channel, mantra_policy::Channel::Beta);
    assert_eq!(
        e.policy.hooks.required,
        [mantra_policy::HookKind::PreCommit]
    );
    assert_eq!(e.policy.logging.level, mantra_policy::LogLevel::Warn);
    let row = e.report.row("network.enabled").unwrap();
    assert_eq!(
        (row.source, row.level, row.scope),
        (SourceKind::MacosMdm, Level::Mandatory, Some(Scope::Machine))
    );
    assert!(
        row.origin
            .as_deref()
            .unwrap()
            .ends_with("com.gonewx.mantra.plist:8"),
        "{:?}",
        row.origin
    );
    assert!(
        e.report.unknown.is_empty(),
        "Payload keys are not policy: {:?}",
        e.report.unknown
    );
    let bad = &e.report.invalid[0];
    assert_eq!(bad.key, "hooks.block_severity");
    assert!(bad.origin.ends_with(":13"), "{}", bad.origin);
}

#[test]
fn macos_machine_beats_user_and_binary_plists_are_read() {
    let r = Root::new(Platform::MacOs);
    let mut user = plist::Dictionary::new();
    let mut net = plist::Dictionary::new();
    net.insert("enabled".into(), plist::Value::Boolean(false));
    user.insert("network".into(), plist::Value::Dictionary(net));
    let mut agent = plist::Dictionary::new();
    agent.insert("retention_days".into(), plist::Value::Integer(9.into()));
    user.insert("agent".into(), plist::Value::Dictionary(agent));
    let mut bin = Vec::new();
    plist::to_writer_binary(&mut bin, &plist::Value::Dictionary(user)).unwrap();
    r.write_bytes(
        "Library/Managed Preferences/user/com.gonewx.mantra.plist",
        &bin,
    );
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert_eq!(e.policy.agent.retention_days, 9);
    assert_eq!(
        e.report.row("agent.retention_days").unwrap().scope,
        Some(Scope::User)
    );

    r.write(
        "Library/Managed Preferences/com.gonewx.mantra.plist",
        PLIST_DEVICE,
    );
    let e = r.load();
    assert!(
        e.policy.network.enabled,
        "machine beats user at the same level"
    );
    assert_eq!(
        e.report.row("network.enabled").unwrap().conflicts[0].scope,
        Scope::User
    );
}

#[test]
fn corrupt_managed_preferences_fail_closed() {
    let r = Root::new(Platform::MacOs);
    r.write(
        "Library/Managed Preferences/com.gonewx.mantra.plist",
        "<plist><dict><key>x</dict>",
    );
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert_eq!(e.report.errors[0].source, SourceKind::MacosMdm);
}

fn registry() -> MemRegistry {
    let mut reg = MemRegistry::new();
    let p = |sub: &str| format!("{POLICY_KEY}\\{sub}");
    reg.set(
        Hive::LocalMachine,
        &p("network"),
        "enabled",
        RegValue::Dword(0),
    );
    reg.set(
        Hive::LocalMachine,
        &p("updates"),
        "channel",
        RegValue::Sz("beta".into()),
    );
    reg.set(
        Hive::LocalMachine,
        &p("hooks\\required"),
        "2",
        RegValue::Sz("pre-push".into()),
    );
    reg.set(
        Hive::LocalMachine,
        &p("hooks\\required"),
        "1",
        RegValue::Sz("pre-commit".into()),
    );
    reg.set(
        Hive::LocalMachine,
        &p("hooks\\required"),
        "note",
        RegValue::Sz("ignored".into()),
    );
    reg.set(
        Hive::LocalMachine,
        &p("rules"),
        "custom",
        RegValue::Sz(r#"[{"id":"corp","pattern":"CORP_[A-Z]{8}"}]"#.into()),
    );
    reg.set(
        Hive::LocalMachine,
        &p("agent"),
        "retention_days",
        RegValue::Dword(60),
    );
    reg.set(
        Hive::LocalMachine,
        &p("recommended\\logging"),
        "level",
        RegValue::Sz("debug".into()),
    );
    reg.set(
        Hive::LocalMachine,
        POLICY_KEY,
        "Honor_Repo_Config",
        RegValue::Dword(0),
    );
    reg.set(
        Hive::CurrentUser,
        &p("network"),
        "enabled",
        RegValue::Dword(1),
    );
    reg.set(
        Hive::CurrentUser,
        &p("agent"),
        "retention_days",
        RegValue::Dword(5),
    );
    reg.set(
        Hive::CurrentUser,
        &p("agent\\sources"),
        "cursor",
        RegValue::Dword(0),
    );
    reg.set(
        Hive::CurrentUser,
        &p("logging"),
        "retention_days",
        RegValue::Dword(99999),
    );
    reg
}

#[test]
fn windows_registry_hklm_over_hkcu_with_lists_and_json() {
    let r = Root::new(Platform::Windows);
    r.write(
        "ProgramData/Mantra/policy.yaml",
        "updates: {channel: stable}\nagent: {redact_at_rest: false}\n",
    );
    let mut opts = r.opts();
    opts.registry = Some(Arc::new(registry()));
    let e = load(&opts);
    assert!(!e.policy.network.enabled, "HKLM beats HKCU");
    assert_eq!(
        e.policy.updates.channel,
        mantra_policy::Channel::Beta,
        "registry beats the ProgramData file"
    );
    assert!(
        !e.policy.agent.redact_at_rest,
        "ProgramData policy file is read"
    );
    assert_eq!(e.policy.hooks.required.len(), 2);
    assert_eq!(
        e.policy.hooks.required[0],
        mantra_policy::HookKind::PreCommit,
        "numbered values in order"
    );
    assert_eq!(e.policy.rules.custom[0]["id"], "corp");
    assert_eq!(e.policy.agent.retention_days, 60);
    assert!(
        !e.policy.agent.sources.cursor,
        "HKCU applies where HKLM is silent"
    );
    assert!(
        !e.policy.honor_repo_config,
        "value names are case-insensitive"
    );
    assert_eq!(e.policy.logging.level, mantra_policy::LogLevel::Debug);
    assert_eq!(
        e.report.row("logging.level").unwrap().level,
        Level::Recommended
    );
    assert_eq!(e.report.invalid[0].key, "logging.retention_days");
    let row = e.report.row("network.enabled").unwrap();
    assert_eq!(
        row.origin.as_deref(),
        Some(r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Gonewx\Mantra")
    );
    assert_eq!(row.conflicts[0].scope, Scope::User);
}

#[test]
fn registry_dword_that_is_not_a_boolean_fails_closed() {
    let r = Root::new(Platform::Windows);
    let mut reg = MemRegistry::new();
    reg.set(
        Hive::LocalMachine,
        &format!("{POLICY_KEY}\\crash_reports"),
        "enabled",
        RegValue::Dword(7),
    );
    reg.set(
        Hive::CurrentUser,
        &format!("{POLICY_KEY}\\crash_reports"),
        "enabled",
        RegValue::Dword(1),
    );
    let mut opts = r.opts();
    opts.registry = Some(Arc::new(reg));
    let e = load(&opts);
    assert!(!e.policy.crash_reports.enabled);
    assert_eq!(e.report.invalid[0].restrictive_applied, Some(json!(false)));
}

#[test]
fn reg_file_parses_into_the_same_registry() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n; comment\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Gonewx\\Mantra\\network]\r\n\"enabled\"=dword:00000000\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Gonewx\\Mantra\\allowlist]\r\n\"regexes\"=hex(7):61,00,62,00,00,00,63,00,00,00,00,00\r\n\"merge\"=\"admin_only\"\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Gonewx\\Mantra\\rules]\r\n\"custom\"=\"[{\\\"id\\\":\\\"x\\\"}]\"\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    for bytes in [text.as_bytes().to_vec(), utf16] {
        let reg = MemRegistry::from_reg_bytes(&bytes).unwrap();
        let r = Root::new(Platform::Windows);
        let mut opts = r.opts();
        opts.registry = Some(Arc::new(reg));
        let e = load(&opts);
        assert!(!e.policy.network.enabled);
        assert_eq!(e.policy.allowlist.regexes, ["ab", "c"]);
        assert_eq!(
            e.policy.allowlist.merge,
            mantra_policy::AllowlistMerge::AdminOnly
        );
        assert_eq!(e.policy.rules.custom, vec![json!({"id": "x"})]);
    }
    assert!(
        MemRegistry::from_reg_bytes(b"Windows Registry Editor Version 5.00\n\"x\"=dword:1\n")
            .unwrap_err()
            .contains("line 2")
    );
}

/// Deeply nested flow collections made the YAML parser quadratic (4 MB
/// took minutes, and a user config is read by every `git commit`). They are
/// refused before parsing, with the line, and a policy file refused that
/// way fails closed like any unreadable one.
#[test]
fn deeply_nested_yaml_is_refused_before_parsing() {
    let r = Root::new(Platform::Linux);
    let deep = format!("logging:\n  level: debug\nx: {}", "[".repeat(3 << 20));
    r.write(USER, &deep);
    r.write(
        ETC,
        &format!("network:\n  enabled: true\ny: {}", "{a: ".repeat(100_000)),
    );
    let e = r.load();
    assert_eq!(e.report.errors.len(), 2, "{:?}", e.report.errors);
    for err in &e.report.errors {
        assert!(
            err.message.contains("nested more than 64 levels"),
            "{}",
            err.message
        );
    }
    assert!(e.report.errors.iter().any(|e| e.message.contains(":3:")));
    assert!(
        !e.policy.network.enabled,
        "the refused policy file fails closed"
    );
}

/// A FIFO or a device where a policy file is expected is refused at once
/// (it used to block, or be read without end), and fails closed.
#[test]
fn a_fifo_or_a_device_as_policy_file_is_refused_and_fails_closed() {
    let r = Root::new(Platform::Linux);
    let etc = r.path().join(ETC);
    std::fs::create_dir_all(etc.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        etc.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(
        etc.parent().unwrap().parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(&etc)
        .status()
        .unwrap()
        .success());
    let e = r.load();
    assert!(!e.policy.network.enabled);
    assert!(e.report.errors[0].fail_closed);
    assert!(
        e.report.errors[0].message.contains("FIFO"),
        "{}",
        e.report.errors[0].message
    );
    let v = mantra_policy::validate_file(&etc).unwrap_err().to_string();
    assert!(v.contains("FIFO"), "{v}");
}
