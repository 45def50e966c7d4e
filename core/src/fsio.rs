//! Opening inputs without blocking, reading them with a bound, and writing
//! private files atomically.
//!
//! Every file Mantra reads comes from a place a user (or an attacker) can
//! write: a FIFO where a transcript is expected would block `open()` for
//! ever, and a symlink to `/dev/zero` would be read without end. So inputs
//! are opened with `O_NONBLOCK` (a FIFO with no writer opens at once),
//! checked with `fstat` on the open descriptor (no race with a rename), and
//! refused unless they are regular files; reads stop at a limit chosen by
//! the caller for what the file is.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is {kind}, not a regular file: refused", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{} is larger than {limit} bytes: refused", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{} is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
}

impl InputError {
    /// True when the file does not exist (callers often treat that as
    /// "empty", never the other errors).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            InputError::Io { path, .. }
            | InputError::NotRegular { path, .. }
            | InputError::TooLarge { path, .. }
            | InputError::NotUtf8 { path } => path,
        }
    }
}

impl From<InputError> for std::io::Error {
    fn from(e: InputError) -> std::io::Error {
        match e {
            InputError::Io { source, .. } => source,
            InputError::NotRegular { .. } => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
            }
            InputError::TooLarge { .. } => {
                std::io::Error::new(std::io::ErrorKind::FileTooLarge, e.to_string())
            }
            InputError::NotUtf8 { .. } => {
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
            }
        }
    }
}

/// What a non-regular file is, in words.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        return "a directory";
    }
    "not a regular file"
}

/// Opens `path` for reading without ever blocking, and refuses anything
/// but a regular file (symlinks are followed; what they point at counts).
pub fn open_file(path: &Path) -> Result<File, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO without a writer returns at once
        // instead of waiting for one. It changes nothing for regular files.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(io)?;
    let ft = file.metadata().map_err(io)?.file_type();
    if !ft.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(ft),
        });
    }
    Ok(file)
}

/// Checks, without opening it, that `path` is a regular file (following
/// symlinks). For inputs handed to a library that opens them itself
/// (SQLite): the library's own open may still race a swap, but a FIFO or
/// device left in place is refused.
pub fn check_regular(path: &Path) -> Result<std::fs::Metadata, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok(meta)
}

/// Reads at most `limit` bytes of an already opened input; more is
/// [`InputError::TooLarge`].
pub fn read_open(mut file: File, path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > limit {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // The size can change between fstat and read: the bound is on what is
    // read, not on what was announced.
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    read_open(open_file(path)?, path, limit)
}

/// [`read`], then UTF-8.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, InputError> {
    String::from_utf8(read(path, limit)?).map_err(|_| InputError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// [`read`], with a missing file as `None`.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, InputError> {
    match read(path, limit) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory (created if needed, `0700`), `0600`, synced, then renamed
/// over `path`: a reader sees the old file or the new one, never a torn
/// one, and a crash leaves at worst a stray temporary file.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(parent_dir(path)?)?;
    write_via_temp(path, 0o600, Commit::Replace, |f| f.write_all(bytes))
}

/// Like [`write_private_atomic`], but never replaces an existing file:
/// `path` appears whole or not at all, and if it already exists (another
/// process won a race to create it) the error is
/// [`std::io::ErrorKind::AlreadyExists`] and the file is left untouched.
/// For data that must never be overwritten, such as a key.
pub fn write_private_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(parent_dir(path)?)?;
    write_via_temp(path, 0o600, Commit::NoClobber, |f| f.write_all(bytes))
}

/// Writes `bytes` to `path` atomically, like [`write_private_atomic`], with
/// the permission bits `mode` on Unix (ignored elsewhere) whatever the
/// umask: `0o755` for a script git runs, `0o644` for a file other users
/// may read. The directory must exist (it is not Mantra's to create).
/// The file is `0600` until its content is complete and synced.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_via_temp(path, mode, Commit::Replace, |f| f.write_all(bytes))
}

/// [`write_atomic`] for content produced by `write` as it goes (a
/// redacted copy streamed from its source): `path` is replaced only once
/// `write` succeeded, so writing over the very file being read is safe.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_via_temp(path, mode, Commit::Replace, write)
}

/// How a finished temporary file takes its place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// Renamed over whatever is there.
    Replace,
    /// Linked in only where nothing is (then the temporary name removed).
    NoClobber,
}

/// The directory a file is written in (`.` for a bare file name).
fn parent_dir(path: &Path) -> std::io::Result<&Path> {
    match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Ok(Path::new(".")),
        Some(d) => Ok(d),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} has no parent directory", path.display()),
        )),
    }
}

/// The one temporary-file-then-rename writer.
fn write_via_temp(
    path: &Path,
    mode: u32,
    commit: Commit,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path)?;
    let name = path
        .file_name()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} has no file name", path.display()),
            )
        })?
        .to_string_lossy()
        .into_owned();
    let (tmp, file) = create_temp(dir, &name)?;
    let result = (|| {
        let mut f = file;
        write(&mut f)?;
        #[cfg(unix)]
        if mode != 0o600 {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        f.sync_all()?;
        drop(f);
        match commit {
            Commit::Replace => std::fs::rename(&tmp, path)?,
            Commit::NoClobber => {
                // A hard link fails with AlreadyExists where a file is,
                // instead of replacing it as a rename would.
                std::fs::hard_link(&tmp, path)?;
                let _ = std::fs::remove_file(&tmp);
            }
        }
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a fresh temporary file (`0600`) beside the target: a name of
/// its own per process and call, opened with `create_new`, so concurrent
/// writers never share one and nothing planted at the name (a symlink, a
/// stale file) is followed or reused.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("no free temporary file name in {}", dir.display()),
    ))
}

/// Opens `path` for appending (created `0600`, its directory `0700`),
/// without blocking and only if it is a regular file: a FIFO or a device
/// planted where a log belongs is refused, and a symlink is not followed
/// (appends must land in the file Mantra owns, nowhere else). A file made
/// earlier with a looser mode is brought back to owner-only.
pub fn open_append_private(path: &Path) -> Result<File, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW);
    }
    let file = opts.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
    }
    Ok(file)
}

/// Creates `dir` and its missing parents, owner-only (`0700`) on Unix.
/// Existing directories keep their mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes a rename durable (best effort: not every platform can open a
/// directory).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_its_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").expect("write");
        assert_eq!(read(&p, 5).expect("read"), b"hello");
        assert!(matches!(
            read(&p, 4),
            Err(InputError::TooLarge { limit: 4, .. })
        ));
        assert_eq!(read_to_string(&p, 10).expect("read"), "hello");
    }

    #[test]
    fn a_missing_file_is_not_found_and_optional() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("missing");
        assert!(read(&p, 10).expect_err("missing").is_not_found());
        assert_eq!(read_optional(&p, 10).expect("optional"), None);
    }

    #[test]
    fn invalid_utf8_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"\xff\xfe").expect("write");
        let e = read_to_string(&p, 10).expect_err("not utf8");
        assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        // Without O_NONBLOCK this open would wait for a writer for ever.
        let e = read(&p, 10).expect_err("fifo");
        assert!(matches!(e, InputError::NotRegular { .. }), "{e}");
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(check_regular(&p).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_device_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &p).expect("symlink");
        let e = read(&p, u64::MAX).expect_err("device");
        assert!(e.to_string().contains("character device"), "{e}");
        let d = dir.path().join("dir");
        std::fs::create_dir(&d).expect("mkdir");
        assert!(read(&d, 10)
            .expect_err("dir")
            .to_string()
            .contains("directory"));
    }

    #[cfg(unix)]
    #[test]
    fn appends_go_only_to_a_private_regular_file() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("logs/audit.jsonl");
        open_append_private(&log)
            .expect("open")
            .write_all(b"one\n")
            .expect("write");
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        open_append_private(&log)
            .expect("open")
            .write_all(b"two\n")
            .expect("write");
        assert_eq!(std::fs::read(&log).expect("read"), b"one\ntwo\n");
        let mode = std::fs::metadata(&log).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A FIFO would block the writer until a reader came: refused.
        let fifo = dir.path().join("fifo.jsonl");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success());
        let e = open_append_private(&fifo).expect_err("fifo");
        assert!(e.to_string().contains("FIFO"), "{e}");
        // A symlink is not followed, whatever it points at.
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&log, &link).expect("symlink");
        assert!(open_append_private(&link).is_err());
        assert_eq!(std::fs::read(&log).expect("read"), b"one\ntwo\n");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_are_private_and_replace_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/state.json");
        write_private_atomic(&p, b"one").expect("write");
        write_private_atomic(&p, b"two").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(p.parent().expect("parent"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_dir(p.parent().expect("parent"))
                .expect("ls")
                .count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_mode_is_applied_whatever_the_umask_and_the_directory_is_not_made() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("hook");
        write_atomic(&p, b"#!/bin/sh\n", 0o755).expect("write");
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        write_atomic(&p, b"#!/bin/sh\nexit 0\n", 0o755).expect("rewrite");
        assert_eq!(std::fs::read(&p).expect("read"), b"#!/bin/sh\nexit 0\n");
        assert!(write_atomic(&dir.path().join("missing/f"), b"x", 0o644).is_err());
        assert!(!dir.path().join("missing").exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn a_new_private_file_never_replaces_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("keys/store.key");
        write_private_new(&p, b"first").expect("write");
        let e = write_private_new(&p, b"second").expect_err("exists");
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).expect("read"), b"first");
        // No temporary file is left behind either way.
        let names: Vec<_> = std::fs::read_dir(p.parent().expect("parent"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("store.key")]);
    }

    #[test]
    fn concurrent_writers_never_tear_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("state.json");
        let bodies: Vec<Vec<u8>> = (0u8..8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
        std::thread::scope(|s| {
            for body in &bodies {
                let p = &p;
                s.spawn(move || {
                    for _ in 0..5 {
                        write_private_atomic(p, body).expect("write");
                    }
                });
            }
        });
        let got = std::fs::read(&p).expect("read");
        assert!(bodies.contains(&got), "a torn or mixed file");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
