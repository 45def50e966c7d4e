//! Keyed fingerprints of secrets: how a secret is named without being kept.
//!
//! Findings, baselines, the exposure list and the compliance event log all
//! name a secret by the same fingerprint, so the function and its default
//! key have one home, below every crate that writes or compares them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key fingerprints are computed under when policy sets none. It is
/// published on purpose: without an organisation key, a fingerprint is only
/// as private as a plain SHA-256 of the secret.
pub const DEFAULT_FINGERPRINT_KEY: &[u8] = b"mantra-fingerprint-v1";

/// Keyed fingerprint of a secret: lowercase hex HMAC-SHA-256.
pub fn fingerprint(key: &[u8], secret: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(secret);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_keyed_and_stable() {
        let a = fingerprint(DEFAULT_FINGERPRINT_KEY, b"secret");
        assert_eq!(a, fingerprint(DEFAULT_FINGERPRINT_KEY, b"secret"));
        assert_ne!(a, fingerprint(b"org-key", b"secret"));
        assert_eq!(a.len(), 64);
        // Published values: a baseline made by one build matches another's.
        assert_eq!(
            fingerprint(b"key", b"The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
