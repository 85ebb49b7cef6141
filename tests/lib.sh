# Shell helpers shared by the test scripts (sourced, not run).

# install_npm SRC DEST: installs the packages of SRC/package.json and SRC/package-lock.json into
# DEST/node_modules, only when the lock file changed since the last install.
install_npm() {
  local src=$1 dest=$2
  if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" 2>/dev/null; then
    echo "installing npm packages into ${dest#"$root"/}"
    rm -rf "$dest"
    mkdir -p "$dest"
    cp "$src/package.json" "$src/package-lock.json" "$dest/"
    (cd "$dest" && npm ci --silent --no-audit --no-fund)
  fi
}

# docker_engine WORK [DOCKERD_FLAGS...]: a Docker engine for the tests. A running one if `docker
# info` reaches it; otherwise Debian's docker.io (installed with apt-get when missing and we are
# root), started with the vfs driver on a socket of its own, with DOCKERD_FLAGS, its log in
# WORK/dockerd.log. Sets engine_daemon and engine_dir (empty for a running engine) and exports
# DOCKER_HOST; engine_stop stops what it started. Returns 1 with the reason in engine_error when
# there is none. Call it directly, not in $(...): what it sets must outlive it.
engine_daemon=""
engine_dir=""
engine_error=""
docker_engine() {
  local work=$1
  shift
  docker info >/dev/null 2>&1 && return 0
  if ! command -v dockerd >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing Debian's docker.io"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >"$work/apt.log" 2>&1 \
        || { tail -5 "$work/apt.log" >&2; engine_error="could not install docker.io (see $work/apt.log)"; return 1; }
    else
      engine_error="no Docker engine and no dockerd to start (install Debian's docker.io)"
      return 1
    fi
  fi
  engine_dir=$(mktemp -d /tmp/callerid-mock-engine.XXXXXX)
  dockerd --data-root "$engine_dir/data" --exec-root "$engine_dir/exec" --pidfile "$engine_dir/docker.pid" \
    --storage-driver=vfs --host "unix://$engine_dir/docker.sock" "$@" >"$work/dockerd.log" 2>&1 &
  engine_daemon=$!
  export DOCKER_HOST="unix://$engine_dir/docker.sock"
  for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log" >&2; engine_error="dockerd did not start"; return 1; }
  echo "started dockerd (pid $engine_daemon)"
}

engine_stop() {
  [ -n "$engine_daemon" ] || return 0
  kill "$engine_daemon" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$engine_daemon" 2>/dev/null || break; sleep 0.2; done
  # The daemon can leave its network namespace mounted below its exec root.
  awk -v dir="$engine_dir" 'index($2, dir) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount 2>/dev/null || true
  rm -rf "$engine_dir" 2>/dev/null || true
  engine_daemon=""
}

# runtime_image ROOT WORK TAG: builds the static binary exactly as the Dockerfile's builder stage
# does, and an image TAG from the Dockerfile's own runtime stage (its COPY --from=builder pointed
# at that binary), in WORK/context.
runtime_image() {
  local root=$1 work=$2 tag=$3 context="$2/context"
  (cd "$root" && RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --quiet --target x86_64-unknown-linux-gnu)
  rm -rf "$context"
  mkdir -p "$context"
  cp "$root/target/x86_64-unknown-linux-gnu/release/callerid-mock" "$context/"
  sed -n '/^FROM scratch/,$p' "$root/Dockerfile" \
    | sed 's|^COPY --from=builder /callerid-mock /callerid-mock$|COPY callerid-mock /callerid-mock|' >"$context/Dockerfile"
  grep -q '^COPY callerid-mock /callerid-mock$' "$context/Dockerfile" || { echo "the runtime stage changed shape" >&2; return 1; }
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$context" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
}

# timed LABEL NAME COMMAND...: one part of a test script (a language), timed: a failure sets
# status=1 (the script fails at its end) and "NAME seconds" goes into the times array.
timed() {
  local label=$1 name=$2 started=$SECONDS
  shift 2
  echo "$label: $name"
  "$@" || status=1
  times+=("$(printf '%-8s %4ds' "$name" $((SECONDS - started)))")
}

# go_test DIR PATTERN: `go test` of the module in DIR, its module and build caches under
# $sdk/go (downloaded once, offline afterwards); prints the lines matching PATTERN.
go_test() {
  (cd "$1" && GOMODCACHE="$sdk/go/mod" GOCACHE="$sdk/go/cache" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    go test -count=1 -v ./... 2>&1 | grep -E "$2")
}

# maven_test DIR STAMP PATTERN: `mvn test` of DIR's pom with the repository under $sdk/m2,
# online until that pom's artifacts are there (a copy of the pom named STAMP says so), offline
# afterwards; prints the lines matching PATTERN.
maven_test() {
  local dir=$1 stamp=$sdk/m2/$2 pattern=$3 offline=-o
  cmp -s "$dir/pom.xml" "$stamp" 2>/dev/null || offline=""
  (cd "$dir" && mvn -B $offline -Dmaven.repo.local="$sdk/m2" -Dstyle.color=never test 2>&1 |
    grep -E "$pattern" | grep -v '^\[INFO\] *$') || return 1
  cp "$dir/pom.xml" "$stamp"
}
