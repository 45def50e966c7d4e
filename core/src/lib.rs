//! Mantra's ground floor: what every other crate needs to touch the file
//! system safely.
//!
//! [`fsio`] opens every input without blocking (a FIFO, a device or a
//! socket where a file is expected is refused, never waited on or read
//! without end), reads it with a bound suited to what it is, and writes
//! private files (`0600`) atomically. It knows nothing of secrets, sessions,
//! policy or git.
//!
//! [`yaml_nesting`] refuses YAML whose flow nesting would make a YAML
//! parser take quadratic time, before the parser sees it.

pub mod fsio;
pub mod yaml_nesting;

pub use fsio::InputError;
