//! What the git hooks scan when content is binary or marked so, and what
//! they do when the exposure list cannot be used: real repositories, real
//! `.gitattributes`, real devices and damaged lists.

mod support;

use support::*;

fn setup(m: &Machine) -> std::path::PathBuf {
    let repo = m.repo("r", false);
    m.install_repo_hooks(&repo);
    repo
}

/// Bytes that look like a PNG image: its signature, a header chunk and
/// pseudo-random (compressed-looking) data.
fn png_noise(len: usize, seed: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0".to_vec();
    let mut x = seed;
    for _ in 0..len {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push((x >> 24) as u8);
    }
    out
}

/// Runs `mantra hook pre-commit` itself (not through git) to see its exit
/// code: 0 allowed, 1 blocked, 2 could not check.
fn pre_commit(m: &Machine, repo: &std::path::Path) -> (Option<i32>, String) {
    let out = m.run_in(repo, ["hook", "pre-commit"]);
    (out.status.code(), stderr(&out))
}

#[test]
fn a_nul_byte_does_not_hide_a_token() {
    let m = Machine::new();
    let repo = setup(&m);
    let token = github_token();
    // Text with one NUL byte: git calls it binary.
    m.add(
        &repo,
        "notes.txt",
        format!("first line\0 with a NUL\ndeploy token {token}\n").as_bytes(),
    );
    let err = assert_blocked(&m.commit(&repo, "nul"));
    assert!(err.contains("notes.txt:2:"), "{err}");
    assert!(err.contains("github-pat"), "{err}");
    assert_no_secret(&err, &token);
}

#[test]
fn gitattributes_cannot_turn_scanning_off() {
    let m = Machine::new();
    let repo = setup(&m);
    m.add(
        &repo,
        ".gitattributes",
        b"*.txt -diff\n*.cfg binary\n*.dat diff=opaque\n",
    );
    m.git(&repo, &["config", "diff.opaque.binary", "true"]);
    assert_ok(&m.commit(&repo, "attributes"));
    for name in ["a.txt", "b.cfg", "c.dat"] {
        let token = github_token();
        m.add(&repo, name, format!("x = 1\ntoken = {token}\n").as_bytes());
        let err = assert_blocked(&m.commit(&repo, name));
        assert!(err.contains(&format!("{name}:2:")), "{err}");
        assert_no_secret(&err, &token);
        m.git(&repo, &["rm", "-q", "--cached", name]);
    }
}

#[test]
fn binary_blobs_are_scanned_for_tokens_and_exposed_secrets() {
    let m = Machine::new();
    let repo = setup(&m);
    // A checksummed token inside an image.
    let token = github_token();
    let mut png = png_noise(8192, 7);
    png.extend_from_slice(format!("\n{token}\n").as_bytes());
    png.extend(png_noise(4096, 11));
    m.add(&repo, "logo.png", &png);
    let err = assert_blocked(&m.commit(&repo, "token in a png"));
    assert!(err.contains("logo.png:"), "{err}");
    assert!(err.contains("github-pat"), "{err}");
    assert_no_secret(&err, &token);
    m.git(&repo, &["rm", "-q", "--cached", "logo.png"]);

    // A password no rule knows, exposed in an AI session, committed bare
    // inside a binary blob.
    let password = bare_password();
    m.expose(&[(&password, "generic-secret")]);
    let mut blob = png_noise(2048, 3);
    blob.extend_from_slice(format!("\n{password}\n").as_bytes());
    blob.extend(png_noise(2048, 5));
    m.add(&repo, "icon.png", &blob);
    let err = assert_blocked(&m.commit(&repo, "exposed in a png"));
    assert!(err.contains("EXPOSED IN AN AI SESSION"), "{err}");
    assert!(err.contains("icon.png:"), "{err}");
    assert_no_secret(&err, &password);
    m.git(&repo, &["rm", "-q", "--cached", "icon.png"]);

    // The generic "secret-named key = value" rule stays off binary noise.
    let mut blob = png_noise(2048, 13);
    blob.extend_from_slice(b"\nDB_PASSWORD=2vk6cKRP1QTP7Bpz\n");
    m.add(&repo, "photo.png", &blob);
    assert_ok(&m.commit(&repo, "generic-looking bytes in a png"));
}

#[test]
fn pre_push_scans_binary_content_too() {
    let m = Machine::new();
    let (_remote, repo) = m.remote_and_clone("p", false);
    m.install_repo_hooks(&repo);
    m.add(&repo, "README", b"hello\n");
    m.commit_no_verify(&repo, "base");
    assert_ok(&m.push(&repo, &["origin", "main"]));
    let token = github_token();
    let mut png = png_noise(4096, 17);
    png.extend_from_slice(format!("\n{token}\n").as_bytes());
    m.add(&repo, "img.png", &png);
    m.commit_no_verify(&repo, "image");
    let err = assert_blocked(&m.push(&repo, &["origin", "main"]));
    assert!(err.contains("img.png:"), "{err}");
    assert_no_secret(&err, &token);
}

#[cfg(unix)]
#[test]
fn an_exposure_list_that_is_a_device_blocks_at_once_under_fail_closed() {
    let m = Machine::new();
    let repo = setup(&m);
    std::fs::create_dir_all(&m.data).expect("data directory");
    let list = m.data.join("exposures.json");
    std::os::unix::fs::symlink("/dev/zero", &list).expect("symlink");
    m.add(&repo, "a.txt", b"harmless\n");
    let (code, err) = pre_commit(&m, &repo);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("character device"), "{err}");
    assert!(err.contains("fix: run `mantra index`"), "{err}");
}

#[test]
fn a_damaged_or_foreign_exposure_list_blocks_under_fail_closed() {
    let m = Machine::new();
    let repo = setup(&m);
    let password = bare_password();
    m.expose(&[(&password, "generic-secret")]);
    let list = m.data.join("exposures.json");
    let good = std::fs::read(&list).expect("list");
    m.add(&repo, "p.txt", format!("{password}\n").as_bytes());
    for (what, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("garbage", b"\x00\x13not json at all".to_vec()),
    ] {
        std::fs::write(&list, &bytes).expect("write");
        let (code, err) = pre_commit(&m, &repo);
        assert_eq!(code, Some(2), "{what}: {err}");
        assert!(err.contains("exposure list"), "{what}: {err}");
        assert!(err.contains("fix: run `mantra index`"), "{what}: {err}");
        assert_no_secret(&err, &password);
    }
    // Made under another fingerprint key than the one in force.
    std::fs::write(&list, &good).expect("write");
    let mut m = m;
    m.set_env("MANTRA_FINGERPRINT_KEY", "org-key-2026");
    let (code, err) = pre_commit(&m, &repo);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("another fingerprint key"), "{err}");
    assert!(err.contains("fix: run `mantra index`"), "{err}");
}

/// Needs the test-only hook settings seam.
#[cfg(feature = "test-roots")]
#[test]
fn under_fail_open_an_unusable_exposure_list_is_a_clear_warning() {
    let mut m = Machine::new();
    let repo = setup(&m);
    m.hooks_config(r#"{"fail_closed": false}"#);
    let password = bare_password();
    m.expose(&[(&password, "generic-secret")]);
    let list = m.data.join("exposures.json");
    let good = std::fs::read(&list).expect("list");
    std::fs::write(&list, &good[..good.len() / 2]).expect("truncate");
    m.add(&repo, "p.txt", format!("{password}\n").as_bytes());
    let (code, err) = pre_commit(&m, &repo);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("mantra: warning: "), "{err}");
    assert!(err.contains("not recognised"), "{err}");
    assert_no_secret(&err, &password);
}

#[test]
fn a_missing_exposure_list_is_said_once_sessions_are_indexed() {
    let m = Machine::new();
    let repo = setup(&m);
    m.add(&repo, "a.txt", b"harmless\n");
    // The agent never ran: nothing to compare with, nothing to say.
    let (code, err) = pre_commit(&m, &repo);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("exposure list"), "{err}");
    // The agent has indexed (its store exists) but the list is gone.
    m.write(m.data.join("sessions.db"), b"");
    let (code, err) = pre_commit(&m, &repo);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("mantra: warning: the exposure list"), "{err}");
    assert!(err.contains("missing"), "{err}");
}

/// Files the hook reads at every commit from places anyone can write (the
/// repository's baseline, the hooks folder) are opened without blocking:
/// a FIFO planted as `.mantra-baseline.json` used to hang `git commit`.
#[cfg(unix)]
#[test]
fn a_fifo_as_the_repository_baseline_does_not_hang_the_commit() {
    let m = Machine::new();
    let repo = setup(&m);
    assert!(std::process::Command::new("mkfifo")
        .arg(repo.join(".mantra-baseline.json"))
        .status()
        .expect("mkfifo")
        .success());
    let token = github_token();
    m.add(&repo, "deploy.txt", format!("token = {token}\n").as_bytes());
    let err = assert_blocked(&m.commit(&repo, "deploy"));
    assert!(err.contains("github-pat"), "{err}");
    assert_no_secret(&err, &token);
}
