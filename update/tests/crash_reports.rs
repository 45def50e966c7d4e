//! Crash reports: written locally by the panic hook, uploaded only when
//! policy allows, through the guard.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use common::Server;
use mantra_policy::Policy;
use mantra_update::crash::{self, CrashReport, UploadOutcome};

#[test]
fn scrub_removes_tokens_and_home_and_truncates() {
    let home = std::env::var("HOME").unwrap_or_default();
    let msg = format!(
        "failed at {home}/src/x with key ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 and short words"
    );
    let s = crash::scrub(&msg);
    assert!(!s.contains("ghp_ABC"), "{s}");
    assert!(home.len() <= 1 || !s.contains(&home), "{s}");
    assert!(s.contains("short words"));
    assert!(crash::scrub(&"word ".repeat(200)).chars().count() <= crash::MAX_MESSAGE_CHARS + 1);
}

#[test]
fn panic_hook_writes_a_private_report() {
    let dir = tempfile::tempdir().unwrap();
    let reports = mantra_core::DataDir::new(dir.path()).crash_reports_dir();
    crash::install_panic_hook(reports.clone());
    let r = std::panic::catch_unwind(|| {
        panic!("boom with sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAA inside")
    });
    assert!(r.is_err());
    let files = crash::pending(&reports);
    assert_eq!(files.len(), 1);
    let meta = std::fs::metadata(&files[0]).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // The folder of reports is private too (it was created 0755).
    let dir_mode = std::fs::metadata(&reports).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let report: CrashReport = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert!(
        report.location.contains("crash_reports.rs"),
        "{}",
        report.location
    );
    assert!(report.message.starts_with("boom with"));
    assert!(!report.message.contains("AAAAAAAA"), "{}", report.message);
    assert_eq!(report.version, env!("CARGO_PKG_VERSION"));
}

fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crash::write_report(dir.path(), &CrashReport::new("src/x.rs:1:1".into(), "oops")).unwrap();
    dir
}

#[test]
fn upload_goes_through_only_when_policy_allows() {
    let mut routes = HashMap::new();
    routes.insert("/reports".to_string(), (200, b"ok".to_vec()));
    let s = Server::start(routes);
    let mut p = Policy::default();
    p.crash_reports.url = format!("{}/reports", s.base);

    let dir = seeded();
    assert!(matches!(
        crash::upload_pending(&p, dir.path()).unwrap(),
        UploadOutcome::Disabled { pending: 1, .. }
    ));
    p.crash_reports.enabled = true;
    p.network.enabled = false;
    assert!(matches!(
        crash::upload_pending(&p, dir.path()).unwrap(),
        UploadOutcome::Disabled { .. }
    ));
    assert_eq!(s.connections(), 0);

    p.network.enabled = true;
    assert_eq!(
        crash::upload_pending(&p, dir.path()).unwrap(),
        UploadOutcome::Uploaded { count: 1 }
    );
    assert_eq!(s.connections(), 1);
    let bodies = s.bodies.lock().unwrap();
    let sent: CrashReport = serde_json::from_slice(&bodies[0].1).unwrap();
    assert_eq!(sent.message, "oops");
    assert!(crash::pending(dir.path()).is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("sent")).unwrap().count(),
        1
    );
}
