// node:test with the callerid-mock package (npm install callerid-mock): one emulator for the
// file, reset before each test.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import plivo from 'plivo';
import twilio from 'twilio';
import { start } from 'callerid-mock';

let mock;
before(async () => { mock = await start({ seed: 1, frozenClock: true }); });
after(() => mock.stop());
beforeEach(() => mock.reset());

test('plivo', async () => {
  const authId = 'MAXXXXXXXXXXXXXXXXXX';
  const client = new plivo.Client(authId, 'token', { url: `${mock.url}/v1/Account/${authId}` });
  const { verificationUuid } = await client.verify.initiate('+12025551234');
  const code = await mock.latestCode('+12025551234', { wait: 5 });
  assert.equal((await client.verify.verify(verificationUuid, code)).phoneNumber, '+12025551234');
});

test('twilio', async () => {
  const client = twilio(`AC${'1'.repeat(32)}`, 'token');
  client.api.baseUrl = mock.url;
  const vr = await client.validationRequests.create({ phoneNumber: '+14158675309' });
  await mock.answer(vr.callSid, { digits: await mock.latestCode('+14158675309') });
  assert.deepEqual((await client.outgoingCallerIds.list()).map((c) => c.phoneNumber), ['+14158675309']);
});
