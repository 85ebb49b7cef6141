// Jest (CommonJS) with the installed callerid-mock package: tests/packages/run.sh runs it.
const { start, ControlError } = require('callerid-mock');

let mock;
beforeAll(async () => { mock = await start({ frozenClock: true }); });
afterAll(() => mock.stop());

test('a code that was never sent is a ControlError 404', async () => {
  await mock.reset();
  await expect(mock.latestCode('+12025551234')).rejects.toBeInstanceOf(ControlError);
  expect((await mock.codes()).length).toBe(0);
});
