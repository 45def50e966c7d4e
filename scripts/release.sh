#!/usr/bin/env bash
# Builds everything this platform can build for release VERSION into dist/:
#   scripts/release.sh VERSION
# On Linux (x86_64/arm64, Debian-like):
#   dist/mantra-VERSION-ARCH-linux              the binary: libhs and libstdc++
#                                               linked in, debug info split off
#   dist/mantra-VERSION-ARCH-linux.debug        its debug info (symbolication:
#                                               gdb/addr2line find it through
#                                               the binary's .gnu_debuglink)
#   dist/mantra-VERSION-ARCH-linux.tar.gz       binary + installer/ (install.sh,
#                                               linux/) + LICENSE, SECURITY.md
#   dist/mantra_VERSION_ARCH.deb                Debian package (scripts/build-deb.sh)
#   dist/mantra-VERSION-ARCH-linux.cdx.json     CycloneDX SBOM (scripts/bom.py)
#   dist/SHA256SUMS                             SHA-256 of every file above
# The binary is checked by scripts/check-binary.sh (ldd allow-list, size,
# no debug info left) before anything is packaged.
#
# Not built here (docs/install.md, "Release builds"): the macOS .pkg
# (installer/macos/build-pkg.sh, on a Mac, signed and notarized there with
# MANTRA_PKG_SIGN_IDENTITY and `xcrun notarytool`), the Windows build
# (`cargo build --release --no-default-features`, signed with `signtool`
# there), .rpm, and signatures of the artefacts.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/release.sh VERSION}"
crate_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
if [ "$version" != "$crate_version" ]; then
  echo "release.sh: VERSION $version is not the workspace version $crate_version (Cargo.toml): the binary would report $crate_version" >&2
  exit 2
fi
[ "$(uname -s)" = Linux ] || { echo "release.sh: Linux only; see docs/install.md for macOS and Windows" >&2; exit 2; }
export CARGO_TERM_COLOR=never
bash scripts/deps.sh

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac
dist=dist
rm -rf "$dist"
mkdir -p "$dist"

# hyperscan-sys links libhs statically only from a HYPERSCAN_ROOT prefix
# (lib/libhs.a, include/hs); pkg-config would pick the shared library.
hsroot="$PWD/target/hyperscan-root"
libdir="$(pkg-config --variable=libdir libhs)"
incdir="$(pkg-config --variable=includedir libhs)"
[ -f "$libdir/libhs.a" ] || { echo "release.sh: $libdir/libhs.a missing (libhyperscan-dev or libvectorscan-dev)" >&2; exit 1; }
rm -rf "$hsroot"
mkdir -p "$hsroot/lib" "$hsroot/include"
ln -s "$libdir/libhs.a" "$hsroot/lib/libhs.a"
ln -s "$incdir/hs" "$hsroot/include/hs"
hs_version="$(pkg-config --modversion libhs)"

HYPERSCAN_ROOT="$hsroot" cargo build --release --locked -p mantra --features hyperscan-static-cxx

name="mantra-$version-$arch-linux"
bin="$dist/$name"
cp target/release/mantra "$bin"
objcopy --only-keep-debug "$bin" "$bin.debug"
chmod 0644 "$bin.debug"
# The shipped binary keeps no debug info and no symbol table (both are in
# the .debug file, which gdb, addr2line and Rust backtraces find through
# .gnu_debuglink); only the dynamic symbols needed to load it remain.
objcopy --strip-all --add-gnu-debuglink="$bin.debug" "$bin"
bash scripts/check-binary.sh "$bin"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/linux"
cp "$bin" "$stage/$name/mantra"
cp installer/install.sh "$stage/$name/"
cp installer/linux/mantra-agent.service "$stage/$name/linux/"
cp LICENSE SECURITY.md "$stage/$name/"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$dist/$name.tar.gz" "$name"

bash scripts/build-deb.sh "$version" "$bin" "$dist" >/dev/null

python3 scripts/bom.py sbom --version "$version" --features mantra/hyperscan-static-cxx \
  --target "$(rustc -vV | sed -n 's/^host: //p')" \
  --static-lib "libhs=$hs_version" --static-lib "libstdc++=$(gcc -dumpversion)" \
  >"$dist/$name.cdx.json"

(cd "$dist" && sha256sum -- * >SHA256SUMS)
echo "release.sh: dist/ for $version:"
ls -l "$dist"
