//! Errors from reading one policy source.

use std::path::PathBuf;

/// Why a source could not be read. A readable source with bad values is not
/// an error: its values are reported one by one.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}:{line}: YAML syntax error: {message}")]
    Yaml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: not a valid property list: {message}")]
    Plist { path: PathBuf, message: String },
    #[error("{path}: refused: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{path}: {message}")]
    Registry { path: String, message: String },
    #[error("{path}: {message}")]
    Other { path: PathBuf, message: String },
}

/// Largest policy file read (a policy is a few kilobytes; anything bigger is
/// a mistake or an attack).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
