#!/usr/bin/env bash
# Builds, once per machine, a Debian 13 ("trixie") root file system with GNOME Shell 48 in it, for
# the end-to-end test of the GNOME 45+ build of the extension on a Debian 12 machine (whose own
# gnome-shell is 43). The test runs that shell headless in a chroot (test/extension/harness.ts).
#
#   scripts/gnome-shell-48-root.sh          build it unless it is there and current; print its path
#
# Needs root (debootstrap, chroot) and the Debian mirror the machine's apt uses. About 2 minutes
# and 230 MB of downloads the first time; the root (about 1.1 GB) is kept under
# ${XDG_CACHE_HOME:-~/.cache}/selfheal/gnome-shell-48 (or $SELFHEAL_GNOME48_DIR) and reused while
# the recipe below is unchanged. Any failure exits non-zero with the log's tail: the test needs it.
set -euo pipefail

DIR=${SELFHEAL_GNOME48_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/selfheal/gnome-shell-48}
ROOT=$DIR/root
SUITE=trixie
# What the shell needs headless (software rendering, no X server), its preferences window
# (gjs, libadwaita come with gnome-shell), and the German locale of the translation check.
PACKAGES=(gnome-shell gjs dbus dbus-bin dbus-daemon libglib2.0-bin dconf-gsettings-backend
  libgl1-mesa-dri libegl-mesa0 libgbm1 fonts-dejavu-core locales)
LOCALES=("de_DE.UTF-8 UTF-8")
# A change to the recipe rebuilds the root.
RECIPE="$SUITE ${PACKAGES[*]} ${LOCALES[*]}"
STAMP=.selfheal-recipe

fail() { echo "gnome-shell-48-root: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot); run it as root or through sudo"
mkdir -p "$DIR"
exec 9>"$DIR/lock"
flock 9 # One setup at a time; a second caller waits and then finds the root ready.

if [ -x "$ROOT/usr/bin/gnome-shell" ] && [ "$(cat "$ROOT/$STAMP" 2>/dev/null)" = "$RECIPE" ]; then
  echo "$ROOT"
  exit 0
fi

for tool in debootstrap chroot unshare; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/test-deps.sh installs it)"
done

# The Debian mirror this machine's apt already uses (deb822 or one-line sources), unless given.
mirror() {
  [ -n "${SELFHEAL_DEBIAN_MIRROR:-}" ] && { echo "$SELFHEAL_DEBIAN_MIRROR"; return; }
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -v security | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Runs a command in the root being built, with /proc, /dev and /sys in a throw-away mount namespace.
in_root() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --fork --propagation private bash -c '
    R=$1; shift
    mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" || exit 1
    exec chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive "$@"
  ' in_root "$BUILD" "$@"
}

# Runs a step with its output in the log; on failure shows the log's tail.
step() {
  local what=$1; shift
  echo "gnome-shell-48-root: $what" >&2
  "$@" >>"$LOG" 2>&1 || { tail -n 25 "$LOG" >&2; fail "$what failed (log: $LOG)"; }
}

started=$(date +%s)
BUILD=$DIR/root.building
LOG=$DIR/setup.log
: >"$LOG"
rm -rf "$BUILD"
MIRROR=$(mirror)
step "debootstrap $SUITE from $MIRROR" debootstrap --variant=minbase "$SUITE" "$BUILD" "$MIRROR"
# No service may start inside the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' >"$BUILD/usr/sbin/policy-rc.d"
chmod +x "$BUILD/usr/sbin/policy-rc.d"
step "apt-get update" in_root apt-get update
step "installing ${PACKAGES[*]}" in_root apt-get install -y --no-install-recommends "${PACKAGES[@]}"
printf '%s\n' "${LOCALES[@]}" >"$BUILD/etc/locale.gen"
step "generating the locales ${LOCALES[*]}" in_root locale-gen
in_root apt-get clean
rm -rf "$BUILD"/var/lib/apt/lists/*
echo "$RECIPE" >"$BUILD/$STAMP"
# Only a complete root takes the final name.
rm -rf "$ROOT"
mv "$BUILD" "$ROOT"
echo "gnome-shell-48-root: built in $(($(date +%s) - started)) s: $(chroot "$ROOT" gnome-shell --version)" >&2
echo "$ROOT"
