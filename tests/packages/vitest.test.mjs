// Vitest (ESM) with the installed callerid-mock package: tests/packages/run.sh runs it.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { start, ControlError } from 'callerid-mock';

let mock;
beforeAll(async () => { mock = await start({ frozenClock: true }); });
afterAll(() => mock.stop());

test('a code that was never sent is a ControlError 404', async () => {
  await mock.reset();
  await expect(mock.latestCode('+12025551234')).rejects.toBeInstanceOf(ControlError);
  expect((await mock.advance('1m')).now).toBeTypeOf('string');
});
