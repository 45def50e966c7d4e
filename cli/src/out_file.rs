//! Files a command writes where the user says: atomically (through
//! `mantra_core::fsio`'s one writer: a temporary file beside the target,
//! synced, renamed over it), so a reader or a crash never sees half a
//! report and `redact f -o f` reads the old file whole; or standard output.
//! The target's directory is the user's and is left as it is.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Who may read the file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `0600`: findings, redacted copies, shared sessions, baselines.
    Owner,
    /// `0644`: compliance reports, which hold no secret and no message
    /// text and which a log forwarder running as another user ships.
    Everyone,
}

/// Writes `bytes` to `path` atomically, or to stdout when `path` is `None`.
pub fn write_output(path: Option<&Path>, bytes: &[u8], access: Access) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")
        }
        Some(path) => write_atomic(path, bytes, access),
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> Result<()> {
    write_atomic_with(path, access, |out| out.write_all(bytes))
}

/// Writes `path` atomically with what `write` produces (see
/// `mantra_core::fsio::write_atomic_with`, the one atomic writer).
pub fn write_atomic_with(
    path: &Path,
    access: Access,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let mode = match access {
        Access::Owner => 0o600,
        Access::Everyone => 0o644,
    };
    mantra_core::fsio::write_atomic_with(path, mode, write)
        .with_context(|| format!("cannot write {}", path.display()))
}
