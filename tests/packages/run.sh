#!/usr/bin/env bash
# The packages as their users install them: scripts/package builds them from the working tree;
# the wheel goes into a fresh virtual environment and the npm tarball into a fresh project, both
# outside the source tree, and the README's examples (docs/examples/packages/) run there.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)
bash "$root/scripts/package"
work=$(mktemp -d /tmp/callerid-mock-packages.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

echo "packages: Python, in $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$root"/dist/callerid_mock-*.whl \
  pytest==8.4.2 plivo==4.63.0 twilio==9.13.0
[ "$("$work/venv/bin/callerid-mock" --version)" = "callerid-mock $version" ] \
  || { echo "packages: the wheel's callerid-mock --version is not $version" >&2; status=1; }
mkdir "$work/python"
cp "$root"/docs/examples/packages/python/*.py "$work/python/"
# Only the installed package: the plugin loads through its pytest11 entry point.
(cd "$work/python" && env -u PYTHONPATH "$work/venv/bin/python" -m pytest -q -p no:cacheprovider) || status=1
# A control-plane error carries the server's sentence.
"$work/venv/bin/python" -c "
import callerid_mock
with callerid_mock.Server(frozen_clock=True) as mock:
    try:
        mock.latest_code('+10000000000')
    except callerid_mock.ControlError as e:
        assert e.status == 404 and 'no code for number +10000000000' in str(e), e
        print('packages: Python, a missing code is a ControlError saying what it looked for:', e)
    else:
        raise SystemExit('a code that was never sent was found')
" || status=1
# The Testcontainers module is in the wheel, behind its extra.
"$work/venv/bin/python" -c "
import importlib.metadata as m, importlib.util
meta = m.metadata('callerid-mock')
assert 'testcontainers' in meta.get_all('Provides-Extra'), meta.get_all('Provides-Extra')
assert any('extra == \"testcontainers\"' in r for r in meta.get_all('Requires-Dist')), meta.get_all('Requires-Dist')
assert importlib.util.find_spec('callerid_mock.testcontainers') is not None
print('packages: Python, callerid_mock.testcontainers ships behind the testcontainers extra')
" || status=1
# A missing binary is a ServerError at once, never a hang.
CALLERID_MOCK_BIN=/nonexistent/callerid-mock "$work/venv/bin/python" -c "
import callerid_mock
try:
    callerid_mock.Server().start()
except callerid_mock.ServerError as e:
    print('packages: Python, a missing binary fails at once:', e)
else:
    raise SystemExit('started without a binary')
" || status=1

echo "packages: Node, in $work/node"
mkdir "$work/node"
(cd "$work/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
  "$root"/dist/callerid-mock-"$version".tgz twilio@6.2.0 plivo@4.79.0 jest@29.7.0 vitest@3.2.4)
[ "$("$work/node/node_modules/.bin/callerid-mock" --version)" = "callerid-mock $version" ] \
  || { echo "packages: the npm package's callerid-mock --version is not $version" >&2; status=1; }
cp "$root"/docs/examples/packages/node/*.mjs "$work/node/"
(cd "$work/node" && node --test ./*.test.mjs) || status=1
# CommonJS, and the types: require() gives the same API, and index.d.ts names it.
(cd "$work/node" && node -e "
  const m = require('callerid-mock');
  for (const f of ['start', 'version', 'ControlError', 'ServerError']) if (typeof m[f] !== 'function') throw new Error(f);
  m.start({ frozenClock: true }).then(async (mock) => {
    await mock.latestCode('+10000000000').then(() => { throw new Error('no code was sent'); }, (e) => {
      if (!(e instanceof m.ControlError) || e.status !== 404) throw e;
      if (!e.message.includes('no code for number +10000000000')) throw new Error('unhelpful: ' + e.message);
    });
    await mock.stop();
    console.log('packages: CommonJS require() works; a missing code rejects with ControlError 404 saying what it looked for');
  }).catch((e) => { console.error(e); process.exit(1); });
") || status=1
grep -q 'export function start' "$work/node/node_modules/callerid-mock/index.d.ts" || { echo "packages: no types" >&2; status=1; }
# The Testcontainers module is a subpath export for ESM and CommonJS, with its types.
(cd "$work/node" && node -e "require.resolve('callerid-mock/testcontainers')" \
  && node --input-type=module -e "await import.meta.resolve('callerid-mock/testcontainers')") \
  || { echo "packages: no callerid-mock/testcontainers export" >&2; status=1; }
grep -q 'class CallerIdMockContainer' "$work/node/node_modules/callerid-mock/testcontainers.d.ts" \
  || { echo "packages: no types for callerid-mock/testcontainers" >&2; status=1; }
# The same package from Jest (CommonJS) and Vitest (ESM).
cp "$root/tests/packages/jest.test.cjs" "$work/node/mock.jest.test.js"
cp "$root/tests/packages/vitest.test.mjs" "$work/node/mock.vitest.test.mjs"
(cd "$work/node" && npx --no-install jest --ci mock.jest.test.js 2>&1 | tail -4) || status=1
(cd "$work/node" && NO_COLOR=1 npx --no-install vitest run mock.vitest.test.mjs 2>&1 | grep -E 'Test Files|Tests|FAIL|Error') || status=1
CALLERID_MOCK_BIN=/nonexistent/callerid-mock node -e "
  require('$work/node/node_modules/callerid-mock').start().then(() => process.exit(1), (e) => {
    console.log('packages: a missing binary fails at once: ' + e.message); });
" || status=1

[ "$status" = 0 ] && echo "packages: the wheel and the npm package install and run outside the source tree"
exit "$status"
