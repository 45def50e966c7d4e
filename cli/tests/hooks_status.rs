//! `mantra hooks status`: repositories where the organisation's hooks would
//! not run. Which hooks are required comes from a re-rooted policy file,
//! so these tests need the `test-roots` feature.
#![cfg(feature = "test-roots")]

mod support;

use support::*;

/// Which hooks are required is the organisation's call: the policy file
/// (re-rooted, test builds) requires both.
#[test]
fn finds_hidden_missing_and_not_executable_hooks() {
    let m = Machine::new();
    m.policy("hooks:\n  required: [pre-commit, pre-push]\n");
    let roots = m.path().join("src");
    std::fs::create_dir_all(&roots).expect("roots");
    let repo_at = |name: &str| {
        let p = roots.join(name);
        m.git(&roots, &["init", "-q", name]);
        p
    };
    let good = repo_at("good");
    m.install_repo_hooks(&good);
    let husky = repo_at("husky");
    std::fs::create_dir_all(husky.join(".husky")).expect("husky");
    m.git(&husky, &["config", "core.hooksPath", ".husky"]);
    let bare = repo_at("nested/plain");
    let noexec = repo_at("noexec");
    m.install_repo_hooks(&noexec);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            noexec.join(".git/hooks/pre-push"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }

    let out = m.run([
        "hooks",
        "status",
        "--json",
        "--roots",
        roots.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["ok"], false);
    let repos = status["repos"].as_array().expect("repos");
    assert_eq!(repos.len(), 4, "{status:#}");
    let find = |p: &std::path::Path| {
        repos
            .iter()
            .find(|r| r["path"] == p.to_str().expect("utf8"))
            .unwrap_or_else(|| panic!("{p:?} not found in {status:#}"))
    };
    assert_eq!(find(&good)["problems"].as_array().map(Vec::len), Some(0));
    let h = find(&husky);
    assert_eq!(h["hooks_path"], ".husky");
    assert_eq!(h["hooks_path_scope"], "local");
    assert_eq!(h["manager"], "husky");
    assert!(
        h["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("hidden")),
        "{h:#}"
    );
    let p = find(&bare);
    assert!(
        p["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("missing")),
        "{p:#}"
    );
    let n = find(&noexec);
    assert_eq!(n["hooks"][1]["state"], "not-executable", "{n:#}");

    // Only the good repository: ok, exit 0; the global install reported.
    let shims = m.path().join("shims");
    m.install_hooks("global", &shims);
    let out = m.ok(["hooks", "status", "--roots", good.to_str().expect("utf8")]);
    assert!(out.contains("hooks: ok"), "{out}");
    // Under the global install, the husky repository is still hidden.
    let out = m.run(["hooks", "status", "--roots", husky.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hidden"));
}
