#!/bin/sh
# Builds Mantra-<version>.pkg on macOS: a component package (pkgbuild) with
# /usr/local/bin/mantra and /Library/LaunchAgents/com.mantra.agent.plist
# plus scripts/postinstall, wrapped in a product archive (productbuild) with
# distribution.xml. Both are signed when MANTRA_PKG_SIGN_IDENTITY names a
# "Developer ID Installer: …" identity in the keychain.
#
#   installer/macos/build-pkg.sh --binary target/release/mantra [--version 1.2.3] [--out dist]
#
# Environment: MANTRA_PKG_SIGN_IDENTITY (optional), MANTRA_PKG_KEYCHAIN
# (optional keychain for the identity).
set -eu

PKG_ID=com.mantra.pkg
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
binary=''
version=''
out=.

die() {
	printf 'build-pkg.sh: error: %s\n' "$*" >&2
	exit 1
}

while [ "$#" -gt 0 ]; do
	case $1 in
	--binary) binary=${2:-} && shift ;;
	--version) version=${2:-} && shift ;;
	--out) out=${2:-} && shift ;;
	-h | --help)
		sed -n '2,12p' "$0"
		exit 0
		;;
	*) die "unknown option: $1" ;;
	esac
	shift
done

[ -n "$binary" ] || die "--binary PATH is required (a macOS mantra binary, e.g. a universal one from lipo)"
[ -x "$binary" ] || die "$binary is not executable"
command -v pkgbuild >/dev/null 2>&1 || die "pkgbuild not found: build the package on macOS with the Xcode command line tools"
command -v productbuild >/dev/null 2>&1 || die "productbuild not found"
if [ -z "$version" ]; then
	# "mantra 1.2.3" -> 1.2.3
	version=$("$binary" --version | awk '{ print $2 }')
fi
case $version in
'' | *[!0-9A-Za-z.+-]*) die "bad version: '$version' (pass --version)" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mantra-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT
payload=$work/root
mkdir -p "$payload/usr/local/bin" "$payload/Library/LaunchAgents"
cp "$binary" "$payload/usr/local/bin/mantra"
chmod 755 "$payload/usr/local/bin/mantra"
# The same template install.sh uses, with the same bindir.
sed 's|@BINDIR@|/usr/local/bin|g' "$here/com.mantra.agent.plist" >"$payload/Library/LaunchAgents/com.mantra.agent.plist"
chmod 644 "$payload/Library/LaunchAgents/com.mantra.agent.plist"
plutil -lint "$payload/Library/LaunchAgents/com.mantra.agent.plist" >/dev/null

set -- --root "$payload" --identifier "$PKG_ID" --version "$version" \
	--scripts "$here/scripts" --install-location / --ownership recommended
if [ -n "${MANTRA_PKG_SIGN_IDENTITY:-}" ]; then
	set -- "$@" --sign "$MANTRA_PKG_SIGN_IDENTITY" --timestamp
	[ -n "${MANTRA_PKG_KEYCHAIN:-}" ] && set -- "$@" --keychain "$MANTRA_PKG_KEYCHAIN"
fi
pkgbuild "$@" "$work/mantra-component.pkg"

sed -e "s|@VERSION@|$version|g" -e "s|@COMPONENT@|mantra-component.pkg|g" \
	"$here/distribution.xml" >"$work/distribution.xml"
mkdir -p "$out"
product=$out/Mantra-$version.pkg
set -- --distribution "$work/distribution.xml" --package-path "$work"
if [ -n "${MANTRA_PKG_SIGN_IDENTITY:-}" ]; then
	set -- "$@" --sign "$MANTRA_PKG_SIGN_IDENTITY" --timestamp
	[ -n "${MANTRA_PKG_KEYCHAIN:-}" ] && set -- "$@" --keychain "$MANTRA_PKG_KEYCHAIN"
fi
productbuild "$@" "$product"
printf 'built %s\n' "$product"
[ -n "${MANTRA_PKG_SIGN_IDENTITY:-}" ] || printf 'unsigned: set MANTRA_PKG_SIGN_IDENTITY to sign (Gatekeeper and MDMs want a signed, notarized package)\n'
