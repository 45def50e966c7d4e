#!/usr/bin/env bash
# Peak memory (max RSS, /usr/bin/time -v) of Mantra on inputs that used to
# cost a multiple of their size, as recorded in docs/BENCHMARKS.md
# ("Bounded memory"):
#   index   a Claude Code transcript whose one record is 150 MB
#   redact  a 157 MB JSONL file
#
#   cargo build --release -p mantra
#   bash scripts/bench-memory.sh [path/to/mantra]
#
# Needs python3 and GNU time (apt install time).
set -euo pipefail
MANTRA=${1:-${CARGO_TARGET_DIR:-target}/release/mantra}
MANTRA=$(cd "$(dirname "$MANTRA")" && pwd)/$(basename "$MANTRA")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home MANTRA_HOME=$work/mantra MANTRA_KEY_STORE=file
mkdir -p "$HOME/.claude/projects/-w" "$MANTRA_HOME"

# One transcript: a small record, one of 150 MB with a GitHub token in its
# middle (a tool result printed by `cat`), and another small record.
python3 - "$HOME/.claude/projects/-w/11111111-2222-4333-8444-555555555555.jsonl" <<'PY'
import json, sys
sid = "11111111-2222-4333-8444-555555555555"
def rec(uuid, text):
    return json.dumps({"type": "user", "sessionId": sid, "uuid": uuid, "cwd": "/w",
                       "timestamp": "2026-01-01T10:00:00Z",
                       "message": {"role": "user", "content": text}}) + "\n"
chunk = "lorem ipsum dolor sit amet, consectetur adipiscing elit\n" * 1000
half = chunk * (75_000_000 // len(chunk))
with open(sys.argv[1], "w") as f:
    f.write(rec("u0", "small"))
    f.write(rec("u1", half + " token 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 " + half))
    f.write(rec("u2", "after"))
PY
# A 157 MB JSONL file of 1 KB records, with a secret every 10,000 lines.
python3 - "$work/big.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(157_000):
        text = "word " * 190
        if i % 10_000 == 0:
            text += " AKIAIOSFODNN7EXAMPLQ "
        f.write(json.dumps({"i": i, "text": text}) + "\n")
PY

peak() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time" || true
  local kb secs
  kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
  printf '%-8s peak RSS %6.1f MB   wall %s\n' "$label" "$(echo "$kb / 1024" | bc -l)" "$secs"
}
ls -l "$HOME/.claude/projects/-w/"*.jsonl "$work/big.jsonl" | awk '{printf "input %s: %.1f MB\n", $NF, $5/1e6}'
peak index "$MANTRA" index
peak redact "$MANTRA" redact "$work/big.jsonl" -o "$work/big.redacted.jsonl"
