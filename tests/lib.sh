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
