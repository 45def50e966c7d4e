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
//!
//! Reading is bounded and streamed: the file is opened without blocking
//! (a FIFO or `/dev/zero` in its place is refused), may not exceed
//! [`MAX_EXPOSURE_LIST_BYTES`], and is parsed entry by entry, never held
//! whole. The hooks keep only the 32-byte fingerprints ([`ExposureIndex`])
//! and read the details of the few secrets a commit holds in a second pass.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::fsio;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::fingerprint::fingerprint;

pub const EXPOSURE_LIST_VERSION: u32 = 1;

/// The largest exposure list read. The agent writes about 500 bytes per
/// exposed secret (pretty JSON, a few sessions each), so 1 GiB is some two
/// million distinct secrets exposed on one machine: three orders of
/// magnitude beyond a heavy user, and a 155 MB list is read. Past it the
/// file is not a list the agent wrote, and reading on would only spend
/// time in every `git commit`. (Memory does not grow with the file: see
/// [`ExposureIndex`].)
pub const MAX_EXPOSURE_LIST_BYTES: u64 = 1 << 30;

/// File name of the list inside Mantra's data directory (its path is
/// [`crate::datadir::DataDir::exposure_file`]).
pub use crate::datadir::EXPOSURE_FILE_NAME;

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
    #[error("cannot read the exposure list: {0}")]
    Input(#[from] crate::InputError),
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

    /// Reads the whole list (bounded, streamed: the file is never held in
    /// memory besides the parsed entries).
    pub fn read(path: &Path) -> Result<Self, ExposureError> {
        let mut exposures = Vec::new();
        let (header, _) = stream(path, &mut |e| {
            exposures.push(e.exposure);
            Ok(())
        })?;
        Ok(ExposureList {
            version: header.version,
            generated_at: header.generated_at,
            fingerprint_key_id: header.fingerprint_key_id,
            exposures,
        })
    }

    /// Writes the list atomically (temporary file, then rename), readable by
    /// its owner only.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        fsio::write_private_atomic(path, &json)
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

/// The fingerprints of an exposure list, for lookups, and the open file to
/// read the details of the few that match from.
///
/// A hook compares every candidate token of a commit with the list but
/// shows details for a handful: holding 32 bytes per secret instead of
/// every session of every secret keeps a 155 MB list to a few tens of MB.
/// The second pass reads the same open file, so a list the agent replaces
/// meanwhile (atomic rename) cannot mix two versions.
pub struct ExposureIndex {
    file: File,
    path: PathBuf,
    generated_at: String,
    fingerprint_key_id: String,
    fingerprints: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for ExposureIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExposureIndex")
            .field("path", &self.path)
            .field("generated_at", &self.generated_at)
            .field("fingerprints", &self.fingerprints.len())
            .finish_non_exhaustive()
    }
}

impl ExposureIndex {
    /// Reads and checks the whole list (every entry must parse), keeping
    /// the fingerprints.
    pub fn open(path: &Path) -> Result<Self, ExposureError> {
        let mut fingerprints = HashSet::new();
        let (header, file) = stream(path, &mut |e| {
            fingerprints.insert(e.fingerprint_bytes);
            Ok(())
        })?;
        Ok(ExposureIndex {
            file,
            path: path.to_path_buf(),
            generated_at: header.generated_at,
            fingerprint_key_id: header.fingerprint_key_id,
            fingerprints,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn generated_at(&self) -> &str {
        &self.generated_at
    }

    /// Whether the list's fingerprints were made under `key`.
    pub fn made_with(&self, key: &[u8]) -> bool {
        self.fingerprint_key_id == key_id(key)
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Whether a fingerprint (hex, as [`fingerprint`] makes it) is listed.
    pub fn contains(&self, fingerprint: &str) -> bool {
        decode_fingerprint(fingerprint).is_some_and(|fp| self.fingerprints.contains(&fp))
    }

    /// The entries of these fingerprints, read again from the open file.
    pub fn details(
        &self,
        wanted: &HashSet<String>,
    ) -> Result<HashMap<String, Exposure>, ExposureError> {
        let mut found = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let display = self.path.display().to_string();
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0))
            .map_err(|source| ExposureError::Io {
                path: display.clone(),
                source,
            })?;
        parse(file, &display, &mut |e| {
            if wanted.contains(&e.exposure.fingerprint) {
                found
                    .entry(e.exposure.fingerprint.clone())
                    .or_insert(e.exposure);
            }
            Ok(())
        })?;
        Ok(found)
    }
}

fn decode_fingerprint(hex_fp: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_fp, &mut out).ok()?;
    Some(out)
}

/// The fields of a list besides its entries.
struct Header {
    version: u32,
    generated_at: String,
    fingerprint_key_id: String,
}

/// One parsed entry and its fingerprint as bytes.
struct Entry {
    exposure: Exposure,
    fingerprint_bytes: [u8; 32],
}

type OnEntry<'a> = dyn FnMut(Entry) -> Result<(), String> + 'a;

/// Opens the list without blocking, checks its size, and parses it entry by
/// entry; returns its header and the open file.
fn stream(path: &Path, on_entry: &mut OnEntry<'_>) -> Result<(Header, File), ExposureError> {
    let display = path.display().to_string();
    let file = fsio::open_file(path)?;
    let len = file
        .metadata()
        .map_err(|source| ExposureError::Io {
            path: display.clone(),
            source,
        })?
        .len();
    if len > MAX_EXPOSURE_LIST_BYTES {
        return Err(crate::InputError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_EXPOSURE_LIST_BYTES,
        }
        .into());
    }
    let header = parse(&file, &display, on_entry)?;
    Ok((header, file))
}

/// Parses a list from `reader` (at most [`MAX_EXPOSURE_LIST_BYTES`] of it:
/// a file growing while it is read ends in a parse error, not in an
/// endless read).
fn parse(
    reader: impl Read,
    display: &str,
    on_entry: &mut OnEntry<'_>,
) -> Result<Header, ExposureError> {
    let parse_error = |message: String| ExposureError::Parse {
        path: display.to_string(),
        message,
    };
    let reader = BufReader::with_capacity(64 * 1024, reader.take(MAX_EXPOSURE_LIST_BYTES));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let header = de
        .deserialize_map(ListVisitor { on_entry })
        .map_err(|e| parse_error(e.to_string()))?;
    de.end().map_err(|e| parse_error(e.to_string()))?;
    let (Some(version), Some(generated_at), Some(fingerprint_key_id), true) = (
        header.version,
        header.generated_at,
        header.fingerprint_key_id,
        header.saw_exposures,
    ) else {
        return Err(parse_error(
            "a field is missing (version, generated_at, fingerprint_key_id, exposures)".into(),
        ));
    };
    if version != EXPOSURE_LIST_VERSION {
        return Err(ExposureError::Version {
            path: display.to_string(),
            found: version,
        });
    }
    Ok(Header {
        version,
        generated_at,
        fingerprint_key_id,
    })
}

#[derive(Default)]
struct PartialHeader {
    version: Option<u32>,
    generated_at: Option<String>,
    fingerprint_key_id: Option<String>,
    saw_exposures: bool,
}

/// Visits the list's top-level object, handing each entry of `exposures`
/// to `on_entry` as it is parsed.
struct ListVisitor<'a, 'b> {
    on_entry: &'a mut OnEntry<'b>,
}

impl<'de> Visitor<'de> for ListVisitor<'_, '_> {
    type Value = PartialHeader;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an exposure list object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PartialHeader, A::Error> {
        let mut header = PartialHeader::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => header.version = Some(map.next_value()?),
                "generated_at" => header.generated_at = Some(map.next_value()?),
                "fingerprint_key_id" => header.fingerprint_key_id = Some(map.next_value()?),
                "exposures" => {
                    map.next_value_seed(EntriesSeed {
                        on_entry: &mut *self.on_entry,
                    })?;
                    header.saw_exposures = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(header)
    }
}

struct EntriesSeed<'a, 'b> {
    on_entry: &'a mut OnEntry<'b>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of exposed secrets")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        while let Some(exposure) = seq.next_element::<Exposure>()? {
            let Some(fingerprint_bytes) = decode_fingerprint(&exposure.fingerprint) else {
                return Err(A::Error::custom(
                    "an entry's fingerprint is not 64 hexadecimal digits",
                ));
            };
            (self.on_entry)(Entry {
                exposure,
                fingerprint_bytes,
            })
            .map_err(A::Error::custom)?;
        }
        Ok(())
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
    use crate::fingerprint::DEFAULT_FINGERPRINT_KEY;

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
    fn the_index_keeps_fingerprints_and_reads_details_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXPOSURE_FILE_NAME);
        let mut list = ExposureList::new("2026-11-23T00:00:00Z".into(), DEFAULT_FINGERPRINT_KEY);
        for secret in ["hunter2hunter2", "correct-horse-battery"] {
            list.exposures.push(Exposure {
                fingerprint: fingerprint(DEFAULT_FINGERPRINT_KEY, secret.as_bytes()),
                rule_id: "generic-secret".into(),
                redacted: "x…".into(),
                first_seen: "2026-11-20T09:00:00Z".into(),
                last_seen: "2026-11-20T09:00:00Z".into(),
                sessions: vec![],
            });
        }
        list.write(&path).unwrap();
        let index = ExposureIndex::open(&path).unwrap();
        assert_eq!(index.len(), 2);
        assert!(index.made_with(DEFAULT_FINGERPRINT_KEY));
        let fp = fingerprint(DEFAULT_FINGERPRINT_KEY, b"hunter2hunter2");
        assert!(index.contains(&fp));
        assert!(!index.contains(&fingerprint(DEFAULT_FINGERPRINT_KEY, b"other")));
        assert!(!index.contains("not hex"));
        let details = index.details(&HashSet::from([fp.clone()])).unwrap();
        assert_eq!(details[&fp], list.exposures[0]);
        // Read twice from the same open file.
        assert_eq!(
            index.details(&HashSet::from([fp.clone()])).unwrap().len(),
            1
        );
    }

    #[test]
    fn truncated_and_garbage_lists_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXPOSURE_FILE_NAME);
        let mut list = ExposureList::new("2026-11-23T00:00:00Z".into(), DEFAULT_FINGERPRINT_KEY);
        list.exposures.push(Exposure {
            fingerprint: fingerprint(DEFAULT_FINGERPRINT_KEY, b"hunter2hunter2"),
            rule_id: "generic-secret".into(),
            redacted: "x…".into(),
            first_seen: "t".into(),
            last_seen: "t".into(),
            sessions: vec![],
        });
        list.write(&path).unwrap();
        let full = std::fs::read(&path).unwrap();
        for bad in [
            &full[..full.len() / 2],
            b"\x00\x01garbage".as_slice(),
            b"{}",
            b"{\"version\":1,\"generated_at\":\"t\",\"fingerprint_key_id\":\"k\",\"exposures\":[{\"fingerprint\":\"zz\",\"rule_id\":\"r\",\"redacted\":\"x\",\"first_seen\":\"t\",\"last_seen\":\"t\",\"sessions\":[]}]}",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(
                matches!(ExposureIndex::open(&path), Err(ExposureError::Parse { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_device_or_fifo_in_place_of_the_list_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXPOSURE_FILE_NAME);
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let e = ExposureIndex::open(&path).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        assert!(ExposureList::read(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success());
        let e = ExposureIndex::open(&path).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
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
