#!/usr/bin/env bash
# The real container: builds the static binary exactly as the Dockerfile's builder stage does,
# builds an image from the Dockerfile's own runtime stage (its COPY --from=builder pointed at
# that binary), runs it, waits for the HEALTHCHECK to say healthy, drives one Plivo flow, and
# stops the container and any daemon it started, by their ids.
#
# Engine: a running one if `docker info` reaches it; otherwise Debian's docker.io (installed
# with apt-get when missing and we are root), started with the vfs driver and no bridge on a
# socket of its own. With CI=true the test must run; elsewhere it reports itself skipped.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib.sh"
work="$root/.sdk/container"
mkdir -p "$work"
container=""

skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "container: $1" >&2
    exit 1
  fi
  echo "container: skipped: $1"
  exit 0
}

cleanup() {
  if [ -n "$container" ]; then docker rm -f "$container" >/dev/null 2>&1 || true; fi
  engine_stop
  return 0
}
trap cleanup EXIT

docker_engine "$work" --iptables=false --bridge=none || skip_or_fail "$engine_error"
export DOCKER_BUILDKIT=0

echo "container: building the static binary as the builder stage does"
context="$work/context"
image="callerid-mock:test-$$"
runtime_image "$root" "$work" "$image"
echo "container: image $image, $(docker image inspect "$image" --format '{{.Size}}') bytes"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$(docker run -d --network host -e "CALLERID_MOCK_BIND=127.0.0.1:$port" "$image" --seed 1 --frozen-clock)
health=""
for _ in $(seq 1 60); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$container")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || { docker logs "$container" >&2; echo "container: not healthy: $health" >&2; exit 1; }
[ "$(docker inspect -f '{{.Config.User}}' "$container")" = "65534:65534" ] || { echo "container: not the non-root user" >&2; exit 1; }
echo "container: healthy"

python3 - "http://127.0.0.1:$port" <<'PY'
import base64, json, sys, urllib.error, urllib.request
base, auth_id = sys.argv[1], "MAXXXXXXXXXXXXXXXXXX"
auth = "Basic " + base64.b64encode(f"{auth_id}:token".encode()).decode()

def call(method, path, body=None, authed=True):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **({"Authorization": auth} if authed else {})})
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

api = f"/v1/Account/{auth_id}/VerifiedCallerId/"
status, body = call("POST", api, {"phone_number": "+12025551234", "alias": "Office"})
assert status == 200, body
uuid = json.loads(body)["verification_uuid"]
code = json.loads(call("GET", "/_mock/codes?number=%2B12025551234", authed=False)[1])["codes"][0]["code"]
assert call("POST", f"{api}Verification/{uuid}/", {"otp": code})[0] == 200
status, body = call("GET", f"{api}+12025551234/")
assert status == 200 and json.loads(body)["alias"] == "Office", body
assert call("DELETE", f"{api}+12025551234/")[0] == 204
assert call("GET", f"{api}+12025551234/")[0] == 404
print("container: a Plivo flow ran against the container")
PY

# Zero-touch through the container: the SDKs with production settings, only the environment
# `callerid-mock env` prints for it (the CA fetched from the container's /_mock/ca.pem).
if [ -x "$root/.sdk/venv/bin/python" ]; then
  lines=$("$context/callerid-mock" env --url "http://127.0.0.1:$port" --dir "$work/env")
  (eval "$lines" && CALLERID_MOCK_URL="http://127.0.0.1:$port" \
    "$root/.sdk/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/sdk/zero_touch") \
    || { docker logs "$container" >&2; echo "container: the zero-touch flow failed" >&2; exit 1; }
  echo "container: the Python SDKs ran their flows through the container's proxy, trusting its CA"
elif [ "${CI:-}" = "true" ]; then
  echo "container: no .sdk/venv (tests/sdk/run.sh makes it): the zero-touch flow cannot run" >&2
  exit 1
else
  echo "container: no .sdk/venv: the zero-touch flow through the container is skipped"
fi

docker stop -t 10 "$container" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$container")" = 0 ] || { echo "container: unclean exit" >&2; exit 1; }
docker rm "$container" >/dev/null
container=""

# The state file as a new user keeps it: one file on the host, bind-mounted (rename() onto it is
# impossible, so it must be written in place). The image runs as 65534, so the file is made
# writable for it. A caller ID verified before a restart is still there after it.
statedir=$(mktemp -d /tmp/callerid-mock-state.XXXXXX)
touch "$statedir/state.json"
chmod a+rw "$statedir/state.json"
run_with_state() {
  docker run -d --network host -e "CALLERID_MOCK_BIND=127.0.0.1:$port" -v "$statedir/state.json:/state.json" \
    "$image" --state /state.json --frozen-clock
}
wait_healthy() {
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ] && return 0
    sleep 1
  done
  docker logs "$1" >&2
  echo "container: not healthy" >&2
  exit 1
}
container=$(run_with_state)
wait_healthy "$container"
python3 - "http://127.0.0.1:$port" verify <<'PY'
import base64, json, sys, urllib.request
base, step, auth_id = sys.argv[1], sys.argv[2], "MAXXXXXXXXXXXXXXXXXX"
auth = {"Authorization": "Basic " + base64.b64encode(f"{auth_id}:token".encode()).decode(), "Content-Type": "application/json"}
api = f"{base}/v1/Account/{auth_id}/VerifiedCallerId/"
def call(method, url, body=None, headers=auth):
    req = urllib.request.Request(url, method=method, headers=headers, data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req) as res:
        return json.load(res) if res.status != 204 else None
if step == "verify":
    uuid = call("POST", api, {"phone_number": "+14155552671", "alias": "Kept"})["verification_uuid"]
    code = call("GET", f"{base}/_mock/codes?number=%2B14155552671", headers={})["codes"][0]["code"]
    call("POST", f"{api}Verification/{uuid}/", {"otp": code})
else:
    assert call("GET", f"{api}+14155552671/")["alias"] == "Kept"
PY
docker stop -t 10 "$container" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$container")" = 0 ] || { docker logs "$container" >&2; echo "container: unclean exit" >&2; exit 1; }
docker rm "$container" >/dev/null
container=$(run_with_state)
wait_healthy "$container"
python3 - "http://127.0.0.1:$port" check <<'PY' || { docker logs "$container" >&2; exit 1; }
import base64, json, sys, urllib.request
base, auth_id = sys.argv[1], "MAXXXXXXXXXXXXXXXXXX"
auth = {"Authorization": "Basic " + base64.b64encode(f"{auth_id}:token".encode()).decode()}
req = urllib.request.Request(f"{base}/v1/Account/{auth_id}/VerifiedCallerId/+14155552671/", headers=auth)
with urllib.request.urlopen(req) as res:
    assert json.load(res)["alias"] == "Kept"
PY
docker stop -t 10 "$container" >/dev/null
docker rm "$container" >/dev/null
container=""
[ -z "$(ls -A "$statedir" | grep -v '^state.json$')" ] || { echo "container: files other than the state appeared" >&2; exit 1; }
rm -rf "$statedir"
echo "container: a caller ID verified before a restart survived it, in a bind-mounted state file"
docker rmi -f "$image" >/dev/null
echo "container: 3 passed, 0 failed"
