//! Mantra's session agent — currently its **sources**: discovering the
//! transcripts AI coding assistants leave on disk and parsing every format
//! into one common model (`model`).
//!
//! Owns: per-format discovery of standard locations on macOS, Linux and
//! Windows (`sources::*::discover`), tolerant incremental parsing
//! (`jsonl`, `sources::parse`), and the `Session`/`Message` model.
//! Does not own (yet, or ever): the encrypted store, the indexer, secret
//! detection (`mantra-detect`), policy, or any command-line surface.
//!
//! Entry points: [`sources::discover_all`] lists sources;
//! [`sources::parse`] reads one from a byte offset and returns sessions,
//! statistics and the offset to resume from.

pub mod discovery;
pub mod error;
pub mod jsonl;
pub mod model;
pub mod paths;
pub mod sources;
pub mod text;
pub mod time;

pub use discovery::{DiscoveryEnv, Os, ResumeMode, SourceFile, SourceKind};
pub use error::SourceError;
pub use model::{
    Assistant, Message, ParseStats, ProjectRef, RawRecord, Role, Session, ToolCall, ToolResult,
};
pub use sources::{discover, discover_all, parse, ParseOutput};
pub use time::Timestamp;
