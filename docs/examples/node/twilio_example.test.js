// Twilio with node:test: the validation call answered through the control plane, the signed
// callback checked with the SDK's own validator, and a busy line.
'use strict';

const { beforeEach, test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const twilio = require('twilio');

const BASE = process.env.CALLERID_MOCK_URL || 'http://127.0.0.1:8484';
const ACCOUNT = 'ACe0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0';
const client = twilio(ACCOUNT, 'authtoken');
client.api.baseUrl = BASE;

const control = (path, body) => fetch(BASE + path, body && {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
}).then((r) => r.json());

beforeEach(() => control(`/_mock/reset?account=${ACCOUNT}`, {}));   // this test's account only

test('a verified caller ID and its signed callback', async () => {
  const got = [];
  const rx = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => { got.push({ req, b }); res.end(); });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  const statusCallback = `http://127.0.0.1:${rx.address().port}/status`;
  const vr = await client.validationRequests.create({ phoneNumber: '+14158675309', statusCallback });
  const ended = await control(`/_mock/calls/${vr.callSid}/answer`, { digits: vr.validationCode });
  assert.equal(ended.state, 'verified');
  for (let i = 0; i < 500 && got.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, 1, 'the StatusCallback arrived');
  const params = Object.fromEntries(new URLSearchParams(got[0].b));
  assert.ok(twilio.validateRequest('authtoken', got[0].req.headers['x-twilio-signature'], statusCallback, params));
  assert.equal((await client.outgoingCallerIds(ended.caller_id).fetch()).phoneNumber, '+14158675309');
  rx.close();
});

test('a busy line verifies nothing', async () => {
  const vr = await client.validationRequests.create({ phoneNumber: '+12025551234' });
  assert.equal((await control(`/_mock/calls/${vr.callSid}/answer`, { outcome: 'busy' })).call_status, 'busy');
  assert.deepEqual(await client.outgoingCallerIds.list({ phoneNumber: '+12025551234' }), []);
});
