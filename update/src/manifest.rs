//! The signed update manifest.
//!
//! On the wire:
//! `{"signed": "<manifest JSON text>", "signature": "<hex Ed25519 signature>"}`.
//! The signature covers `SIGNING_CONTEXT || signed` byte for byte, so no
//! JSON canonicalisation is needed and a signature cannot be replayed for
//! another kind of message. The manifest inside is
//! `{"version", "channel", "url", "sha256"}` and optional `notes`.

use ring::signature::{UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// Domain separation prefix of every manifest signature.
pub const SIGNING_CONTEXT: &[u8] = b"mantra-update-manifest-v1\n";

/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// An Ed25519 public key (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

/// The release key compiled into the binary (`update/keys/release-ed25519.pub.hex`).
/// Only this key is used by `mantra update check`; tests pass their own
/// through [`crate::CheckOptions`].
pub const RELEASE_PUBLIC_KEY: PublicKey =
    PublicKey(hex32(include_str!("../keys/release-ed25519.pub.hex")));

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("release key file is not hex"),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedManifest {
    pub signed: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub channel: String,
    pub url: String,
    /// Lower-case hex SHA-256 of the artifact at `url`.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("the manifest signature is not valid for the release key")]
    BadSignature,
    #[error("the manifest version {0:?} is not a semantic version")]
    BadVersion(String),
    #[error("the manifest sha256 is not 64 hex characters")]
    BadHash,
    #[error("the manifest artifact URL is refused: {0}")]
    BadUrl(String),
}

/// Parses the envelope, checks the signature, then parses and checks the
/// manifest. Nothing inside is trusted before the signature verifies.
pub fn verify(bytes: &[u8], key: &PublicKey) -> Result<(Manifest, semver::Version), ManifestError> {
    let env: SignedManifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Shape(e.to_string()))?;
    let sig = hex::decode(env.signature.trim()).map_err(|_| ManifestError::BadSignature)?;
    let mut msg = SIGNING_CONTEXT.to_vec();
    msg.extend_from_slice(env.signed.as_bytes());
    UnparsedPublicKey::new(&ED25519, &key.0)
        .verify(&msg, &sig)
        .map_err(|_| ManifestError::BadSignature)?;
    let m: Manifest =
        serde_json::from_str(&env.signed).map_err(|e| ManifestError::Shape(e.to_string()))?;
    let version = semver::Version::parse(&m.version)
        .map_err(|_| ManifestError::BadVersion(m.version.clone()))?;
    if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ManifestError::BadHash);
    }
    mantra_policy::keys::url_allowed(&m.url).map_err(ManifestError::BadUrl)?;
    Ok((m, version))
}

/// Signs a manifest (release tooling and tests). `pkcs8` is an Ed25519
/// PKCS#8 v2 document as `ring` makes them.
pub fn sign(manifest: &Manifest, pkcs8: &[u8]) -> Result<Vec<u8>, String> {
    let kp = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| e.to_string())?;
    let signed = serde_json::to_string(manifest).map_err(|e| e.to_string())?;
    let mut msg = SIGNING_CONTEXT.to_vec();
    msg.extend_from_slice(signed.as_bytes());
    let signature = hex::encode(kp.sign(&msg).as_ref());
    serde_json::to_vec(&SignedManifest { signed, signature }).map_err(|e| e.to_string())
}
