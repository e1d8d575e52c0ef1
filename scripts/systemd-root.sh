#!/usr/bin/env bash
# The root file system of a Debian release with systemd, for scripts/systemd-user-container.sh to
# boot; built once per machine, and its path printed.
#
#   scripts/systemd-root.sh SUITE       build it unless it is there and current; print its path
#
# trixie (Debian 13, systemd 257): the GNOME Shell 48 root of scripts/gnome-shell-48-root.sh, which
# has systemd; no second root. bookworm (Debian 12, systemd 252, whose nodejs is Node.js 18): a
# minimal root with systemd, the user's session bus (dbus-user-session) and GLib's tools: what
# install.sh needs but Node.js. Built in about 1 minute from debootstrap's minimal base and 13 MB of
# packages; kept (about 175 MB) under ${XDG_CACHE_HOME:-~/.cache}/selfheal/systemd-bookworm and
# reused while the recipe below is unchanged.
# Needs root (debootstrap, chroot) and the Debian mirror the machine's apt uses.
set -euo pipefail

[ $# -eq 1 ] || { sed -n '5p' "$0" >&2; exit 2; }
SUITE=$1

case "$SUITE" in
  trixie) exec bash "$(dirname "$0")/gnome-shell-48-root.sh" ;;
  bookworm) ;;
  *) echo "systemd-root: no recipe for the Debian release '$SUITE' (bookworm, trixie)" >&2; exit 2 ;;
esac

# shellcheck source=scripts/debian-root.sh
. "$(dirname "$0")/debian-root.sh"

NAME=systemd-root
DIR=${XDG_CACHE_HOME:-$HOME/.cache}/selfheal/systemd-$SUITE
# systemd as PID 1 (systemd-sysv) and the user's manager (libpam-systemd), the session bus
# (dbus-user-session), gdbus and glib-compile-schemas (libglib2.0-bin) and ps (procps).
PACKAGES=(systemd systemd-sysv libpam-systemd dbus dbus-user-session libglib2.0-bin procps)
CHECK=usr/lib/systemd/systemd
RECIPE="$SUITE ${PACKAGES[*]}"

version() { chroot "$1" /usr/lib/systemd/systemd --version | head -n 1; }

build_debian_root
