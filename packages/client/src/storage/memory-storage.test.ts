import { describe, expect, it } from 'vitest';
import { createClient } from '../client.js';
import { dbName } from '../testing/client-set.js';
import { createMemoryStorage, MemoryDatabase } from './memory-storage.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe('memory storage', () => {
  it('destroy() frees a database opened by name: the next handle by that name opens a new, empty one', async () => {
    const name = dbName('freed');
    const first = createMemoryStorage(name);
    const db = first.db;
    await first.write(async (tx) => tx.putMeta('n', 1));
    expect(createMemoryStorage(name).db).toBe(db); // shared by name while it lives
    await first.destroy();
    const next = createMemoryStorage(name);
    expect(next.db).not.toBe(db);
    expect(await next.read((tx) => tx.getMeta('n'))).toBeUndefined();
  });

  it("a memory client's destroy() frees its database", async () => {
    const name = dbName('client-freed');
    const client = await createClient({ name, storage: 'memory', tabs: false });
    const db = createMemoryStorage(name).db;
    await client.collection('notes').put('k', 1);
    await client.destroy();
    expect(createMemoryStorage(name).db).not.toBe(db);
  });

  it('destroy() leaves a database given by object alone in the registry', async () => {
    const db = new MemoryDatabase(dbName('given'));
    const byName = createMemoryStorage(db.name);
    await createMemoryStorage(db).destroy();
    expect(createMemoryStorage(db.name).db).toBe(byName.db);
  });

  it('a transaction that awaits a timer fails with TransactionInactiveError, having committed what it wrote before, as IndexedDB commits then', async () => {
    const s = createMemoryStorage();
    const error = await rejection(
      s.write(async (tx) => {
        tx.putMeta('before', 1);
        await new Promise((resolve) => setTimeout(resolve, 0));
        tx.putMeta('after', 2);
      }),
    );
    expect(error?.name).toBe('TransactionInactiveError');
    expect(await s.read((tx) => Promise.all([tx.getMeta('before'), tx.getMeta('after')]))).toEqual([1, undefined]);
  });

  it('a transaction that awaits another transaction of its database does not hang: it commits, the other runs, its next call fails', async () => {
    const one = createMemoryStorage(dbName('nested'));
    const two = createMemoryStorage(one.db);
    const error = await rejection(
      one.write(async (tx) => {
        tx.putMeta('outer', 1);
        const seen = await two.read((inner) => inner.getMeta('outer')); // queued behind this transaction
        tx.putMeta('seen', seen ?? 0);
      }),
    );
    expect(error?.name).toBe('TransactionInactiveError');
    expect(await two.read((tx) => Promise.all([tx.getMeta('outer'), tx.getMeta('seen')]))).toEqual([1, undefined]);
  });

  it('awaiting only its own requests, however many, keeps a transaction active', async () => {
    const s = createMemoryStorage();
    await s.write(async (tx) => {
      for (let i = 0; i < 2000; i++) {
        tx.putMeta(`k${i}`, i);
        await tx.getMeta(`k${i}`);
      }
      await Promise.all(Array.from({ length: 100 }, (_, i) => tx.getMeta(`k${i}`)));
    });
    expect(await s.read((tx) => tx.getMeta('k1999'))).toBe(1999);
  });
});
