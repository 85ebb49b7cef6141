#!/usr/bin/env bash
# Drives the real provider SDKs (Python, Node, Go, Java) against a freshly started callerid-mock.
# Installs them on first use, all under .sdk/ (gitignored): Python packages into .sdk/venv, npm
# packages into .sdk/node (reinstalled only when requirements.txt or package-lock.json change),
# Go modules into .sdk/go, Maven artifacts into .sdk/m2; a second run needs no network.
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
"$root/target/debug/callerid-mock" --bind 127.0.0.1:0 --seed 7 --frozen-clock --ca-dir "$sdk/ca" \
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
times=()
lang() { timed sdk "$@"; }

# needs TOOL: whether a toolchain is here; in CI its absence is a failure, elsewhere a skip.
needs() {
  command -v "$1" >/dev/null && return 0
  if [ "${CI:-}" = "true" ]; then
    echo "sdk: $1 is missing, and CI must run every SDK" >&2
    status=1
  else
    echo "sdk: $1 is missing: its SDK tests are skipped"
  fi
  return 1
}

go_tests() {
  local unformatted
  unformatted=$(gofmt -l "$here/go")
  [ -z "$unformatted" ] || { echo "sdk: not gofmt-formatted: $unformatted" >&2; return 1; }
  go_test "$here/go" '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go:'
}

java_tests() {
  maven_test "$here/java" pom.xml 'Tests run|FAIL|ERROR|BUILD|expected|Exception'
}

# Zero-touch: "$@" run with the environment `callerid-mock env` prints, and nothing else.
zero_touch() {
  local lines
  lines=$("$root/target/debug/callerid-mock" env --url "$url" --dir "$sdk/env") || return 1
  (eval "$lines" && "$@")
}

# expect_curl TEXT ARGS...: curl ARGS answers something that contains TEXT.
expect_curl() {
  local text=$1 answer
  shift
  answer=$(curl -s "$@" || true)
  if [[ "$answer" == *"$text"* ]]; then
    echo "  curl ${*: -1}: ok"
  else
    echo "  curl ${*: -1}: got ${answer:-nothing}" >&2
    return 1
  fi
}

# curl through the proxy: each provider host gets the provider's answer, another host a 403.
proxy_curl() {
  local ok=0 twilio=AC5555555555555555555555555555555a plivo=MACURLXXXXXXXXXXXXXX answer
  expect_curl outgoing_caller_ids -u "$twilio:t" "https://api.twilio.com/2010-04-01/Accounts/$twilio/OutgoingCallerIds.json" || ok=1
  expect_curl outgoing_caller_ids -u "$twilio:t" \
    "https://api.sydney.au1.twilio.com/2010-04-01/Accounts/$twilio/OutgoingCallerIds.json" || ok=1
  expect_curl total_count -u "$plivo:t" "https://api.plivo.com/v1/Account/$plivo/VerifiedCallerId/" || ok=1
  expect_curl "Reception number invalid" -H "X-Api-Key: KEY" "https://gateway.seven.io/api/validate_for_voice?number=0" || ok=1
  expect_curl "Reception number invalid" -H "X-Api-Key: KEY" "https://gateway.sms77.io/api/validate_for_voice?number=0" || ok=1
  expect_curl total_results -H "Authorization: Bearer KEY" "https://api.telnyx.com/v2/verified_numbers" || ok=1
  expect_curl '"data":[]' -u "project:t" "https://example.signalwire.com/api/relay/rest/verified_caller_ids" || ok=1
  expect_curl '"calls":[]' -u "project:t" "https://example.signalwire.com/api/laml/2010-04-01/Accounts/project/Calls.json" || ok=1
  answer=$(curl -s -o /dev/null -w '%{http_connect}' https://www.example.com/ || true)
  if [ "$answer" = 403 ]; then
    echo "  curl https://www.example.com/: the proxy refuses the tunnel (403)"
  else
    echo "  curl https://www.example.com/: CONNECT answered ${answer:-nothing}, not 403" >&2
    ok=1
  fi
  return $ok
}

# PHP with curl, for the PHP zero-touch check: Debian's php-cli and php-curl, installed with
# apt-get when missing and we are root (Packagist, and so PHP's SDKs, is not reachable here).
php_ready() {
  php -r 'exit(function_exists("curl_init") ? 0 : 1);' 2>/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "sdk: installing Debian's php-cli and php-curl"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-curl) \
      >"$sdk/apt-php.log" 2>&1 || tail -5 "$sdk/apt-php.log" >&2
  fi
  php -r 'exit(function_exists("curl_init") ? 0 : 1);' 2>/dev/null && return 0
  needs php-with-curl
}

# twilio-java and plivo-java at production settings; JAVA_TOOL_OPTIONS from `env` reaches the
# test JVM (and Maven's own, offline: the Java step downloaded everything).
java_zero_touch() {
  (cd "$here/java" && mvn -B -o -Dmaven.repo.local="$sdk/m2" -Dstyle.color=never test -Dtest=ZeroTouchTest 2>&1 |
    grep -E 'Tests run|FAIL|ERROR|BUILD|expected|Exception' | grep -v '^\[INFO\] *$' | grep -v '^Picked up JAVA_TOOL_OPTIONS')
}

zero_touch_all() {
  local ok=0
  zero_touch "$sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/zero_touch" || ok=1
  zero_touch env NODE_PATH="$sdk/node/node_modules" node --test --test-timeout=60000 "$here/zero_touch/zero_touch.test.js" || ok=1
  zero_touch proxy_curl || ok=1
  if command -v mvn >/dev/null; then zero_touch java_zero_touch || ok=1; fi
  if php_ready; then zero_touch php "$here/zero_touch/zero_touch.php" || ok=1; fi
  return $ok
}

lang Python "$sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/python"
lang Node env NODE_PATH="$sdk/node/node_modules" node --test --test-timeout=60000 "$here"/node/*.test.js
if needs go; then lang Go go_tests; fi
if needs mvn; then lang Java java_tests; fi
lang "zero-touch" zero_touch_all
# Last, as they move the clock: the documentation's examples (docs/testing.md, the README).
echo "sdk: the docs' examples (docs/examples)"
"$sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/docs/examples/python" || status=1
NODE_PATH="$sdk/node/node_modules" node --test --test-timeout=60000 "$root"/docs/examples/node/*.test.js || status=1
echo "sdk: time per language"
printf '  %s\n' "${times[@]}"

kill -TERM "$server"
wait "$server" || { echo "sdk: callerid-mock did not shut down cleanly" >&2; status=1; }
trap - EXIT
exit "$status"
