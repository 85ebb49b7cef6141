// The official Plivo Node SDK (plivo on npm), unmodified, against callerid-mock.
// Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
'use strict';

const { test, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const plivo = require('plivo');
const { BASE, control } = require('./emulator');

const AUTH_ID = 'MANODEXXXXXXXXXXXXXX';
const client = new plivo.Client(AUTH_ID, 'token123', { url: `${BASE}/v1/Account/${AUTH_ID}` });

async function latestCode(number) {
  const { codes } = await control(`/_mock/codes?account=${AUTH_ID}&number=${encodeURIComponent(number)}`);
  return codes[0];
}

// Node's SDK rejects with a plain Error carrying the body's `error` and the HTTP status.
async function rejects(promise, status, message) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status);
    if (message instanceof RegExp) assert.match(e.message, message);
    else assert.equal(e.message, message);
    return true;
  });
}

beforeEach(() => control(`/_mock/reset?account=${AUTH_ID}`, {}));

test('every operation end to end', async () => {
  const started = await client.verify.initiate('+12025551234', { alias: 'Main Office', channel: 'call' });
  assert.equal(started.message,
    'Verification code is sent to number +12025551234 which is valid for 15 minutes');
  const sent = await latestCode('+12025551234');
  assert.equal(sent.id, started.verificationUuid);
  assert.equal(sent.channel, 'call');

  const wrong = sent.code === '000000' ? '111111' : '000000';
  await rejects(client.verify.verify(started.verificationUuid, wrong), 400, 'invalid OTP; 4 attempts remaining');

  const verified = await client.verify.verify(started.verificationUuid, sent.code);
  assert.equal(verified.phoneNumber, '+12025551234');
  assert.equal(verified.country, 'US');
  assert.equal(verified.channel, 'call');
  assert.equal(verified.subaccount, undefined, 'the verify answer has no subaccount');

  const got = await client.verify.getVerifiedCallerId('+12025551234');
  assert.equal(got.alias, 'Main Office');
  assert.equal(got.verificationUuid, started.verificationUuid);

  // Node sends subAccount as sub_account; the emulator reads it as the subaccount.
  const second = await client.verify.initiate('+919768368717', { alias: 'Bangalore', subAccount: 'SAMTU0Y2FKNGETYZDKNI' });
  await client.verify.verify(second.verificationUuid, (await latestCode('+919768368717')).code);

  const listed = await client.verify.listVerifiedCallerId({ country: 'IN', limit: 20, offset: 0 });
  assert.equal(listed.meta.totalCount, 1);
  assert.equal(listed.objects[0].phoneNumber, '+919768368717');
  assert.equal(listed.objects[0].subaccount, 'SAMTU0Y2FKNGETYZDKNI');
  assert.equal((await client.verify.listVerifiedCallerId({ alias: 'Main Office' })).meta.totalCount, 1);
  const all = await client.verify.listVerifiedCallerId();
  assert.deepEqual(all.objects.map((o) => o.phoneNumber), ['+919768368717', '+12025551234']);

  const updated = await client.verify.updateVerifiedCallerId('+12025551234', { alias: 'New' });
  assert.equal(updated.alias, 'New');

  assert.equal(await client.verify.deleteVerifiedCallerId('+12025551234'), true);
  await rejects(client.verify.getVerifiedCallerId('+12025551234'), 404, 'not found');
});

test('an expired OTP is refused', async () => {
  const started = await client.verify.initiate('+14155552671');
  const { code } = await latestCode('+14155552671');
  await control('/_mock/clock', { advance: '16m' });
  await rejects(client.verify.verify(started.verificationUuid, code), 400, /expired/);
});

test('an invalid number is refused', async () => {
  await rejects(client.verify.initiate('+1234'), 400, 'The number +1234 is not a valid number');
});
