//! Running the git CLI.
//!
//! The hooks use git itself rather than a library: git decides exactly what
//! is staged and pushed (index, `GIT_INDEX_FILE` of `git commit <paths>`,
//! worktrees, SHA-256, partial clones), and its bulk plumbing (`diff-tree
//! --stdin`) is faster than walking commits in-process. The environment git
//! gives a hook (`GIT_DIR`, `GIT_INDEX_FILE`, …) is inherited on purpose.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A failed git invocation.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`git {args}` failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: String,
        code: Option<i32>,
        stderr: String,
    },
}

/// Runs git in one directory (or the current one).
#[derive(Debug, Clone, Default)]
pub struct Git {
    dir: Option<PathBuf>,
}

/// Options every diff the hooks parse is run with: user configuration must
/// not change the format (`diff.noprefix`, `diff.relative`, external diff
/// drivers, textconv, colour) and file names are given unquoted where
/// possible. `--text`: binary files (NUL bytes, `-diff` or `binary` in
/// `.gitattributes`, a diff driver with `binary = true`, files over
/// `core.bigFileThreshold`) are diffed as text, so their added bytes are
/// scanned too; repository attributes cannot turn scanning off.
pub const DIFF_FORMAT_ARGS: &[&str] = &[
    "--text",
    "-U0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--ignore-submodules=all",
    "--src-prefix=a/",
    "--dst-prefix=b/",
];

impl Git {
    /// Git in the current directory with the inherited environment (hooks).
    pub fn current() -> Self {
        Self { dir: None }
    }

    /// Git in `dir` (`git -C dir`).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        if let Some(dir) = &self.dir {
            cmd.arg("-C").arg(dir);
        }
        cmd.args(["-c", "core.quotePath=false"]);
        cmd.args(args);
        cmd
    }

    /// Runs git and returns its standard output.
    pub fn output(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        self.output_with_input(args, None)
    }

    /// Starts git with `args`, its stdout and stderr piped and `input`
    /// written to its stdin from a thread of its own, so a large input and
    /// a large output never wait for each other. A broken pipe there means
    /// git stopped reading; its exit status tells what went wrong.
    fn spawn_piped(
        &self,
        args: &[&str],
        input: Option<Vec<u8>>,
    ) -> Result<(std::process::Child, Option<std::thread::JoinHandle<()>>), GitError> {
        let mut cmd = self.command(args);
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(GitError::Spawn)?;
        let writer = match (input, child.stdin.take()) {
            (Some(data), Some(mut stdin)) => Some(std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            })),
            _ => None,
        };
        Ok((child, writer))
    }

    /// Runs git with `input` on its standard input (written from another
    /// thread so large inputs and outputs never deadlock).
    pub fn output_with_input(
        &self,
        args: &[&str],
        input: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, GitError> {
        let (child, writer) = self.spawn_piped(args, input)?;
        let out = child.wait_with_output().map_err(GitError::Spawn)?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        if !out.status.success() {
            return Err(GitError::Failed {
                args: args.join(" "),
                status: out.status.to_string(),
                code: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(out.stdout)
    }

    /// Runs git and hands its standard output to `read` as it comes, so a
    /// large diff is never held whole. Git's exit status is checked after
    /// `read` returns; when `read` fails, git is stopped.
    pub fn stream<T, E: From<GitError>>(
        &self,
        args: &[&str],
        input: Option<Vec<u8>>,
        read: impl FnOnce(&mut dyn BufRead) -> Result<T, E>,
    ) -> Result<T, E> {
        let (mut child, writer) = self.spawn_piped(args, input)?;
        // Drained on its own thread: git blocks if a full stderr pipe is
        // never read.
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = (&mut e).take(1 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut e, &mut std::io::sink());
                buf
            })
        });
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::Spawn(std::io::Error::other("no standard output")).into());
        };
        let mut reader = BufReader::with_capacity(256 * 1024, stdout);
        let result = read(&mut reader);
        if result.is_err() {
            let _ = child.kill();
        } else {
            // Whatever `read` left (nothing, normally) is drained so git can
            // exit.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        }
        drop(reader);
        let status = child.wait().map_err(GitError::Spawn)?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let value = result?;
        if !status.success() {
            return Err(GitError::Failed {
                args: args.join(" "),
                status: status.to_string(),
                code: status.code(),
                stderr: String::from_utf8_lossy(&stderr).trim().to_string(),
            }
            .into());
        }
        Ok(value)
    }

    /// Runs git and returns its trimmed output as text.
    pub fn text(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.output(args)?;
        Ok(String::from_utf8_lossy(&out)
            .trim_end_matches(['\n', '\r'])
            .to_string())
    }

    /// Runs git; `Ok(None)` when it exits 1 (e.g. `git config --get` of an
    /// unset key).
    pub fn text_opt(&self, args: &[&str]) -> Result<Option<String>, GitError> {
        match self.text(args) {
            Ok(t) => Ok(Some(t)),
            Err(GitError::Failed { code: Some(1), .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether git exits 0.
    pub fn succeeds(&self, args: &[&str]) -> bool {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Top of the working tree.
    pub fn toplevel(&self) -> Result<PathBuf, GitError> {
        self.text(&["rev-parse", "--show-toplevel"])
            .map(PathBuf::from)
    }
}

/// Whether `id` is an all-zero object id (SHA-1: 40, SHA-256: 64 digits).
pub fn is_zero_id(id: &str) -> bool {
    (id.len() == 40 || id.len() == 64) && id.bytes().all(|b| b == b'0')
}

/// Whether `id` looks like a full object id.
pub fn is_object_id(id: &str) -> bool {
    (id.len() == 40 || id.len() == 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}
