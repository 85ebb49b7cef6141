#!/usr/bin/env bash
# The web inbox in headless Chromium. Needs Debian's chromium (/usr/bin/chromium): installed
# here with apt-get when missing and we are root. With CI=true a browser is required; elsewhere
# the test reports itself skipped, with the reason, when none can be had.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib.sh"
here="$root/tests/browser"
out="$root/.sdk/browser"
mkdir -p "$out"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "browser: installing Debian's chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >"$out/apt.log" 2>&1 \
    || { echo "browser: apt-get failed, see $out/apt.log" >&2; tail -5 "$out/apt.log" >&2; }
fi
if [ ! -x "$chromium" ]; then
  if [ "${CI:-}" = true ]; then
    echo "browser: no Chromium at $chromium and it could not be installed" >&2
    exit 1
  fi
  echo "browser: skipped: no Chromium at $chromium (install Debian's chromium package)"
  exit 0
fi

install_npm "$here" "$out/node"

cargo build --locked --quiet
CALLERID_MOCK_BIN="$root/target/debug/callerid-mock" BROWSER_TEST_OUT="$out" CHROMIUM="$chromium" \
  NODE_PATH="$out/node/node_modules" node --test --test-timeout=120000 "$here/inbox.test.js"
echo "browser: screenshot at .sdk/browser/inbox.png"
