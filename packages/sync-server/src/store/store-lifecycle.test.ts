import { ConvergeError } from '@converge/conflict';
import { expect, it } from 'vitest';
import { StoreLifecycle } from './store-lifecycle.js';
import type { EngineTx } from './tx-writes.js';

const translate = (error: unknown) => new ConvergeError('quorum_unavailable', `translated: ${(error as Error).message}`);

it("an engine that runs the callback again (a retry on another connection) and then fails on its own: its error is translated, whatever the callback's first run threw", async () => {
  const lifecycle = new StoreLifecycle('test store', { translate });
  let runs = 0;
  const outcome = lifecycle.transact(
    () => {
      runs++;
      throw new ConvergeError('quorum_unavailable', 'the connection broke under the callback');
    },
    async (body) => {
      await body({} as EngineTx).catch(() => undefined); // the first attempt's callback failed: the engine tries again…
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }); // …and cannot connect
    },
  );
  await expect(outcome).rejects.toMatchObject({ code: 'quorum_unavailable', message: 'translated: connect ECONNREFUSED 127.0.0.1:5432' });
  expect(runs).toBe(1);
});

it("the callback's own error passes as is", async () => {
  const lifecycle = new StoreLifecycle('test store', { translate });
  const own = new Error('the callback refuses');
  await expect(
    lifecycle.transact(
      () => {
        throw own;
      },
      (body) => body({} as EngineTx),
    ),
  ).rejects.toBe(own);
});
