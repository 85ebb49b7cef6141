/** Flags of the command line, in camelCase: `{ seed: 1, frozenClock: true, startTime: '2026-01-01T00:00:00Z' }`. */
export type Flags = Record<string, string | number | boolean | Array<string | number> | undefined>;

/** Filters of the control plane's listings: `{ provider: 'plivo', number: '+12025551234' }`. */
export type Filters = Record<string, string | number | undefined>;

export type Json = Record<string, any>;

/** The emulator could not be found or started, or did not say where it listens in time. */
export class ServerError extends Error {}

/** The control plane answered with an error. */
export class ControlError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly path: string;
}

/** The control plane of a running emulator: a `Mock` or a started container. */
export class Control {
  /** `http://HOST:PORT`: the base of every provider's API and of `/_mock/`. */
  readonly url: string;
  /** The base URL an SDK of `provider` is pointed at (`'telnyx'` gives `${url}/v2`). */
  providerUrl(provider: 'plivo' | 'twilio' | 'seven' | 'telnyx' | 'signalwire'): string;
  codes(filters?: Filters): Promise<Json[]>;
  latestCode(number: string, options?: { wait?: number } & Filters): Promise<string>;
  answer(callId: string, options?: { digits?: string; outcome?: 'busy' | 'no-answer' | 'failed' }): Promise<Json>;
  advance(duration: string | number): Promise<Json>;
  reset(account?: string): Promise<Json>;
  addFault(rule: Json): Promise<Json>;
  callbacks(filters?: Filters): Promise<Json[]>;
  requests(filters?: Filters): Promise<Json[]>;
  exportState(): Promise<Json>;
  importState(state: Json): Promise<Json>;
  /** What `callerid-mock env` prints for this server, as variables (its files kept in `directory`). */
  zeroTouchEnv(directory: string): Promise<Record<string, string>>;
}

export class Mock extends Control {
  stop(): Promise<void>;
}

/** Starts the bundled emulator on a free port of 127.0.0.1. */
export function start(flags?: Flags): Promise<Mock>;

/** `callerid-mock --version`. */
export function version(): Promise<string>;

/** The executable this package runs. */
export function binaryPath(): string;

/** `{ seed: 1, frozenClock: true }` as command-line words. */
export function toArgs(flags?: Flags): string[];
