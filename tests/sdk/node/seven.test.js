// The seven.io Node client (@seven.io/client on npm), unmodified, against callerid-mock.
// Run by tests/sdk/run.sh, which starts the binary and exports CALLERID_MOCK_URL.
'use strict';

const { test, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { Client, JournalResource, ValidateResource, VoiceResource } = require('@seven.io/client');
const { BASE, control, receiver } = require('./emulator');

const API_KEY = 'NODESEVENKEY';
// No constructor option: the base URL is a static field read on every request.
Client.BASE_URL = `${BASE}/api`;
const validate = new ValidateResource(new Client({ apiKey: API_KEY }));

beforeEach(() => control(`/_mock/reset?account=${API_KEY}`, {}));

test('invalid, then a code, the DTMF entry, the callback and "already saved"', async () => {
  assert.deepEqual(await validate.start({ number: 'ThisAintGonnaWork!' }), {
    id: null, sender: 'ThisAintGonnaWork!', formatted_output: null, success: false, error: 'Reception number invalid', voice: false,
  });

  const rx = await receiver('/validate');
  try {
    const issued = await validate.start({ number: '0163 2429751', callback: rx.url });
    assert.equal(issued.success, true);
    assert.equal(issued.error, null);
    assert.match(issued.code, /^[1-9]\d{5}$/);

    const [pending] = (await control(`/_mock/codes?provider=seven&account=${API_KEY}`)).codes;
    assert.equal(pending.code, issued.code);
    const done = await control(`/_mock/calls/${pending.id}/answer`, { digits: issued.code });
    assert.equal(done.state, 'verified');

    const [callback] = await rx.waitFor(1);
    const query = Object.fromEntries(new URL(callback.path, 'http://x').searchParams);
    assert.deepEqual(query, {
      id: done.caller_id, sender: '491632429751', formatted_output: '+49 163 2429751', success: '1', error: '', voice: '1',
    });

    assert.deepEqual(await validate.start({ number: '491632429751' }), {
      id: Number(done.caller_id), sender: '491632429751', formatted_output: '+49 163 2429751',
      success: true, error: 'The sender ID is already saved.', voice: true,
    });
  } finally {
    rx.close();
  }
});

test('a bad API key is refused with 900', async () => {
  const bad = new ValidateResource(new Client({ apiKey: 'bad key!' }));
  await assert.rejects(bad.start({ number: '491632429751' }), /^Error: 900: InvalidApiKey$/);
});

test('a voice call from a sender is refused until it is validated', async () => {
  const client = new Client({ apiKey: API_KEY });
  const voice = new VoiceResource(client);
  const journal = new JournalResource(client);
  const call = () => voice.dispatch({ to: '4915112345678', text: 'Hallo Welt', from: '491632429751' });
  await assert.rejects(call(), /^Error: 306: InvalidSender$/);

  const issued = await validate.start({ number: '491632429751' });
  const pending = await control(`/_mock/codes/latest?provider=seven&account=${API_KEY}`);
  await control(`/_mock/calls/${pending.id}/answer`, { digits: issued.code });

  const sent = await call();
  assert.equal(sent.success, '100');
  const [message] = sent.messages;
  assert.deepEqual([message.success, message.sender, message.recipient], [true, '491632429751', '4915112345678']);
  assert.equal((await journal.voice({ id: message.id }))[0].status, 'ringing');
  await control(`/_mock/calls/${message.id}/answer`, {});
  await control('/_mock/clock', { advance: '2m' });
  const [done] = await journal.voice({ id: message.id });
  assert.deepEqual([done.status, done.duration], ['completed', '60']);

  await control(`/_mock/reset?account=${API_KEY}`, {});
  await assert.rejects(call(), /306: InvalidSender/, 'refused again once the account\'s senders are gone');
});
