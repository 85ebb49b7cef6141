// The official Telnyx Node SDK (telnyx on npm), unmodified, against callerid-mock.
// Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL. The SDK takes
// the base URL as `baseURL` (or TELNYX_BASE_URL); the API key is the emulator's account.
'use strict';

const { test, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const Telnyx = require('telnyx');
const { BASE, control, receiver } = require('./emulator');

const API_KEY = 'KEYNODE0123456789ABC';
const client = new Telnyx({ apiKey: API_KEY, baseURL: `${BASE}/v2` });

async function latestCode(number) {
  const { codes } = await control(`/_mock/codes?account=${API_KEY}&number=${encodeURIComponent(number)}`);
  return codes[0];
}

async function verify(number, method = 'sms') {
  await client.verifiedNumbers.create({ phone_number: number, verification_method: method });
  const { code } = await latestCode(number);
  return client.verifiedNumbers.actions.submitVerificationCode(number, { verification_code: code });
}

beforeEach(() => control(`/_mock/reset?account=${API_KEY}`, {}));

test('the whole lifecycle', async () => {
  const started = await client.verifiedNumbers.create({ phone_number: '+12025551234', verification_method: 'sms' });
  assert.deepEqual(started, { phone_number: '+12025551234', verification_method: 'sms' });
  const sent = await latestCode('+12025551234');
  assert.equal(sent.channel, 'sms');

  const wrong = sent.code === '000000' ? '111111' : '000000';
  await assert.rejects(
    client.verifiedNumbers.actions.submitVerificationCode('+12025551234', { verification_code: wrong }),
    (e) => {
      assert.ok(e instanceof Telnyx.BadRequestError);
      assert.equal(e.status, 400);
      assert.equal(e.error.errors[0].code, '10015');
      return true;
    },
  );

  const done = await client.verifiedNumbers.actions.submitVerificationCode('+12025551234', { verification_code: sent.code });
  assert.equal(done.data.phone_number, '+12025551234');
  assert.equal(done.data.record_type, 'verified_number');

  const got = await client.verifiedNumbers.retrieve('+12025551234');
  assert.equal(got.data.verified_at, done.data.verified_at);

  await verify('+12025551235', 'call');
  await verify('+12025551236');
  const page = await client.verifiedNumbers.list({ 'page[size]': 2 });
  assert.deepEqual(page.data.map((n) => n.phone_number), ['+12025551236', '+12025551235']);
  assert.equal(page.meta.total_pages, 2);
  assert.ok(page.hasNextPage());
  const all = [];
  for await (const n of client.verifiedNumbers.list({ 'page[size]': 2 })) all.push(n.phone_number);
  assert.deepEqual(all, ['+12025551236', '+12025551235', '+12025551234'], 'auto-paging reads both pages');

  const removed = await client.verifiedNumbers.delete('+12025551234');
  assert.equal(removed.data.phone_number, '+12025551234');
  await assert.rejects(client.verifiedNumbers.retrieve('+12025551234'), (e) => {
    assert.ok(e instanceof Telnyx.NotFoundError);
    return true;
  });
});

test('a call with an extension, and a number without its plus', async () => {
  const started = await client.verifiedNumbers.create({
    phone_number: '+12025551237', verification_method: 'call', extension: 'ww243w1',
  });
  assert.equal(started.verification_method, 'call');
  assert.equal((await latestCode('+12025551237')).call_status, 'completed');
  await assert.rejects(
    client.verifiedNumbers.create({ phone_number: '12025551237', verification_method: 'sms' }),
    (e) => e instanceof Telnyx.UnprocessableEntityError && e.error.errors[0].code === '10016',
  );
});

test('a dial is refused until the number is verified, and its events verify', async () => {
  const { keys } = await control('/_mock/keys');
  const signed = new Telnyx({ apiKey: API_KEY, baseURL: `${BASE}/v2`, publicKey: keys.find((k) => k.provider === 'telnyx').key });
  const hooks = await receiver('/telnyx');
  try {
    const dial = () => client.calls.dial({
      connection_id: '1494404757140276705', from: '+12025551234', to: '+14155550100', webhook_url: hooks.url,
    });
    await assert.rejects(dial(), (e) => e.status === 422 && e.error.errors[0].code === '10015');

    await verify('+12025551234');
    const { data: call } = await dial();
    assert.match(call.call_control_id, /^v3:/);
    assert.equal((await client.calls.retrieveStatus(call.call_control_id)).data.is_alive, true);
    await control(`/_mock/calls/${encodeURIComponent(call.call_control_id)}/answer`, {});
    await control('/_mock/clock', { advance: '20s' });
    assert.equal((await client.calls.actions.hangup(call.call_control_id)).data.result, 'ok');
    const { data: ended } = await client.calls.retrieveStatus(call.call_control_id);
    assert.deepEqual([ended.is_alive, ended.call_duration], [false, 20]);

    const events = [];
    for (const r of await hooks.waitFor(3)) events.push(await signed.webhooks.unwrap(r.body, { headers: r.headers }));
    assert.deepEqual(events.map((e) => e.data.event_type).sort(), ['call.answered', 'call.hangup', 'call.initiated']);
    const [first] = hooks.requests;
    await assert.rejects(signed.webhooks.unwrap(first.body.replace('call.', 'call_'), { headers: first.headers }));

    await client.verifiedNumbers.delete('+12025551234');
    await assert.rejects(dial(), (e) => e.status === 422);
  } finally {
    hooks.close();
  }
});
