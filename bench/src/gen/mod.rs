//! `mantra-bench gen`: a deterministic corpus of AI-assistant sessions and
//! project files with planted secrets, decoys and labels.
//!
//! Layout under `--out DIR`:
//! - `DIR/tree/` — what the scanners scan: `home/.claude`, `home/.codex`,
//!   `home/.gemini` session stores and `work/<project>/` checkouts (with Aider
//!   histories and ordinary project files).
//! - `DIR/labels.jsonl` — one [`Label`](crate::labels::Label) per planted true
//!   secret per line, paths relative to `DIR/tree`.
//! - `DIR/decoys.jsonl` — the same for planted look-alikes.
//!
//! One RNG stream drives everything in a fixed order, so a seed always gives
//! byte-identical output.

mod aider;
mod claude;
mod codex;
mod fragments;
mod gemini;
pub mod plant;
mod project;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mantra_core::time::Timestamp;
use rand::{Rng as _, SeedableRng};

use crate::Rng;
use plant::{FileOut, Fragment, Written};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub size_mb: u64,
    pub out: PathBuf,
}

/// Totals for the whole corpus.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub secrets: u64,
    pub decoys: u64,
}

/// The kinds of content and their target share of the corpus bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Claude,
    Codex,
    Gemini,
    Aider,
    Project,
}

const SHARES: &[(Source, f64)] = &[
    (Source::Claude, 0.45),
    (Source::Codex, 0.25),
    (Source::Gemini, 0.10),
    (Source::Aider, 0.05),
    (Source::Project, 0.15),
];

/// Shared generator state.
pub(crate) struct Ctx {
    pub rng: Rng,
    pub clock: Clock,
    /// Chance that a content slot carries a true secret.
    pub p_secret: f64,
    /// Chance that a content slot carries a decoy.
    pub p_decoy: f64,
}

impl Ctx {
    /// Content for one slot of a session: a secret-bearing fragment, a
    /// decoy-bearing one, or `None` for ordinary content.
    pub fn payload(&mut self, max_pre: u8) -> Option<Fragment> {
        let r: f64 = self.rng.random();
        if r < self.p_secret {
            Some(fragments::with_secret(&mut self.rng, max_pre))
        } else if r < self.p_secret + self.p_decoy {
            Some(fragments::with_decoy(&mut self.rng, max_pre))
        } else {
            None
        }
    }
}

/// A project the sessions work in.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub name: String,
    /// Absolute working directory recorded in sessions.
    pub cwd: String,
}

/// Generates the corpus described by `opts`.
pub fn generate(opts: &Options) -> Result<Summary> {
    let tree = opts.out.join("tree");
    if tree.exists() {
        std::fs::remove_dir_all(&tree)
            .with_context(|| format!("removing old {}", tree.display()))?;
    }
    std::fs::create_dir_all(&tree).with_context(|| format!("creating {}", tree.display()))?;
    let mut labels = jsonl_writer(&opts.out.join("labels.jsonl"))?;
    let mut decoys = jsonl_writer(&opts.out.join("decoys.jsonl"))?;

    let mut rng = Rng::seed_from_u64(opts.seed);
    let clock = Clock::new(1_756_684_800 + i64::from(rng.random_range(0..86_400u32)) * 30);
    let mut ctx = Ctx {
        rng,
        clock,
        p_secret: 0.02,
        p_decoy: 0.05,
    };

    let projects: Vec<Project> = [
        "orders-api",
        "web-dashboard",
        "ml-pipeline",
        "infra",
        "cli-tool",
        "billing",
        "docs-site",
        "mobile-backend",
    ]
    .iter()
    .map(|name| Project {
        name: (*name).to_owned(),
        cwd: format!("/home/dev/work/{name}"),
    })
    .collect();

    let target = opts.size_mb * 1024 * 1024;
    let mut by_source = [0u64; 5];
    let mut summary = Summary::default();
    let mut seq = 0usize;
    while summary.bytes < target {
        // The source furthest below its share goes next.
        let (idx, source) = SHARES
            .iter()
            .enumerate()
            .map(|(i, (s, share))| (i, *s, by_source[i] as f64 - share * summary.bytes as f64))
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(i, s, _)| (i, s))
            .unwrap_or((0, Source::Claude));
        let project = projects[ctx.rng.random_range(0..projects.len())].clone();
        seq += 1;
        ctx.clock.jump(&mut ctx.rng);
        let files: Vec<FileOut> = match source {
            Source::Claude => claude::session(&mut ctx, &project),
            Source::Codex => vec![codex::session(&mut ctx, &project)],
            Source::Gemini => vec![gemini::session(&mut ctx, &project)],
            Source::Aider => vec![aider::history(&mut ctx, &project, seq)],
            Source::Project => project::files(&mut ctx, &project, seq),
        };
        for f in files {
            let w: Written = f.finish(&tree, &mut labels, &mut decoys)?;
            by_source[idx] += w.bytes;
            summary.files += 1;
            summary.bytes += w.bytes;
            summary.secrets += w.secrets;
            summary.decoys += w.decoys;
        }
    }
    use std::io::Write as _;
    labels.flush()?;
    decoys.flush()?;
    Ok(summary)
}

fn jsonl_writer(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(BufWriter::new(f))
}

/// A monotonic fake wall clock producing ISO-8601 timestamps.
pub(crate) struct Clock {
    /// Milliseconds since the Unix epoch.
    ms: i64,
}

impl Clock {
    fn new(epoch_secs: i64) -> Self {
        Clock {
            ms: epoch_secs * 1000,
        }
    }

    /// Moves to the start of a new session, minutes to hours later.
    fn jump(&mut self, rng: &mut Rng) {
        self.ms += rng.random_range(60_000..6 * 3_600_000);
    }

    /// Advances by up to `max_ms` and returns the new time as ISO-8601 UTC.
    pub fn tick(&mut self, rng: &mut Rng, max_ms: i64) -> String {
        self.ms += rng.random_range(1..max_ms.max(2));
        self.iso()
    }

    /// The current time as `YYYY-MM-DDThh:mm:ss.mmmZ`.
    pub fn iso(&self) -> String {
        Timestamp(self.ms).to_rfc3339()
    }

    /// Calendar parts (year, month, day, hour, minute, second).
    pub fn parts(&self) -> (i64, u32, u32, u32, u32, u32) {
        Timestamp(self.ms).utc_parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let c = Clock::new(1_756_684_800);
        assert_eq!(c.iso(), "2025-09-01T00:00:00.000Z");
        assert_eq!(c.parts(), (2025, 9, 1, 0, 0, 0));
    }

    fn digest_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read_dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .expect("prefix")
                        .to_string_lossy()
                        .into_owned();
                    out.push((rel, std::fs::read(&p).expect("read")));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (a, b, c) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let opts = |out: &Path, seed| Options {
            seed,
            size_mb: 1,
            out: out.to_path_buf(),
        };
        let sa = generate(&opts(a.path(), 42)).expect("gen a");
        generate(&opts(b.path(), 42)).expect("gen b");
        generate(&opts(c.path(), 43)).expect("gen c");
        assert!(sa.secrets > 0 && sa.bytes >= 1024 * 1024);
        assert_eq!(digest_dir(a.path()), digest_dir(b.path()));
        assert_ne!(digest_dir(a.path()), digest_dir(c.path()));
    }

    #[test]
    fn labels_point_at_their_secrets() {
        let dir = tempfile::tempdir().expect("tmp");
        generate(&Options {
            seed: 5,
            size_mb: 2,
            out: dir.path().to_path_buf(),
        })
        .expect("gen");
        let labels = crate::labels::read(&dir.path().join("labels.jsonl")).expect("labels");
        assert!(labels.len() > 5);
        for l in labels {
            let text =
                std::fs::read_to_string(dir.path().join("tree").join(&l.path)).expect("file");
            let line = text.lines().nth(l.line as usize - 1).expect("line exists");
            let first = l.secret.lines().next().unwrap_or("");
            let at = &line[l.column as usize - 1..];
            assert!(
                at.starts_with(first) || at.starts_with(&crate::json::escape_n(first, 1)),
                "{l:?}"
            );
        }
    }
}
