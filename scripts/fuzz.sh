#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (docs/fuzzing.md).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Seeds each target's corpus (fuzz/corpus/<target>/, not committed) from the
# repository's fixtures and fuzz/seeds/<target>/, builds every target once,
# runs each for SECONDS_PER_TARGET (default 60), prints executions per target
# and exits non-zero when any target crashed, leaked past the memory limit or
# timed out (the input is kept in fuzz/artifacts/<target>/).
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and nightly
# compiler features: by default the installed toolchain with
# RUSTC_BOOTSTRAP=1 (machines of this kind have one toolchain, so CI and
# developers run the same thing); FUZZ_TOOLCHAIN=nightly uses
# `cargo +nightly` instead.
# FUZZ_SANITIZER=none|address (default address) picks the sanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
sanitizer=${FUZZ_SANITIZER:-address}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
if [ "${FUZZ_TOOLCHAIN:-}" = nightly ]; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

cd fuzz
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("${fuzz[@]}" list)
fi

sep=$'\x1e'
fixtures=$root/agent/tests/fixtures
# Writes a seed file $2 for target $1 from stdin.
seed() { mkdir -p "corpus/$1" && cat >"corpus/$1/$2"; }
# Copies files into a target's corpus, each under a name derived from its path.
seed_files() {
  local target=$1 f
  shift
  for f in "$@"; do
    [ -f "$f" ] && seed "$target" "$(echo "${f#"$root"/}" | tr '/' '_')" <"$f"
  done
  return 0
}
jsonl_fixtures() { find "$fixtures" "$root/samples" -name '*.jsonl' -type f | sort; }
# Seeds target $1 with every JSONL file under the directories that follow.
seed_jsonl_under() {
  local target=$1 f
  shift
  while IFS= read -r -d '' f; do seed_files "$target" "$f"; done \
    < <(find "$@" -name '*.jsonl' -type f -print0 2>/dev/null)
}

seed_corpus() {
  local t=$1
  mkdir -p "corpus/$t"
  if [ -d "seeds/$t" ]; then cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true; fi
  case $t in
    claude) seed_jsonl_under "$t" "$fixtures/claude" "$root/samples/.claude" ;;
    codex_jsonl) seed_jsonl_under "$t" "$fixtures/codex" "$root/samples/.codex" ;;
    gemini_jsonl) seed_jsonl_under "$t" "$fixtures/gemini" ;;
    copilot_jsonl) seed_jsonl_under "$t" "$fixtures/vscode" ;;
    aider) seed_files "$t" "$fixtures/aider/.aider.chat.history.md" "$root/samples/.aider.chat.history.md" ;;
    cline)
      local task=$fixtures/cline/tasks/1726000000000
      { cat "$task/api_conversation_history.json"; printf %s "$sep"; cat "$task/ui_messages.json"; } | seed "$t" fixture ;;
    continue_dev)
      { cat "$fixtures"/continue/sessions/9b2f6a4e-*.json; printf %s "$sep"; cat "$fixtures/continue/sessions/sessions.json"; } | seed "$t" fixture ;;
    jsonl)
      # Two settings bytes first: default settings, then eof_is_final.
      while read -r f; do
        { printf '\x00\x40'; cat "$f"; } | seed "$t" "$(basename "$f")"
        { printf '\x01\x07'; cat "$f"; } | seed "$t" "final-$(basename "$f")"
      done < <(jsonl_fixtures) ;;
    detect_view)
      while read -r f; do { printf '\xff'; cat "$f"; } | seed "$t" "$(basename "$f")"; done < <(jsonl_fixtures) ;;
    scanner)
      seed_jsonl_under "$t" "$fixtures" "$root/samples"
      seed_files "$t" "$root/samples/config.example.env" ;;
    policy_yaml) seed_files "$t" "$root/mdm-profiles/policy.example.yaml" ;;
    policy_plist) seed_files "$t" "$root/mdm-profiles/com.gonewx.mantra.mobileconfig" "$root/installer/macos/com.mantra.agent.plist" ;;
    policy_reg) seed_files "$t" "$root/mdm-profiles/windows/mantra-policy.reg" ;;
  esac
}

echo "== building ${#targets[@]} targets (sanitizer: $sanitizer)"
build_start=$(date +%s)
# `cargo fuzz build` takes one target or builds them all.
one=()
[ "${#targets[@]}" -eq 1 ] && one=("${targets[0]}")
"${fuzz[@]}" build -s "$sanitizer" "${one[@]}" 2>build.log || { cat build.log >&2; exit 1; }
echo "built in $(($(date +%s) - build_start)) s"

failed=()
printf '%-20s %12s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
  seed_corpus "$t"
  log=$(mktemp)
  status=ok
  if ! "${fuzz[@]}" run -s "$sanitizer" "$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 >"$log" 2>&1; then
    status="FAILED (fuzz/artifacts/$t/, log: $log)"
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-20s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
    "$(find "corpus/$t" -type f | wc -l)" "$status"
  [ "$status" = ok ] && rm -f "$log"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "failing targets: ${failed[*]}" >&2
  exit 1
fi
