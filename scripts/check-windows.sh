#!/usr/bin/env bash
# Compiles and lints the shipped binary for Windows from Linux (pure-Rust
# engine: Hyperscan is not built for Windows), so the cfg(windows) code —
# the registry policy reader, the scheduled-task check, Windows hook shims —
# is at least type-checked. Not part of CI: it needs the rustup target
# (downloaded from static.rust-lang.org) and the MinGW cross compiler for
# the vendored OpenSSL/SQLCipher and ring build scripts.
#   bash scripts/check-windows.sh            # clippy -D warnings
#   bash scripts/check-windows.sh build      # also link mantra.exe
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq gcc-mingw-w64-x86-64
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/windows"
cargo clippy -p mantra --no-default-features --target "$target" -- -D warnings
if [ "${1:-}" = build ]; then
  cargo build --release -p mantra --no-default-features --target "$target"
  ls -l "$CARGO_TARGET_DIR/$target/release/mantra.exe"
fi
