//! The `mantra` binary in an isolated environment: nothing inherited but
//! `PATH`, the given home and data directory, the store key in a file (no
//! keychain), no standard input.

use std::path::Path;
use std::process::{Command, Stdio};

pub fn mantra(home: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mantra"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("MANTRA_HOME", data)
        .env("MANTRA_KEY_STORE", "file")
        .stdin(Stdio::null());
    c
}
