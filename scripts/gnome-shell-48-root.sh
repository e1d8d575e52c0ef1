#!/usr/bin/env bash
# Builds, once per machine, a Debian 13 ("trixie") root file system with GNOME Shell 48 in it, for
# the end-to-end test of the GNOME 45+ build of the extension on a Debian 12 machine (whose own
# gnome-shell is 43). The test runs that shell headless in a chroot (test/extension/harness.ts).
# It has systemd 257 too: scripts/systemd-root.sh boots it for install.sh's tests on Debian 13.
#
#   scripts/gnome-shell-48-root.sh          build it unless it is there and current; print its path
#
# Needs root (debootstrap, chroot) and the Debian mirror the machine's apt uses. About 2 minutes
# and 230 MB of downloads the first time; the root (about 1.1 GB) is kept under
# ${XDG_CACHE_HOME:-~/.cache}/selfheal/gnome-shell-48 (or $SELFHEAL_GNOME48_DIR) and reused while
# the recipe below is unchanged. Any failure exits non-zero with the log's tail: the test needs it.
set -euo pipefail
# shellcheck source=scripts/debian-root.sh
. "$(dirname "$0")/debian-root.sh"

NAME=gnome-shell-48-root
DIR=${SELFHEAL_GNOME48_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/selfheal/gnome-shell-48}
SUITE=trixie
# What the shell needs headless (software rendering, no X server), its preferences window
# (gjs, libadwaita come with gnome-shell), and the German locale of the translation check.
PACKAGES=(gnome-shell gjs dbus dbus-bin dbus-daemon libglib2.0-bin dconf-gsettings-backend
  libgl1-mesa-dri libegl-mesa0 libgbm1 fonts-dejavu-core locales)
LOCALES=("de_DE.UTF-8 UTF-8")
CHECK=usr/bin/gnome-shell
RECIPE="$SUITE ${PACKAGES[*]} ${LOCALES[*]}"

finish() {
  printf '%s\n' "${LOCALES[@]}" >"$BUILD/etc/locale.gen"
  step "generating the locales ${LOCALES[*]}" in_root locale-gen
}

version() { chroot "$1" gnome-shell --version; }

build_debian_root
