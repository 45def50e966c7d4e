//! `mantra update check`: fetch the signed manifest through the guard,
//! verify it, compare versions, and optionally fetch and verify the
//! artifact into a directory (never installing it).

use std::path::{Path, PathBuf};

use mantra_policy::Policy;
use ring::digest::{Context, SHA256};
use serde::Serialize;

use crate::guard::{self, Denied, HttpError, NetworkGuard, Purpose};
use crate::manifest::{self, ManifestError, PublicKey, MAX_MANIFEST_BYTES};

/// Largest artifact downloaded.
pub const MAX_ARTIFACT_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub current_version: semver::Version,
    pub public_key: PublicKey,
    /// Fetch the artifact into this directory and verify its SHA-256.
    pub download_dir: Option<PathBuf>,
}

impl CheckOptions {
    /// This build's version and the compiled-in release key.
    pub fn for_this_build() -> Self {
        CheckOptions {
            current_version: semver::Version::parse(env!("CARGO_PKG_VERSION"))
                .unwrap_or_else(|_| semver::Version::new(0, 0, 0)),
            public_key: manifest::RELEASE_PUBLIC_KEY,
            download_dir: None,
        }
    }
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Policy forbids the check; nothing was sent.
    Disabled {
        reason: String,
    },
    UpToDate {
        current: String,
        latest: String,
    },
    UpdateAvailable {
        current: String,
        latest: String,
        url: String,
        sha256: String,
        /// Where the verified artifact was saved, when asked to download.
        downloaded: Option<PathBuf>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "the manifest offers {offered}, older than this version {current}: refusing a downgrade"
    )]
    Downgrade { current: String, offered: String },
    #[error("the manifest is for channel {got:?}, policy asks for {want:?}")]
    WrongChannel { want: String, got: String },
    #[error("the downloaded artifact's SHA-256 {got} does not match the manifest's {want}; it was not saved")]
    HashMismatch { want: String, got: String },
    #[error("cannot save the artifact in {path}: {source}")]
    Save {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs one check under `policy`. With updates or the network disabled it
/// returns `Disabled` without opening any connection.
pub fn check_for_update(policy: &Policy, opts: &CheckOptions) -> Result<CheckOutcome, UpdateError> {
    let permit = match NetworkGuard::new(policy).permit(Purpose::UpdateCheck) {
        Ok(p) => p,
        Err(Denied { reason, .. }) => {
            return Ok(CheckOutcome::Disabled {
                reason: reason.to_string(),
            })
        }
    };
    let channel = policy.updates.channel.as_str();
    let url = policy.updates.url.replace("{channel}", channel);
    let body = guard::get(&permit, &url, MAX_MANIFEST_BYTES)?;
    let (m, latest) = manifest::verify(&body, &opts.public_key)?;
    if m.channel != channel {
        return Err(UpdateError::WrongChannel {
            want: channel.to_string(),
            got: m.channel,
        });
    }
    let current = &opts.current_version;
    if latest < *current {
        return Err(UpdateError::Downgrade {
            current: current.to_string(),
            offered: latest.to_string(),
        });
    }
    if latest == *current {
        return Ok(CheckOutcome::UpToDate {
            current: current.to_string(),
            latest: latest.to_string(),
        });
    }
    let downloaded = match &opts.download_dir {
        Some(dir) => {
            let bytes = guard::get(&permit, &m.url, MAX_ARTIFACT_BYTES)?;
            Some(save_verified(dir, &m.url, &m.sha256, &bytes)?)
        }
        None => None,
    };
    Ok(CheckOutcome::UpdateAvailable {
        current: current.to_string(),
        latest: latest.to_string(),
        url: m.url,
        sha256: m.sha256,
        downloaded,
    })
}

fn save_verified(dir: &Path, url: &str, want: &str, bytes: &[u8]) -> Result<PathBuf, UpdateError> {
    let mut ctx = Context::new(&SHA256);
    ctx.update(bytes);
    let got = hex::encode(ctx.finish().as_ref());
    if !got.eq_ignore_ascii_case(want) {
        return Err(UpdateError::HashMismatch {
            want: want.to_string(),
            got,
        });
    }
    let name = url
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && !n.starts_with('.') && !n.contains(['\\', ':']))
        .unwrap_or("mantra-update.bin");
    let save = |e| UpdateError::Save {
        path: dir.to_path_buf(),
        source: e,
    };
    // The directory is the user's choice: created with the usual mode if
    // missing; the artifact is an ordinary readable file.
    std::fs::create_dir_all(dir).map_err(save)?;
    let dest = dir.join(name);
    mantra_core::fsio::write_atomic(&dest, bytes, 0o644).map_err(save)?;
    Ok(dest)
}
