//! Reading policy files safely: size limit, and the ownership rule: a policy
//! file, and every directory above it below the system root, must be owned
//! by the expected owner (root) and not writable by group or others.
//! Otherwise anyone who could write it could loosen policy, so it is
//! refused and the refusal fails closed.

use std::path::{Path, PathBuf};

use crate::error::{ReadError, MAX_FILE_BYTES};

/// Who must own policy files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerRule {
    /// Expected owner uid: 0 (root) in production; tests pass their own uid.
    pub uid: u32,
    /// When false, ownership is not checked (user config, `policy validate`).
    pub enforce: bool,
}

impl OwnerRule {
    pub const ROOT: OwnerRule = OwnerRule {
        uid: 0,
        enforce: true,
    };
    pub const NONE: OwnerRule = OwnerRule {
        uid: 0,
        enforce: false,
    };
}

/// Reads a file, `Ok(None)` when it does not exist. With an enforced rule,
/// checks the file and its directories up to (not including) `root`.
pub fn read_checked(
    path: &Path,
    root: &Path,
    rule: OwnerRule,
) -> Result<Option<Vec<u8>>, ReadError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ReadError::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Ok(_) => {}
    }
    if rule.enforce {
        check_secure(path, root, rule.uid)?;
    }
    // Non-blocking and bounded: a FIFO or a device where a policy file is
    // expected is refused (and fails closed) instead of hanging every
    // command that reads policy.
    match mantra_core::fsio::read(path, MAX_FILE_BYTES) {
        Ok(buf) => Ok(Some(buf)),
        Err(mantra_core::InputError::TooLarge { limit, .. }) => Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        }),
        Err(mantra_core::InputError::Io { source, .. }) => Err(ReadError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Err(mantra_core::InputError::NotRegular { kind, .. }) => Err(ReadError::Refused {
            path: path.to_path_buf(),
            reason: format!("it is {kind}, not a regular file"),
        }),
        Err(e) => Err(ReadError::Other {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// Lists `*.yaml`/`*.yml` files of a drop-in directory in lexical order;
/// `Ok(empty)` when it does not exist.
pub fn list_dropins(dir: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let rd = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ReadError::Io {
                path: dir.to_path_buf(),
                source: e,
            })
        }
        Ok(rd) => rd,
    };
    let mut files = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| ReadError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(unix)]
fn check_secure(path: &Path, root: &Path, uid: u32) -> Result<(), ReadError> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |p: &Path, reason: String| ReadError::Refused {
        path: path.to_path_buf(),
        reason: format!("{}: {reason}", p.display()),
    };
    let check = |p: &Path, md: &std::fs::Metadata| -> Result<(), ReadError> {
        if md.uid() != uid {
            return Err(refuse(p, format!("owned by uid {}, not {}", md.uid(), uid)));
        }
        if md.mode() & 0o022 != 0 {
            return Err(refuse(
                p,
                format!(
                    "writable by group or others (mode {:o})",
                    md.mode() & 0o7777
                ),
            ));
        }
        Ok(())
    };
    let io = |p: &Path, e: std::io::Error| ReadError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    // The link itself and what it points to must both be safe.
    let link_md = std::fs::symlink_metadata(path).map_err(|e| io(path, e))?;
    if link_md.file_type().is_symlink() {
        check(path, &link_md)?;
    }
    let md = match mantra_core::fsio::check_regular(path) {
        Ok(md) => md,
        Err(mantra_core::InputError::NotRegular { kind, .. }) => {
            return Err(refuse(path, format!("it is {kind}, not a regular file")));
        }
        Err(e) => return Err(io(path, e.into())),
    };
    check(path, &md)?;
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || d.as_os_str().is_empty() || !d.starts_with(root) {
            break;
        }
        let md = std::fs::metadata(d).map_err(|e| io(d, e))?;
        check(d, &md)?;
        dir = d.parent();
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_secure(_path: &Path, _root: &Path, _uid: u32) -> Result<(), ReadError> {
    // Windows: %ProgramData%\Mantra is protected by its ACL (created by the
    // installer, writable by Administrators only); checking ACLs needs the
    // Win32 security API and is not done yet.
    Ok(())
}

/// The uid that owns files this process creates: its effective uid. Found
/// without unsafe code by creating a scratch file.
#[cfg(unix)]
pub fn effective_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        ".mantra-uid-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .ok()?;
    let uid = f.metadata().ok().map(|m| m.uid());
    let _ = std::fs::remove_file(&path);
    uid
}
