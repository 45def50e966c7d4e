#!/usr/bin/env bash
# Installs the system packages Mantra builds against, only those missing.
#   Debian/Ubuntu: pkg-config, libssl-dev, and Hyperscan (x86_64) or
#                  Vectorscan (other architectures) for the default engine;
#                  shellcheck for the installer tests (cli/tests/installer.rs).
#   macOS:         pkg-config, vectorscan and shellcheck through Homebrew.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

case "$(uname -s)" in
Linux)
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: no apt-get; install pkg-config, OpenSSL headers and libhs (Hyperscan or Vectorscan) yourself," >&2
    echo "         or build without Hyperscan: cargo build --no-default-features" >&2
    exit 0
  fi
  hs=libhyperscan-dev
  [ "$(uname -m)" = x86_64 ] || hs=libvectorscan-dev
  # Either library provides libhs; they conflict, so keep whichever is there.
  if have_pkg libvectorscan-dev || have_pkg libhyperscan-dev; then hs=""; fi
  missing=()
  for p in pkg-config libssl-dev make perl shellcheck $hs; do
    have_pkg "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  ;;
Darwin)
  command -v brew >/dev/null 2>&1 || { echo "deps.sh: install Homebrew first (https://brew.sh)" >&2; exit 1; }
  for p in pkg-config vectorscan shellcheck; do
    brew list "$p" >/dev/null 2>&1 || brew install "$p"
  done
  ;;
*)
  echo "deps.sh: see the README for $(uname -s) prerequisites" >&2
  ;;
esac
