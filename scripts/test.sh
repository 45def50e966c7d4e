#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, formatting, lints,
# then every test of every crate with every feature.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
# Every feature on (test-roots re-roots system paths for the policy tests),
# then the binary as shipped, where MANTRA_TEST_ROOT must be ignored.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
  cargo nextest run -p mantra --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
  cargo test -p mantra --no-fail-fast
fi
