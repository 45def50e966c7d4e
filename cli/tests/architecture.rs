//! The command layer's shape, checked on the source: one command per
//! `cmd_*.rs` file, each listed in `main.rs`, and no command module using
//! another as a library (what they share lives in non-command modules).

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file of a command: `cmd_x.rs` and anything under `cmd_x/`.
fn command_files() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(src()).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.starts_with("cmd_") {
            continue;
        }
        if path.is_dir() {
            for sub in std::fs::read_dir(&path).expect("read command dir") {
                files.push((name.clone(), sub.expect("entry").path()));
            }
        } else {
            files.push((name, path));
        }
    }
    files.sort();
    files
}

#[test]
fn no_command_module_imports_another() {
    let files = command_files();
    assert!(files.len() > 15, "expected the command files: {files:?}");
    for (command, path) in &files {
        let text = std::fs::read_to_string(path).expect("read");
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::cmd_") {
                let used: String = rest[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert_eq!(
                    &used,
                    command,
                    "{}:{}: command `{command}` uses command `{used}`; move what they share \
                     into a non-command module",
                    path.display(),
                    n + 1
                );
                rest = &rest[at + 1..];
            }
        }
    }
}

#[test]
fn every_command_module_is_declared_in_main() {
    let main = std::fs::read_to_string(src().join("main.rs")).expect("main.rs");
    let mut commands: Vec<String> = command_files().into_iter().map(|(c, _)| c).collect();
    commands.dedup();
    for command in commands {
        assert!(
            main.contains(&format!("mod {command};")),
            "{command} is not declared in main.rs"
        );
    }
}
