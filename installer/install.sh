#!/bin/sh
# Installs Mantra system-wide on macOS and Linux: the binary, the per-user
# agent service (systemd user unit / LaunchAgent), optionally a policy file
# and the git hooks at system scope. `--uninstall` reverses exactly what a
# previous run recorded in its manifest. Safe to run twice. See
# docs/install.md for every option and the MDM one-liners.
set -eu
umask 022

PROG=install.sh
UNIT_NAME=mantra-agent.service
AGENT_LABEL=com.mantra.agent

usage() {
	cat <<'EOF'
Usage: install.sh [options]

Installs Mantra: PREFIX/bin/mantra, the agent service for every user, and
optionally a policy file and the git hooks at system scope.

Options:
  --binary PATH   the mantra binary to install (default: ./mantra beside this
                  script, else the one on PATH)
  --prefix DIR    installation prefix (default /usr/local): binary in
                  PREFIX/bin, hook shims and the manifest in PREFIX/lib/mantra
  --root DIR      install under DIR as if it were / (packaging, tests); every
                  system path is prefixed, nothing is started (the systemd
                  unit is enabled inside DIR with systemctl --root)
  --policy FILE   install FILE as the system policy file; an existing
                  different policy is kept unless --force
  --hooks         install the git hooks at system scope
                  (mantra hooks install --scope system)
  --no-service    do not register the agent service
  --force         replace an existing different policy (kept and restored by
                  --uninstall) and a foreign system core.hooksPath
  --uninstall     remove everything a previous run installed (its manifest
                  says what; give the same --prefix and --root); a policy
                  it did not install stays
  --dry-run       print what would be done, change nothing
  -h, --help      this help

Exit status: 0 done (or nothing to do), 1 refused or failed, 2 usage error.
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
usage_error() {
	printf '%s: %s (see --help)\n' "$PROG" "$*" >&2
	exit 2
}

# --- options ---------------------------------------------------------------

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
binary=''
prefix=/usr/local
root=/
policy=''
hooks=0
service=1
force=0
uninstall=0
dry_run=0

need_value() {
	if [ "$#" -lt 2 ] || [ -z "$2" ]; then
		usage_error "$1 needs a value"
	fi
}

while [ "$#" -gt 0 ]; do
	case $1 in
	--binary)
		need_value "$@"
		binary=$2
		shift
		;;
	--binary=*) binary=${1#*=} ;;
	--prefix)
		need_value "$@"
		prefix=$2
		shift
		;;
	--prefix=*) prefix=${1#*=} ;;
	--root)
		need_value "$@"
		root=$2
		shift
		;;
	--root=*) root=${1#*=} ;;
	--policy)
		need_value "$@"
		policy=$2
		shift
		;;
	--policy=*) policy=${1#*=} ;;
	--hooks) hooks=1 ;;
	--no-service) service=0 ;;
	--force) force=1 ;;
	--uninstall) uninstall=1 ;;
	--dry-run) dry_run=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option: $1" ;;
	esac
	shift
done

case $prefix in
/*) ;;
*) usage_error "--prefix must be an absolute path" ;;
esac
# The prefix is written into the service files (systemd ExecStart, plist
# XML) and a sed replacement: keep it to characters none of them quote.
case $prefix in
*[!A-Za-z0-9/._+-]*) usage_error "--prefix may only contain letters, digits and / . _ + -" ;;
esac
prefix=${prefix%/}
[ -n "$prefix" ] || prefix=/

case $root in
/*) ;;
*) root=$(pwd)/$root ;;
esac
root=${root%/}
# R prefixes every system path; empty when installing for real.
R=$root

case ${MANTRA_INSTALL_OS:-} in
"") os=$(uname -s) ;;
# Lets tests lay out the other platform under a --root; never for real.
linux) os=Linux ;;
macos) os=Darwin ;;
*) usage_error "MANTRA_INSTALL_OS must be linux or macos" ;;
esac
if [ -n "${MANTRA_INSTALL_OS:-}" ] && [ -z "$R" ]; then
	usage_error "MANTRA_INSTALL_OS is only honoured with --root"
fi

bindir=${prefix%/}/bin
libdir=${prefix%/}/lib/mantra
hooks_dir=$libdir/git-hooks
manifest=$libdir/install-manifest
policy_backup=$libdir/policy.yaml.before-mantra
case $os in
Linux)
	service_src=$script_dir/linux/$UNIT_NAME
	service_dest=/etc/systemd/user/$UNIT_NAME
	policy_dest=/etc/mantra/policy.yaml
	;;
Darwin)
	service_src=$script_dir/macos/$AGENT_LABEL.plist
	service_dest=/Library/LaunchAgents/$AGENT_LABEL.plist
	policy_dest="/Library/Application Support/Mantra/policy.yaml"
	;;
*) die "unsupported system $os (this script is for macOS and Linux; install.ps1 is for Windows)" ;;
esac

# The system git config the hooks go into. Under --root it is the root's
# etc/gitconfig unless the caller chose one with GIT_CONFIG_SYSTEM.
if [ -n "$R" ] && [ -z "${GIT_CONFIG_SYSTEM:-}" ]; then
	GIT_CONFIG_SYSTEM=$R/etc/gitconfig
	export GIT_CONFIG_SYSTEM
fi

if [ -z "$R" ] && [ "$(id -u)" -ne 0 ]; then
	if [ "$dry_run" = 1 ]; then
		warn "not running as root: a real run needs root (sudo)"
	else
		die "installing system-wide needs root: run it with sudo (or use --root DIR)"
	fi
fi

# --- manifest: what this script installed, one "KIND PATH" a line ----------
# Paths are system paths (without the --root prefix). Kinds: dir (created
# by us), file, policy (installed where none was), policy-replaced (an
# existing one replaced with --force; the old one kept at policy_backup),
# hooks (shim directory), gitconfig-created, systemd-global-enabled.

entries=''
if [ -f "$R$manifest" ]; then
	entries=$(cat "$R$manifest")
fi
entries_at_start=$entries
# Set by every step that changes the machine.
changed=0

has_entry() {
	printf '%s\n' "$entries" | grep -Fxq -- "$1"
}

record() {
	has_entry "$1 $2" && return 0
	if [ -z "$entries" ]; then
		entries="$1 $2"
	else
		entries="$entries
$1 $2"
	fi
}

save_manifest() {
	[ "$dry_run" = 1 ] && return 0
	[ "$entries" = "$entries_at_start" ] && [ -f "$R$manifest" ] && return 0
	mkdir_recorded "$libdir"
	save_tmp=$(mktemp "$R$libdir/.install-manifest.XXXXXX")
	printf '%s\n' "$entries" >"$save_tmp"
	chmod 0644 "$save_tmp"
	mv -f "$save_tmp" "$R$manifest"
}

# --- file helpers ------------------------------------------------------------

mode_of() {
	stat -c %a "$1" 2>/dev/null || stat -f %Lp "$1"
}

# Creates a system directory and its missing parents, recording each one
# created so uninstall removes exactly those (when empty).
mkdir_recorded() {
	mkdir_path=''
	mkdir_rest=${1#/}
	while [ -n "$mkdir_rest" ]; do
		mkdir_part=${mkdir_rest%%/*}
		if [ "$mkdir_part" = "$mkdir_rest" ]; then
			mkdir_rest=''
		else
			mkdir_rest=${mkdir_rest#*/}
		fi
		mkdir_path=$mkdir_path/$mkdir_part
		if [ ! -d "$R$mkdir_path" ]; then
			if [ "$dry_run" = 1 ]; then
				say "would create $R$mkdir_path"
			else
				mkdir -m 0755 "$R$mkdir_path"
				record dir "$mkdir_path"
				changed=1
			fi
		fi
	done
}

# Installs SRC at system path DEST with MODE atomically (temp file in the
# destination directory, then rename). Returns 0 when it changed something,
# 1 when DEST was already identical.
install_file() {
	if_src=$1 if_dest=$2 if_mode=$3
	if [ -f "$R$if_dest" ] && cmp -s "$if_src" "$R$if_dest" &&
		[ "$(mode_of "$R$if_dest")" = "$if_mode" ]; then
		say "already installed $R$if_dest"
		return 1
	fi
	if [ "$dry_run" = 1 ]; then
		say "would install $R$if_dest"
		return 0
	fi
	mkdir_recorded "$(dirname -- "$if_dest")"
	if_tmp=$(mktemp "$R$(dirname -- "$if_dest")/.mantra-install.XXXXXX")
	if ! cp "$if_src" "$if_tmp" || ! chmod "$if_mode" "$if_tmp" || ! mv -f "$if_tmp" "$R$if_dest"; then
		rm -f "$if_tmp"
		die "could not install $R$if_dest"
	fi
	say "installed $R$if_dest"
	changed=1
	return 0
}

# Escapes a string for the replacement side of a sed s||| command.
sed_escape() {
	printf '%s' "$1" | sed 's/[\\|&]/\\&/g'
}

# Writes a service template with @BINDIR@ replaced to a temp file; prints
# its path.
render_template() {
	[ -f "$1" ] || die "missing $1 (keep install.sh beside its linux/ and macos/ folders)"
	rt_out=$(mktemp "${TMPDIR:-/tmp}/mantra-service.XXXXXX")
	sed "s|@BINDIR@|$(sed_escape "$bindir")|g" "$1" >"$rt_out"
	printf '%s\n' "$rt_out"
}

# The system git config file git writes with --system.
system_gitconfig() {
	if [ -n "${GIT_CONFIG_SYSTEM:-}" ]; then
		printf '%s\n' "$GIT_CONFIG_SYSTEM"
	else
		git var GIT_CONFIG_SYSTEM 2>/dev/null || printf '%s\n' /etc/gitconfig
	fi
}

# --- macOS launchd -----------------------------------------------------------

# The user logged in at the console (empty at the login window).
console_user() {
	cu=$(stat -f %Su /dev/console 2>/dev/null) || cu=''
	case $cu in
	root | loginwindow | _mbsetupuser) cu='' ;;
	esac
	printf '%s\n' "$cu"
}

# Loads (or reloads after a change) the LaunchAgent in the console user's
# GUI session, so the agent runs now and not only from the next login.
launchd_load() {
	ll_changed=$1
	if [ -n "$R" ]; then
		say "LaunchAgent not loaded under --root; it loads at each user's next login"
		return 0
	fi
	ll_user=$(console_user)
	if [ -z "$ll_user" ]; then
		say "no user at the console; the agent starts at each user's next login"
		return 0
	fi
	ll_uid=$(id -u "$ll_user")
	if launchctl print "gui/$ll_uid/$AGENT_LABEL" >/dev/null 2>&1; then
		if [ "$ll_changed" = 0 ]; then
			say "already running for $ll_user (gui/$ll_uid/$AGENT_LABEL)"
			return 0
		fi
		if [ "$dry_run" = 1 ]; then
			say "would restart the agent for $ll_user"
			return 0
		fi
		launchctl bootout "gui/$ll_uid/$AGENT_LABEL" 2>/dev/null || true
	elif [ "$dry_run" = 1 ]; then
		say "would start the agent for $ll_user (launchctl bootstrap gui/$ll_uid)"
		return 0
	fi
	changed=1
	if launchctl bootstrap "gui/$ll_uid" "$service_dest"; then
		say "started the agent for $ll_user (gui/$ll_uid/$AGENT_LABEL)"
	else
		warn "launchctl bootstrap gui/$ll_uid failed; the agent starts at $ll_user's next login"
	fi
}

launchd_unload() {
	[ -n "$R" ] && return 0
	lu_user=$(console_user)
	[ -n "$lu_user" ] || return 0
	lu_uid=$(id -u "$lu_user")
	if launchctl print "gui/$lu_uid/$AGENT_LABEL" >/dev/null 2>&1; then
		if [ "$dry_run" = 1 ]; then
			say "would stop the agent for $lu_user"
		else
			launchctl bootout "gui/$lu_uid/$AGENT_LABEL" </dev/null 2>/dev/null || true
			say "stopped the agent for $lu_user"
		fi
	fi
}

# --- systemd -----------------------------------------------------------------

# systemctl for the global (all users) user-unit configuration; under
# --root it edits the root's /etc/systemd/user instead (no systemd needed).
global_systemctl() {
	if [ -n "$R" ]; then
		systemctl --root="$R" --global "$@"
	else
		systemctl --global "$@"
	fi
}

systemd_enable() {
	if ! command -v systemctl >/dev/null 2>&1; then
		say "systemctl not found: to start the agent at every user's login run: systemctl --global enable $UNIT_NAME"
		return 0
	fi
	if [ "$(global_systemctl is-enabled "$UNIT_NAME" 2>/dev/null)" = enabled ]; then
		say "already enabled for all users: $UNIT_NAME"
		record systemd-global-enabled "$UNIT_NAME"
		return 0
	fi
	if [ "$dry_run" = 1 ]; then
		say "would run: systemctl --global enable $UNIT_NAME"
		return 0
	fi
	changed=1
	if global_systemctl enable "$UNIT_NAME" >/dev/null 2>&1 </dev/null; then
		record systemd-global-enabled "$UNIT_NAME"
		if [ -n "$R" ]; then
			say "enabled for all users under $R: $UNIT_NAME"
		else
			say "enabled for all users: $UNIT_NAME (starts at each login; now: systemctl --user start $UNIT_NAME)"
		fi
	else
		warn "systemctl --global enable $UNIT_NAME failed; run it by hand"
	fi
}

systemd_disable() {
	if ! command -v systemctl >/dev/null 2>&1; then
		warn "systemctl not found: remove $R/etc/systemd/user/default.target.wants/$UNIT_NAME by hand"
		return 0
	fi
	if [ "$dry_run" = 1 ]; then
		say "would run: systemctl --global disable $UNIT_NAME"
		return 0
	fi
	if global_systemctl disable "$UNIT_NAME" >/dev/null 2>&1 </dev/null; then
		if [ -n "$R" ]; then
			say "disabled for all users under $R: $UNIT_NAME"
		else
			say "disabled for all users: $UNIT_NAME (running agents stop at logout, or: systemctl --user stop $UNIT_NAME)"
		fi
	else
		warn "systemctl --global disable $UNIT_NAME failed"
	fi
}

# --- install -----------------------------------------------------------------

# Refusals are checked before anything changes, so a refused run leaves
# the machine as it was.
preflight() {
	if [ -n "$policy" ]; then
		[ -f "$policy" ] || die "no such policy file: $policy"
		if [ -f "$R$policy_dest" ] && ! cmp -s "$policy" "$R$policy_dest" &&
			! has_entry "policy $policy_dest" && ! has_entry "policy-replaced $policy_dest" &&
			[ "$force" = 0 ]; then
			die "a different policy is already at $R$policy_dest; not replaced. Rerun with --force to replace it (--uninstall restores it)."
		fi
	fi
	if [ "$hooks" = 1 ]; then
		command -v git >/dev/null 2>&1 || die "--hooks needs git on PATH"
		pf_current=$(git config --system --get core.hooksPath 2>/dev/null) || pf_current=''
		if [ -n "$pf_current" ] && [ "$pf_current" != "$R$hooks_dir" ] && [ "$force" = 0 ]; then
			die "core.hooksPath is already set to $pf_current in the system git config (not Mantra's); not replaced. Rerun with --force to replace it (--uninstall restores it)."
		fi
	fi
}

do_install() {
	if [ -z "$binary" ]; then
		if [ -x "$script_dir/mantra" ]; then
			binary=$script_dir/mantra
		else
			binary=$(command -v mantra 2>/dev/null) || die "no mantra binary beside this script or on PATH; pass --binary PATH"
		fi
	fi
	if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
		die "$binary is not an executable file"
	fi
	"$binary" --version >/dev/null 2>&1 || die "$binary does not run on this machine (wrong platform?)"
	preflight

	install_file "$binary" "$bindir/mantra" 755 || true
	record file "$bindir/mantra"

	if [ -n "$policy" ]; then
		if has_entry "policy $policy_dest" || has_entry "policy-replaced $policy_dest"; then
			# Ours from an earlier run: keep it current.
			install_file "$policy" "$policy_dest" 644 || true
		elif [ ! -f "$R$policy_dest" ]; then
			install_file "$policy" "$policy_dest" 644 || true
			record policy "$policy_dest"
		elif cmp -s "$policy" "$R$policy_dest"; then
			# Someone else's identical policy: left alone by --uninstall.
			say "already in place $R$policy_dest (not installed by this script)"
		else
			# A different one and --force (preflight refused otherwise):
			# keep it for --uninstall to restore.
			if [ "$dry_run" = 1 ]; then
				say "would keep the existing policy as $R$policy_backup"
			else
				mkdir_recorded "$libdir"
				cp -p "$R$policy_dest" "$R$policy_backup"
				record policy-replaced "$policy_dest"
				changed=1
				say "kept the existing policy as $R$policy_backup (restored by --uninstall)"
			fi
			install_file "$policy" "$policy_dest" 644 || true
		fi
	fi

	if [ "$service" = 1 ]; then
		svc_rendered=$(render_template "$service_src")
		svc_changed=0
		install_file "$svc_rendered" "$service_dest" 644 && svc_changed=1
		rm -f "$svc_rendered"
		record file "$service_dest"
		case $os in
		Linux) systemd_enable ;;
		Darwin) launchd_load "$svc_changed" ;;
		esac
	fi

	if [ "$hooks" = 1 ]; then
		hk_gitconfig=$(system_gitconfig)
		hk_had_gitconfig=0
		[ -e "$hk_gitconfig" ] && hk_had_gitconfig=1
		if [ "$dry_run" = 1 ]; then
			say "would run: mantra hooks install --scope system --dir $R$hooks_dir"
		else
			mkdir_recorded "$libdir"
			set -- hooks install --scope system --dir "$R$hooks_dir"
			[ "$force" = 1 ] && set -- "$@" --force
			if ! hk_out=$("$R$bindir/mantra" "$@" 2>&1); then
				printf '%s\n' "$hk_out" >&2
				save_manifest
				die "mantra hooks install failed (see above); everything else is installed"
			fi
			printf '%s\n' "$hk_out" | sed 's/^/hooks: /'
			case $hk_out in
			"already installed"*) ;;
			*) changed=1 ;;
			esac
			# Recorded before the hooks so that uninstall, newest first,
			# unsets core.hooksPath before looking at the file.
			if [ "$hk_had_gitconfig" = 0 ] && [ -e "$hk_gitconfig" ]; then
				record gitconfig-created "$hk_gitconfig"
			fi
			record hooks "$hooks_dir"
		fi
	fi

	save_manifest
	if [ "$dry_run" = 1 ]; then
		say "dry run: nothing changed"
	elif [ "$changed" = 0 ]; then
		say "Mantra is already installed; nothing changed"
	else
		say "Mantra installed (manifest: $R$manifest)"
	fi
}

# --- uninstall ---------------------------------------------------------------

remove_file() {
	if [ ! -e "$R$1" ] && [ ! -L "$R$1" ]; then
		return 0
	fi
	if [ "$dry_run" = 1 ]; then
		say "would remove $R$1"
	else
		rm -f "$R$1"
		say "removed $R$1"
	fi
}

undo_entry() {
	ue_kind=$1 ue_path=$2
	case $ue_kind in
	file) remove_file "$ue_path" ;;
	policy) remove_file "$ue_path" ;;
	policy-replaced)
		if [ -f "$R$policy_backup" ]; then
			if [ "$dry_run" = 1 ]; then
				say "would restore the previous policy at $R$ue_path"
			else
				mv -f "$R$policy_backup" "$R$ue_path"
				say "restored the previous policy at $R$ue_path"
			fi
		else
			warn "the previous policy backup $R$policy_backup is gone; left $R$ue_path"
		fi
		;;
	hooks)
		ue_bin=$R$bindir/mantra
		[ -x "$ue_bin" ] || ue_bin=$(command -v mantra 2>/dev/null) || ue_bin=''
		if [ -z "$ue_bin" ]; then
			warn "no mantra binary to uninstall the hooks with; run: git config --system --unset core.hooksPath"
		elif [ "$dry_run" = 1 ]; then
			say "would run: mantra hooks uninstall --scope system --dir $R$ue_path"
		elif ue_out=$("$ue_bin" hooks uninstall --scope system --dir "$R$ue_path" 2>&1 </dev/null); then
			printf '%s\n' "$ue_out" | sed 's/^/hooks: /'
		else
			printf '%s\n' "$ue_out" >&2
			die "mantra hooks uninstall failed (see above); nothing else removed"
		fi
		;;
	gitconfig-created)
		# git leaves an empty file behind when the last key is unset.
		if [ -f "$ue_path" ] && [ ! -s "$ue_path" ]; then
			if [ "$dry_run" = 1 ]; then
				say "would remove the empty $ue_path"
			else
				rm -f "$ue_path"
				say "removed the empty $ue_path"
			fi
		fi
		;;
	systemd-global-enabled) systemd_disable ;;
	dir) ;; # after everything else
	*) warn "unknown manifest entry: $ue_kind $ue_path" ;;
	esac
}

do_uninstall() {
	if [ ! -f "$R$manifest" ]; then
		say "nothing to uninstall: no manifest at $R$manifest (installed with another --prefix? pass the same one)"
		return 0
	fi
	# The agent stops before its files go.
	if [ "$os" = Darwin ] && has_entry "file $service_dest"; then
		launchd_unload
	fi
	# Newest first: hooks (they need the binary) before the binary.
	reversed=$(printf '%s\n' "$entries" | awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }')
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		undo_entry "${line%% *}" "${line#* }"
	done <<EOF
$reversed
EOF
	remove_file "$manifest"
	while IFS= read -r line; do
		case $line in
		"dir "*)
			ud_dir=${line#dir }
			if [ "$dry_run" = 1 ]; then
				say "would remove $R$ud_dir if empty"
			elif rmdir "$R$ud_dir" 2>/dev/null; then
				say "removed $R$ud_dir"
			elif [ -d "$R$ud_dir" ]; then
				say "left $R$ud_dir (not empty)"
			fi
			;;
		esac
	done <<EOF
$reversed
EOF
	if [ "$dry_run" = 1 ]; then
		say "dry run: nothing changed"
	else
		say "Mantra uninstalled"
	fi
}

if [ "$uninstall" = 1 ]; then
	do_uninstall
else
	do_install
fi
