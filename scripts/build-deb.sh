#!/usr/bin/env bash
# Builds the Debian package of Mantra with dpkg-deb (no extra tool):
#   scripts/build-deb.sh VERSION BINARY OUTDIR
# Layout (docs/install.md, "Debian package"):
#   /usr/bin/mantra                                   the binary
#   /usr/lib/systemd/user/mantra-agent.service        the agent's user unit
#   /usr/lib/systemd/user/default.target.wants/…      enabled for every user
#   /usr/share/doc/mantra/{copyright,README.md,SECURITY.md,CHANGELOG.md.gz,
#                          examples/policy.yaml}
# Nothing under /etc: /etc/mantra is the admin's, created and kept by them.
# No maintainer scripts: dpkg alone installs, upgrades and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: build-deb.sh VERSION BINARY OUTDIR}"
bin="${2:?binary}"
out="${3:?output directory}"
arch="$(dpkg --print-architecture)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" \
  "$root/usr/lib/systemd/user/default.target.wants" \
  "$root/usr/share/doc/mantra/examples"
install -m 0755 "$bin" "$root/usr/bin/mantra"
sed 's|@BINDIR@|/usr/bin|g' installer/linux/mantra-agent.service \
  >"$root/usr/lib/systemd/user/mantra-agent.service"
chmod 0644 "$root/usr/lib/systemd/user/mantra-agent.service"
ln -s ../mantra-agent.service "$root/usr/lib/systemd/user/default.target.wants/mantra-agent.service"
install -m 0644 mdm-profiles/policy.example.yaml "$root/usr/share/doc/mantra/examples/policy.yaml"
install -m 0644 README.md SECURITY.md "$root/usr/share/doc/mantra/"
gzip -9n <CHANGELOG.md >"$root/usr/share/doc/mantra/CHANGELOG.md.gz"
chmod 0644 "$root/usr/share/doc/mantra/CHANGELOG.md.gz"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: mantra"
  echo
  echo "Files: *"
  echo "Copyright: the Mantra authors"
  echo "License: Apache-2.0"
  echo " On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0."
  echo " The licences of the Rust crates and C libraries linked in are listed in"
  echo " the SBOM published beside this package (mantra-$version-*.cdx.json)."
} >"$root/usr/share/doc/mantra/copyright"
chmod 0644 "$root/usr/share/doc/mantra/copyright"

# Runtime dependencies from what the binary really links: the newest GLIBC
# symbol version it needs, and libgcc_s.
glibc="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
depends="libc6 (>= $glibc)"
if objdump -p "$bin" | grep -q 'NEEDED.*libgcc_s'; then depends="$depends, libgcc-s1"; fi
size_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
# Plain text only in this here-document: it expands $variables (and would
# run `commands`).
cat >"$root/DEBIAN/control" <<CONTROL
Package: mantra
Version: $version
Architecture: $arch
Maintainer: Mantra maintainers <security@example.invalid>
Installed-Size: $size_kb
Depends: $depends
Section: devel
Priority: optional
Homepage: https://example.invalid/gonewx/mantra
Description: keeps secrets out of AI coding sessions and out of git
 Mantra finds secrets in files and in AI assistant transcripts, keeps an
 encrypted private record of the sessions, and blocks git commits and
 pushes that contain secrets. Local-first, no telemetry, policy-driven.
 .
 The agent runs as a systemd user service for every user (mask it with
 systemctl --global mask mantra-agent.service). Policy goes in
 /etc/mantra/policy.yaml; an example is in /usr/share/doc/mantra/examples.
CONTROL
mkdir -p "$out"
deb="$out/mantra_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
