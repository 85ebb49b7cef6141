// callerid-mock/testcontainers against a real Docker engine: the official Twilio SDK's flow with
// its base URL at the container, the StatusCallback delivered back to this process, zero-touch
// with production settings through the container's proxy, strict auth with fixtures copied in and
// an admin token. Run by tests/testcontainers/run.sh (which builds the image and exports
// CALLERID_MOCK_IMAGE, DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const twilio = require('twilio');

const root = path.join(__dirname, '..', '..', '..');
const { CallerIdMockContainer, defaultImage } = require(path.join(root, 'packages', 'npm', 'testcontainers.js'));

const SID = `AC${'6'.repeat(32)}`;
const TOKEN = 'token-testcontainers-node';
let mock;

before(async () => {
  // docs:begin node
  mock = await new CallerIdMockContainer()
    .withFlags({ seed: 7, frozenClock: true, startTime: '2026-01-01T00:00:00Z' })
    .start();
  // docs:end node
  console.log(`testcontainers: node: ready in ${(mock.readyMs / 1000).toFixed(2)} s`);
});

after(async () => {
  if (mock) await mock.stop();
});

/** A receiver on every interface (the container reaches it through the host's gateway). */
function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ headers: req.headers, body }); res.end(); });
  });
  return new Promise((resolve) => server.listen(0, '0.0.0.0', () => resolve({ server, got, port: server.address().port })));
}

test('the image is CALLERID_MOCK_IMAGE when set', () => {
  assert.equal(defaultImage(), process.env.CALLERID_MOCK_IMAGE);
});

test('a Twilio flow and its signed StatusCallback', async () => {
  const hooks = await receiver();
  try {
    const client = twilio(SID, TOKEN);
    client.api.baseUrl = mock.providerUrl('twilio');
    const callback = mock.hostUrl(hooks.port, '/status');
    const vr = await client.validationRequests.create({ phoneNumber: '+14158675309', statusCallback: callback });
    await mock.answer(vr.callSid, { digits: vr.validationCode });
    assert.deepEqual((await client.outgoingCallerIds.list()).map((c) => c.phoneNumber), ['+14158675309']);
    for (let i = 0; i < 100 && hooks.got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(hooks.got.length, `no StatusCallback came; the journal says ${JSON.stringify(await mock.callbacks())}`);
    const params = Object.fromEntries(new URLSearchParams(hooks.got[0].body));
    assert.equal(params.VerificationStatus, 'success');
    assert.ok(twilio.validateRequest(TOKEN, hooks.got[0].headers['x-twilio-signature'], callback, params));
  } finally {
    hooks.server.close();
  }
});

test('zero-touch: production settings through the container\'s proxy', async () => {
  const env = await mock.zeroTouchEnv(fs.mkdtempSync(path.join(os.tmpdir(), 'callerid-mock-tc-')));
  // A new process: Node reads NODE_EXTRA_CA_CERTS when it starts.
  const script = `
    const client = require('twilio')('AC${'5'.repeat(32)}', 'zero');
    client.calls.create({ to: '+14155550100', from: '+14158675309', twiml: '<Response/>' })
      .then(() => { console.log('placed'); }, (e) => { console.log(e.code); });`;
  const out = await new Promise((resolve, reject) => execFile(process.execPath, ['-e', script],
    { env: { ...process.env, ...env } }, (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout.trim()))));
  assert.equal(out, '21210', 'the unverified From is refused by the emulator, reached as api.twilio.com');
});

test('strict auth with fixtures copied in, and an admin token', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callerid-mock-tc-'));
  const fixtures = path.join(dir, 'fixtures.json');
  fs.writeFileSync(fixtures, JSON.stringify({ accounts: [{ provider: 'twilio', account: SID, auth_token: TOKEN }] }));
  const strict = await new CallerIdMockContainer().withFlags({ strictAuth: true }).withFixtures(fixtures)
    .withAdminToken('s3cret').start();
  try {
    const good = twilio(SID, TOKEN);
    good.api.baseUrl = strict.providerUrl('twilio');
    assert.deepEqual(await good.outgoingCallerIds.list(), []);
    const bad = twilio(SID, 'wrong');
    bad.api.baseUrl = strict.providerUrl('twilio');
    await assert.rejects(bad.outgoingCallerIds.list(), (e) => e.status === 401 || /401/.test(String(e)));
    assert.deepEqual(await strict.codes(), [], 'the control methods send the admin token');
    assert.equal((await fetch(`${strict.url}/_mock/codes`)).status, 401);
    await assert.rejects(strict.latestCode('+12025550000'), (e) => e.status === 404 && /\+12025550000/.test(e.message));
  } finally {
    await strict.stop();
  }
});
