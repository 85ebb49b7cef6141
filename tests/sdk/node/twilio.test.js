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
    // Each callback is delivered on its own: they may arrive in either order.
    const [first, second] = (await rx.waitFor(2)).sort((a, b) => a.body.includes('busy') - b.body.includes('busy'));
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

const CALLER = '+14158675309';
const CALLEE = '+14155550100';
const TWIML = '<Response><Say>Hello</Say></Response>';

test('a call is refused until the caller ID is verified, and again after it is deleted', async () => {
  await assert.rejects(client.calls.create({ to: CALLEE, from: CALLER, twiml: TWIML }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.code, 21210);
    return true;
  });
  const pn = await verify(CALLER);
  const status = await receiver();
  const app = await receiver('/voice', '<Response><Dial callerId="+14158675309">+14155550123</Dial></Response>');
  try {
    const call = await client.calls.create({
      to: CALLEE, from: CALLER, url: app.url, statusCallback: status.url,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.equal(call.status, 'queued');
    assert.equal((await client.calls(call.sid).fetch()).status, 'ringing');

    assert.equal((await answer(call.sid, {})).state, 'in-progress');
    const [doc] = await app.waitFor(1);
    const docParams = Object.fromEntries(new URLSearchParams(doc.body));
    assert.equal(docParams.CallStatus, 'in-progress');
    assert.ok(twilio.validateRequest(AUTH_TOKEN, doc.headers['x-twilio-signature'], app.url, docParams));

    await control('/_mock/clock', { advance: '60s' });
    const ended = await client.calls(call.sid).fetch();
    assert.deepEqual([ended.status, ended.duration], ['completed', '60']);
    const events = (await status.waitFor(4)).map((r) => ({ params: Object.fromEntries(new URLSearchParams(r.body)), r }))
      .sort((a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber));
    assert.deepEqual(events.map((e) => e.params.CallStatus), ['initiated', 'ringing', 'in-progress', 'completed']);
    for (const { params, r } of events) {
      assert.ok(twilio.validateRequest(AUTH_TOKEN, r.headers['x-twilio-signature'], status.url, params));
    }
    const listed = await client.calls.list({ status: 'completed', from: CALLER });
    assert.deepEqual(listed.map((c) => c.sid), [call.sid]);
  } finally {
    status.close();
    app.close();
  }
  await client.outgoingCallerIds(pn).remove();
  await assert.rejects(client.calls.create({ to: CALLEE, from: CALLER, twiml: TWIML }), (e) => e.code === 21210);
});

test('an owned number calls; a <Dial callerId> neither verified nor owned ends the call with 13214', async () => {
  await control('/_mock/numbers', { provider: 'twilio', account: ACCOUNT_SID, number: '+14155550199' });
  const call = await client.calls.create({
    to: CALLEE, from: '+14155550199', twiml: '<Response><Dial callerId="+14155550177">+14155550123</Dial></Response>',
  });
  await answer(call.sid, {});
  assert.equal((await client.calls(call.sid).fetch()).status, 'completed');
  const [seen] = (await control(`/_mock/calls?provider=twilio&account=${ACCOUNT_SID}&limit=1`)).calls;
  assert.equal(seen.id, call.sid);
  assert.equal(seen.error.code, '13214');
  const res = await fetch(`${BASE}/_mock/numbers?provider=twilio&account=${ACCOUNT_SID}&number=%2B14155550199`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  await assert.rejects(client.calls.create({ to: CALLEE, from: '+14155550199', twiml: TWIML }), (e) => e.code === 21210);
});
