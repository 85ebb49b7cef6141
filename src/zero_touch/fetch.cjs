// Written by `callerid-mock env`, loaded by Node at start-up through NODE_OPTIONS=--require.
//
// Node's built-in fetch honours HTTPS_PROXY only from Node 24 on (with NODE_USE_ENV_PROXY=1),
// so before that, SDKs built on fetch would go to the internet. On those versions this sends
// their requests for the providers' hosts to callerid-mock directly (it routes by path, as its
// proxy does); every other request is left alone.
'use strict';

const EMULATOR = '__EMULATOR__';
const HOSTS = __HOSTS__;

const matches = (pattern, host) => {
  const p = pattern.split('.');
  const h = host.split('.');
  return p.length === h.length && p.every((label, i) => label === h[i] || (label === '*' && h[i] !== ''));
};

const major = Number(process.versions.node.split('.')[0]);
if (major < 24 && typeof globalThis.fetch === 'function') {
  const original = globalThis.fetch;
  globalThis.fetch = function fetch(input, init) {
    const request = input instanceof Request ? input : null;
    const url = new URL(request ? request.url : String(input));
    if (!HOSTS.some((pattern) => matches(pattern, url.hostname.toLowerCase()))) {
      return original(input, init);
    }
    const target = EMULATOR + url.pathname + url.search;
    return original(request ? new Request(target, request) : target, init);
  };
}
