// Zero-touch: the official Node SDKs built with production settings (no base URL, no static
// fields) reach callerid-mock with only the environment that `callerid-mock env` prints. Run by
// tests/sdk/run.sh inside that environment.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const twilio = require('twilio');
const plivo = require('plivo');
const Telnyx = require('telnyx');
const { Client, ValidateResource, VoiceResource } = require('@seven.io/client');
const { RestClient: SignalWire } = require('@signalwire/compatibility-api');

const { control, receiver } = require(path.join(__dirname, '..', 'node', 'emulator.js'));

test('the environment is all there is', () => {
  assert.match(process.env.HTTPS_PROXY, /^http:\/\/127\.0\.0\.1:/);
  assert.ok(process.env.NODE_EXTRA_CA_CERTS.endsWith('ca.pem'));
  assert.equal(Client.BASE_URL, 'https://gateway.seven.io/api', 'the production base URL');
});

test('twilio', async () => {
  const sid = 'AC9999999999999999999999999999999a';
  await control(`/_mock/reset?account=${sid}`, {});
  const client = twilio(sid, 'zerotouch');
  const call = { to: '+14155550100', from: '+14158675309', twiml: '<Response/>' };
  await assert.rejects(client.calls.create(call), (e) => e.code === 21210);
  const vr = await client.validationRequests.create({ phoneNumber: '+14158675309', friendlyName: 'Zero' });
  await control(`/_mock/calls/${vr.callSid}/answer`, { digits: vr.validationCode });
  assert.deepEqual((await client.outgoingCallerIds.list()).map((c) => c.friendlyName), ['Zero']);
  const placed = await client.calls.create(call);
  assert.equal((await client.calls(placed.sid).fetch()).status, 'ringing');
});

test('plivo', async () => {
  const authId = 'MAZEROTOUCHNODEXXXXX';
  await control(`/_mock/reset?account=${authId}`, {});
  const client = new plivo.Client(authId, 'token');
  // The Node SDK sends calls to https://api.plivo.com whatever its `url` option says: the proxy
  // is the one way it reaches the emulator.
  const call = () => client.calls.create('+12025551234', '14155550100', 'https://app.test/answer');
  await assert.rejects(call(), (e) => e.status === 400 && /from is neither/.test(e.message));
  const started = await client.verify.initiate('+12025551234');
  const { code } = await control(`/_mock/codes/latest?number=%2B12025551234&account=${authId}`);
  assert.equal((await client.verify.verify(started.verificationUuid, code)).phoneNumber, '+12025551234');
  const hooks = await receiver('/hangup');
  try {
    const fired = await client.calls.create('+12025551234', '14155550100', 'https://app.test/answer', { hangupUrl: hooks.url });
    assert.equal(fired.message, 'call fired');
    assert.equal((await client.calls.getLiveCall(fired.requestUuid)).callStatus, 'ringing');
    await client.calls.hangup(fired.requestUuid);
    assert.equal((await client.calls.get(fired.requestUuid)).hangupCauseCode, 1000);
    // The hangup_url request, checked with the SDK's own V3 validator.
    const [hangup] = await hooks.waitFor(1);
    const params = Object.fromEntries(new URLSearchParams(hangup.body));
    assert.equal(params.HangupCauseName, 'Canceled');
    const valid = (token) => plivo.validateV3Signature('POST', hooks.url, hangup.headers['x-plivo-signature-v3-nonce'],
      token, hangup.headers['x-plivo-signature-v3'], params);
    assert.ok(valid('token'));
    assert.ok(!valid('wrong'));
  } finally {
    hooks.close();
  }
});

test('seven', async () => {
  const key = 'ZEROTOUCH-SEVEN-NODE';
  await control(`/_mock/reset?account=${key}`, {});
  const validate = new ValidateResource(new Client({ apiKey: key }));
  const issued = await validate.start({ number: '491632429751' });
  const pending = await control(`/_mock/codes/latest?provider=seven&account=${key}`);
  await control(`/_mock/calls/${pending.id}/answer`, { digits: issued.code });
  assert.equal((await validate.start({ number: '491632429751' })).voice, true);
  const voice = new VoiceResource(new Client({ apiKey: key }));
  assert.equal((await voice.dispatch({ to: '4915112345678', text: 'Hallo', from: '491632429751' })).success, '100');
});

test('telnyx', async () => {
  const key = 'KEYZEROTOUCHTELNYXNODE';
  await control(`/_mock/reset?account=${key}`, {});
  const client = new Telnyx({ apiKey: key, maxRetries: 0 });
  await client.verifiedNumbers.create({ phone_number: '+12025551234', verification_method: 'sms' });
  const { code } = await control(`/_mock/codes/latest?provider=telnyx&account=${key}`);
  await client.verifiedNumbers.actions.submitVerificationCode('+12025551234', { verification_code: code });
  assert.equal((await client.verifiedNumbers.retrieve('+12025551234')).data.phone_number, '+12025551234');
  const hooks = await receiver('/telnyx');
  try {
    const { data: call } = await client.calls.dial({ connection_id: '1', from: '+12025551234', to: '+14155550100', webhook_url: hooks.url });
    const [initiated] = await hooks.waitFor(1);
    // TELNYX_PUBLIC_KEY, from `callerid-mock env`, is the key the client verifies with.
    const event = await client.webhooks.unwrap(initiated.body, { headers: initiated.headers });
    assert.deepEqual([event.data.event_type, event.data.payload.call_control_id], ['call.initiated', call.call_control_id]);
    // Hang it up while the receiver listens: a ringing call would call back another test later.
    await client.calls.actions.hangup(call.call_control_id);
    await hooks.waitFor(2);
  } finally {
    hooks.close();
  }
});

test('signalwire: the Compatibility SDK calls from a caller ID verified through the Space API', async () => {
  const project = '5e1d0000-0000-4000-8000-0000000c0de5';
  await control(`/_mock/reset?account=${project}`, {});
  // The Compatibility SDK speaks HTTPS to the Space it is given: through the proxy.
  const client = SignalWire(project, 'PTnode', { signalwireSpaceUrl: 'example.signalwire.com' });
  const call = { to: '+14155550100', from: '+14158675309', twiml: '<Response/>' };
  await assert.rejects(client.calls.create(call), (e) => e.status === 400 && e.code === 21210);
  // The Space API verifies the number (reached directly here, as the REST SDK reaches it).
  const auth = `Basic ${Buffer.from(`${project}:PTnode`).toString('base64')}`;
  const space = (path, method, body) =>
    fetch(`${process.env.CALLERID_MOCK_URL}/api/relay/rest/${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    }).then((res) => res.json());
  const created = await space('verified_caller_ids', 'POST', { number: '+14158675309', name: 'Node' });
  const { code } = await control(`/_mock/codes/latest?number=%2B14158675309&account=${project}`);
  const verified = await space(`verified_caller_ids/${created.id}/verification`, 'PUT', { verification_code: code });
  assert.equal(verified.status, 'Verified');
  const placed = await client.calls.create(call);
  assert.match(placed.uri, /^\/api\/laml\/2010-04-01\/Accounts\//);
  assert.equal((await client.calls(placed.sid).fetch()).status, 'ringing');
  assert.equal((await client.calls(placed.sid).update({ status: 'canceled' })).status, 'canceled');
});

