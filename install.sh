#!/usr/bin/env bash
# Sets up and runs selfheal for the current user: checks and installs what it
# needs, builds it, installs the daemon with its D-Bus activation file and
# systemd user unit, installs and enables the GNOME Shell extension, writes a
# starter config.toml if there is none, and starts the daemon. Run again, it
# upgrades: a running daemon is restarted on the new code, and the programs it
# watches keep running.
#
#   ./install.sh               set up (or upgrade) and start
#   ./install.sh --no-build    install what dist/ already holds (after `npm run build`)
#   ./install.sh --uninstall   stop the daemon and remove what this script installed;
#                              asks whether to remove your config and state too
#   ./install.sh --uninstall --purge   ... and remove config and state without asking
set -euo pipefail
cd "$(dirname "$0")"

DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
STATE_HOME=${XDG_STATE_HOME:-$HOME/.local/state}
APP_DIR="$DATA_HOME/selfheal"
BIN_DIR="$HOME/.local/bin"
BIN="$BIN_DIR/selfheal"
DBUS_SERVICE="$DATA_HOME/dbus-1/services/io.github.SelfHeal1.service"
UNIT="$CONFIG_HOME/systemd/user/selfheal.service"
UUID="selfheal@selfheal.github.io"
EXT_DIR="$DATA_HOME/gnome-shell/extensions/$UUID"
COMPLETION="$DATA_HOME/bash-completion/completions/selfheal"
BUS_NAME=io.github.SelfHeal1
# The oldest Node.js the built daemon runs on: Ubuntu 24.04's; Debian 12 ships 18.20.
MIN_NODE=18.19
# How long a stopped daemon may take to write its state and end.
STOP_WAIT_TENTHS=100

say() { printf 'selfheal: %s\n' "$*"; }
fail() { printf 'selfheal: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '9,13s/^#  //p' "$0"; }

uninstall=0 purge=0 build=1
for arg in "$@"; do
  case "$arg" in
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'selfheal: unknown option %s\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done
[ $purge = 0 ] || [ $uninstall = 1 ] || fail "--purge goes with --uninstall"

have_user_systemd() { command -v systemctl >/dev/null && systemctl --user show-environment >/dev/null 2>&1; }
unit_active() { have_user_systemd && systemctl --user is-active --quiet selfheal.service; }

# The PID of the process that owns the daemon's bus name, if one does (asking never starts it).
daemon_pid() {
  command -v gdbus >/dev/null || return 1
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.GetConnectionUnixProcessID "$BUS_NAME" 2>/dev/null |
    sed -nE 's/^\(uint32 ([0-9]+),\)$/\1/p' | grep .
}

# "gedit (PID 123), web (PID 456)": the programs the running daemon watches that run.
running_programs() {
  # shellcheck disable=SC2016 # JavaScript
  "$BIN" status --json 2>/dev/null | node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      const running = JSON.parse(text).processes.filter((p) => p.pid > 0);
      process.stdout.write(running.map((p) => `${p.name} (PID ${p.pid})`).join(", "));
    });' 2>/dev/null || true
}

# Stop the running daemon, by systemd when it manages it, else by its PID; the programs it watches keep running.
stop_daemon() {
  local pid
  if unit_active; then
    systemctl --user stop selfheal.service
  elif pid=$(daemon_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $STOP_WAIT_TENTHS); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    say "the daemon (PID $pid) did not stop within $((STOP_WAIT_TENTHS / 10)) s; ending it with SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

if [ $uninstall = 1 ]; then
  old_pid=$(daemon_pid || true)
  programs=""
  [ -z "$old_pid" ] || [ ! -x "$BIN" ] || programs=$(running_programs)
  stop_daemon
  if have_user_systemd; then
    systemctl --user disable selfheal.service 2>/dev/null || true
  fi
  if command -v gnome-extensions >/dev/null; then gnome-extensions disable "$UUID" 2>/dev/null || true; fi
  rm -rf "$APP_DIR" "$EXT_DIR" "$BIN" "$DBUS_SERVICE" "$UNIT" "$COMPLETION"
  if have_user_systemd; then systemctl --user daemon-reload || true; fi
  if [ -n "$old_pid" ]; then say "stopped the daemon (PID $old_pid)"; fi
  say "removed the daemon, the selfheal command, the D-Bus activation file, the systemd unit and the extension"
  if [ -n "$programs" ]; then say "the programs it watched keep running, now unwatched: $programs"; fi
  if [ $purge = 0 ] && [ -t 0 ] && { [ -e "$CONFIG_HOME/selfheal" ] || [ -e "$STATE_HOME/selfheal" ]; }; then
    read -r -p "selfheal: also remove your config ($CONFIG_HOME/selfheal) and state ($STATE_HOME/selfheal)? [y/N] " answer
    case "$answer" in [yY]*) purge=1 ;; esac
  fi
  if [ $purge = 1 ]; then
    rm -rf "$CONFIG_HOME/selfheal" "$STATE_HOME/selfheal"
    say "removed your config ($CONFIG_HOME/selfheal) and state ($STATE_HOME/selfheal)"
  else
    say "kept your config ($CONFIG_HOME/selfheal) and state ($STATE_HOME/selfheal); ./install.sh --uninstall --purge removes them"
  fi
  exit 0
fi

# --- Prerequisites: each missing one is installed with the distribution's package manager, or explained.
# Node.js 18.19 or later (the distribution's nodejs will do) runs the daemon; npm, a C compiler
# (for the keeper, daemon/keeper/keeper.c, which crash protection across restarts of the daemon
# needs, and the sentinel, daemon/sentinel/sentinel.c, which keeps the daemon's CPU at rest low)
# and gettext build it; glib-compile-schemas and gdbus come with GLib's tools; dbus-daemon
# is the session bus.
declare -A WHAT=([node]="Node.js $MIN_NODE or later" [npm]=npm [cc]="a C compiler" [glib]="GLib's tools (gdbus, glib-compile-schemas)"
  [dbus]=dbus-daemon [gettext]="gettext (msgfmt, xgettext)")
# The distributions' package names: Debian and Ubuntu (apt-get), Fedora (dnf; tested only with a
# stand-in dnf, test/install/dnf.test.ts: no Fedora repository was reachable from the tests).
declare -A APT=([node]=nodejs [npm]=npm [cc]="gcc libc6-dev" [glib]=libglib2.0-bin [dbus]="dbus dbus-daemon" [gettext]=gettext)
declare -A DNF=([node]=nodejs [npm]=npm [cc]=gcc [glib]=glib2 [dbus]=dbus-daemon [gettext]=gettext)

# The prerequisites that are not there, into need.
find_missing() {
  need=()
  command -v node >/dev/null || need+=(node)
  [ $build = 0 ] || command -v npm >/dev/null || need+=(npm)
  [ $build = 0 ] || command -v cc >/dev/null || need+=(cc)
  { command -v gdbus >/dev/null && command -v glib-compile-schemas >/dev/null; } || need+=(glib)
  command -v dbus-daemon >/dev/null || need+=(dbus)
  [ $build = 0 ] || { command -v msgfmt >/dev/null && command -v xgettext >/dev/null; } || need+=(gettext)
}

# "Node.js 18.19 or later, npm": what need holds, for people.
describe_missing() {
  local n out=""
  for n in "${need[@]}"; do out+="${out:+, }${WHAT[$n]}"; done
  echo "$out"
}

# The packages that hold what need holds, for MANAGER.
packages_for() {
  local n
  for n in "${need[@]}"; do
    if [ "$1" = apt-get ]; then echo "${APT[$n]}"; else echo "${DNF[$n]}"; fi
  done | xargs
}

# Installs what need holds with MANAGER (apt-get or dnf): as root, through sudo, or else explains
# what to run as root.
install_missing() {
  local manager=$1 missing packages how sudo=()
  missing=$(describe_missing)
  packages=$(packages_for "$manager")
  if [ "$(id -u)" -eq 0 ]; then
    how="as root"
  elif command -v sudo >/dev/null; then
    how="through sudo"
    sudo=(sudo)
  else
    fail "missing: $missing. Installing $packages needs root, and there is no sudo: as root, run '$manager install $packages', then ./install.sh again"
  fi
  say "missing: $missing; installing $packages ($manager, $how)"
  # shellcheck disable=SC2086 # a list of package names
  if [ "$manager" = apt-get ]; then
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends $packages
  else
    "${sudo[@]}" dnf install -y $packages
  fi || fail "could not install $packages with $manager; install them ($missing) and run ./install.sh again"
  hash -r
  find_missing
  [ ${#need[@]} -eq 0 ] || fail "installed $packages with $manager, yet still missing: $(describe_missing); install it and run ./install.sh again"
}

# Is the node on PATH at least MIN_NODE?
node_recent_enough() {
  node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    const [needMajor, needMinor] = process.argv[1].split(".").map(Number);
    process.exit(major > needMajor || (major === needMajor && minor >= needMinor) ? 0 : 1);' "$MIN_NODE"
}

find_missing
node_from_distribution=0
if [ ${#need[@]} -gt 0 ]; then
  if [[ " ${need[*]} " == *" node "* ]]; then node_from_distribution=1; fi
  if command -v apt-get >/dev/null; then
    install_missing apt-get
  elif command -v dnf >/dev/null; then
    install_missing dnf
  else
    fail "missing: $(describe_missing); install them and run ./install.sh again"
  fi
fi
if ! node_recent_enough; then
  if [ $node_from_distribution = 1 ]; then
    fail "Node.js $MIN_NODE or later is needed, and the distribution's nodejs just installed, $(command -v node), is $(node --version): install a newer Node.js (https://nodejs.org/en/download) and run ./install.sh again"
  fi
  fail "Node.js $MIN_NODE or later is needed, $(command -v node) is $(node --version). Debian 12 and Ubuntu 24.04 ship a recent enough one (apt install nodejs); elsewhere see https://nodejs.org/en/download"
fi
if [ $build = 0 ] && [ ! -f dist/selfheal.js ]; then fail "--no-build: there is no dist/selfheal.js; run npm ci && npm run build first"; fi

if [ $build = 1 ]; then
  say "building"
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
fi

# --- What runs now, to restart it on the new code after installing.
old_pid=$(daemon_pid || true)
old_programs=""
if [ -n "$old_pid" ] && [ -x "$BIN" ]; then old_programs=$(running_programs); fi

say "installing the daemon into $APP_DIR"
mkdir -p "$APP_DIR" "$BIN_DIR" "$(dirname "$DBUS_SERVICE")" "$(dirname "$UNIT")" "$STATE_HOME/selfheal"
# The code the command loads when needed, first: a daemon still running the
# old version may load its own chunks later (the names carry a hash, so old
# and new ones sit side by side).
cp -r dist/selfheal-chunks "$APP_DIR/"
# A new file renamed over the old one: a running daemon keeps its copy open until it restarts.
cp dist/selfheal.js "$APP_DIR/.selfheal.js.new" && mv -f "$APP_DIR/.selfheal.js.new" "$APP_DIR/selfheal.js"
# The build is an ES module: Node.js 18 takes a .js file for CommonJS unless its package.json says otherwise.
echo '{ "type": "module" }' >"$APP_DIR/package.json"
# The small C programs beside the daemon (the keeper, the sentinel). A running
# one holds the old file open, so the new one goes in under another name and is
# renamed over it (cp would fail with "Text file busy"); the running ones keep
# their old copy. Not built (no C compiler): removed, and what that costs said.
install_beside() {
  if [ -x "dist/$1" ]; then
    install -m 755 "dist/$1" "$APP_DIR/.$1.new"
    mv -f "$APP_DIR/.$1.new" "$APP_DIR/$1"
  else
    rm -f "$APP_DIR/$1"
    say "WARNING: $2"
  fi
}
install_beside selfheal-keeper "the keeper was not built (no C compiler): crash protection will not survive a restart of the daemon"
install_beside selfheal-sentinel "the sentinel was not built (no C compiler): the daemon takes its looks between scans itself, at more CPU at rest"
mkdir -p "$APP_DIR/docs"
# The documentation the starter config points to.
cp README.md LICENSE "$APP_DIR/docs/"
cp docs/*.md "$APP_DIR/docs/"
# The environment and Node.js flags of the build's #! line ("#!/usr/bin/env -S NAME=value node --flag"),
# with this machine's node (systemd's PATH may not find it).
node_env=$(head -n 1 dist/selfheal.js | sed -E 's/^#!\S*env +(-S +)?//; s/ *node( .*)?$//')
node_flags=$(head -n 1 dist/selfheal.js | sed -E 's/^#!.* node *//')
cat >"$BIN.new" <<WRAPPER
#!/bin/sh
exec env $node_env "$(command -v node)" $node_flags "$APP_DIR/selfheal.js" "\$@"
WRAPPER
chmod +x "$BIN.new"
mv -f "$BIN.new" "$BIN"
install -Dm644 completions/selfheal.bash "$COMPLETION"

# The activation file and the unit from dbus/, pointed at the installed command. Without systemd
# the bus runs Exec= itself, and the daemon then logs to $XDG_STATE_HOME/selfheal/daemon.log.
sed -e "s|^Exec=.*|Exec=$BIN daemon --log-file|" dbus/io.github.SelfHeal1.service >"$DBUS_SERVICE"
sed -e "s|^ExecStart=.*|ExecStart=$BIN daemon|" dbus/selfheal.service >"$UNIT"

if [ ! -f "$CONFIG_HOME/selfheal/config.toml" ]; then
  mkdir -p "$CONFIG_HOME/selfheal"
  cat >"$CONFIG_HOME/selfheal/config.toml" <<CONFIG
# selfheal policies: one [process.NAME] table per program to keep alive.
# Every key, with its default: $APP_DIR/docs/configuration.md
# The README is beside it. Saved edits apply at once.

[settings]
interval = 1.0                 # seconds between scans

# [process.gedit]
# command = ["gedit"]          # argv, run without a shell
# cpu_limit = 80               # percent of one core
# memory_limit_mb = 500
# restart = "on-failure"       # on-failure | always | never
CONFIG
  say "wrote a starter $CONFIG_HOME/selfheal/config.toml"
fi

# The GNOME Shell extension: the build for the running shell's version.
if command -v gnome-shell >/dev/null; then
  shell_major=$(gnome-shell --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
  variant=gnome45; [ "$shell_major" -lt 45 ] && variant=gnome42
  rm -rf "$EXT_DIR"; mkdir -p "$EXT_DIR"
  cp -r "dist/extension/$variant/." "$EXT_DIR/"
  if gnome-extensions enable "$UUID" 2>/dev/null; then
    say "extension enabled ($variant build for GNOME $shell_major)"
  else
    say "extension installed ($variant build); enable it after logging in again: gnome-extensions enable $UUID"
  fi
else
  say "gnome-shell not found: the extension was not installed (the daemon and the selfheal command work without it)"
fi

# --- Start the daemon, or restart it on the new code.
if have_user_systemd; then
  systemctl --user daemon-reload
  # Started with the graphical session from the next login on.
  systemctl --user enable --quiet selfheal.service
fi
if [ -n "$old_pid" ]; then
  stop_daemon
fi
# The first call on the bus starts it: through systemd (selfheal.service) when the session has it,
# else the bus runs it. Without a session bus, in the background.
started_pid=""
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/bus" ]; then
  "$BIN" status >/dev/null || fail "the daemon did not start; see $(have_user_systemd && echo 'journalctl --user -u selfheal' || echo "$STATE_HOME/selfheal/daemon.log")"
else
  nohup "$BIN" daemon --log-file >/dev/null 2>&1 &
  started_pid=$!
fi
new_pid=$(daemon_pid || echo "$started_pid")
if [ -n "$old_pid" ]; then
  say "upgraded: restarted the daemon on the new version (PID $old_pid -> $new_pid)"
  if [ -n "$old_programs" ]; then say "the programs it watches kept running: $old_programs"; fi
else
  say "started the daemon (PID $new_pid)"
fi
if have_user_systemd; then
  say "it runs as the systemd user unit selfheal.service; its log: journalctl --user -u selfheal"
else
  say "its log: $STATE_HOME/selfheal/daemon.log"
fi
case ":$PATH:" in
  *":$BIN_DIR:"*) say "done: try 'selfheal status'" ;;
  *)
    say "done: try '$BIN status'"
    say "$BIN_DIR is not on your PATH, so 'selfheal' alone is not found. Debian's and Ubuntu's ~/.profile add it"
    say "at your next login now that it exists; elsewhere add this line to ~/.profile: export PATH=\"\$HOME/.local/bin:\$PATH\""
    ;;
esac
