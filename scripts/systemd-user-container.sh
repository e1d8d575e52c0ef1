#!/usr/bin/env bash
# Boots a real systemd (257 of Debian 13, or 252 of Debian 12) with a user's `systemd --user` in a
# container, for the end-to-end tests of install.sh under systemd (test/install/*.e2e.test.ts), on
# machines whose PID 1 is not systemd.
#
#   scripts/systemd-user-container.sh start DIR      boot a container whose changes live in DIR
#   scripts/systemd-user-container.sh user DIR CMD.. run CMD as the user "tester" (uid 1000) with
#                                                    XDG_RUNTIME_DIR and the session bus set
#   scripts/systemd-user-container.sh root DIR CMD.. run CMD as root inside
#   scripts/systemd-user-container.sh stop DIR       halt it cleanly (SIGKILL only as a last resort)
#
# The root is the Debian root of scripts/systemd-root.sh (Debian 13's is the GNOME Shell 48 root of
# scripts/gnome-shell-48-root.sh, which has systemd), read only:
# the container sees it through an overlay whose writable layer is DIR/upper, mounted in a mount
# namespace of the container's own, so nothing outlives `stop` but DIR. Needs root and
# systemd-nspawn (Debian's systemd-container; scripts/test-deps.sh installs it).
#
# Environment: SELFHEAL_CONTAINER_SUITE the Debian release booted: trixie (the default) or bookworm;
# SELFHEAL_CONTAINER_BIND_RO "SRC:DST ..." read-only binds (e.g. the checkout);
# SELFHEAL_CONTAINER_NODE the Node.js binary seen inside as /usr/local/bin/node (default: this
# machine's node), or "none" for a container with no Node.js at all, as on a fresh desktop;
# SELFHEAL_CONTAINER_APT_CACHE=1 keeps what apt downloads inside (the .debs and the package lists)
# between containers, under ${XDG_CACHE_HOME:-~/.cache}/selfheal/container-apt/CODENAME: copied in
# at `start`; at `stop` the lists and the .debs of the packages installed in the container (no
# others: not one that a newer version replaced, nor one installed only in an earlier container)
# are copied back.
# Copies, not a shared bind, so that containers running at once never share apt's locks.
#
# Facts this relies on (measured on a Debian 12 host with hybrid cgroups, PID 1 not systemd):
# - SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 gives the container a pure cgroup2 view: units, D-Bus
#   activation through SystemdService=, exit statuses and `journalctl --user` all work. cgroup
#   limits (MemoryMax, TasksMax) are accepted but not enforced there: the host binds those
#   controllers to cgroup v1. Nothing here relies on them.
# - With --keep-unit nspawn makes its cgroups below the launcher's own, so the launcher first moves
#   itself into DIR's cgroups (unified and name=systemd), which `stop` removes.
# - The system manager is up in about 1 s, the user manager (lingering) 0.1 s later.
# - Debian 12's systemd 252 boots the same way and needs nothing else (units, D-Bus activation
#   through SystemdService=, the journal); its minimal root booted in 0.9 and 1.4 s.
# - SIGTERM to nspawn halts the container cleanly (nspawn sends SIGRTMIN+3 to its PID 1); SIGKILL to
#   nspawn leaves the container running, so a stuck one is halted through its PID 1.
# - dbus-daemon watches only the service folders that exist when the bus starts: the user's
#   ~/.local/share/dbus-1/services is made before the boot.
# - There is no machined on such a host: commands enter the container with nsenter.
# - The container shares the host's network (no --private-network) and nspawn copies the host's
#   resolv.conf in, so apt inside reaches the Debian mirror the root was built from with no setup
#   (the root keeps no package lists: `apt-get update` first).
set -euo pipefail

TUSER=tester
TUID=1000
CPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "systemd-user-container: $*" >&2; exit 1; }

usage() { sed -n '2,10p' "$0" >&2; exit 2; }

[ $# -ge 2 ] || usage
CMD=$1
DIR=$(realpath -m "$2")
shift 2
NAME=selfheal-$(printf '%s' "$DIR" | md5sum | cut -c1-10)
CGROUPS=("/sys/fs/cgroup/unified/$NAME" "/sys/fs/cgroup/systemd/$NAME")
[ -d /sys/fs/cgroup/unified ] || CGROUPS=("/sys/fs/cgroup/$NAME") # a pure cgroup2 host

starttime() { awk '{sub(/^.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null; }

# The container's PID 1 as the host sees it, if it still is the process recorded at start.
leader_pid() {
  local pid start
  [ -f "$DIR/leader" ] || return 1
  read -r pid start <"$DIR/leader"
  [ -n "$pid" ] && [ "$(starttime "$pid")" = "$start" ] || return 1
  echo "$pid"
}

# The nspawn process, if it still runs.
nspawn_pid() {
  local pid
  [ -f "$DIR/nspawn.pid" ] || return 1
  pid=$(cat "$DIR/nspawn.pid")
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd-nspawn ] || return 1
  echo "$pid"
}

in_container() {
  local leader
  leader=$(leader_pid) || die "the container in $DIR is not running"
  nsenter -t "$leader" -a -- env -i PATH=$CPATH LANG=C.UTF-8 TERM=dumb "$@"
}

# Run as the user with the user manager's environment (what a login session gives).
as_user() {
  in_container runuser -u $TUSER -- env -i HOME=/home/$TUSER USER=$TUSER LOGNAME=$TUSER \
    PATH=/home/$TUSER/.local/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TERM=dumb \
    XDG_RUNTIME_DIR=/run/user/$TUID DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$TUID/bus "$@"
}

# apt's cache of this root's release (the root's codename keeps another release's files apart).
apt_cache_dir() {
  local codename
  # shellcheck source=/dev/null # the root's own file
  codename=$(. "$1/etc/os-release" && echo "${VERSION_CODENAME:-unknown}")
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/selfheal/container-apt/$codename"
}

# Copies the regular files among FILES into DEST, as hard links when both are on one file system
# (apt replaces its files, never writes into them). A file apt deleted in the container's writable
# layer is a whiteout there, a character device: left out.
copy_files() {
  local dest=$1 file files=()
  shift
  for file in "$@"; do [ -f "$file" ] && [ ! -L "$file" ] && files+=("$file"); done
  [ ${#files[@]} -gt 0 ] || return 0
  if [ "$(stat -c %d "$dest")" = "$(stat -c %d "${files[0]}")" ]; then cp -pl -t "$dest" "${files[@]}"; else cp -p -t "$dest" "${files[@]}"; fi
}

# The kept .debs and package lists into the container's file system (before it boots).
restore_apt_cache() {
  local cache=$1 merged=$2
  [ -d "$cache" ] || return 0
  (
    flock -s 8 # not while a `stop` replaces them
    shopt -s nullglob
    copy_files "$merged/var/cache/apt/archives" "$cache"/archives/*.deb
    copy_files "$merged/var/lib/apt/lists" "$cache"/lists/*
  ) 8>"$cache/lock"
}

# The file names of the .debs of the packages installed in the halted container (from dpkg's status
# in its writable layer; nothing if it installed nothing): NAME_VERSION_ARCH.deb, an epoch's ":" as
# "%3a", as apt names its downloads.
installed_debs() {
  local status=$DIR/upper/var/lib/dpkg/status
  [ -f "$status" ] || return 0
  awk 'BEGIN { RS = ""; FS = "\n" }
    {
      package = version = arch = state = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Package: /) package = substr($i, 10)
        else if ($i ~ /^Version: /) version = substr($i, 10)
        else if ($i ~ /^Architecture: /) arch = substr($i, 15)
        else if ($i ~ /^Status: /) state = substr($i, 9)
      }
      if (state == "install ok installed") { gsub(/:/, "%3a", version); print package "_" version "_" arch ".deb" }
    }' "$status"
}

# What apt holds in the halted container's writable layer replaces the kept copy (the files
# restored at start are in that layer too): its package lists, and the .debs of what it installed.
# A part the container holds nothing of is kept as it was.
save_apt_cache() {
  local cache=$1 part name files
  local -A installed=()
  while read -r name; do installed[$name]=1; done < <(installed_debs)
  mkdir -p "$cache"
  (
    flock 8
    shopt -s nullglob
    for part in archives lists; do
      files=()
      if [ $part = archives ]; then
        for name in "$DIR"/upper/var/cache/apt/archives/*.deb; do [ -z "${installed[${name##*/}]:-}" ] || files+=("$name"); done
      else
        files=("$DIR"/upper/var/lib/apt/lists/*_*)
      fi
      rm -rf "$cache/$part.new" "$cache/$part.old"
      mkdir -p "$cache/$part.new"
      copy_files "$cache/$part.new" "${files[@]}"
      if [ -n "$(ls -A "$cache/$part.new")" ]; then
        [ ! -d "$cache/$part" ] || mv "$cache/$part" "$cache/$part.old"
        mv "$cache/$part.new" "$cache/$part"
      fi
      rm -rf "$cache/$part.new" "$cache/$part.old"
    done
  ) 8>"$cache/lock"
}

# Inside the launcher's mount namespace: the overlay, the user, then systemd-nspawn.
boot() {
  local base=$1 merged=$DIR/merged
  mkdir -p "$DIR/upper" "$DIR/work" "$merged"
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$DIR/upper,workdir=$DIR/work" "$merged"
  chroot "$merged" id -u $TUSER >/dev/null 2>&1 || chroot "$merged" useradd -m -u $TUID -s /bin/bash $TUSER
  # Lingering: the user manager starts at boot, with no login.
  mkdir -p "$merged/var/lib/systemd/linger"
  touch "$merged/var/lib/systemd/linger/$TUSER"
  chroot "$merged" runuser -u $TUSER -- mkdir -p /home/$TUSER/.local/share/dbus-1/services /home/$TUSER/.config/systemd/user
  # The host name resolves, as Debian's installer makes it (sudo warns on every call otherwise).
  local host
  host=$(cat "$merged/etc/hostname" 2>/dev/null || true)
  if [ -n "$host" ] && ! grep -qw -- "$host" "$merged/etc/hosts"; then printf '127.0.1.1\t%s\n' "$host" >>"$merged/etc/hosts"; fi
  [ ! -f "$DIR/apt-cache" ] || restore_apt_cache "$(cat "$DIR/apt-cache")" "$merged"
  local args=(-D "$merged" -M "$NAME" --register=no --keep-unit --console=read-only --kill-signal=SIGRTMIN+3)
  local node=${SELFHEAL_CONTAINER_NODE:-$(command -v node)}
  [ "$node" = none ] || args+=("--bind-ro=$node:/usr/local/bin/node")
  local spec
  for spec in ${SELFHEAL_CONTAINER_BIND_RO:-}; do args+=("--bind-ro=$spec"); done
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec systemd-nspawn "${args[@]}" /usr/lib/systemd/systemd
}

cmd_start() {
  local base leader cg status
  [ "$(id -u)" -eq 0 ] || die "needs root (systemd-nspawn, mount)"
  command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (scripts/test-deps.sh installs systemd-container)"
  ! leader_pid >/dev/null || die "a container already runs in $DIR"
  base=$(bash "$(dirname "$0")/systemd-root.sh" "${SELFHEAL_CONTAINER_SUITE:-trixie}")
  [ -x "$base/usr/lib/systemd/systemd" ] || die "no systemd in $base"
  mkdir -p "$DIR"
  rm -f "$DIR/leader" "$DIR/nspawn.pid" "$DIR/apt-cache"
  echo "$base" >"$DIR/base"
  [ "${SELFHEAL_CONTAINER_APT_CACHE:-0}" = 0 ] || apt_cache_dir "$base" >"$DIR/apt-cache"
  for cg in "${CGROUPS[@]}"; do mkdir -p "$cg"; done
  # shellcheck disable=SC2016 # expanded by the launcher
  setsid bash -c 'for cg in "${@:3}"; do echo $$ >"$cg/cgroup.procs"; done
                  exec unshare --mount --propagation private bash "$1" boot-in-namespace "$2"' \
    launcher "$0" "$DIR" "${CGROUPS[@]}" >"$DIR/console.log" 2>&1 </dev/null &
  echo $! >"$DIR/nspawn.pid"
  # The container's PID 1 is nspawn's child named systemd.
  for _ in $(seq 400); do
    local pid child
    pid=$(cat "$DIR/nspawn.pid")
    # shellcheck disable=SC2013 # a list of PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
      [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ] && leader=$child
    done
    [ -n "${leader:-}" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "${leader:-}" ] || { cat "$DIR/console.log" >&2; die "the container did not start"; }
  echo "$leader $(starttime "$leader")" >"$DIR/leader"
  for _ in $(seq 600); do [ -S "/proc/$leader/root/run/systemd/private" ] && break; sleep 0.05; done
  status=$(timeout 90 nsenter -t "$leader" -a -- env -i PATH=$CPATH systemctl is-system-running --wait || true)
  for _ in $(seq 600); do [ -S "/proc/$leader/root/run/user/$TUID/bus" ] && break; sleep 0.05; done
  status="system $status, user $(timeout 60 bash "$0" user "$DIR" systemctl --user is-system-running --wait || true)"
  echo "systemd-user-container: $status (container PID 1 = host PID $leader)"
}

cmd_stop() {
  local pid leader cg
  pid=$(nspawn_pid || true)
  leader=$(leader_pid || true)
  if [ -n "$pid" ]; then kill -TERM "$pid"; elif [ -n "$leader" ]; then kill -s RTMIN+3 "$leader"; fi
  for _ in $(seq 400); do
    nspawn_pid >/dev/null || leader_pid >/dev/null || break
    sleep 0.05
  done
  # SIGKILL to a PID namespace's init ends the whole namespace.
  if leader=$(leader_pid); then kill -KILL "$leader" 2>/dev/null || true; sleep 1; fi
  if pid=$(nspawn_pid); then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$DIR/leader" "$DIR/nspawn.pid"
  for cg in "${CGROUPS[@]}"; do
    if [ -d "$cg" ]; then find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  # A cache that cannot be kept costs the next run its downloads, nothing more.
  if [ -f "$DIR/apt-cache" ]; then
    save_apt_cache "$(cat "$DIR/apt-cache")" || echo "systemd-user-container: could not keep apt's downloads in $(cat "$DIR/apt-cache")" >&2
  fi
}

case "$CMD" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  user) as_user "$@" ;;
  root) in_container "$@" ;;
  boot-in-namespace) boot "$(cat "$DIR/base")" ;;
  *) usage ;;
esac
