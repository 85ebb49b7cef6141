#!/usr/bin/env bash
# The Testcontainers modules, one test per language, each against the project's own image on a
# Docker engine with a bridge (Testcontainers maps ports); Ryuk is disabled (no registry here to
# pull it from). Builds the image as tests/container/run.sh does, tagged callerid-mock:VERSION.
# Prints each language's start-to-ready time. With CI=true the test must run; elsewhere it
# reports itself skipped when no engine can be had.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib.sh"
here="$root/tests/testcontainers"
sdk="$root/.sdk"
work="$sdk/testcontainers"
mkdir -p "$work"
trap engine_stop EXIT

docker_engine "$work" || {
  [ "${CI:-}" = true ] && { echo "testcontainers: $engine_error" >&2; exit 1; }
  echo "testcontainers: skipped: $engine_error"
  exit 0
}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
export CALLERID_MOCK_IMAGE="callerid-mock:$version" TESTCONTAINERS_RYUK_DISABLED=true
echo "testcontainers: building $CALLERID_MOCK_IMAGE"
runtime_image "$root" "$work" "$CALLERID_MOCK_IMAGE"
# The Python module runs `callerid-mock env` for the zero-touch environment: the binary built here.
export CALLERID_MOCK_BIN="$root/target/x86_64-unknown-linux-gnu/release/callerid-mock"

status=0
times=()
# lang NAME COMMAND...: one language's module test, timed; a failure fails the run at the end.
lang() {
  local name=$1 started=$SECONDS
  shift
  echo "testcontainers: $name"
  "$@" || status=1
  times+=("$(printf '%-8s %4ds' "$name" $((SECONDS - started)))")
}

lang Python env PYTHONPATH="$root/packages/python" "$sdk/venv/bin/python" -m pytest -q -s -p no:cacheprovider "$here/python"
install_npm "$here/node" "$work/node"
lang Node env NODE_PATH="$work/node/node_modules" node --test --test-timeout=120000 "$here/node/module.test.js"
echo "testcontainers: time per language (the start-to-ready time is printed by each)"
printf '  %s\n' "${times[@]}"
exit "$status"
