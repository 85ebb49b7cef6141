import { GenericContainer, StartedTestContainer } from 'testcontainers';
import { Control, Flags } from './index';

/** The port the server listens on inside the container. */
export const PORT: 8484;

/** `$CALLERID_MOCK_IMAGE`, else `callerid-mock:VERSION` of this package. */
export function defaultImage(): string;

/** callerid-mock in a container: `new CallerIdMockContainer().withFlags({ seed: 1 }).start()`. */
export class CallerIdMockContainer extends GenericContainer {
  constructor(image?: string);
  /** The server's flags, camelCase: `{ seed: 1, frozenClock: true, autoAnswer: true, strictAuth: true }`. */
  withFlags(flags: Flags): this;
  /** A state file on the host, copied in and loaded with `--fixtures`. */
  withFixtures(file: string): this;
  /** The control plane's token: the container requires it, the control methods send it. */
  withAdminToken(token: string): this;
  start(): Promise<StartedCallerIdMock>;
}

export class StartedCallerIdMock extends Control {
  readonly container: StartedTestContainer;
  /** Milliseconds from `start()` to a healthy server. */
  readonly readyMs: number;
  /** A URL of the test process as the container reaches it (for webhooks). */
  hostUrl(port: number, path?: string): string;
  stop(): Promise<void>;
}
