//! Planted values, the text fragments that carry them, and the file buffer
//! that turns plants into labels once the file's final bytes are known.
//!
//! Labels are not computed while writing: the file is assembled first, then
//! each plant's on-disk form (its value JSON-escaped as many times as the
//! containers around it escape it) is searched for in the finished text. Every
//! occurrence becomes a label with its true line and column, so a value that a
//! format echoes twice (Codex writes a user message as a `response_item` and as
//! an `event_msg`) is labelled twice, and line numbers cannot drift.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use aho_corasick::AhoCorasick;
use anyhow::{Context, Result};

use crate::json::escape_n;
use crate::labels::{encoding_name, Label};
use crate::tokens::Kind;

/// A value planted in a fragment: a true secret or a decoy.
#[derive(Debug, Clone)]
pub struct Plant {
    /// The decoded value.
    pub value: String,
    /// Label kind (`Kind::name()` for secrets, a decoy class otherwise).
    pub kind: &'static str,
    pub decoy: bool,
    /// JSON-escaping layers already applied inside the fragment text (1 for a
    /// value inside a JSON file's string, 0 otherwise).
    pub pre: u8,
}

/// A piece of text with the values planted in it.
#[derive(Debug, Clone, Default)]
pub struct Fragment {
    pub text: String,
    pub plants: Vec<Plant>,
}

impl Fragment {
    /// Plain text with nothing planted.
    pub fn plain(text: impl Into<String>) -> Self {
        Fragment {
            text: text.into(),
            plants: Vec::new(),
        }
    }

    /// Plants a true secret and returns its value for use in the text.
    pub fn secret(&mut self, kind: Kind, value: String) -> String {
        self.plants.push(Plant {
            value: value.clone(),
            kind: kind.name(),
            decoy: false,
            pre: 0,
        });
        value
    }

    /// Plants a true secret that appears inside a JSON string of the fragment.
    pub fn secret_in_json(&mut self, kind: Kind, value: String) -> String {
        self.plants.push(Plant {
            value: value.clone(),
            kind: kind.name(),
            decoy: false,
            pre: 1,
        });
        value
    }

    /// Plants a decoy and returns its value.
    pub fn decoy(&mut self, kind: &'static str, value: String) -> String {
        self.plants.push(Plant {
            value: value.clone(),
            kind,
            decoy: true,
            pre: 0,
        });
        value
    }

    /// Plants a decoy that appears inside a JSON string of the fragment.
    pub fn decoy_in_json(&mut self, kind: &'static str, value: String) -> String {
        self.plants.push(Plant {
            value: value.clone(),
            kind,
            decoy: true,
            pre: 1,
        });
        value
    }

    /// The deepest escaping any plant already has.
    pub fn max_pre(&self) -> u8 {
        self.plants.iter().map(|p| p.pre).max().unwrap_or(0)
    }

    /// Appends another fragment's text and plants.
    pub fn append(&mut self, other: Fragment) {
        self.text.push_str(&other.text);
        self.plants.extend(other.plants);
    }
}

/// A file being assembled, with the plants placed in it.
pub struct FileOut {
    rel: String,
    pub text: String,
    placed: Vec<(Plant, u8)>,
}

/// Ground-truth counts for one finished file.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub bytes: u64,
    pub secrets: u64,
    pub decoys: u64,
}

impl FileOut {
    /// A new, empty file at `rel` (relative to the corpus tree root).
    pub fn new(rel: impl Into<String>) -> Self {
        FileOut {
            rel: rel.into(),
            text: String::new(),
            placed: Vec::new(),
        }
    }

    /// Registers `frag`'s plants as wrapped in `levels` more layers of JSON
    /// escaping by the surrounding format, and returns the fragment's text for
    /// the caller to put in place.
    pub fn take(&mut self, frag: Fragment, levels: u8) -> String {
        for p in frag.plants {
            self.placed.push((p, levels));
        }
        frag.text
    }

    /// Registers a single decoy value placed directly by the format writer.
    pub fn decoy(&mut self, kind: &'static str, value: String, levels: u8) -> String {
        self.placed.push((
            Plant {
                value: value.clone(),
                kind,
                decoy: true,
                pre: 0,
            },
            levels,
        ));
        value
    }

    /// Writes the file under `root` and appends its labels and decoys.
    pub fn finish(
        self,
        root: &Path,
        labels: &mut impl Write,
        decoys: &mut impl Write,
    ) -> Result<Written> {
        let path = root.join(&self.rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, self.text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;

        let newlines: Vec<usize> = memchr_all(self.text.as_bytes(), b'\n');
        let mut written = Written {
            bytes: self.text.len() as u64,
            ..Written::default()
        };

        // Distinct on-disk forms, each searched for with one automaton pass.
        // Long values (images) are located by a unique prefix.
        let mut seen = HashSet::new();
        let mut wanted: Vec<(&Plant, u8, String)> = Vec::new();
        for (plant, levels) in &self.placed {
            let total = plant.pre + levels;
            let on_disk = escape_n(&plant.value, total);
            if seen.insert((on_disk.clone(), plant.decoy)) {
                wanted.push((plant, total, on_disk));
            }
        }
        let needles: Vec<&str> = wanted
            .iter()
            .map(|(p, _, d)| {
                if d.len() > 256 && p.decoy {
                    &d[..256]
                } else {
                    &d[..]
                }
            })
            .collect();
        let ac = AhoCorasick::new(&needles).context("building the label search automaton")?;
        let mut hits: Vec<(usize, usize)> = ac
            .find_overlapping_iter(&self.text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        hits.sort_unstable();

        // One label per value per line: a value echoed twice on one record
        // (Claude's tool_result and toolUseResult) is one place to fix.
        let mut labelled = HashSet::new();
        for (pi, offset) in hits {
            let (plant, total, on_disk) = &wanted[pi];
            let (line, column) = line_col(&newlines, offset);
            if !labelled.insert((pi, line)) {
                continue;
            }
            let label = Label {
                path: self.rel.clone(),
                line,
                column,
                end_line: line + on_disk.matches('\n').count() as u32,
                secret: shorten(&plant.value, plant.decoy),
                kind: plant.kind.to_owned(),
                encoding: encoding_name(*total).to_owned(),
            };
            let sink: &mut dyn Write = if plant.decoy { decoys } else { labels };
            serde_json::to_writer(&mut *sink, &label)?;
            sink.write_all(b"\n")?;
            if plant.decoy {
                written.decoys += 1;
            } else {
                written.secrets += 1;
            }
        }
        Ok(written)
    }
}

/// Decoy values longer than this are recorded truncated (base64 images).
const DECOY_RECORD_MAX: usize = 120;

fn shorten(value: &str, decoy: bool) -> String {
    if decoy && value.len() > DECOY_RECORD_MAX {
        let cut = (0..=DECOY_RECORD_MAX)
            .rev()
            .find(|&i| value.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}… ({} bytes)", &value[..cut], value.len())
    } else {
        value.to_owned()
    }
}

fn memchr_all(hay: &[u8], needle: u8) -> Vec<usize> {
    hay.iter()
        .enumerate()
        .filter(|(_, &b)| b == needle)
        .map(|(i, _)| i)
        .collect()
}

/// 1-based line and byte column of `offset`, given the sorted newline offsets.
fn line_col(newlines: &[usize], offset: usize) -> (u32, u32) {
    let before = newlines.partition_point(|&nl| nl < offset);
    let line_start = if before == 0 {
        0
    } else {
        newlines[before - 1] + 1
    };
    ((before + 1) as u32, (offset - line_start + 1) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let nl = memchr_all(b"ab\ncd\n\nef", b'\n');
        assert_eq!(line_col(&nl, 0), (1, 1));
        assert_eq!(line_col(&nl, 4), (2, 2));
        assert_eq!(line_col(&nl, 7), (4, 1));
    }

    #[test]
    fn labels_follow_escaping() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut f = FileOut::new("a.jsonl");
        let mut frag = Fragment::default();
        let key = frag.secret(
            Kind::PrivateKey,
            "-----BEGIN X-----\nAAAA\n-----END X-----".into(),
        );
        frag.text = format!("key:\n{key}\n");
        let text = f.take(frag, 2);
        f.text = format!(
            "first line\n{{\"a\":{}}}\n",
            crate::json::J::s(text).stringified().compact()
        );
        let (mut labels, mut decoys) = (Vec::new(), Vec::new());
        let w = f
            .finish(dir.path(), &mut labels, &mut decoys)
            .expect("finish");
        assert_eq!(w.secrets, 1);
        let label: Label =
            serde_json::from_slice(labels.split(|&b| b == b'\n').next().expect("line"))
                .expect("label");
        assert_eq!(
            (label.line, label.end_line, label.encoding.as_str()),
            (2, 2, "json2")
        );
    }
}
