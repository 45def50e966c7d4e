#!/usr/bin/env bash
# Checks a Linux release binary is self-contained and small:
#   scripts/check-binary.sh BINARY [MAX_BYTES]
# - `ldd` lists only the C runtime: linux-vdso, libc, libm, libgcc_s and the
#   dynamic loader (libhs and libstdc++ are linked in statically);
# - no DWARF debug info is left in it (it is in the separate .debug file,
#   named by its .gnu_debuglink section);
# - it is smaller than MAX_BYTES (default 30 MiB: the x86_64 binary is
#   28.2 MiB, of which Debian's libhs, compiler and fat runtime for five
#   CPU generations, is 9.7 MB of code; docs/install.md);
# - it runs, and reports the Hyperscan engine.
# Run by scripts/release.sh on every build.
set -euo pipefail
bin="${1:?usage: check-binary.sh BINARY [MAX_BYTES]}"
max="${2:-$((30 * 1024 * 1024))}"
fail=0

allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-x86-64\.so\.2|/lib/ld-linux-aarch64\.so\.1|ld-linux-aarch64\.so\.1)$'
libs="$(ldd "$bin" | awk '{print $1}')"
echo "ldd $bin:"
ldd "$bin" | sed 's/^/  /'
while read -r lib; do
  [ -z "$lib" ] && continue
  if ! [[ "$lib" =~ $allowed ]]; then
    echo "check-binary: FAIL: links $lib (allowed: vdso, libc, libm, libgcc_s, ld-linux)" >&2
    fail=1
  fi
done <<<"$libs"

if readelf -S "$bin" | grep -q '\.debug_info'; then
  echo "check-binary: FAIL: $bin still has .debug_info (not split)" >&2
  fail=1
fi
if ! readelf -S "$bin" | grep -q '\.gnu_debuglink'; then
  echo "check-binary: FAIL: $bin has no .gnu_debuglink to its debug file" >&2
  fail=1
fi

size="$(stat -c %s "$bin")"
echo "size: $size bytes ($((size / 1024 / 1024)) MiB; limit $((max / 1024 / 1024)) MiB)"
if [ "$size" -ge "$max" ]; then
  echo "check-binary: FAIL: $size bytes >= $max" >&2
  fail=1
fi

version="$("$bin" version 2>&1 || true)"
echo "mantra version: $version"
if ! grep -qi hyperscan <<<"$version"; then
  echo "check-binary: FAIL: the binary does not report the Hyperscan engine" >&2
  fail=1
fi

[ "$fail" -eq 0 ] && echo "check-binary: ok"
exit "$fail"
