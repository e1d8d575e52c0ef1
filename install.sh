#!/usr/bin/env bash
# Sets up and runs selfheal for the current user: installs what it needs,
# builds it, installs the daemon with its D-Bus activation file and systemd
# user unit, installs and enables the GNOME Shell extension, writes a starter
# config.toml if there is none, and starts the daemon.
#
#   ./install.sh             set up and start
#   ./install.sh --uninstall remove what this script installed (config and state are kept)
set -euo pipefail
cd "$(dirname "$0")"

DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
STATE_HOME=${XDG_STATE_HOME:-$HOME/.local/state}
APP_DIR="$DATA_HOME/selfheal"
BIN="$HOME/.local/bin/selfheal"
DBUS_SERVICE="$DATA_HOME/dbus-1/services/io.github.SelfHeal1.service"
UNIT="$CONFIG_HOME/systemd/user/selfheal.service"
UUID="selfheal@selfheal.github.io"
EXT_DIR="$DATA_HOME/gnome-shell/extensions/$UUID"
MIN_NODE_MAJOR=20

say() { printf 'selfheal: %s\n' "$*"; }

have_user_systemd() { command -v systemctl >/dev/null && systemctl --user show-environment >/dev/null 2>&1; }

if [ "${1:-}" = "--uninstall" ]; then
  if have_user_systemd; then systemctl --user disable --now selfheal.service 2>/dev/null || true; fi
  command -v gnome-extensions >/dev/null && gnome-extensions disable "$UUID" 2>/dev/null || true
  rm -rf "$APP_DIR" "$EXT_DIR" "$BIN" "$DBUS_SERVICE" "$UNIT"
  say "removed; your config ($CONFIG_HOME/selfheal) and state ($STATE_HOME/selfheal) are kept"
  exit 0
fi

# Node.js 20 or later, npm, and the tools the build and the extension use; a C
# compiler for the keeper (daemon/keeper/keeper.c), which crash protection
# across restarts of the daemon needs.
need_apt=()
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v glib-compile-schemas >/dev/null || need_apt+=(libglib2.0-bin)
command -v dbus-daemon >/dev/null || need_apt+=(dbus dbus-daemon)
command -v msgfmt >/dev/null && command -v xgettext >/dev/null || need_apt+=(gettext)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt "$MIN_NODE_MAJOR" ]; then
  say "Node.js $MIN_NODE_MAJOR or later is needed, this is $(node --version)"; exit 1
fi

say "building"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

say "installing the daemon into $APP_DIR"
mkdir -p "$APP_DIR" "$(dirname "$BIN")" "$(dirname "$DBUS_SERVICE")" "$(dirname "$UNIT")"
cp dist/selfheal.js "$APP_DIR/selfheal.js"
# The keeper beside the daemon. Running keepers hold the old file open, so the
# new one goes in under another name and is renamed over it (cp would fail
# with "Text file busy"); the running keepers keep their old copy.
if [ -x dist/selfheal-keeper ]; then
  install -m 755 dist/selfheal-keeper "$APP_DIR/.selfheal-keeper.new"
  mv -f "$APP_DIR/.selfheal-keeper.new" "$APP_DIR/selfheal-keeper"
else
  rm -f "$APP_DIR/selfheal-keeper"
  say "WARNING: the keeper was not built (no C compiler): crash protection will not survive a restart of the daemon"
fi
mkdir -p "$APP_DIR/dbus"
cp dbus/io.github.SelfHeal1.Manager.xml "$APP_DIR/dbus/"
# The environment and Node.js flags of the build's #! line ("#!/usr/bin/env -S NAME=value node --flag"),
# with this machine's node (systemd's PATH may not find it).
node_env=$(head -n 1 dist/selfheal.js | sed -E 's/^#!\S*env +(-S +)?//; s/ *node( .*)?$//')
node_flags=$(head -n 1 dist/selfheal.js | sed -E 's/^#!.* node *//')
cat > "$BIN" <<WRAPPER
#!/bin/sh
exec env $node_env "$(command -v node)" $node_flags "$APP_DIR/selfheal.js" "\$@"
WRAPPER
chmod +x "$BIN"
install -Dm644 completions/selfheal.bash "$DATA_HOME/bash-completion/completions/selfheal"

# The activation file and the unit from dbus/, pointed at the installed command.
sed -e "s|^Exec=.*|Exec=$BIN daemon|" dbus/io.github.SelfHeal1.service > "$DBUS_SERVICE"
sed -e "s|^ExecStart=.*|ExecStart=$BIN daemon|" dbus/selfheal.service > "$UNIT"

if [ ! -f "$CONFIG_HOME/selfheal/config.toml" ]; then
  mkdir -p "$CONFIG_HOME/selfheal"
  cat > "$CONFIG_HOME/selfheal/config.toml" <<'CONFIG'
# selfheal policies: one [process.NAME] table per program to keep alive.
# The full reference is in the README ("Configuration"). Edits apply at once.

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
  gnome-extensions enable "$UUID" 2>/dev/null \
    && say "extension enabled ($variant build for GNOME $shell_major)" \
    || say "extension installed ($variant build); enable it after logging in again: gnome-extensions enable $UUID"
else
  say "gnome-shell not found: the extension was not installed (the daemon and the selfheal command work without it)"
fi

# Start the daemon: under systemd when the user session has it, else in the background.
if have_user_systemd; then
  systemctl --user daemon-reload
  systemctl --user enable --now selfheal.service
  say "running under systemd (systemctl --user status selfheal)"
else
  mkdir -p "$STATE_HOME/selfheal"
  if ! "$BIN" status >/dev/null 2>&1; then
    nohup "$BIN" daemon >>"$STATE_HOME/selfheal/daemon.log" 2>&1 &
    say "running in the background (PID $!), log in $STATE_HOME/selfheal/daemon.log"
  fi
fi
say "done: try '$BIN status'"
