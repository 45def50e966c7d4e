#!/usr/bin/env bash
# Peak memory (max RSS, /usr/bin/time -v) of Mantra on inputs that used to
# cost a multiple of their size, as recorded in docs/BENCHMARKS.md
# ("Bounded memory"):
#   index        a Claude Code transcript whose one record is 150 MB
#   redact       a 157 MB JSONL file
#   hook-100MB   `mantra hook pre-commit` with one staged 100 MB text file
#   hook-list    `mantra hook pre-commit` reading a 155 MB exposure list
# "peak RSS" is the process tree's (/usr/bin/time -v: the largest of mantra
# and the git it runs); "mantra alone" is mantra's own VmHWM, sampled.
#
#   cargo build --release -p mantra
#   bash scripts/bench-memory.sh [path/to/mantra]
#
# Needs python3, git, bc and GNU time (apt install time).
set -euo pipefail
MANTRA=${1:-${CARGO_TARGET_DIR:-target}/release/mantra}
MANTRA=$(cd "$(dirname "$MANTRA")" && pwd)/$(basename "$MANTRA")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home MANTRA_HOME=$work/mantra MANTRA_KEY_STORE=file
export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.invalid
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

# mantra's own peak (VmHWM, its children excluded), sampled every 5 ms.
own_peak() {
  "$@" >/dev/null 2>&1 & local pid=$! hwm=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && hwm=$v
    sleep 0.005
  done
  wait "$pid" || true
  echo "$hwm"
}
peak() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time" || true
  [ "$label" = index ] && rm -rf "$MANTRA_HOME"
  local kb secs own
  kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
  own=$(own_peak "$@")
  printf '%-11s peak RSS %6.1f MB   mantra alone %6.1f MB   wall %s\n' "$label" \
    "$(echo "$kb / 1024" | bc -l)" "$(echo "$own / 1024" | bc -l)" "$secs"
}
ls -l "$HOME/.claude/projects/-w/"*.jsonl "$work/big.jsonl" | awk '{printf "input %s: %.1f MB\n", $NF, $5/1e6}'
peak index "$MANTRA" index
rm -rf "$MANTRA_HOME"   # a first index each time, not an unchanged re-run
peak redact "$MANTRA" redact "$work/big.jsonl" -o "$work/big.redacted.jsonl"

# The hook on one staged 100 MB text file (no exposure list yet).
git init -q "$work/repo"
# (base64 of random bytes: text, 1.3 M lines; `|| true`: head closes the pipe)
{ base64 -w 76 /dev/urandom || true; } | head -c 100000000 >"$work/repo/big.txt"
git -C "$work/repo" add big.txt
(cd "$work/repo" && peak hook-100MB "$MANTRA" hook pre-commit)

# The hook reading a 155 MB exposure list shaped like the agent's (pretty
# JSON, three sessions per secret) under the default fingerprint key.
mkdir -p "$MANTRA_HOME"
# The key id of the published default fingerprint key (detect/src/finding.rs).
key_id=$(python3 -c 'import hashlib; print(hashlib.sha256(b"mantra-key-id\0mantra-fingerprint-v1").hexdigest()[:16])')
python3 - "$MANTRA_HOME/exposures.json" 155000000 "$key_id" <<'PY'
import json, random, sys
path, target, key_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(42)
with open(path, "w") as out:
    out.write('{\n  "version": 1,\n  "generated_at": "2026-11-23T10:00:00Z",\n'
              '  "fingerprint_key_id": "%s",\n  "exposures": [\n' % key_id)
    n = 0
    while out.tell() < target:
        e = {"fingerprint": "%064x" % rnd.getrandbits(256), "rule_id": "generic-secret",
             "redacted": "Tr0…%02d" % (n % 100), "first_seen": "2026-11-20T09:15:00Z",
             "last_seen": "2026-11-21T09:15:00Z",
             "sessions": [{"assistant": "claude-code", "session_id": "%032x" % rnd.getrandbits(128),
                           "project": "/home/dev/project-%d" % (n % 50),
                           "title": "Fix the payment webhook %d" % n,
                           "seen_at": "2026-11-20T09:15:00Z"} for _ in range(3)]}
        text = "\n".join("    " + l for l in json.dumps(e, indent=2).split("\n"))
        out.write(("" if n == 0 else ",\n") + text)
        n += 1
    out.write("\n  ]\n}")
PY
git init -q "$work/repo2"
echo harmless >"$work/repo2/a.txt"
git -C "$work/repo2" add a.txt
(cd "$work/repo2" && peak hook-list "$MANTRA" hook pre-commit)
