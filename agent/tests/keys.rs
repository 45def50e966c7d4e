//! The store key as the production provider finds it: a missing key is
//! reported where it was really looked for, and a key file that is not a
//! small regular file (a FIFO, a symlink to `/dev/zero`) is refused at
//! once with a message that says what it is.
//!
//! One test per file that changes the environment: this binary points the
//! Secret Service client at a bus that does not exist, so the OS keychain
//! is unreachable as on a headless Linux machine.

use mantra_agent::keys::{FileKeys, KeyError, KeyProvider, KeyStoreChoice, SystemKeys};
use mantra_agent::store::{OpenMode, StoreError};
use mantra_agent::{DataDir, KeyFallback};

#[cfg(target_os = "linux")]
#[test]
fn key_file_fallback_is_named_when_the_key_is_missing_and_odd_key_files_are_refused() {
    // Before any other thread runs: the keychain client reads it.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let tmp = tempfile::tempdir().expect("tmp");
    let data = DataDir::new(tmp.path().join("data"));
    // A store made with a key file, whose key file is then lost.
    let file = FileKeys::new(data.key_file());
    mantra_agent::lifecycle::open_store(&data, &file, OpenMode::Create).expect("create");
    std::fs::remove_file(data.key_file()).expect("lose the key");

    let keys = SystemKeys::new(&data.root, KeyFallback::File, KeyStoreChoice::Auto);
    let err =
        mantra_agent::lifecycle::open_store(&data, &keys, OpenMode::Existing).expect_err("no key");
    assert!(matches!(err, StoreError::MissingKey { .. }), "{err:?}");
    let text = err.to_string();
    let key_file = data.key_file().display().to_string();
    assert!(text.contains(&format!("key file {key_file}")), "{text}");
    assert!(text.contains("keychain is unreachable"), "{text}");

    // A symlink to /dev/zero and a FIFO where the key file belongs.
    std::os::unix::fs::symlink("/dev/zero", data.key_file()).expect("symlink");
    let err = keys.get().expect_err("a device is no key file");
    assert!(matches!(err, KeyError::KeyFileRefused(_)), "{err:?}");
    assert!(err.to_string().contains("character device"), "{err}");
    std::fs::remove_file(data.key_file()).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(data.key_file())
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Without the fix this blocks in open() for ever.
    let err = keys.get().expect_err("a FIFO is no key file");
    assert!(err.to_string().contains("FIFO"), "{err}");
    let err =
        mantra_agent::lifecycle::open_store(&data, &keys, OpenMode::Existing).expect_err("refused");
    assert!(err.to_string().contains("FIFO"), "{err}");
}
