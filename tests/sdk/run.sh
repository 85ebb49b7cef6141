#!/usr/bin/env bash
# Drives the real provider SDKs (Python and Node) against a freshly started callerid-mock.
# Installs them on first use: Python packages into .sdk/venv, npm packages into .sdk/node
# (both gitignored), reinstalling only when tests/sdk/requirements.txt or package-lock.json change.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib.sh"
sdk="$root/.sdk"
here="$root/tests/sdk"
mkdir -p "$sdk"

if ! cmp -s "$here/requirements.txt" "$sdk/venv/requirements.txt" 2>/dev/null; then
  echo "sdk: installing Python SDKs into .sdk/venv"
  rm -rf "$sdk/venv"
  python3 -m venv "$sdk/venv"
  "$sdk/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$sdk/venv/requirements.txt"
fi

install_npm "$here" "$sdk/node"

cargo build --locked --quiet
log="$sdk/server.log"
"$root/target/debug/callerid-mock" --bind 127.0.0.1:0 --seed 7 --frozen-clock \
  --start-time 2026-01-01T00:00:00Z --log-level info >"$sdk/banner.txt" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(awk '/listening on/ {print $NF; exit}' "$sdk/banner.txt")
  [ -n "$url" ] && break
  sleep 0.05
done
if [ -z "$url" ]; then
  echo "sdk: callerid-mock did not start" >&2
  cat "$log" >&2
  exit 1
fi
export CALLERID_MOCK_URL="$url"
echo "sdk: callerid-mock at $url"

status=0
echo "sdk: Python"
"$sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/python" || status=1
echo "sdk: Node"
NODE_PATH="$sdk/node/node_modules" node --test --test-timeout=60000 "$here"/node/*.test.js || status=1
# Last, as they move the clock: the documentation's examples (docs/testing.md, the README).
echo "sdk: the docs' examples (docs/examples)"
"$sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/docs/examples/python" || status=1
NODE_PATH="$sdk/node/node_modules" node --test --test-timeout=60000 "$root"/docs/examples/node/*.test.js || status=1

kill -TERM "$server"
wait "$server" || { echo "sdk: callerid-mock did not shut down cleanly" >&2; status=1; }
trap - EXIT
exit "$status"
