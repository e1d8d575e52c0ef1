# shellcheck shell=bash
# Builds a Debian root file system with debootstrap, once per machine, and prints its path; sourced
# by the scripts that name what goes in it (gnome-shell-48-root.sh, systemd-root.sh), which set:
#
#   NAME      what the messages call it
#   DIR       the folder the root (DIR/root), its build log and its lock live in
#   SUITE     the Debian release ("bookworm", "trixie")
#   PACKAGES  (array) what apt installs into the minimal base
#   CHECK     a file that only a complete root has (relative to the root)
#   RECIPE    what the root is built from; a change to it rebuilds the root
#   finish    (function, optional) a last step in the root being built, after the packages
#   version   (function, optional) prints what the root holds, for the final message; $1 the root
#
# then call build_debian_root. Needs root (debootstrap, chroot) and the Debian mirror the machine's
# apt uses (or $SELFHEAL_DEBIAN_MIRROR). Any failure exits non-zero with the log's tail.

STAMP=.selfheal-recipe

fail() { echo "$NAME: $*" >&2; exit 1; }

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
  echo "$NAME: $what" >&2
  "$@" >>"$LOG" 2>&1 || { tail -n 25 "$LOG" >&2; fail "$what failed (log: $LOG)"; }
}

build_debian_root() {
  local root=$DIR/root started tool
  [ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot); run it as root or through sudo"
  mkdir -p "$DIR"
  exec 9>"$DIR/lock"
  flock 9 # One setup at a time; a second caller waits and then finds the root ready.
  if [ -e "$root/$CHECK" ] && [ "$(cat "$root/$STAMP" 2>/dev/null)" = "$RECIPE" ]; then
    echo "$root"
    return 0
  fi
  for tool in debootstrap chroot unshare; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/test-deps.sh installs it)"
  done
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
  if declare -F finish >/dev/null; then finish; fi
  in_root apt-get clean
  rm -rf "$BUILD"/var/lib/apt/lists/*
  echo "$RECIPE" >"$BUILD/$STAMP"
  # Only a complete root takes the final name.
  rm -rf "$root"
  mv "$BUILD" "$root"
  local what=""
  if declare -F version >/dev/null; then what=": $(version "$root")"; fi
  echo "$NAME: built in $(($(date +%s) - started)) s$what" >&2
  echo "$root"
}
