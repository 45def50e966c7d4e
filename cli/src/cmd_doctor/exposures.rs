//! `exposures`: the exposure list the git hooks read
//! (`<data dir>/exposures.json`) exists whenever the store does, parses,
//! was made with the fingerprint key the hooks use now, and is not older
//! than the store's last index.

use mantra_core::exposure::{key_id, ExposureList};

use super::store::Probe;
use super::{loose_mode, Check, Context};

const ID: &str = "exposures";
const REWRITE: &str = "run `mantra index` (the agent rewrites it after each index)";

pub fn check(ctx: &Context, store: &Probe) -> Check {
    let path = ctx.data.exposure_file();
    if !path.exists() {
        return if store.present {
            Check::fail(
                ID,
                format!(
                    "{} is missing: the git hooks cannot tell secrets pasted into AI sessions",
                    path.display()
                ),
                REWRITE,
            )
        } else {
            Check::ok(ID, "no store yet, so no exposure list")
        };
    }
    if let Some(mode) = std::fs::metadata(&path).ok().as_ref().and_then(loose_mode) {
        return Check::fail(
            ID,
            format!("{} is mode {mode:04o}, not 0600", path.display()),
            format!("chmod 600 '{}'", path.display()),
        );
    }
    let list = match ExposureList::read(&path) {
        Ok(l) => l,
        Err(e) => return Check::fail(ID, e.to_string(), REWRITE),
    };
    let key = current_fingerprint_key(ctx);
    if !list.made_with(&key) {
        return Check::fail(
            ID,
            format!(
                "{} was made with fingerprint key {} but the hooks use {}: none of its secrets would be recognised",
                path.display(),
                list.fingerprint_key_id,
                key_id(&key)
            ),
            REWRITE,
        );
    }
    let generated = mantra_core::time::Timestamp::parse_iso(&list.generated_at).map(|t| t.millis());
    if let (Some(indexed), Some(generated)) = (store.last_indexed_at, generated) {
        if generated < indexed {
            return Check::warn(
                ID,
                format!(
                    "{} is stale: written {}, the store was last indexed {}",
                    path.display(),
                    list.generated_at,
                    mantra_core::time::Timestamp::from_millis(indexed).to_rfc3339()
                ),
                REWRITE,
            );
        }
    }
    Check::ok(
        ID,
        format!(
            "{} current ({} exposed secret(s), written {})",
            path.display(),
            list.exposures.len(),
            list.generated_at
        ),
    )
}

/// The key the hooks compare fingerprints under.
fn current_fingerprint_key(ctx: &Context) -> Vec<u8> {
    ctx.settings
        .hook_config()
        .map(|c| c.fingerprint_key.clone())
        .unwrap_or_else(|_| ctx.agent_config.fingerprint_key.clone())
}
