#!/usr/bin/env bash
# Installs what the tests need on a fresh machine, and nothing that is already
# there: a private dbus-daemon with busctl and gdbus to call it as users do,
# unshare for PID namespaces, script for a terminal session, a C compiler for
# the keeper and the sentinel (the build compiles daemon/keeper/keeper.c and
# daemon/sentinel/sentinel.c), a headless
# gnome-shell (with mesa's software renderer) for the extension's end-to-end
# test, gtk-3-examples (real desktop files and a small GTK app for the app
# tests), gettext for the build's translations, shellcheck for install.sh and
# these scripts, the npm packages, and the Debian 13 root file system with GNOME
# Shell 48 for the GNOME 45+ build's end-to-end test (built once, about 3
# minutes; kept under ~/.cache afterwards), which systemd-nspawn
# (systemd-container) also boots with systemd for install.sh's end-to-end test
# under a real systemd user manager, a minimal Debian 12 root with systemd 252
# (scripts/systemd-root.sh, built once, about 1 minute), booted the same way
# with no Node.js for the end-to-end test where apt installs Debian 12's
# nodejs (Node.js 18) from Debian's mirror, Prometheus (with promtool)
# and node_exporter for the metrics' tests, and Node.js 18.19 from the npm
# registry (scripts/node18.sh) to run the daemon's integration tests on.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  dbus dbus-daemon dbus-bin systemd libglib2.0-bin util-linux bsdutils procps passwd jq perl python3 coreutils gcc libc6-dev
  gnome-shell gjs dconf-gsettings-backend libgl1-mesa-dri libegl-mesa0 libgbm1 fonts-dejavu-core
  gettext debootstrap systemd-container shellcheck
  gtk-3-examples
  prometheus prometheus-node-exporter
)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The German locale, for the extension's translation check in GNOME Shell 43.
if ! locale -a 2>/dev/null | grep -qx "de_DE.utf8"; then
  dpkg-query -W -f='${Status}' locales 2>/dev/null | grep -q "install ok installed" ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends locales; }
  $SUDO sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
  grep -qx "de_DE.UTF-8 UTF-8" /etc/locale.gen || echo "de_DE.UTF-8 UTF-8" | $SUDO tee -a /etc/locale.gen >/dev/null
  $SUDO locale-gen >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
$SUDO bash scripts/gnome-shell-48-root.sh >/dev/null
$SUDO bash scripts/systemd-root.sh bookworm >/dev/null
# Node.js 18.19, the oldest the daemon supports, for npm run test:node18.
bash scripts/node18.sh >/dev/null
