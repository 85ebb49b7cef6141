'use strict';
// callerid-mock for Node: start the bundled emulator and drive its control plane.
//
//   const { start } = require('callerid-mock');
//   const mock = await start({ seed: 1, frozenClock: true });
//   const code = await mock.latestCode('+12025551234', { wait: 5 });
//   await mock.stop();

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** How long start() waits for the server to say where it listens (ms). */
const START_TIMEOUT_MS = 15000;

/** The emulator could not be found or started, or did not say where it listens in time. */
class ServerError extends Error {}

/** The control plane answered with an error: `status` and the JSON `body`. */
class ControlError extends Error {
  constructor(status, body, route) {
    super(`${route}: ${status} ${body && body.error ? body.error : JSON.stringify(body)}`);
    this.name = 'ControlError';
    this.status = status;
    this.body = body;
    this.path = route;
  }
}

/** The executable: $CALLERID_MOCK_BIN, or the one in this package. */
function binaryPath() {
  if (process.env.CALLERID_MOCK_BIN) return process.env.CALLERID_MOCK_BIN;
  const bundled = path.join(__dirname, 'bin', 'callerid-mock');
  if (!fs.existsSync(bundled)) {
    throw new ServerError(`the callerid-mock executable is missing from ${bundled} (this package carries it for linux-x64 only); set CALLERID_MOCK_BIN`);
  }
  return bundled;
}

/** { seed: 1, frozenClock: true, allowHost: ['a'] } -> ['--seed', '1', '--frozen-clock', '--allow-host', 'a']. */
function toArgs(flags) {
  const args = [];
  for (const [name, value] of Object.entries(flags || {})) {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-')}`;
    if (value === undefined || value === null || value === false) continue;
    if (value === true) args.push(flag);
    else if (Array.isArray(value)) value.forEach((v) => args.push(flag, String(v)));
    else args.push(flag, String(value));
  }
  return args;
}

/** Where each provider's API is, below the server's URL (what the start banner prints). */
const PROVIDER_PATHS = { plivo: '', twilio: '', seven: '/api', telnyx: '/v2', signalwire: '/api/relay/rest' };

/** The control plane of a running emulator at `this.url`: shared by `Mock` (a child process) and
 * the Testcontainers module (`callerid-mock/testcontainers`). */
class Control {
  constructor(url, { binary, adminToken } = {}) {
    this.url = url;
    this.binary = binary;
    this.adminToken = adminToken;
  }

  /** The base URL an SDK of `provider` is pointed at (`'telnyx'` -> `${url}/v2`). */
  providerUrl(provider) {
    if (!(provider in PROVIDER_PATHS)) {
      throw new Error(`unknown provider ${JSON.stringify(provider)}; one of ${Object.keys(PROVIDER_PATHS).join(', ')}`);
    }
    return this.url + PROVIDER_PATHS[provider];
  }

  async call(method, route, body, query) {
    const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null)).toString() : '';
    const target = route + (search ? `?${search}` : '');
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    const token = this.adminToken || process.env.CALLERID_MOCK_ADMIN_TOKEN;
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(this.url + target, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) throw new ControlError(res.status, parsed, target);
    return parsed;
  }

  /** Every code sent, newest first. */
  async codes(filters = {}) { return (await this.call('GET', '/_mock/codes', undefined, filters)).codes; }

  /** The newest code sent to `number`, as a string; `{ wait: seconds }` waits for one. */
  async latestCode(number, { wait, ...filters } = {}) {
    const query = { ...filters, number, wait: wait === undefined ? undefined : `${Math.round(wait * 1000)}ms` };
    return (await this.call('GET', '/_mock/codes/latest', undefined, query)).code;
  }

  /** Plays the person on the phone: `{ digits }` or `{ outcome: 'busy' | 'no-answer' | 'failed' }`. */
  async answer(callId, { digits, outcome } = {}) {
    return this.call('POST', `/_mock/calls/${encodeURIComponent(callId)}/answer`, { digits, outcome });
  }

  /** Moves the server clock: `advance('16m')` or `advance(960)` (seconds). */
  async advance(duration) { return this.call('POST', '/_mock/clock', { advance: duration }); }

  /** Wipes all state, or one account's. */
  async reset(account) { return this.call('POST', '/_mock/reset', {}, { account }); }

  /** Adds a fault rule. */
  async addFault(rule) { return this.call('POST', '/_mock/faults', rule); }

  /** The webhook journal, newest first. */
  async callbacks(filters = {}) { return (await this.call('GET', '/_mock/callbacks', undefined, filters)).callbacks; }

  /** The request journal, newest first. */
  async requests(filters = {}) { return (await this.call('GET', '/_mock/requests', undefined, filters)).requests; }

  /** Everything, as a state document. */
  async exportState() { return this.call('GET', '/_mock/state'); }

  /** Replaces everything with a state document. */
  async importState(state) { return this.call('PUT', '/_mock/state', state); }

  /** The environment that routes unmodified SDKs to this server through its proxy (what
   * `callerid-mock env` prints), its files kept in `directory`; the shims for new interpreters
   * (PYTHONPATH, NODE_OPTIONS) are left out. */
  zeroTouchEnv(directory) {
    return new Promise((resolve, reject) => {
      execFile(this.binary || binaryPath(), ['env', '--url', this.url, '--dir', directory], (e, stdout, stderr) => {
        if (e) return reject(new ServerError(`callerid-mock env failed: ${(stderr || e.message).trim()}`));
        const env = {};
        for (const line of stdout.split('\n')) {
          const fallback = line.match(/^export (\w+)="\$\{\1:-([^}"]*)\}"$/); // a default: kept if set
          if (fallback) {
            env[fallback[1]] = process.env[fallback[1]] || fallback[2];
            continue;
          }
          if (!line.startsWith('export ') || line.includes('"$')) continue;
          const [name, ...rest] = line.slice('export '.length).split('=');
          env[name] = rest.join('=').slice(1, -1).replace(/'\\''/g, "'");
        }
        resolve(env);
      });
    });
  }
}

class Mock extends Control {
  constructor(child, url, binary) {
    super(url, { binary });
    this.child = child;
  }

  /** Stops the server (SIGTERM; SIGKILL after 15 s). */
  async stop() {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
      child.once('exit', () => { clearTimeout(kill); resolve(); });
      child.kill('SIGTERM');
    });
  }
}

/** Starts the emulator on a free port of 127.0.0.1 with these flags (camelCase). */
function start(flags = {}) {
  let binary;
  try {
    binary = binaryPath();
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--bind', '127.0.0.1:0', ...toArgs(flags)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let log = '';
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new ServerError(`${why}${log ? `: ${log.trim().split('\n').slice(-5).join(' | ')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`callerid-mock did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.on('error', (e) => fail(`cannot run ${binary}: ${e.message}`));
    child.on('exit', (code) => fail(`callerid-mock exited with ${code} before it listened`));
    child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/listening on (http:\/\/\S+)/);
      if (found && !settled) {
        settled = true;
        clearTimeout(timer);
        child.stdout.resume();
        resolve(new Mock(child, found[1], binary));
      }
    });
  });
}

/** `callerid-mock --version`. */
function version() {
  return new Promise((resolve, reject) => {
    execFile(binaryPath(), ['--version'], (e, stdout) => (e ? reject(e) : resolve(stdout.trim())));
  });
}

module.exports = { start, version, binaryPath, toArgs, ControlError, ServerError, Control, Mock };
