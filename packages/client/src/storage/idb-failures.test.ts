import 'fake-indexeddb/auto';
import { ConvergeError } from '@converge/conflict';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, replicaOf, type Client } from '../client.js';
import { dbName } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { openIndexedDbStorage } from './idb-storage.js';

const open: Client[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

describe('IndexedDB failures', () => {
  it('a QuotaExceededError becomes storage_quota and nothing of the write is kept', async () => {
    const name = dbName('quota');
    const client = await createClient({ name, storage: await openIndexedDbStorage(name), tabs: false });
    open.push(client);
    await client.collection('notes').put('before', 1);
    const proto = IDBObjectStore.prototype as { put: (...args: unknown[]) => unknown };
    const put = proto.put;
    proto.put = function (this: IDBObjectStore, ...args: unknown[]) {
      if (this.name === 'docs') throw new DOMException('the disk is full', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      const error = await client
        .collection('notes')
        .put('k', 'v')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ConvergeError);
      expect((error as ConvergeError).code).toBe('storage_quota');
    } finally {
      proto.put = put;
    }
    expect(await client.collection('notes').get('k')).toBeUndefined();
    expect((await client.outbox()).map((w) => w.key)).toEqual(['before']);
    expect((await replicaOf(client).record())?.writeNumber).toBe(1);
    await client.collection('notes').put('after', 2);
    expect((await client.outbox()).map((w) => w.key)).toEqual(['before', 'after']);
  });

  it('the database deleted under the app: one typed status error, one storageFailure event, and the client goes on in memory', async () => {
    const name = dbName('deleted');
    const client = await createClient({ name, tabs: false });
    open.push(client);
    const failures: ConvergeError[] = [];
    client.on('storageFailure', (e) => failures.push(e));
    await client.collection('notes').put('k', 1);
    expect(client.status.get().storage).toBe('indexeddb');
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    await eventually(() => expect(client.status.get().storageFailed).toBe(true));
    expect(client.status.get()).toMatchObject({ storage: 'memory', storageFailed: true });
    expect(client.status.get().error).toBeInstanceOf(ConvergeError);
    expect(failures).toHaveLength(1);
    await client.collection('notes').put('k2', 2);
    expect((await client.collection('notes').get('k2'))?.value).toBe(2);
    expect(failures).toHaveLength(1);
  });

  it('the database deleted under the app while a status listener throws: the client still goes on in memory, the error is reported, nothing goes unhandled', async () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    try {
      const name = dbName('deleted-throwing');
      const client = await createClient({ name, tabs: false });
      open.push(client);
      client.status.subscribe((s) => {
        if (s.storageFailed) throw new Error('listener bug');
      });
      await client.collection('notes').put('k', 1);
      await new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
      await eventually(() => expect(client.status.get()).toMatchObject({ storage: 'memory', storageFailed: true, error: { code: 'storage_unavailable' } }));
      await eventually(() => expect(client.status.get().replicaId).not.toBe(''));
      await client.collection('notes').put('k2', 2);
      expect((await client.collection('notes').get('k2'))?.value).toBe(2);
      expect(reported).toContainEqual(new Error('listener bug'));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('IndexedDB unavailable: the client works in memory and says so once', async () => {
    const saved = globalThis.indexedDB;
    // @ts-expect-error -- simulating a browser without IndexedDB
    delete globalThis.indexedDB;
    try {
      const client = await createClient({ name: dbName('none'), tabs: false });
      open.push(client);
      expect(client.status.get()).toMatchObject({ storage: 'memory', storageFailed: true });
      expect(client.status.get().error?.code).toBe('storage_unavailable');
      await client.collection('notes').put('k', 1);
      expect((await client.collection('notes').get('k'))?.value).toBe(1);
    } finally {
      globalThis.indexedDB = saved;
    }
  });
});
