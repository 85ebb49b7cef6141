// The official Twilio Node SDK (twilio on npm), unmodified, against callerid-mock.
// Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
'use strict';

const { test, beforeEach } = require('node:test');
const assert = require('node:assert/strict');

// TWILIO_REGION / TWILIO_EDGE make the SDK rewrite the host; never let them leak in.
delete process.env.TWILIO_REGION;
delete process.env.TWILIO_EDGE;
const twilio = require('twilio');
const { BASE, control, receiver } = require('./emulator');

const ACCOUNT_SID = 'AC' + '2'.repeat(32);
const AUTH_TOKEN = 'nodetoken';
const client = twilio(ACCOUNT_SID, AUTH_TOKEN);
client.api.baseUrl = BASE;

const answer = (callSid, body) => control(`/_mock/calls/${callSid}/answer`, body);

async function verify(number) {
  const vr = await client.validationRequests.create({ phoneNumber: number });
  return (await answer(vr.callSid, { digits: vr.validationCode })).caller_id;
}

beforeEach(() => control(`/_mock/reset?account=${ACCOUNT_SID}`, {}));

test('the whole validation flow with a signed callback', async () => {
  const rx = await receiver();
  try {
    const vr = await client.validationRequests.create({
      phoneNumber: '+14158675309', friendlyName: 'My Home Phone', statusCallback: rx.url,
    });
    assert.equal(vr.accountSid, ACCOUNT_SID);
    assert.match(vr.callSid, /^CA[0-9a-f]{32}$/);
    assert.match(vr.validationCode, /^\d{6}$/);

    const ended = await answer(vr.callSid, { digits: vr.validationCode });
    assert.equal(ended.state, 'verified');
    const [callback] = await rx.waitFor(1);
    const params = Object.fromEntries(new URLSearchParams(callback.body));
    assert.equal(params.VerificationStatus, 'success');
    assert.equal(params.OutgoingCallerIdSid, ended.caller_id);
    assert.ok(twilio.validateRequest(AUTH_TOKEN, callback.headers['x-twilio-signature'], rx.url, params));
    assert.ok(!twilio.validateRequest('wrong', callback.headers['x-twilio-signature'], rx.url, params));

    const pn = ended.caller_id;
    const fetched = await client.outgoingCallerIds(pn).fetch();
    assert.equal(fetched.friendlyName, 'My Home Phone');
    assert.equal(fetched.dateCreated.getUTCFullYear(), 2026);

    for (const n of ['+14158675301', '+14158675302', '+14158675303', '+14158675304']) await verify(n);
    const all = await client.outgoingCallerIds.list({ pageSize: 2 });
    assert.equal(new Set(all.map((c) => c.sid)).size, 5);
    const one = await client.outgoingCallerIds.list({ phoneNumber: '+14158675309' });
    assert.deepEqual(one.map((c) => c.sid), [pn]);
    const byName = await client.outgoingCallerIds.list({ friendlyName: 'My Home Phone' });
    assert.deepEqual(byName.map((c) => c.sid), [pn]);

    await control('/_mock/clock', { advance: '1h' });
    const updated = await client.outgoingCallerIds(pn).update({ friendlyName: 'Renamed' });
    assert.equal(updated.friendlyName, 'Renamed');
    assert.ok(updated.dateUpdated > updated.dateCreated);

    assert.equal(await client.outgoingCallerIds(pn).remove(), true);
    await assert.rejects(client.outgoingCallerIds(pn).fetch(), (e) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, 20404);
      return true;
    });
  } finally {
    rx.close();
  }
});

test('wrong digits and a busy line fail without a caller ID', async () => {
  const rx = await receiver();
  try {
    const vr = await client.validationRequests.create({ phoneNumber: '+14158675309', statusCallback: rx.url });
    const wrong = vr.validationCode === '000000' ? '111111' : '000000';
    assert.equal((await answer(vr.callSid, { digits: wrong })).state, 'failed');
    const busy = await client.validationRequests.create({ phoneNumber: '+12025551234', statusCallback: rx.url });
    assert.equal((await answer(busy.callSid, { outcome: 'busy' })).call_status, 'busy');
    const [first, second] = await rx.waitFor(2);
    const failed = Object.fromEntries(new URLSearchParams(first.body));
    assert.equal(failed.VerificationStatus, 'failed');
    assert.equal(failed.OutgoingCallerIdSid, undefined);
    assert.equal(Object.fromEntries(new URLSearchParams(second.body)).CallStatus, 'busy');
    assert.deepEqual(await client.outgoingCallerIds.list(), []);
  } finally {
    rx.close();
  }
});

test('errors surface as RestException', async () => {
  await verify('+14158675309');
  await assert.rejects(client.validationRequests.create({ phoneNumber: '+14158675309' }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.code, 21450);
    assert.equal(e.moreInfo, 'https://www.twilio.com/docs/errors/21450');
    return true;
  });
  await assert.rejects(client.validationRequests.create({ phoneNumber: '+1234' }), (e) => e.code === 21401);
});
