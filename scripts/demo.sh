#!/usr/bin/env bash
# Builds Mantra and scans the bundled sample sessions (samples/): eight
# planted secrets are reported, the placeholders and decoys are not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -p mantra
# Put `mantra` on PATH: rustup's bin directory is on every Rust user's PATH.
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
if mkdir -p "$bin_dir" && install -m 0755 target/release/mantra "$bin_dir/mantra"; then
  echo "demo: installed $bin_dir/mantra"
else
  echo "demo: could not install into $bin_dir; run ./target/release/mantra" >&2
fi
status=0
./target/release/mantra scan samples "$@" || status=$?
# Exit code 1 means "findings reported", which is what the samples are for.
[ "$status" -le 1 ]
