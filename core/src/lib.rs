//! Mantra's ground floor: the on-disk state that more than one crate reads
//! or writes, and what every crate needs to touch the file system safely.
//! Each thing here has one owner so the agent, the git hooks, the updater
//! and the command line agree on it byte for byte.
//!
//! - [`datadir`]: which directory holds Mantra's per-user files
//!   (`MANTRA_HOME`, else the platform's data directory) and every path
//!   inside it: the store, the key file, logs, the compliance event log,
//!   the exposure list, caches, crash reports, the update state, global git
//!   hook shims. Here because the agent, the hooks, the updater and the
//!   commands all resolve it.
//! - [`audit_log`]: the compliance event log, written by the hooks and the
//!   agent commands and read by `mantra audit` and `mantra doctor`:
//!   hash-chained, appended under a lock, verified on reading.
//! - [`os_log`]: the operating system's log (syslog/journald, the macOS
//!   unified log, the Windows Event Log) every event is mirrored to.
//! - [`exposure`]: the exposure list, written by the agent after indexing
//!   and read by the git hooks at every commit.
//! - [`fingerprint`]: the keyed HMAC-SHA-256 that names a secret without
//!   keeping it, and its published default key: findings (detection), the
//!   exposure list and the event log must compute the same value.
//! - [`time`]: timestamps (parsing, RFC 3339) and the times users type
//!   (`7d`, RFC 3339), shared by session parsers, the event log and the
//!   commands.
//! - [`user`]: who is running Mantra (the effective uid's account on Unix),
//!   as the event log records it.
//! - [`severity`]: the one [`Severity`] type of rules, findings and policy.
//! - [`fsio`]: opens every input without blocking (a FIFO, a device or a
//!   socket where a file is expected is refused, never waited on or read
//!   without end), reads it with a bound suited to what it is, and writes
//!   files atomically (the one temporary-file-and-rename writer).
//! - [`yaml_nesting`]: refuses YAML whose flow nesting would make a YAML
//!   parser take quadratic time, before the parser sees it.
//!
//! It knows nothing of secret detection, sessions, policy sources or git,
//! and depends on no other Mantra crate.

pub mod audit_log;
pub mod datadir;
pub mod exposure;
pub mod fingerprint;
pub mod fsio;
pub mod os_log;
pub mod severity;
pub mod time;
pub mod user;
pub mod yaml_nesting;

pub use datadir::{data_dir, DataDir};
pub use fsio::InputError;
pub use severity::{Severity, UnknownSeverity};
