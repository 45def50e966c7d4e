//! The commands README.md and docs/ show exist in the binary: every
//! `mantra …` line of a code block and every inline `` `mantra …` `` names
//! a real command, and every `--flag` it shows is one that command takes.
//! A renamed or removed flag fails here instead of in a user's terminal.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use support::{workspace, Machine};

/// Every Markdown file whose commands are checked.
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut docs = vec![root.join("README.md"), root.join("SECURITY.md")];
    for dir in [root.join("docs"), root.join("mdm-profiles")] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "md") {
                    docs.push(e.path());
                }
            }
        }
    }
    docs.retain(|p| p.exists());
    docs.sort();
    docs
}

/// `mantra …` command lines of a document: code-block lines and inline
/// code spans, with their line numbers.
fn commands(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let cmd = trimmed.trim_start_matches("$ ").trim_start_matches("sudo ");
            if cmd.starts_with("mantra ") {
                found.push((n + 1, cmd.to_string()));
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("mantra ") {
                found.push((n + 1, span.to_string()));
            }
        }
    }
    found
}

/// The words that name the command (`hooks install`), and the flags shown.
fn parse(cmd: &str) -> (Vec<String>, Vec<String>) {
    let cmd = cmd.split(" #").next().unwrap_or(cmd);
    let mut words = Vec::new();
    let mut flags = Vec::new();
    let mut naming = true;
    for token in cmd.split_whitespace().skip(1) {
        // `[--a | --b]`, `(--x P|…)`, `--out=FILE`
        for part in token.split(['|', '[', ']', '(', ')', ',']) {
            let part = part.trim_end_matches(['…', '.', ';', ':']);
            if let Some(flag) = part.strip_prefix("--") {
                let name: String = flag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !name.is_empty() {
                    flags.push(format!("--{name}"));
                }
                naming = false;
            } else if naming
                && !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            {
                words.push(part.to_string());
            } else if !part.is_empty() {
                naming = false;
            }
        }
    }
    (words, flags)
}

#[test]
fn every_documented_command_and_flag_exists() {
    let m = Machine::new();
    let mut help: HashMap<Vec<String>, Option<String>> = HashMap::new();
    let mut help_of = |words: &[String]| -> Option<String> {
        help.entry(words.to_vec())
            .or_insert_with(|| {
                let o = m.run(words.iter().map(String::as_str).chain(["--help"]));
                o.status
                    .success()
                    .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
            })
            .clone()
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("read document");
        let name = doc
            .strip_prefix(workspace())
            .unwrap_or(&doc)
            .display()
            .to_string();
        for (line, cmd) in commands(&text) {
            let (mut words, flags) = parse(&cmd);
            let named_a_command = !words.is_empty();
            // The longest prefix of the words that is a command: the rest
            // are arguments (`mantra search QUERY` has none, `mantra scan
            // samples` one).
            let mut text = None;
            while text.is_none() {
                text = help_of(&words);
                if text.is_none() && words.pop().is_none() {
                    break;
                }
            }
            let (Some(text), false) = (text, named_a_command && words.is_empty()) else {
                problems.push(format!("{name}:{line}: `{cmd}`: no such command"));
                continue;
            };
            checked += 1;
            for flag in flags {
                let shown = text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .any(|w| w == flag);
                if !shown {
                    problems.push(format!(
                        "{name}:{line}: `{cmd}`: `mantra {}` has no {flag}",
                        words.join(" ")
                    ));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} documented commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
