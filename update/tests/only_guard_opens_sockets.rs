//! The guard is the only code that opens sockets: no other source file in
//! the workspace may use an HTTP client or connect a socket.

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

#[test]
fn no_socket_code_outside_the_guard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut hits = Vec::new();
    scan(root, &mut hits);
    assert!(
        hits.is_empty(),
        "network code outside update/src/guard.rs: {hits:#?}"
    );
}
