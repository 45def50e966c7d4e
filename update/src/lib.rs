//! Mantra's network activity, all of it: the update check and crash-report
//! upload, both through [`guard`], the one module that opens sockets and
//! that asks the effective policy first.
//!
//! This crate owns the signed update manifest format and its verification,
//! the local crash reports (written by a panic hook) and their upload. It
//! never downloads-and-replaces the binary.

pub mod check;
pub mod crash;
pub mod guard;
pub mod manifest;
pub mod schedule;

pub use check::{check_for_update, CheckOptions, CheckOutcome, UpdateError};
pub use guard::{Denied, NetworkGuard, Permit, Purpose};
pub use manifest::{Manifest, PublicKey, RELEASE_PUBLIC_KEY};
