//! The exposure list: secrets seen in AI sessions, by keyed fingerprint.
//!
//! The agent writes it after indexing; the git hooks read it on every commit
//! to say "this secret was pasted into session X on day Y" and to block it
//! whatever its severity. It holds fingerprints and redacted previews only,
//! never a secret. It is a plain file beside the encrypted store so that a
//! hook reads it in a millisecond without opening the database or the
//! keychain.
//!
//! Fingerprints only compare under the same key: the list records an
//! identifier of the key it was made with, and readers check it.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::fingerprint;

pub const EXPOSURE_LIST_VERSION: u32 = 1;

/// File name of the list inside Mantra's data directory.
pub const EXPOSURE_FILE_NAME: &str = "exposures.json";

/// One AI session a secret was seen in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureSession {
    /// `claude-code`, `codex`, `gemini-cli`, …
    pub assistant: String,
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// RFC 3339 time of the message that held the secret.
    pub seen_at: String,
}

/// One exposed secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    pub fingerprint: String,
    /// Rule that found it (`generic-secret` for a value under a secret-named key).
    pub rule_id: String,
    pub redacted: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Most recent first; at most a handful are kept per secret.
    pub sessions: Vec<ExposureSession>,
}

/// The whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureList {
    pub version: u32,
    /// RFC 3339 time the list was written.
    pub generated_at: String,
    /// [`key_id`] of the fingerprint key the list was made with.
    pub fingerprint_key_id: String,
    pub exposures: Vec<Exposure>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExposureError {
    #[error("cannot read the exposure list {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the exposure list {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("the exposure list {path} has version {found}; this Mantra reads version {EXPOSURE_LIST_VERSION}")]
    Version { path: String, found: u32 },
}

/// A short public identifier of a fingerprint key, so that lists made under
/// another key are recognised (their fingerprints would never match).
pub fn key_id(key: &[u8]) -> String {
    hex::encode(&Sha256::digest([b"mantra-key-id\0".as_slice(), key].concat())[..8])
}

impl ExposureList {
    pub fn new(generated_at: String, fingerprint_key: &[u8]) -> Self {
        Self {
            version: EXPOSURE_LIST_VERSION,
            generated_at,
            fingerprint_key_id: key_id(fingerprint_key),
            exposures: Vec::new(),
        }
    }

    pub fn read(path: &Path) -> Result<Self, ExposureError> {
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ExposureError::Io {
            path: display.clone(),
            source,
        })?;
        let list: ExposureList =
            serde_json::from_slice(&bytes).map_err(|e| ExposureError::Parse {
                path: display.clone(),
                message: e.to_string(),
            })?;
        if list.version != EXPOSURE_LIST_VERSION {
            return Err(ExposureError::Version {
                path: display,
                found: list.version,
            });
        }
        Ok(list)
    }

    /// Writes the list atomically (temporary file, then rename), readable by
    /// its owner only.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        tmp.write_all(&json)?;
        tmp.as_file().sync_all()?;
        // NamedTempFile creates files 0600 on Unix already; rename keeps it.
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Whether the list's fingerprints were made under `key`.
    pub fn made_with(&self, key: &[u8]) -> bool {
        self.fingerprint_key_id == key_id(key)
    }

    /// An index for fast lookups by fingerprint.
    pub fn index(&self) -> HashMap<&str, &Exposure> {
        self.exposures
            .iter()
            .map(|e| (e.fingerprint.as_str(), e))
            .collect()
    }
}

/// Candidate tokens of a line for exposure matching: a secret seen in a
/// session under some context (`password=hunter2…`) may be committed bare,
/// where no rule matches. Tokens are maximal runs of characters that appear
/// in secrets, split at quotes, whitespace, `=`, `:` and delimiters, at
/// least `min_len` long; both the whole run and its part after the last `=`
/// or `:` are offered.
pub fn candidate_tokens(line: &[u8], min_len: usize) -> impl Iterator<Item = &[u8]> {
    let is_token_byte = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'/'
                    | b'+'
                    | b'='
                    | b'!'
                    | b'@'
                    | b'#'
                    | b'$'
                    | b'%'
                    | b'^'
                    | b'&'
                    | b'*'
                    | b'~'
                    | b'?'
                    | b':'
            )
    };
    line.split(move |&b| !is_token_byte(b))
        .flat_map(|run| {
            let tail = run
                .iter()
                .rposition(|&b| b == b'=' || b == b':')
                .map(|i| &run[i + 1..]);
            let trimmed = trim_token(run);
            std::iter::once(trimmed).chain(tail.map(trim_token))
        })
        .filter(move |t| t.len() >= min_len)
}

fn trim_token(t: &[u8]) -> &[u8] {
    let start = t
        .iter()
        .position(|&b| !matches!(b, b'.' | b':' | b'=' | b'/'))
        .unwrap_or(t.len());
    let end = t
        .iter()
        .rposition(|&b| !matches!(b, b'.' | b':' | b'=' | b','))
        .map_or(start, |i| i + 1);
    if start < end {
        &t[start..end]
    } else {
        &[]
    }
}

/// Fingerprints of every candidate token of `line`.
pub fn candidate_fingerprints<'a>(
    key: &'a [u8],
    line: &'a [u8],
    min_len: usize,
) -> impl Iterator<Item = (&'a [u8], String)> + 'a {
    candidate_tokens(line, min_len).map(move |t| (t, fingerprint(key, t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::DEFAULT_FINGERPRINT_KEY;

    #[test]
    fn round_trip_and_key_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXPOSURE_FILE_NAME);
        let mut list = ExposureList::new("2026-11-23T00:00:00Z".into(), DEFAULT_FINGERPRINT_KEY);
        list.exposures.push(Exposure {
            fingerprint: fingerprint(DEFAULT_FINGERPRINT_KEY, b"hunter2hunter2"),
            rule_id: "generic-secret".into(),
            redacted: "hun…".into(),
            first_seen: "2026-11-20T09:00:00Z".into(),
            last_seen: "2026-11-20T09:00:00Z".into(),
            sessions: vec![ExposureSession {
                assistant: "claude-code".into(),
                session_id: "s1".into(),
                project: Some("/home/dev/shop".into()),
                title: None,
                seen_at: "2026-11-20T09:00:00Z".into(),
            }],
        });
        list.write(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let back = ExposureList::read(&path).unwrap();
        assert_eq!(back, list);
        assert!(back.made_with(DEFAULT_FINGERPRINT_KEY));
        assert!(!back.made_with(b"other"));
        std::fs::write(&path, b"{").unwrap();
        assert!(matches!(
            ExposureList::read(&path),
            Err(ExposureError::Parse { .. })
        ));
    }

    #[test]
    fn bare_commit_of_a_contextual_secret_is_a_candidate() {
        let tokens: Vec<&[u8]> =
            candidate_tokens(b"db_pass = \"hunter2hunter2\"; x=1", 8).collect();
        assert!(tokens.contains(&b"hunter2hunter2".as_slice()), "{tokens:?}");
        let tokens: Vec<&[u8]> = candidate_tokens(b"password=hunter2hunter2", 8).collect();
        assert!(tokens.contains(&b"hunter2hunter2".as_slice()), "{tokens:?}");
    }
}
