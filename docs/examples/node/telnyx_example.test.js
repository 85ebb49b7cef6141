// Telnyx with node:test: a code sent by a call, a wrong code as the SDK's own error, the
// right one, and the number listed.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const Telnyx = require('telnyx');

const BASE = process.env.CALLERID_MOCK_URL || 'http://127.0.0.1:8484';
const client = new Telnyx({ apiKey: 'KEYEXAMPLETELNYXNODE', baseURL: `${BASE}/v2`, maxRetries: 0 });

const control = (path, body) => fetch(BASE + path, body && {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
}).then((r) => r.json());

test('a number verified by a call', async () => {
  await control('/_mock/reset?account=KEYEXAMPLETELNYXNODE', {});
  await client.verifiedNumbers.create({ phone_number: '+12025551234', verification_method: 'call' });
  const { code } = await control('/_mock/codes/latest?number=%2B12025551234&wait=5s');
  const wrong = code === '000000' ? '111111' : '000000';
  await assert.rejects(
    client.verifiedNumbers.actions.submitVerificationCode('+12025551234', { verification_code: wrong }),
    Telnyx.BadRequestError,   // 400, code 10015
  );
  const { data } = await client.verifiedNumbers.actions.submitVerificationCode('+12025551234', { verification_code: code });
  assert.equal(data.phone_number, '+12025551234');
  const numbers = [];
  for await (const n of client.verifiedNumbers.list()) numbers.push(n.phone_number);
  assert.deepEqual(numbers, ['+12025551234']);
});
