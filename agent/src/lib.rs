//! Mantra's session agent: discovering the transcripts AI coding
//! assistants leave on disk, parsing every format into one common model,
//! and keeping them in an encrypted, searchable, erasable store.
//!
//! Owns: per-format discovery and tolerant incremental parsing (`sources`,
//! `jsonl`, `model`); the store key
//! (`keys`: OS keychain, key-file fallback); the SQLCipher store with its
//! migrations, FTS5 search, findings and exposures (`store`); indexing
//! (`index`) and watching (`watch`); redacted exports (`export`); wipe and
//! the exposure list the git hooks read (`lifecycle`); the one-agent lock
//! (`lock`); the log file (`logging`). Does not own: secret detection
//! (`mantra-detect`); the data directory layout, timestamps, the exposure
//! list's format and the compliance event log (`mantra-core`, shared with
//! the hooks; [`DataDir`], [`data_dir`] and [`time`] are re-exported here
//! for convenience); policy (settings arrive as [`AgentConfig`]); or any
//! command-line surface.
//!
//! Entry points: [`sources::discover_all`] lists sources;
//! [`lifecycle::open_store`] opens the store; [`index::index_sources`]
//! brings it up to date; [`watch::run`] keeps it so.

pub mod config;
pub mod discovery;
pub mod error;
pub mod export;
pub mod index;
pub mod jsonl;
pub mod keys;
pub mod lifecycle;
pub mod lock;
pub mod logging;
pub mod model;
pub mod oversized;
pub mod paths;
pub mod sources;
pub mod store;
pub mod text;
/// Timestamps, shared with the hooks through `mantra-core`.
pub use mantra_core::time;
pub mod watch;

pub use config::{AgentConfig, KeyFallback};
pub use discovery::{DiscoveryEnv, Os, ResumeMode, SourceFile, SourceKind};
pub use error::SourceError;
pub use mantra_core::datadir::{data_dir, DataDir};
pub use model::{
    Assistant, Message, ParseStats, ProjectRef, RawRecord, Role, Session, ToolCall, ToolResult,
};
pub use sources::{discover, discover_all, parse, ParseOutput};
pub use time::Timestamp;
