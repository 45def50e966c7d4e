#!/usr/bin/env bash
# Installs, upgrades, removes and purges the Mantra .deb on this machine
# (as root; it changes the system's package database):
#   sudo scripts/test-deb.sh dist/mantra_VERSION_ARCH.deb
# It checks after each step: the files and their modes, `mantra version`,
# `mantra doctor --format json` (parsed), the agent unit enabled for every
# user, /etc/mantra left to the admin (an admin's policy survives a purge),
# and nothing left behind afterwards. The upgrade is to the same binary
# repackaged as VERSION+upgradetest (dpkg's upgrade path: unpack over,
# replace files, remove those the new package no longer has).
set -euo pipefail
cd "$(dirname "$0")/.."
deb="${1:?usage: test-deb.sh PACKAGE.deb}"
[ "$(id -u)" -eq 0 ] || { echo "test-deb.sh: run as root (dpkg -i)" >&2; exit 2; }
if dpkg -s mantra >/dev/null 2>&1; then
  echo "test-deb.sh: a mantra package is installed already; remove it first" >&2
  exit 2
fi
work="$(mktemp -d)"
had_etc=0
[ -e /etc/mantra ] && had_etc=1
cleanup() {
  dpkg --purge mantra >/dev/null 2>&1 || true
  [ "$had_etc" -eq 1 ] || rm -rf /etc/mantra
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }

export HOME="$work/home" MANTRA_HOME="$work/data" MANTRA_KEY_STORE=file
mkdir -p "$HOME"

check_installed() {
  local want="$1"
  [ "$(dpkg-query -W -f='${Status} ${Version}' mantra)" = "install ok installed $want" ] \
    || fail "dpkg status: $(dpkg-query -W -f='${Status} ${Version}' mantra)"
  [ "$(stat -c %a /usr/bin/mantra)" = 755 ] || fail "/usr/bin/mantra mode"
  [ "$(command -v mantra)" = /usr/bin/mantra ] || fail "mantra not first on PATH: $(command -v mantra)"
  mantra version | grep -q '^mantra ' || fail "mantra version"
  grep -q '^ExecStart=/usr/bin/mantra agent run$' /usr/lib/systemd/user/mantra-agent.service \
    || fail "unit ExecStart"
  [ "$(readlink /usr/lib/systemd/user/default.target.wants/mantra-agent.service)" = ../mantra-agent.service ] \
    || fail "unit not enabled for every user"
  if command -v systemd-analyze >/dev/null; then
    # As cli/tests/installer.rs does: system mode (a user manager needs a
    # login session), and only the unit's own complaints count.
    local verify
    verify="$(systemd-analyze verify /usr/lib/systemd/user/mantra-agent.service 2>&1)" \
      || fail "systemd-analyze verify: $verify"
    if grep -q mantra-agent <<<"$verify"; then fail "systemd-analyze verify: $verify"; fi
  fi
  [ -f /usr/share/doc/mantra/examples/policy.yaml ] || fail "example policy"
  [ -f /usr/share/doc/mantra/copyright ] || fail "copyright"
  local doctor
  doctor="$(mantra doctor --format json || true)"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["checks"], d; print("doctor:", len(d["checks"]), "checks;", ", ".join(c["id"]+"="+c["status"] for c in d["checks"]))' "$doctor" \
    || fail "mantra doctor --format json"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); c=[c for c in d["checks"] if c["id"]=="agent-registered"]; assert not c or c[0]["status"]=="ok", c' "$doctor" \
    || fail "doctor does not see the agent unit as registered"
}

version="$(dpkg-deb -f "$deb" Version)"
echo "== install $deb ($version, $(stat -c %s "$deb") bytes)"
# The admin's policy directory exists before and must survive everything.
mkdir -p /etc/mantra
printf 'network:\n  enabled: false\n' >/etc/mantra/policy.yaml
chmod 0644 /etc/mantra/policy.yaml
before_policy="$(sha256sum /etc/mantra/policy.yaml)"
dpkg -i "$deb" >/dev/null
check_installed "$version"

echo "== upgrade to $version+upgradetest"
up="$work/up"
mkdir -p "$up"
dpkg-deb -R "$deb" "$up/root"
sed -i "s/^Version: .*/Version: $version+upgradetest/" "$up/root/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz --build "$up/root" "$up/mantra.deb" >/dev/null
dpkg -i "$up/mantra.deb" >/dev/null
check_installed "$version+upgradetest"

echo "== remove"
dpkg -r mantra >/dev/null
[ ! -e /usr/bin/mantra ] || fail "binary left after remove"
[ ! -e /usr/lib/systemd/user/mantra-agent.service ] || fail "unit left after remove"
[ ! -L /usr/lib/systemd/user/default.target.wants/mantra-agent.service ] || fail "wants link left"
[ ! -e /usr/share/doc/mantra ] || fail "docs left after remove"

echo "== purge"
dpkg --purge mantra >/dev/null
dpkg -s mantra >/dev/null 2>&1 && fail "still known to dpkg after purge"
[ "$(sha256sum /etc/mantra/policy.yaml)" = "$before_policy" ] || fail "/etc/mantra/policy.yaml changed"
echo "test-deb.sh: install, upgrade, remove and purge ok; /etc/mantra untouched"
