//! One agent per data directory: `mantra agent run` holds an exclusive
//! advisory lock on `<data dir>/agent.lock` for its whole life and writes
//! its pid into it. `mantra doctor` calls the agent running iff the lock is
//! held (a pid alone could be stale or reused).
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on
//! Windows), so it is released when the process ends however it ends,
//! `kill -9` included. The file itself stays; it is never a signal on its
//! own.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mantra_core::datadir::DataDir;

/// File name of the lock inside the data directory.
pub const LOCK_FILE_NAME: &str = "agent.lock";

/// How often, and how far apart, a starting agent retries a held lock
/// before giving up: a `mantra doctor` probing the lock holds it for
/// microseconds, and must not make a starting agent fail.
const ACQUIRE_ATTEMPTS: u32 = 5;
const ACQUIRE_PAUSE: Duration = Duration::from_millis(100);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another `mantra agent run` is already running for {dir}{}; \
         only one agent may watch a data directory",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    AlreadyRunning { dir: PathBuf, pid: Option<u32> },
    #[error("agent lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock. Dropping it releases the lock and clears the pid.
#[derive(Debug)]
pub struct AgentLock {
    file: File,
    path: PathBuf,
}

impl AgentLock {
    /// Takes the lock of `dir` (creating the directory `0700` and the lock
    /// file `0600` if needed) and writes this process's pid into it.
    pub fn acquire(dir: &DataDir) -> Result<AgentLock, LockError> {
        let path = lock_path(dir);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        dir.ensure().map_err(io)?;
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&path).map_err(io)?;
        let mut attempt = 1;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if attempt < ACQUIRE_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(ACQUIRE_PAUSE);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::AlreadyRunning {
                        dir: dir.root.clone(),
                        pid: read_pid(&mut file),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(AgentLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A handle that clears the pid as a clean exit does, for a process
    /// about to end without running destructors (a forced stop).
    pub fn pid_clearer(&self) -> Result<PidClearer, LockError> {
        let file = self.file.try_clone().map_err(|source| LockError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(PidClearer(file))
    }
}

/// See [`AgentLock::pid_clearer`]. The lock itself is released by the
/// operating system when the process ends.
#[derive(Debug)]
pub struct PidClearer(File);

impl PidClearer {
    /// Empties the lock file's pid.
    pub fn clear(&self) {
        let _ = self.0.set_len(0);
    }
}

impl Drop for AgentLock {
    fn drop(&mut self) {
        // A clean exit leaves no pid behind; the lock itself goes with the
        // file handle (and with the process, on a crash).
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Whether an agent holds the lock of a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// The lock is held; the pid written by the holder, when readable.
    Running { pid: Option<u32> },
    /// No lock file, or nobody holds it.
    NotRunning,
}

/// Probes the lock without creating anything: a missing lock file means
/// no agent ever ran here. The probe takes the lock for an instant when it
/// is free (that is the only portable test); a starting agent retries.
pub fn agent_state(dir: &DataDir) -> Result<AgentState, LockError> {
    let path = lock_path(dir);
    // Non-blocking: a FIFO planted as the lock must not hang doctor.
    let mut file = match mantra_core::fsio::open_file(&path) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(AgentState::NotRunning),
        Err(e) => {
            return Err(LockError::Io {
                path,
                source: e.into(),
            })
        }
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(AgentState::NotRunning)
        }
        Err(TryLockError::WouldBlock) => Ok(AgentState::Running {
            pid: read_pid(&mut file),
        }),
        Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
    }
}

/// `<data dir>/agent.lock`.
pub fn lock_path(dir: &DataDir) -> PathBuf {
    dir.root.join(LOCK_FILE_NAME)
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_clearer_empties_the_pid_of_a_held_lock() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = DataDir::new(tmp.path().join("data"));
        let lock = AgentLock::acquire(&dir).expect("lock");
        let clearer = lock.pid_clearer().expect("clearer");
        assert_ne!(std::fs::read_to_string(lock.path()).expect("r"), "");
        clearer.clear();
        assert_eq!(std::fs::read_to_string(lock.path()).expect("r"), "");
        // Still held: the pid goes, the lock stays until the process ends.
        assert!(AgentLock::acquire(&dir).is_err());
    }

    #[test]
    fn one_holder_and_release_on_drop() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = DataDir::new(tmp.path().join("data"));
        assert_eq!(agent_state(&dir).expect("state"), AgentState::NotRunning);
        assert!(!dir.root.exists(), "probing creates nothing");

        let lock = AgentLock::acquire(&dir).expect("first");
        let pid = std::fs::read_to_string(lock.path()).expect("read");
        assert_eq!(pid.trim(), std::process::id().to_string());
        assert_eq!(
            agent_state(&dir).expect("state"),
            AgentState::Running {
                pid: Some(std::process::id())
            }
        );
        let err = AgentLock::acquire(&dir).expect_err("second holder refused");
        assert!(
            matches!(err, LockError::AlreadyRunning { pid: Some(p), .. } if p == std::process::id()),
            "{err}"
        );
        assert!(err.to_string().contains("already running"), "{err}");

        drop(lock);
        assert_eq!(agent_state(&dir).expect("state"), AgentState::NotRunning);
        assert_eq!(std::fs::read_to_string(lock_path(&dir)).expect("r"), "");
        let again = AgentLock::acquire(&dir).expect("free again");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(again.path())
                .expect("m")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
