// What every SDK test shares: the emulator's URL, its control plane, and a webhook receiver.
'use strict';

const http = require('node:http');

const BASE = process.env.CALLERID_MOCK_URL;

// GET a control-plane route, or POST `body` to it as JSON; resolves to the parsed answer.
async function control(path, body) {
  const res = await fetch(BASE + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return res.json();
}

// A local webhook receiver: records every request and answers 200, with `body` (an answer
// document, as XML) when one is given.
async function receiver(path = '/status', body = '') {
  const requests = [];
  const server = http.createServer((req, res) => {
    let got = '';
    req.on('data', (chunk) => { got += chunk; });
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body: got });
      if (body) res.setHeader('Content-Type', 'application/xml');
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}${path}`;
  const waitFor = async (n) => {
    for (let i = 0; i < 500 && requests.length < n; i += 1) await new Promise((r) => setTimeout(r, 10));
    if (requests.length < n) {
      const journal = (await control('/_mock/callbacks?limit=3')).callbacks;
      throw new Error(`expected ${n} callback(s) at ${url} within 5 s, got ${requests.length}; `
        + `the emulator's journal says: ${JSON.stringify(journal)}`);
    }
    return requests;
  };
  const close = () => { server.closeAllConnections(); server.close(); };
  return { url, requests, waitFor, close };
}

module.exports = { BASE, control, receiver };
