//! The 256-bit store key: generation, the OS keychain, the key-file
//! fallback, and the policy that chooses between them.
//!
//! Owns where the key lives. The key is never logged; [`StoreKey`]'s
//! `Debug` prints nothing of it and its bytes are zeroed on drop. Providers
//! are injectable ([`KeyProvider`]) so tests run with a real key file and
//! never touch a keychain.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::KeyFallback;

/// Service name of keychain entries.
pub const KEYCHAIN_SERVICE: &str = "mantra";

/// A raw SQLCipher key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<StoreKey, KeyError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(StoreKey(k))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }

    /// Parses 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Option<StoreKey> {
        let v = hex::decode(s.trim()).ok()?;
        let arr: [u8; 32] = v.try_into().ok()?;
        Some(StoreKey(arr))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The SQLCipher raw-key literal, `x'…'` (no key derivation on open).
    pub(crate) fn pragma_literal(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // Volatile-free zeroing is best effort; the key also lives in
            // SQLCipher's memory while a store is open.
            *b = 0;
        }
    }
}

/// Why a key could not be read, created or removed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error("the OS keychain is unreachable ({reason}) and policy (storage.key_fallback = deny) forbids a key file")]
    KeychainDenied { reason: String },
    #[error("OS keychain error: {0}")]
    Keychain(String),
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {path} does not hold a 256-bit hex key")]
    BadKeyFile { path: PathBuf },
    /// The key file is not a small regular file (a FIFO, a device, a
    /// symlink to `/dev/zero`, or far larger than a key).
    #[error("key file: {0}")]
    KeyFileRefused(#[source] mantra_core::fsio::InputError),
}

/// A key file holds 64 hex digits and a newline; anything much larger is
/// not a key file, and is refused rather than read.
const KEY_FILE_LIMIT: u64 = 1024;

/// Where the store key is kept.
pub trait KeyProvider: Send + Sync {
    /// The stored key; `None` when none was ever created.
    fn get(&self) -> Result<Option<StoreKey>, KeyError>;
    /// Stores `key` as the key (never called when one exists).
    fn put(&self, key: &StoreKey) -> Result<(), KeyError>;
    /// Removes the key everywhere this provider keeps it. Returns whether
    /// anything was removed.
    fn delete(&self) -> Result<bool, KeyError>;
    /// A human description ("OS keychain", "key file /…/store.key").
    fn describe(&self) -> String;
    /// Warnings for `mantra doctor` (e.g. the fallback is in use).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A `0600` file holding the key in hex.
#[derive(Debug, Clone)]
pub struct FileKeys {
    pub path: PathBuf,
}

impl FileKeys {
    pub fn new(path: impl Into<PathBuf>) -> FileKeys {
        FileKeys { path: path.into() }
    }
}

impl KeyProvider for FileKeys {
    fn get(&self) -> Result<Option<StoreKey>, KeyError> {
        use mantra_core::fsio::{read_optional, InputError};
        let bad = || KeyError::BadKeyFile {
            path: self.path.clone(),
        };
        match read_optional(&self.path, KEY_FILE_LIMIT) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(StoreKey::from_hex)
                .map(Some)
                .ok_or_else(bad),
            Err(InputError::TooLarge { .. }) => Err(bad()),
            Err(InputError::Io { source, .. }) => Err(KeyError::Io {
                path: self.path.clone(),
                source,
            }),
            Err(e) => Err(KeyError::KeyFileRefused(e)),
        }
    }

    fn put(&self, key: &StoreKey) -> Result<(), KeyError> {
        write_private_new(&self.path, format!("{}\n", key.to_hex()).as_bytes()).map_err(|source| {
            KeyError::Io {
                path: self.path.clone(),
                source,
            }
        })
    }

    fn delete(&self) -> Result<bool, KeyError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(KeyError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }
}

/// Writes a new owner-only file atomically in an owner-only directory;
/// fails if `path` exists (a key is never overwritten).
fn write_private_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        mantra_core::datadir::ensure_private_dir(dir)?;
    }
    mantra_core::fsio::write_private_new(path, data)
}

/// The OS keychain (macOS Keychain, Windows Credential Manager, Secret
/// Service on Linux desktops), one entry per data directory.
#[derive(Debug, Clone)]
pub struct KeychainKeys {
    pub user: String,
}

impl KeychainKeys {
    /// The entry for the store in `data_dir`.
    pub fn for_data_dir(data_dir: &Path) -> KeychainKeys {
        KeychainKeys {
            user: format!("store-key:{}", data_dir.display()),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(KEYCHAIN_SERVICE, &self.user)
            .map_err(|e| KeyError::Keychain(e.to_string()))
    }
}

impl KeyProvider for KeychainKeys {
    fn get(&self) -> Result<Option<StoreKey>, KeyError> {
        match self.entry()?.get_password() {
            Ok(s) => StoreKey::from_hex(&s).map(Some).ok_or_else(|| {
                KeyError::Keychain("the keychain entry is not a 256-bit hex key".into())
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyError::Keychain(e.to_string())),
        }
    }

    fn put(&self, key: &StoreKey) -> Result<(), KeyError> {
        let hex = key.to_hex();
        // Some stores (Linux keyutils) fail the first entry of a process;
        // a second attempt with a fresh entry works.
        let first = self.entry()?.set_password(&hex);
        if first.is_err() {
            self.entry()?
                .set_password(&hex)
                .map_err(|e| KeyError::Keychain(e.to_string()))?;
        }
        // Read back: a store that silently persists nothing must not be
        // trusted with the only copy of the key.
        match self.get()? {
            Some(k) if &k == key => Ok(()),
            _ => Err(KeyError::Keychain(
                "the keychain did not keep the key".into(),
            )),
        }
    }

    fn delete(&self) -> Result<bool, KeyError> {
        match self.entry()?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(KeyError::Keychain(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!(
            "OS keychain (service {KEYCHAIN_SERVICE:?}, account {:?})",
            self.user
        )
    }
}

/// Which store `SystemKeys` uses; `MANTRA_KEY_STORE` selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStoreChoice {
    /// Keychain first, key file when unreachable and allowed (default).
    Auto,
    /// Only the keychain.
    Keychain,
    /// Only the key file (still refused under `key_fallback = deny`).
    File,
}

impl KeyStoreChoice {
    pub fn parse(s: &str) -> Option<KeyStoreChoice> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(KeyStoreChoice::Auto),
            "keychain" => Some(KeyStoreChoice::Keychain),
            "file" => Some(KeyStoreChoice::File),
            _ => None,
        }
    }
}

/// The production provider: the OS keychain, with the key file as the
/// policy-controlled fallback. A key file that exists always wins (the key
/// went there because the keychain was unreachable when it was made).
#[derive(Debug, Clone)]
pub struct SystemKeys {
    pub keychain: KeychainKeys,
    pub file: FileKeys,
    pub fallback: KeyFallback,
    pub choice: KeyStoreChoice,
    /// Where the last [`KeyProvider::get`] looked, in words, so that a
    /// missing key is reported where it was really looked for (the key
    /// file, when the keychain was unreachable).
    consulted: Arc<Mutex<Option<String>>>,
}

impl SystemKeys {
    pub fn new(data_dir: &Path, fallback: KeyFallback, choice: KeyStoreChoice) -> SystemKeys {
        SystemKeys {
            keychain: KeychainKeys::for_data_dir(data_dir),
            file: FileKeys::new(mantra_core::DataDir::new(data_dir).key_file()),
            fallback,
            choice,
            consulted: Arc::default(),
        }
    }

    fn consulted(&self, what: String) {
        *self.consulted.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    fn file_allowed(&self, reason: &str) -> Result<(), KeyError> {
        match self.fallback {
            KeyFallback::File => Ok(()),
            KeyFallback::Deny => Err(KeyError::KeychainDenied {
                reason: reason.to_string(),
            }),
        }
    }
}

impl KeyProvider for SystemKeys {
    fn get(&self) -> Result<Option<StoreKey>, KeyError> {
        if self.choice != KeyStoreChoice::Keychain && self.file.path.exists() {
            self.consulted(self.file.describe());
            self.file_allowed("a key file is present")?;
            return self.file.get();
        }
        if self.choice == KeyStoreChoice::File {
            self.consulted(self.file.describe());
            self.file_allowed("MANTRA_KEY_STORE=file")?;
            return self.file.get();
        }
        self.consulted(self.keychain.describe());
        match self.keychain.get() {
            Ok(k) => Ok(k),
            Err(e) if self.choice == KeyStoreChoice::Auto => {
                tracing::debug!("keychain unreachable: {e}");
                self.consulted(format!(
                    "{}, the fallback: the OS keychain is unreachable ({e})",
                    self.file.describe()
                ));
                self.file_allowed(&e.to_string())?;
                self.file.get()
            }
            Err(e) => Err(e),
        }
    }

    fn put(&self, key: &StoreKey) -> Result<(), KeyError> {
        if self.choice == KeyStoreChoice::File {
            self.file_allowed("MANTRA_KEY_STORE=file")?;
            return self.file.put(key);
        }
        match self.keychain.put(key) {
            Ok(()) => Ok(()),
            Err(e) if self.choice == KeyStoreChoice::Auto => {
                self.file_allowed(&e.to_string())?;
                tracing::warn!(
                    "OS keychain unreachable; keeping the store key in {}",
                    self.file.path.display()
                );
                self.file.put(key)
            }
            Err(e) => Err(e),
        }
    }

    fn delete(&self) -> Result<bool, KeyError> {
        let mut removed = self.file.delete()?;
        if self.choice != KeyStoreChoice::File {
            match self.keychain.delete() {
                Ok(r) => removed |= r,
                Err(e) => tracing::debug!("keychain entry not removed: {e}"),
            }
        }
        Ok(removed)
    }

    /// Where the last `get` looked; before any, where it would look first.
    fn describe(&self) -> String {
        if let Some(what) = self
            .consulted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return what;
        }
        if self.file.path.exists() || self.choice == KeyStoreChoice::File {
            self.file.describe()
        } else {
            self.keychain.describe()
        }
    }

    fn warnings(&self) -> Vec<String> {
        if self.file.path.exists() {
            vec![format!(
                "the store key is kept in {} because the OS keychain was unreachable",
                self.file.path.display()
            )]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trip_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = FileKeys::new(dir.path().join("sub").join("store.key"));
        assert!(keys.get().expect("get").is_none());
        let k = StoreKey::generate().expect("gen");
        keys.put(&k).expect("put");
        assert_eq!(keys.get().expect("get"), Some(k.clone()));
        let other = StoreKey::generate().expect("gen");
        assert!(
            keys.put(&other).is_err(),
            "an existing key is never replaced"
        );
        assert_eq!(keys.get().expect("get"), Some(k));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&keys.path)
                .expect("m")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&keys.path, "not hex").expect("w");
        assert!(matches!(keys.get(), Err(KeyError::BadKeyFile { .. })));
        assert!(keys.delete().expect("del"));
        assert!(!keys.delete().expect("del"));
    }

    #[test]
    fn deny_policy_refuses_the_key_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = SystemKeys::new(dir.path(), KeyFallback::Deny, KeyStoreChoice::File);
        let k = StoreKey::generate().expect("gen");
        let err = keys.put(&k).expect_err("deny");
        assert!(matches!(err, KeyError::KeychainDenied { .. }), "{err}");
        assert!(err.to_string().contains("key_fallback = deny"));
        assert!(!keys.file.path.exists());
        // An existing key file is not used under deny either.
        FileKeys::new(&keys.file.path).put(&k).expect("put");
        assert!(matches!(keys.get(), Err(KeyError::KeychainDenied { .. })));
        let allowed = SystemKeys::new(dir.path(), KeyFallback::File, KeyStoreChoice::File);
        assert_eq!(allowed.get().expect("get"), Some(k));
        assert_eq!(allowed.warnings().len(), 1);
    }

    #[test]
    fn key_debug_and_parsing() {
        let k = StoreKey::from_bytes([7; 32]);
        assert_eq!(format!("{k:?}"), "StoreKey(…)");
        assert_eq!(StoreKey::from_hex(&k.to_hex()), Some(k));
        assert!(StoreKey::from_hex("abcd").is_none());
        assert_eq!(KeyStoreChoice::parse("FILE"), Some(KeyStoreChoice::File));
        assert_eq!(KeyStoreChoice::parse("nope"), None);
    }
}
