'use strict';
// callerid-mock in a container, with Testcontainers (`npm i -D testcontainers`, a peer dependency):
//
//   const { CallerIdMockContainer } = require('callerid-mock/testcontainers');
//   const mock = await new CallerIdMockContainer().withFlags({ seed: 1, frozenClock: true }).start();
//   twilio(sid, token).api.baseUrl = mock.providerUrl('twilio');
//   const code = await mock.latestCode('+14158675309', { wait: 5 });
//   await mock.stop();
//
// The image is callerid-mock:VERSION (this package's version; `docker build -t
// callerid-mock:VERSION .` in the repository makes it), or $CALLERID_MOCK_IMAGE, or the
// constructor's argument. The container is ready when GET /_mock/health answers 200. Webhooks
// reach the test process at host.docker.internal (the host's gateway): listen on 0.0.0.0 and give
// mock.hostUrl(port, path) as the callback URL.

const { GenericContainer, Wait } = require('testcontainers');
const { Control, ServerError, toArgs } = require('./index.js');

/** The port the server listens on inside the container. */
const PORT = 8484;

/** $CALLERID_MOCK_IMAGE, else callerid-mock:VERSION of this package. */
function defaultImage() {
  if (process.env.CALLERID_MOCK_IMAGE) return process.env.CALLERID_MOCK_IMAGE;
  let version = 'dev'; // the source tree has no package.json: scripts/package writes it
  try {
    ({ version } = require('./package.json'));
  } catch { /* not packaged */ }
  return `callerid-mock:${version}`;
}

class CallerIdMockContainer extends GenericContainer {
  constructor(image = defaultImage()) {
    super(image);
    this.flags = {};
    this.adminToken = undefined;
    this.withExposedPorts(PORT).withExtraHosts([{ host: 'host.docker.internal', ipAddress: 'host-gateway' }]);
  }

  /** The server's flags, camelCase: `{ seed: 1, frozenClock: true, autoAnswer: true, strictAuth: true }`. */
  withFlags(flags) {
    Object.assign(this.flags, flags);
    return this;
  }

  /** A state file on the host, copied in and loaded with --fixtures (accounts for --strict-auth). */
  withFixtures(file) {
    this.withCopyFilesToContainer([{ source: file, target: '/fixtures.json' }]);
    this.flags.fixtures = '/fixtures.json';
    return this;
  }

  /** The control plane's token: the container requires it, the control methods send it. */
  withAdminToken(token) {
    this.adminToken = token;
    this.withEnvironment({ CALLERID_MOCK_ADMIN_TOKEN: token });
    return this;
  }

  async start() {
    const headers = this.adminToken ? { Authorization: `Bearer ${this.adminToken}` } : {};
    this.withCommand(toArgs(this.flags)).withWaitStrategy(Wait.forHttp('/_mock/health', PORT).withHeaders(headers).forStatusCode(200));
    const started = Date.now();
    let container;
    try {
      container = await super.start();
    } catch (e) {
      throw new ServerError(`callerid-mock in ${this.imageName.string} did not start (${e.message}); build the image with \`docker build -t ${this.imageName.string} .\` or set CALLERID_MOCK_IMAGE`);
    }
    return new StartedCallerIdMock(container, this.adminToken, Date.now() - started);
  }
}

class StartedCallerIdMock extends Control {
  constructor(container, adminToken, readyMs) {
    super(`http://${container.getHost()}:${container.getMappedPort(PORT)}`, { adminToken });
    this.container = container;
    /** Milliseconds from start() to a healthy server. */
    this.readyMs = readyMs;
  }

  /** A URL of the test process as the container reaches it (for webhooks). */
  hostUrl(port, path = '/') {
    return `http://host.docker.internal:${port}${path}`;
  }

  async stop() {
    await this.container.stop();
  }
}

module.exports = { CallerIdMockContainer, StartedCallerIdMock, PORT, defaultImage };
