//! Mantra's policy: one typed model, read from built-in defaults, user
//! configuration, policy files and MDM sources, merged with provenance.
//!
//! This crate owns the policy model and how it is read and merged. It knows
//! nothing of detection, sessions or hooks: other crates read the effective
//! values it produces. It opens no network connection.
//!
//! ```no_run
//! let effective = mantra_policy::load(&mantra_policy::LoadOptions::system());
//! if !effective.policy.network.enabled { /* no network at all */ }
//! for row in &effective.report.rows { println!("{} = {}", row.key, row.value); }
//! ```

pub mod error;
pub mod files;
pub mod keys;
pub mod load;
pub mod merge;
pub mod model;
pub mod plist_src;
pub mod profiles;
mod regfile;
pub mod registry;
pub mod source;
pub mod validate;
pub mod yaml;

pub use error::ReadError;
pub use files::OwnerRule;
pub use keys::{json_schema, KeySpec, Kind, KEYS};
pub use load::{load, LoadOptions, Platform};
pub use merge::{Effective, Report, Row, Status};
pub use model::*;
pub use registry::{Hive, MemRegistry, RegKey, RegValue, Registry};
pub use source::{Level, Scope, SourceKind};
pub use validate::{validate_file, Validation};
