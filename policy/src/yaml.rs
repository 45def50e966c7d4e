//! YAML sources (user config and policy files): parse to a tree, and find the
//! line of each key for error messages.
//!
//! Parsing goes through `serde_norway`, the maintained `serde_yaml` fork
//! (see docs/policy.md, dependency notes).

use std::path::Path;

use serde_json::Value;

use crate::error::ReadError;
use crate::source::Lines;

/// Parses YAML text into a JSON tree. An empty document is an empty mapping.
pub fn parse(path: &Path, text: &str) -> Result<Value, ReadError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    // Before the parser: it takes quadratic time on deep flow nesting.
    use mantra_core::yaml_nesting::{check_flow_nesting, MAX_FLOW_DEPTH};
    check_flow_nesting(text, MAX_FLOW_DEPTH).map_err(|e| ReadError::Yaml {
        path: path.to_path_buf(),
        line: e.line,
        message: format!("nested more than {} levels deep: refused", e.max),
    })?;
    serde_norway::from_str::<Value>(text).map_err(|e| ReadError::Yaml {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()).unwrap_or(1),
        message: strip_location(&e.to_string()),
    })
}

fn strip_location(msg: &str) -> String {
    // serde_norway appends " at line L column C"; the line is reported apart.
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Line numbers (1-based) of block-style mapping keys, by dotted path.
/// Keys inside flow mappings (`network: {enabled: false}`) get their
/// enclosing key's line, which is where an admin would look.
pub fn key_lines(text: &str) -> Lines {
    let mut lines = Lines::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let content = raw.trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let indent = content.len() - trimmed.len();
        if trimmed.starts_with("- ") || trimmed == "-" {
            // A sequence item belongs to the key above it.
            continue;
        }
        let Some(key) = mapping_key(trimmed) else {
            continue;
        };
        while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        let path = path.join(".");
        lines.entry(path.clone()).or_insert(line_no);
        // Flow mapping on the same line: give its keys this line.
        if let Some(rest) = trimmed.split_once(':').map(|(_, r)| r.trim()) {
            if rest.starts_with('{') {
                flow_keys(rest, &path, line_no, &mut lines);
            }
        }
    }
    lines
}

fn mapping_key(trimmed: &str) -> Option<String> {
    let (k, _) = if let Some(q) = trimmed.strip_prefix('"') {
        let end = q.find('"')?;
        return q[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| q[..end].to_string());
    } else if let Some(q) = trimmed.strip_prefix('\'') {
        let end = q.find('\'')?;
        return q[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| q[..end].to_string());
    } else {
        trimmed.split_once(':')?
    };
    let k = k.trim();
    if k.is_empty() || k.contains(' ') || k.contains('{') || k.contains('[') {
        return None;
    }
    Some(k.to_string())
}

/// Keys of a one-line flow mapping, nested ones included.
fn flow_keys(text: &str, prefix: &str, line: usize, lines: &mut Lines) {
    let mut stack: Vec<String> = vec![prefix.to_string()];
    let mut token = String::new();
    let mut last_key: Option<String> = None;
    for c in text.chars() {
        match c {
            '{' => {
                if let Some(k) = last_key.take() {
                    stack.push(k);
                }
                token.clear();
            }
            '}' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                token.clear();
            }
            ':' => {
                let k = token.trim().trim_matches(['"', '\'']).to_string();
                if !k.is_empty() {
                    let path = format!("{}.{k}", stack.last().map(String::as_str).unwrap_or(""));
                    lines.entry(path.clone()).or_insert(line);
                    last_key = Some(path);
                }
                token.clear();
            }
            ',' => token.clear(),
            _ => token.push(c),
        }
    }
}
