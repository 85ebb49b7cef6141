// The web inbox in a real browser (Debian's Chromium driven by playwright-core): codes sent
// over HTTP appear without a reload, answering a Twilio call from the page verifies the number
// and shows the callback attempt, and a call placed from it is picked up and hung up from the
// page. Run by tests/browser/run.sh.
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

  // A call from the caller ID just verified rings on the page; the person picks up, then hangs up.
  const placed = await fetch(`${base}/2010-04-01/Accounts/${TWILIO}/Calls.json`, {
    method: 'POST', headers: { Authorization: basic(TWILIO), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: '+14155550100', From: '+14158675309', Twiml: '<Response><Say>Hi</Say></Response>' }),
  });
  assert.equal(placed.status, 201);
  const outbound = page.locator(`#calls tbody tr[data-id="${(await placed.json()).sid}"]`);
  await outbound.getByText('ringing', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Pick up, call to +14155550100' }).click();
  await outbound.getByText('in-progress', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Hang up, call to +14155550100' }).click();
  await outbound.getByText('completed', { exact: true }).waitFor();

  await page.screenshot({ path: path.join(OUT, 'inbox.png'), fullPage: true });
});

// A web page on another origin (here another port) tries what a drive-by attack would: simple
// cross-origin requests that need no preflight, a JSON request that does, and a form post. None
// may change the emulator's state.
test('a page on another origin cannot reset the state, add a fault or move the clock', async () => {
  const plivo = await fetch(`${base}/v1/Account/${PLIVO}/VerifiedCallerId/`, {
    method: 'POST', headers: { Authorization: basic(PLIVO), 'Content-Type': 'application/json' },
    body: JSON.stringify({ phone_number: '+14155552671' }),
  });
  assert.equal(plivo.status, 200);
  const clockBefore = (await (await fetch(`${base}/_mock/clock`)).json()).now;
  const attack = `<!doctype html><title>attack</title>
    <iframe name="sink" style="display:none"></iframe>
    <form id="f" method="POST" action="${base}/_mock/reset" target="sink" enctype="text/plain">
      <input name='{"x":"' value='"}'></form>
    <script>
      const go = async () => {
        const opts = (body, type) => ({ method: 'POST', mode: 'no-cors', body, headers: type ? { 'Content-Type': type } : {} });
        await fetch('${base}/_mock/reset', opts('{}', 'text/plain')).catch(() => {});
        await fetch('${base}/_mock/faults', opts('{"action":"reset"}', 'text/plain')).catch(() => {});
        await fetch('${base}/_mock/clock', opts('{"advance":"1h"}')).catch(() => {});
        await fetch('${base}/_mock/faults', { method: 'POST', body: '{"action":"reset"}',
          headers: { 'Content-Type': 'application/json' } }).catch(() => {});
        document.getElementById('f').submit();
        setTimeout(() => { document.title = 'done'; }, 500);
      };
      go();
    </script>`;
  const evil = http.createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(attack); });
  await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${evil.address().port}/`);
  await page.waitForFunction(() => document.title === 'done');
  await page.close();
  evil.close();

  const codes = await (await fetch(`${base}/_mock/codes?number=%2B14155552671`)).json();
  assert.equal(codes.codes.length, 1, 'no reset happened');
  assert.deepEqual((await (await fetch(`${base}/_mock/faults`)).json()).faults, [], 'no fault was added');
  assert.equal((await (await fetch(`${base}/_mock/clock`)).json()).now, clockBefore, 'the clock did not move');
});

test('behind an admin token the inbox logs in once and stays live', async () => {
  const guarded = spawn(BIN, ['--bind', '127.0.0.1:0', '--admin-token', 'opensesame', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const lines = readline.createInterface({ input: guarded.stdout });
    const url = await new Promise((resolve) => lines.on('line', (l) => { const m = l.match(/listening on (\S+)/); if (m) resolve(m[1]); }));
    assert.equal((await fetch(`${url}/_mock/codes`)).status, 401);
    const page = await browser.newPage();
    const login = await page.goto(`${url}/_mock/?token=opensesame`);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
    assert.equal(login.status(), 200);
    await page.getByText('Live: updates appear as they happen.').waitFor();
    const sent = await fetch(`${url}/v1/Account/${PLIVO}/VerifiedCallerId/`, {
      method: 'POST', headers: { Authorization: basic(PLIVO), 'Content-Type': 'application/json' },
      body: JSON.stringify({ phone_number: '+12025550123' }),
    });
    assert.equal(sent.status, 200);
    await page.locator('#codes tbody tr', { hasText: '+12025550123' }).getByText('pending').waitFor();
    await page.close();
  } finally {
    guarded.kill('SIGTERM');
  }
});
