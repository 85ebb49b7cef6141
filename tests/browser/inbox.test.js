// The web inbox in a real browser (Debian's Chromium driven by playwright-core): codes sent
// over HTTP appear without a reload, and answering a Twilio call from the page verifies the
// number and shows the callback attempt. Run by tests/browser/run.sh.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require('playwright-core');

const BIN = process.env.CALLERID_MOCK_BIN;
const OUT = process.env.BROWSER_TEST_OUT;
const PLIVO = 'MAXXXXXXXXXXXXXXXXXX';
const TWILIO = 'AC' + 'a'.repeat(32);
const basic = (user) => 'Basic ' + Buffer.from(`${user}:token123`).toString('base64');

let server;
let base;
let browser;
let receiver;

before(async () => {
  server = spawn(BIN, ['--bind', '127.0.0.1:0', '--seed', '7', '--frozen-clock', '--start-time', '2026-01-01T09:00:00Z', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: server.stdout });
  base = await new Promise((resolve) => lines.on('line', (l) => { const m = l.match(/listening on (\S+)/); if (m) resolve(m[1]); }));
  receiver = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end()); });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  receiver?.closeAllConnections();
  receiver?.close();
  server?.kill('SIGTERM');
});

test('codes appear live and a call answered on the page verifies the number', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/_mock/`);
  await page.getByText('Live: updates appear as they happen.').waitFor();
  await page.getByText('No code sent yet.').waitFor();

  // A Plivo OTP and a Twilio validation call, sent over HTTP while the page is open.
  const plivo = await fetch(`${base}/v1/Account/${PLIVO}/VerifiedCallerId/`, {
    method: 'POST', headers: { Authorization: basic(PLIVO), 'Content-Type': 'application/json' },
    body: JSON.stringify({ phone_number: '+12025551234', alias: 'Office' }),
  });
  assert.equal(plivo.status, 200);
  const callback = `http://127.0.0.1:${receiver.address().port}/status`;
  const twilio = await fetch(`${base}/2010-04-01/Accounts/${TWILIO}/OutgoingCallerIds.json`, {
    method: 'POST', headers: { Authorization: basic(TWILIO), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ PhoneNumber: '+14158675309', FriendlyName: 'Home', StatusCallback: callback }),
  });
  const vr = await twilio.json();

  const codes = page.locator('#codes tbody');
  await codes.locator('tr', { hasText: '+12025551234' }).getByText('pending').waitFor();
  const call = codes.locator(`tr[data-id="${vr.call_sid}"]`);
  await call.getByText(vr.validation_code).waitFor();

  await page.screenshot({ path: path.join(OUT, 'inbox-ringing.png'), fullPage: true });
  await page.getByRole('button', { name: 'Answer correctly, call to +14158675309' }).click();
  await call.getByText('verified').waitFor();
  await page.locator('#callers tbody tr', { hasText: '+14158675309' }).getByText('Home').waitFor();
  await page.locator('#callbacks tbody tr', { hasText: callback }).getByText('HTTP 200').waitFor();
  // The Plivo code is still waiting, with its time left on the server clock.
  assert.equal(await codes.locator('tr', { hasText: '+12025551234' }).locator('td.left').textContent(), '15:00');

  await page.screenshot({ path: path.join(OUT, 'inbox.png'), fullPage: true });
});
