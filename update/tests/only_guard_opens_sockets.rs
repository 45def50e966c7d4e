//! The guard is the only code that opens sockets: no other source file of
//! the crates that make up the `mantra` binary may use an HTTP client or
//! connect a socket. Those crates are the binary's (`cli/`) and every path
//! dependency in `[workspace.dependencies]`, so a new library crate is
//! covered as soon as the workspace can depend on it; development tools
//! outside that list (the benchmark generator) are not shipped.

#![allow(clippy::unwrap_used)]

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "ureq::",
    "reqwest",
    "TcpStream::connect",
    "UdpSocket",
    "hyper::",
    "std::net::TcpStream",
];

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            // Tests run their own loopback servers; target dirs are not source.
            if !matches!(name.as_str(), "target" | "tests" | ".git" | "rules") {
                scan(&p, hits);
            }
        } else if name.ends_with(".rs") && !p.ends_with("update/src/guard.rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for f in FORBIDDEN {
                if text.contains(f) {
                    hits.push(format!("{}: {f}", p.display()));
                }
            }
        }
    }
}

/// Source directories of the crates linked into `mantra`.
fn shipped_sources(root: &Path) -> Vec<std::path::PathBuf> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut dirs = vec![root.join("cli/src")];
    for line in manifest.lines() {
        let line = line.trim();
        if !line.starts_with("mantra") {
            continue;
        }
        if let Some(rest) = line.split("path = \"").nth(1) {
            let dir = rest.split('"').next().unwrap();
            dirs.push(root.join(dir).join("src"));
        }
    }
    dirs
}

#[test]
fn no_socket_code_outside_the_guard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dirs = shipped_sources(root);
    assert!(dirs.iter().any(|d| d.ends_with("update/src")), "{dirs:?}");
    assert!(dirs.iter().any(|d| d.ends_with("detect/src")), "{dirs:?}");
    let mut hits = Vec::new();
    for dir in &dirs {
        scan(dir, &mut hits);
    }
    assert!(
        hits.is_empty(),
        "network code outside update/src/guard.rs: {hits:#?}"
    );
}
