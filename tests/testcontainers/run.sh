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
# The engine is on this machine and publishes ports on all its addresses: say so, rather than
# let a library guess the host from the network (testcontainers-go took the default route's
# gateway for it on a machine that looked like a container to it).
export TESTCONTAINERS_HOST_OVERRIDE=localhost
echo "testcontainers: building $CALLERID_MOCK_IMAGE"
runtime_image "$root" "$work" "$CALLERID_MOCK_IMAGE"
# The Python module runs `callerid-mock env` for the zero-touch environment: the binary built here.
export CALLERID_MOCK_BIN="$root/target/x86_64-unknown-linux-gnu/release/callerid-mock"

status=0
times=()
lang() { timed testcontainers "$@"; }

lang Python env PYTHONPATH="$root/packages/python" "$sdk/venv/bin/python" -m pytest -q -s -p no:cacheprovider "$here/python"
install_npm "$here/node" "$work/node"
lang Node env NODE_PATH="$work/node/node_modules" node --test --test-timeout=120000 "$here/node/module.test.js"
# Go: module and build caches under .sdk/go (shared with tests/sdk): offline after the first run.
go_module() {
  local unformatted
  unformatted=$(gofmt -l "$root/packages/go" "$here/go")
  [ -z "$unformatted" ] || { echo "testcontainers: not gofmt-formatted: $unformatted" >&2; return 1; }
  go_test "$here/go" '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go:|testcontainers:'
}
if command -v go >/dev/null; then
  lang Go go_module
elif [ "${CI:-}" = true ]; then
  echo "testcontainers: go is missing, and CI must run every module" >&2
  status=1
fi
# Java: packages/java (the module and its JUnit 5 test); Maven's repository under .sdk/m2, offline
# once this pom's artifacts are there.
java_module() {
  maven_test "$root/packages/java" testcontainers-pom.xml 'Tests run|FAIL|ERROR|BUILD|expected|Exception|testcontainers:'
}
if command -v mvn >/dev/null; then
  lang Java java_module
elif [ "${CI:-}" = true ]; then
  echo "testcontainers: mvn is missing, and CI must run every module" >&2
  status=1
fi
echo "testcontainers: time per language (the start-to-ready time is printed by each)"
printf '  %s\n' "${times[@]}"
exit "$status"
