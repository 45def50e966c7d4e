//! Walking directories in parallel and scanning every file found.
//!
//! Hidden files and directories are scanned: AI session stores live in
//! `~/.claude`, `~/.codex` and the like. `.gitignore` rules apply only when
//! asked. Binary files are scanned too, under the binary content policy
//! ([`content_kind`]): no single byte can make a file go unscanned.
//! Unreadable files (FIFOs, devices and sockets included) are reported and
//! the walk goes on.

use std::io::Read;
use std::path::{Path, PathBuf};

use mantra_core::fsio;
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use crate::finding::Finding;
use crate::scanner::Scanner;

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub respect_gitignore: bool,
    pub follow_symlinks: bool,
    /// 0 picks the number of CPUs.
    pub threads: usize,
    /// Paths matching these globs are not scanned.
    pub exclude: Vec<String>,
    /// Skip files larger than this many bytes (None: no limit).
    pub max_file_size: Option<u64>,
}

/// What happened to one file.
#[derive(Debug)]
pub enum FileOutcome {
    Scanned {
        path: String,
        findings: Vec<Finding>,
        bytes: u64,
        /// Binary content: scanned with the high-confidence rules only
        /// (see [`ContentKind`]).
        binary: bool,
    },
    Skipped {
        path: String,
        reason: SkipReason,
    },
    Failed {
        path: String,
        error: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Excluded,
    TooLarge,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Excluded => "excluded by an allowlisted path",
            SkipReason::TooLarge => "larger than the size limit",
        })
    }
}

/// Errors setting up a walk.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid path glob {glob:?}: {message}")]
    Glob { glob: String, message: String },
    #[error("cannot prepare a scanning thread: {0}")]
    Setup(String),
}

/// Compiles path globs. A glob without `/` matches a file name anywhere.
pub fn compile_globs(globs: &[String]) -> Result<GlobSet, WalkError> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let pattern = if g.contains('/') {
            g.clone()
        } else {
            format!("**/{g}")
        };
        let glob = Glob::new(&pattern).map_err(|e| WalkError::Glob {
            glob: g.clone(),
            message: e.to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| WalkError::Glob {
        glob: globs.join(", "),
        message: e.to_string(),
    })
}

/// How many leading bytes decide whether a file is binary.
pub const SNIFF_LEN: usize = 8192;

/// What content is, for the binary content policy.
///
/// The policy: **nothing is skipped for being binary**. Text (which may hold
/// stray NUL bytes: a JSONL with one NUL is still text) is scanned with every
/// rule. Binary content is scanned with the high-confidence rules only
/// ([`crate::Scanner::keep_high_confidence`]: every rule but the generic
/// "secret-named key = value" ones, which match noise in compressed or
/// encoded bytes) and, in the git hooks, against the exposure list. So
/// classifying a file as binary only narrows the rules applied, and a single
/// byte cannot turn scanning off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Text,
    Binary,
}

/// Classifies content by its first [`SNIFF_LEN`] bytes: binary when more
/// than one byte in ten is a control character other than the whitespace
/// and escape characters text uses (NUL counts as a control character,
/// but one NUL, or a handful, does not make text binary). Random or
/// compressed bytes hold about 12% such characters; text, in any 8-bit
/// encoding, almost none.
pub fn content_kind(head: &[u8]) -> ContentKind {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    if control * 10 > head.len() {
        ContentKind::Binary
    } else {
        ContentKind::Text
    }
}

/// Whether content is binary under [`content_kind`].
pub fn looks_binary(head: &[u8]) -> bool {
    content_kind(head) == ContentKind::Binary
}

/// Scans every file under `roots`, calling `report` for each (from worker
/// threads; order is not defined).
pub fn scan_paths<F>(
    scanner: &Scanner,
    roots: &[PathBuf],
    options: &WalkOptions,
    report: F,
) -> Result<(), WalkError>
where
    F: Fn(FileOutcome) + Sync,
{
    let Some((first, rest)) = roots.split_first() else {
        return Ok(());
    };
    let exclude = compile_globs(&options.exclude)?;
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .hidden(false)
        .git_ignore(options.respect_gitignore)
        .git_global(options.respect_gitignore)
        .git_exclude(options.respect_gitignore)
        .ignore(options.respect_gitignore)
        .parents(options.respect_gitignore)
        .require_git(false)
        .follow_links(options.follow_symlinks)
        .threads(options.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let setup_error: Mutex<Option<String>> = Mutex::new(None);
    builder.build_parallel().run(|| {
        let mut state = match scanner.state() {
            Ok(s) => Some(s),
            Err(e) => {
                if let Ok(mut slot) = setup_error.lock() {
                    *slot = Some(e.to_string());
                }
                None
            }
        };
        let report = &report;
        let exclude = &exclude;
        Box::new(move |entry| {
            let Some(state) = state.as_mut() else {
                return WalkState::Quit;
            };
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    report(FileOutcome::Failed {
                        path: error_path(&e),
                        error: e.to_string(),
                    });
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let display = path.display().to_string();
            if exclude.is_match(path) {
                report(FileOutcome::Skipped {
                    path: display,
                    reason: SkipReason::Excluded,
                });
                return WalkState::Continue;
            }
            report(scan_one(
                scanner,
                state,
                path,
                display,
                options.max_file_size,
            ));
            WalkState::Continue
        })
    });
    if let Ok(Some(e)) = setup_error.into_inner() {
        return Err(WalkError::Setup(e));
    }
    Ok(())
}

fn error_path(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { path, .. } => path.display().to_string(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => child.display().to_string(),
        _ => String::new(),
    }
}

/// Scans one file: sniffs it, then streams it through the scanner, with
/// the high-confidence rules only when it is binary. FIFOs, devices and
/// sockets are refused without blocking (`fsio`).
pub fn scan_one(
    scanner: &Scanner,
    state: &mut crate::scanner::ScanState,
    path: &Path,
    display: String,
    max_file_size: Option<u64>,
) -> FileOutcome {
    let fail = |display: String, e: &dyn std::fmt::Display| FileOutcome::Failed {
        path: display,
        error: e.to_string(),
    };
    let mut file = match fsio::open_file(path) {
        Ok(f) => f,
        Err(e) => return fail(display, &e),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if max_file_size.is_some_and(|max| size > max) {
        return FileOutcome::Skipped {
            path: display,
            reason: SkipReason::TooLarge,
        };
    }
    let mut head = Vec::with_capacity(SNIFF_LEN);
    if let Err(e) = (&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head) {
        return fail(display, &e);
    }
    let binary = looks_binary(&head);
    let reader = std::io::Cursor::new(head).chain(file);
    match scanner.scan_reader(state, reader, &display) {
        Ok(mut findings) => {
            if binary {
                scanner.keep_high_confidence(&mut findings);
            }
            FileOutcome::Scanned {
                path: display,
                findings,
                bytes: size,
                binary,
            }
        }
        Err(e) => fail(display, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sniffing() {
        assert!(!looks_binary(b"hello world\n"));
        assert!(!looks_binary("héllo\n".as_bytes()));
        let mut text_with_nul = vec![b'a'; 4000];
        text_with_nul[10] = 0;
        assert!(!looks_binary(&text_with_nul));
        // A short JSONL record with a NUL is still text.
        assert!(!looks_binary(b"{\"a\":\"x\\u0000\"}\n{\"b\":\"\x00\"}\n"));
        assert!(!looks_binary(b"latin-1 caf\xe9 cr\xe8me\n"));
        assert!(looks_binary(&[0u8; 100]));
        let png: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 256) as u8).collect();
        assert!(looks_binary(&png));
        assert!(!looks_binary(b""));
    }

    #[test]
    fn globs_without_slash_match_names_anywhere() {
        let set = compile_globs(&["*.lock".into(), "vendor/**".into()]).unwrap();
        assert!(set.is_match("a/b/Cargo.lock"));
        assert!(set.is_match("vendor/x/y.rs"));
        assert!(!set.is_match("src/main.rs"));
        assert!(compile_globs(&["[".into()]).is_err());
    }
}
