//! Walking directories in parallel and scanning every file found.
//!
//! Hidden files and directories are scanned: AI session stores live in
//! `~/.claude`, `~/.codex` and the like. `.gitignore` rules apply only when
//! asked. Binary files are skipped; unreadable files are reported and the
//! walk goes on.

use std::io::Read;
use std::path::{Path, PathBuf};
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
    Binary,
    Excluded,
    TooLarge,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Binary => "binary file",
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
const SNIFF_LEN: usize = 8192;

/// A file is binary when NUL bytes are common at its start, or when most of
/// its start is neither text nor UTF-8. A text file with a stray NUL is still
/// scanned.
pub fn looks_binary(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let nul = memchr::memchr_iter(0, head).count();
    if nul * 100 > head.len() {
        return true;
    }
    if std::str::from_utf8(head).is_ok() {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b) || b == 0x7f)
        .count();
    control * 10 > head.len()
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

/// Scans one file: sniffs it, then streams it through the scanner.
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
    let mut file = match std::fs::File::open(path) {
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
    if looks_binary(&head) {
        return FileOutcome::Skipped {
            path: display,
            reason: SkipReason::Binary,
        };
    }
    let reader = std::io::Cursor::new(head).chain(file);
    match scanner.scan_reader(state, reader, &display) {
        Ok(findings) => FileOutcome::Scanned {
            path: display,
            findings,
            bytes: size,
        },
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
