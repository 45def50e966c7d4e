//! The update check against a real HTTP server on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::{keys, manifest, Server};
use mantra_policy::{files, load, LoadOptions, Platform, Policy};
use mantra_update::manifest::sign;
use mantra_update::{check_for_update, CheckOptions, CheckOutcome, UpdateError};
use ring::digest::{digest, SHA256};

const ARTIFACT: &[u8] = b"pretend this is mantra 9.9.9";

fn serve(manifest_bytes: Vec<u8>) -> Server {
    let mut routes = HashMap::new();
    routes.insert("/stable/manifest.json".to_string(), (200, manifest_bytes));
    routes.insert(
        "/dl/mantra-9.9.9.tar.gz".to_string(),
        (200, ARTIFACT.to_vec()),
    );
    Server::start(routes)
}

fn policy_for(server: &Server) -> Policy {
    let mut p = Policy::default();
    p.updates.url = format!("{}/{{channel}}/manifest.json", server.base);
    p
}

fn opts(k: &common::Keys) -> CheckOptions {
    CheckOptions {
        current_version: semver::Version::parse("1.0.0").unwrap(),
        public_key: k.public,
        download_dir: None,
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(digest(&SHA256, b).as_ref())
}

/// A server whose manifest points at its own artifact route.
fn server_with(k: &common::Keys, version: &str, hash: Option<&str>) -> Server {
    let s = serve(Vec::new());
    let url = format!("{}/dl/mantra-9.9.9.tar.gz", s.base);
    let m = manifest(version, &url, hash.unwrap_or(&sha(ARTIFACT)));
    s.route("/stable/manifest.json", 200, sign(&m, &k.pkcs8).unwrap());
    s
}

#[test]
fn newer_signed_version_is_reported() {
    let k = keys();
    let s = server_with(&k, "9.9.9", None);
    let out = check_for_update(&policy_for(&s), &opts(&k)).unwrap();
    match out {
        CheckOutcome::UpdateAvailable {
            latest, downloaded, ..
        } => {
            assert_eq!(latest, "9.9.9");
            assert!(downloaded.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.connections(), 1);
}

#[test]
fn same_version_is_up_to_date() {
    let k = keys();
    let s = server_with(&k, "1.0.0", None);
    assert!(matches!(
        check_for_update(&policy_for(&s), &opts(&k)).unwrap(),
        CheckOutcome::UpToDate { .. }
    ));
}

#[test]
fn downgrade_is_rejected() {
    let k = keys();
    let s = server_with(&k, "0.9.0", None);
    let err = check_for_update(&policy_for(&s), &opts(&k)).unwrap_err();
    assert!(matches!(err, UpdateError::Downgrade { .. }), "{err}");
}

#[test]
fn signature_from_another_key_is_rejected() {
    let k = keys();
    let s = server_with(&k, "9.9.9", None);
    let other = keys();
    let err = check_for_update(&policy_for(&s), &opts(&other)).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn tampered_manifest_is_rejected() {
    let k = keys();
    let m = manifest("9.9.9", "https://example.com/x.tar.gz", &sha(ARTIFACT));
    let signed = String::from_utf8(sign(&m, &k.pkcs8).unwrap()).unwrap();
    let tampered = signed.replace("9.9.9", "9.9.10");
    let s = serve(tampered.into_bytes());
    let err = check_for_update(&policy_for(&s), &opts(&k)).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
    assert_eq!(s.connections(), 1);
}

#[test]
fn compiled_in_release_key_rejects_a_test_signature() {
    let k = keys();
    let s = server_with(&k, "9.9.9", None);
    let err = check_for_update(&policy_for(&s), &CheckOptions::for_this_build()).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn download_verifies_the_hash_and_refuses_a_wrong_one() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let s = server_with(&k, "9.9.9", None);
    let mut o = opts(&k);
    o.download_dir = Some(dir.path().to_path_buf());
    match check_for_update(&policy_for(&s), &o).unwrap() {
        CheckOutcome::UpdateAvailable {
            downloaded: Some(p),
            ..
        } => assert_eq!(std::fs::read(p).unwrap(), ARTIFACT),
        other => panic!("{other:?}"),
    }

    let wrong = "0".repeat(64);
    let s = server_with(&k, "9.9.9", Some(&wrong));
    let dir = tempfile::tempdir().unwrap();
    o.download_dir = Some(dir.path().to_path_buf());
    let err = check_for_update(&policy_for(&s), &o).unwrap_err();
    assert!(matches!(err, UpdateError::HashMismatch { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing saved"
    );
}

#[test]
fn malformed_hash_is_rejected_before_any_download() {
    let k = keys();
    let s = server_with(&k, "9.9.9", Some("abc"));
    let err = check_for_update(&policy_for(&s), &opts(&k)).unwrap_err();
    assert!(err.to_string().contains("sha256"), "{err}");
}

#[test]
fn plain_http_to_a_non_loopback_host_is_refused_without_connecting() {
    let k = keys();
    let mut p = Policy::default();
    p.updates.url = "http://192.0.2.1:1/m.json".into();
    let err = check_for_update(&p, &opts(&k)).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[test]
fn disabled_by_keys_means_zero_connections() {
    let k = keys();
    let s = server_with(&k, "9.9.9", None);
    for (net, upd) in [(false, true), (true, false), (false, false)] {
        let mut p = policy_for(&s);
        p.network.enabled = net;
        p.updates.enabled = upd;
        let out = check_for_update(&p, &opts(&k)).unwrap();
        assert!(matches!(out, CheckOutcome::Disabled { .. }), "{out:?}");
    }
    assert_eq!(s.connections(), 0);
}

/// The same through real policy sources: user config, policy file, plist,
/// registry. Every source that says no means no connection.
#[test]
fn disabled_from_any_source_means_zero_connections() {
    use std::os::unix::fs::PermissionsExt;
    let k = keys();
    let s = server_with(&k, "9.9.9", None);
    let url_yaml = format!(
        "updates:\n  url: \"{}/{{channel}}/manifest.json\"\n",
        s.base
    );
    let cases: Vec<(Platform, &str, String)> = vec![
        (Platform::Linux, "home/.config/mantra/config.yaml", format!("{url_yaml}network:\n  enabled: false\n")),
        (Platform::Linux, "home/.config/mantra/config.yaml", format!("{url_yaml}  enabled: false\n")),
        (Platform::Linux, "etc/mantra/policy.yaml", format!("{url_yaml}network: {{enabled: false}}\n")),
        (Platform::Linux, "etc/mantra/policy.d/99.yaml", format!("{url_yaml}  enabled: false\n")),
        (Platform::Linux, "etc/mantra/policy.yaml", format!("{url_yaml}recommended:\n  network: {{enabled: false}}\n")),
        (
            Platform::MacOs,
            "Library/Managed Preferences/com.gonewx.mantra.plist",
            format!(
                "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>updates</key><dict><key>url</key><string>{}/{{channel}}/manifest.json</string><key>enabled</key><false/></dict></dict></plist>",
                s.base
            ),
        ),
    ];
    for (platform, rel, text) in cases {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut d = path.parent();
        while let Some(dir) = d.filter(|d| *d != root.path()) {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            d = dir.parent();
        }
        std::fs::write(&path, text).unwrap();
        let opts_l = LoadOptions::rooted(root.path(), platform, files::effective_uid().unwrap());
        let eff = load(&opts_l);
        assert!(!eff.report.has_problems(), "{rel}: {:?}", eff.report);
        let out = check_for_update(&eff.policy, &opts(&k)).unwrap();
        assert!(
            matches!(out, CheckOutcome::Disabled { .. }),
            "{rel}: {out:?}"
        );
    }
    // Windows registry, in memory.
    let mut reg = mantra_policy::MemRegistry::new();
    reg.set(
        mantra_policy::Hive::CurrentUser,
        &format!("{}\\network", mantra_policy::registry::POLICY_KEY),
        "enabled",
        mantra_policy::RegValue::Dword(0),
    );
    let root = tempfile::tempdir().unwrap();
    let mut o = LoadOptions::rooted(
        root.path(),
        Platform::Windows,
        files::effective_uid().unwrap(),
    );
    o.registry = Some(std::sync::Arc::new(reg));
    let eff = load(&o);
    assert!(matches!(
        check_for_update(&eff.policy, &opts(&k)).unwrap(),
        CheckOutcome::Disabled { .. }
    ));
    assert_eq!(
        s.connections(),
        0,
        "no source that disables updates may let a connection through"
    );
}
