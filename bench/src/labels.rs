//! The ground truth written next to a corpus: one JSON object per line in
//! `labels.jsonl` (true secrets) and `decoys.jsonl` (look-alikes).

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One planted value at one place in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Path relative to the corpus tree root, `/`-separated.
    pub path: String,
    /// 1-based line of the value's first character, in the file as on disk.
    pub line: u32,
    /// 1-based byte column of the value's first character on that line.
    #[serde(default)]
    pub column: u32,
    /// 1-based line of the value's last character (differs from `line` only
    /// for multi-line values such as a raw PEM block).
    #[serde(default)]
    pub end_line: u32,
    /// The value decoded (JSON escapes removed), e.g. a PEM block with real newlines.
    pub secret: String,
    /// What it is, e.g. `github-classic-pat` or, for decoys, `git-sha`.
    pub kind: String,
    /// How many JSON string-escaping layers wrap it on disk: `plain`, `json`, `json2`.
    pub encoding: String,
}

impl Label {
    /// The last line the value occupies.
    pub fn last_line(&self) -> u32 {
        self.end_line.max(self.line)
    }
}

/// The encoding name for `levels` layers of JSON string escaping.
pub fn encoding_name(levels: u8) -> &'static str {
    match levels {
        0 => "plain",
        1 => "json",
        2 => "json2",
        _ => "json3+",
    }
}

/// Reads a `labels.jsonl` (or `decoys.jsonl`) file.
pub fn read(path: &Path) -> Result<Vec<Label>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let label: Label = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a label", path.display(), i + 1))?;
        out.push(label);
    }
    Ok(out)
}
