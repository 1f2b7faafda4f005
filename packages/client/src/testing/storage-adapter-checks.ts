import { EMPTY_CONTEXT, type DocState } from '@converge/conflict';
import type { WireValue } from '@converge/protocol';
import type { DocRecord, OutboxEntry, StorageAdapter } from '../storage/storage-adapter.js';

/**
 * Opens a storage handle on the database `name`. Two calls with the same name must give two
 * handles on ONE database (like two tabs); tests pass a fresh name per check.
 */
export type MakeStorage = (name: string) => Promise<StorageAdapter>;

export interface StorageCheck {
  readonly name: string;
  run(make: MakeStorage, name: string): Promise<void>;
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && same(v, b.get(k)));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

const show = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? { Map: [...v] } : v));

function equal(actual: unknown, expected: unknown, what: string): void {
  if (!same(actual, expected)) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/**
 * A task of the event loop after every task already queued: a timer, then (on Node) an immediate
 * queued behind the immediates already waiting. A timer alone races with an implementation that
 * ends a transaction in an immediate (fake-indexeddb): on a loaded machine the timer can come
 * first, while the transaction still runs. A browser ends it with the task, before any timer.
 */
function afterQueuedTasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(() => (typeof setImmediate === 'function' ? setImmediate(resolve) : resolve()), 0));
}

async function rejects(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: expected a rejection`);
}

const state = (value: number): DocState<WireValue> => ({
  context: { vv: new Map([['A', value]]), cloud: [['B', 7]] },
  siblings: [{ dot: ['A', value], hlc: { wall: 1000 + value, logical: 0, replica: 'A' }, value: { json: value } }],
});

const doc = (collection: string, key: string, value = 1): DocRecord => ({ collection, key, state: state(value), seq: value });

const entry = (key: string, n: number): OutboxEntry => ({
  writeId: `A:${n}`,
  collection: 'c',
  key,
  mode: 'multi-leader',
  replica: 'A',
  writeNumber: n,
  delta: state(n),
  write: { kind: 'put', value: { json: n }, readContext: EMPTY_CONTEXT },
  ack: 'local',
  createdAt: n,
});

/**
 * The StorageAdapter contract as plain async checks (no test framework), so the same suite
 * runs under vitest (`runStorageAdapterTests`) and inside a real browser page.
 */
export const storageAdapterChecks: readonly StorageCheck[] = [
  {
    name: 'a new database holds nothing',
    async run(make, name) {
      const s = await make(name);
      await s.read(async (tx) => {
        equal(await tx.getDoc('c', 'k'), undefined, 'getDoc');
        equal(await tx.scanDocs('c'), [], 'scanDocs');
        equal(await tx.getMeta('replica'), undefined, 'getMeta');
        equal(await tx.listOutbox(), [], 'listOutbox');
        equal(await tx.countOutbox(), 0, 'countOutbox');
        equal(await tx.listRejected(), [], 'listRejected');
      });
      s.close();
    },
  },
  {
    name: 'documents round-trip with their Map-based contexts, and delete',
    async run(make, name) {
      const s = await make(name);
      const record = { ...doc('c', 'k', 3), base: state(2), floor: 9 };
      await s.write(async (tx) => tx.putDoc(record));
      equal(await s.read((tx) => tx.getDoc('c', 'k')), record, 'getDoc after commit');
      equal(await s.read((tx) => tx.getDoc('other', 'k')), undefined, 'another collection');
      equal(
        (await s.read((tx) => tx.getDocs('c', ['missing', 'k', 'k']))).map((d) => d?.seq),
        [undefined, 3, 3],
        'getDocs in key order',
      );
      equal(await s.read((tx) => tx.getDocs('c', [])), [], 'getDocs of nothing');
      await s.write(async (tx) => tx.deleteDoc('c', 'k'));
      equal(await s.read((tx) => tx.getDoc('c', 'k')), undefined, 'after deleteDoc');
      s.close();
    },
  },
  {
    name: 'scanDocs: key order, prefix, after, limit, one collection only',
    async run(make, name) {
      const s = await make(name);
      const keys = ['b', 'a', 'ab', 'a\uffff', 'a\uffffz', 'b1', 'c'];
      await s.write(async (tx) => {
        for (const key of keys) tx.putDoc(doc('c', key));
        tx.putDoc(doc('c2', 'a'));
        tx.putDoc(doc('b', 'zz'));
      });
      const scan = async (options?: { prefix?: string; after?: string; limit?: number }) => (await s.read((tx) => tx.scanDocs('c', options))).map((d) => d.key);
      equal(await scan(), ['a', 'ab', 'a\uffff', 'a\uffffz', 'b', 'b1', 'c'], 'all keys in order');
      equal(await scan({ prefix: 'a' }), ['a', 'ab', 'a\uffff', 'a\uffffz'], 'prefix a');
      equal(await scan({ prefix: 'a\uffff' }), ['a\uffff', 'a\uffffz'], 'prefix ending in U+FFFF');
      equal(await scan({ prefix: 'b' }), ['b', 'b1'], 'prefix b');
      equal(await scan({ after: 'ab' }), ['a\uffff', 'a\uffffz', 'b', 'b1', 'c'], 'after');
      equal(await scan({ prefix: 'a', after: 'ab', limit: 1 }), ['a\uffff'], 'prefix, after and limit');
      equal(await scan({ limit: 2 }), ['a', 'ab'], 'limit');
      equal(await scan({ prefix: 'zz' }), [], 'no match');
      s.close();
    },
  },
  {
    name: 'listDocs and listMeta: every collection in (collection, key) order, after and limit, staged writes seen',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => {
        for (const [c, k] of [
          ['c', 'b'],
          ['c2', 'a'],
          ['b', 'zz'],
          ['c', 'a\uffff'],
          ['c', 'a'],
        ] as const)
          tx.putDoc(doc(c, k));
        tx.putMeta('z', 1);
        tx.putMeta('a\u0000x', 2);
        tx.putMeta('a', 3);
      });
      const list = async (options?: { after?: readonly [string, string]; limit?: number }) =>
        (await s.read((tx) => tx.listDocs(options))).map((d) => `${d.collection}/${d.key}`);
      equal(await list(), ['b/zz', 'c/a', 'c/a\uffff', 'c/b', 'c2/a'], 'all documents in order');
      equal(await list({ after: ['c', 'a'], limit: 2 }), ['c/a\uffff', 'c/b'], 'after and limit');
      equal(await list({ after: ['c', 'b'] }), ['c2/a'], 'after the last key of a collection');
      equal(await list({ after: ['bb', ''] }), ['c/a', 'c/a\uffff', 'c/b', 'c2/a'], 'after a collection that holds nothing');
      equal(await list({ after: ['c2', 'a'] }), [], 'after the last document');
      equal(
        await s.read((tx) => tx.listMeta()),
        [
          ['a', 3],
          ['a\u0000x', 2],
          ['z', 1],
        ],
        'listMeta in key order',
      );
      await s.write(async (tx) => {
        tx.putDoc(doc('a', 'k'));
        tx.deleteDoc('c', 'b');
        tx.putMeta('m', 4);
        tx.deleteMeta('z');
        equal(
          (await tx.listDocs({ limit: 3 })).map((d) => `${d.collection}/${d.key}`),
          ['a/k', 'b/zz', 'c/a'],
          'listDocs sees the staged put',
        );
        equal(
          (await tx.listDocs({ after: ['c', 'a\uffff'] })).map((d) => `${d.collection}/${d.key}`),
          ['c2/a'],
          'listDocs skips the staged delete',
        );
        equal(
          (await tx.listMeta()).map(([k]) => k),
          ['a', 'a\u0000x', 'm'],
          'listMeta sees staged puts and deletes',
        );
      });
      s.close();
    },
  },
  {
    name: 'a transaction reads its own writes; nobody else sees them before commit',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => {
        tx.putDoc(doc('c', 'k', 5));
        tx.putMeta('n', 5);
        equal((await tx.getDoc('c', 'k'))?.seq, 5, 'own doc');
        equal(await tx.getMeta('n'), 5, 'own meta');
        equal(
          (await tx.scanDocs('c')).map((d) => d.key),
          ['k'],
          'own doc in a scan',
        );
        tx.deleteMeta('n');
        equal(await tx.getMeta('n'), undefined, 'own delete');
      });
      equal(await s.read((tx) => tx.getMeta('n')), undefined, 'deleted meta');
      s.close();
    },
  },
  {
    name: 'atomicity: a transaction that throws keeps nothing and rejects',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => tx.putMeta('n', 1));
      const error = await rejects(
        s.write(async (tx) => {
          tx.putDoc(doc('c', 'k'));
          tx.putMeta('n', 2);
          tx.addOutbox(entry('k', 1));
          tx.putRejected({
            writeId: 'w',
            collection: 'c',
            key: 'k',
            write: { kind: 'delete', readContext: EMPTY_CONTEXT },
            code: 'forbidden',
            message: '',
            at: 1,
          });
          throw new Error('app failure');
        }),
        'throwing transaction',
      );
      equal((error as Error).message, 'app failure', 'the error passes through');
      await s.read(async (tx) => {
        equal(await tx.getDoc('c', 'k'), undefined, 'doc');
        equal(await tx.getMeta('n'), 1, 'meta');
        equal(await tx.countOutbox(), 0, 'outbox');
        equal(await tx.listRejected(), [], 'rejected');
      });
      s.close();
    },
  },
  {
    name: 'outbox: ascending ids in order, never reused; per-document lookup; count; delete; put',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => {
        tx.addOutbox(entry('x', 1));
        tx.addOutbox(entry('y', 2));
        tx.addOutbox(entry('x', 3));
      });
      const ids = (await s.read((tx) => tx.listOutbox())).map((e) => e.id!);
      equal(
        ids.every((id, i) => i === 0 || id > ids[i - 1]!),
        true,
        'ids ascend',
      );
      await s.read(async (tx) => {
        equal(
          (await tx.listOutbox()).map((e) => e.writeNumber),
          [1, 2, 3],
          'order',
        );
        equal(
          (await tx.listOutbox({ afterId: ids[0]!, limit: 1 })).map((e) => e.writeNumber),
          [2],
          'afterId and limit',
        );
        equal(
          (await tx.outboxOf('c', 'x')).map((e) => e.writeNumber),
          [1, 3],
          'outboxOf',
        );
        equal(await tx.countOutbox(), 3, 'count');
        equal((await tx.listOutbox())[0]!.id, ids[0], 'entries carry their id');
      });
      await s.write(async (tx) => {
        tx.deleteOutbox(ids[2]!);
        tx.putOutbox({ ...entry('y', 2), id: ids[1]!, skewed: true });
      });
      await s.write(async (tx) => tx.addOutbox(entry('z', 4)));
      const next = (await s.read((tx) => tx.listOutbox())).at(-1)!.id!;
      equal(next > ids[2]!, true, 'a deleted id is not reused');
      await s.read(async (tx) => {
        equal(
          (await tx.listOutbox()).map((e) => [e.writeNumber, e.skewed === true]),
          [
            [1, false],
            [2, true],
            [4, false],
          ],
          'after delete and put',
        );
        equal(await tx.outboxOf('c', 'x').then((l) => l.length), 1, 'outboxOf after delete');
      });
      s.close();
    },
  },
  {
    name: 'outbox reads in a write transaction see its own adds, puts and deletes beside what was committed',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => {
        tx.addOutbox(entry('x', 1));
        tx.addOutbox(entry('y', 2));
        tx.addOutbox(entry('x', 3));
      });
      const ids = (await s.read((tx) => tx.listOutbox())).map((e) => e.id!);
      await s.write(async (tx) => {
        tx.deleteOutbox(ids[0]!);
        tx.putOutbox({ ...entry('x', 3), id: ids[2]!, skewed: true });
        tx.addOutbox(entry('x', 4));
        tx.addOutbox(entry('z', 5));
        equal(
          (await tx.outboxOf('c', 'x')).map((e) => [e.writeNumber, e.skewed === true]),
          [
            [3, true],
            [4, false],
          ],
          'outboxOf sees the delete, the put and the add',
        );
        equal(
          (await tx.outboxOf('c', 'y')).map((e) => e.writeNumber),
          [2],
          'outboxOf of an untouched key',
        );
        equal(
          (await tx.listOutbox()).map((e) => e.writeNumber),
          [2, 3, 4, 5],
          'listOutbox in order',
        );
        equal(
          (await tx.listOutbox({ afterId: ids[1]!, limit: 2 })).map((e) => e.writeNumber),
          [3, 4],
          'listOutbox afterId and limit',
        );
        equal(await tx.countOutbox(), 4, 'count');
        tx.deleteOutbox(ids[1]!);
        equal(await tx.outboxOf('c', 'y'), [], 'outboxOf after a delete in the same transaction');
      });
      await s.read(async (tx) => {
        equal(
          (await tx.listOutbox()).map((e) => e.writeNumber),
          [3, 4, 5],
          'committed',
        );
        equal(
          (await tx.outboxOf('c', 'x')).map((e) => e.writeNumber),
          [3, 4],
          'outboxOf committed',
        );
        equal(await tx.outboxOf('c', 'y'), [], 'outboxOf of a key whose writes all left');
      });
      s.close();
    },
  },
  {
    name: 'rejected writes: put, get, list, delete',
    async run(make, name) {
      const s = await make(name);
      const record = {
        writeId: 'A:2',
        collection: 'c',
        key: 'k',
        write: { kind: 'put' as const, value: { json: 1 }, readContext: EMPTY_CONTEXT },
        code: 'forbidden' as const,
        message: 'no',
        at: 5,
      };
      await s.write(async (tx) => {
        tx.putRejected(record);
        tx.putRejected({ ...record, writeId: 'A:1' });
      });
      equal(await s.read((tx) => tx.getRejected('A:2')), record, 'get');
      equal(
        (await s.read((tx) => tx.listRejected())).map((r) => r.writeId),
        ['A:1', 'A:2'],
        'list in id order',
      );
      await s.write(async (tx) => tx.deleteRejected('A:1'));
      equal(
        (await s.read((tx) => tx.listRejected())).map((r) => r.writeId),
        ['A:2'],
        'after delete',
      );
      s.close();
    },
  },
  {
    name: 'a transaction that awaits anything but its own requests fails, as IndexedDB does: its next call throws and the write rejects',
    async run(make, name) {
      const s = await make(name);
      const error = await rejects(
        s.write(async (tx) => {
          tx.putMeta('before', 1);
          await afterQueuedTasks(); // not a request of this transaction
          tx.putMeta('after', 2);
        }),
        'a write that awaited a timer',
      );
      equal(error instanceof Error || error instanceof DOMException, true, 'an error');
      equal(await s.read((tx) => tx.getMeta('after')), undefined, 'nothing of what followed the await');
      const readError = await rejects(
        s.read(async (tx) => {
          await tx.getMeta('before');
          await afterQueuedTasks();
          return tx.getMeta('before');
        }),
        'a read that awaited a timer',
      );
      equal(readError instanceof Error || readError instanceof DOMException, true, 'an error');
      await s.write(async (tx) => tx.putMeta('after', 3));
      equal(await s.read((tx) => tx.getMeta('after')), 3, 'the next transaction works');
      s.close();
    },
  },
  {
    name: 'relaxed and strict writes: each atomic, in the order asked, seen by every later transaction of any handle',
    async run(make, name) {
      const one = await make(name);
      const two = await make(name);
      const writes = [
        one.write(async (tx) => tx.putMeta('n', 1), { durability: 'relaxed' }),
        two.write(async (tx) => tx.putMeta('n', 2), { durability: 'strict' }),
        one.write(async (tx) => tx.putMeta('n', 3)), // strict by default
        two.write(
          async (tx) => {
            equal(await tx.getMeta('n'), 3, 'a relaxed write sees the strict one before it');
            tx.putMeta('n', 4);
          },
          { durability: 'relaxed' },
        ),
      ];
      await Promise.all(writes);
      equal(await one.read((tx) => tx.getMeta('n')), 4, 'the last write wins, whatever its durability');
      await rejects(
        one.write(
          async (tx) => {
            tx.putMeta('n', 5);
            throw new Error('app failure');
          },
          { durability: 'relaxed' },
        ),
        'a relaxed write that throws',
      );
      equal(await two.read((tx) => tx.getMeta('n')), 4, 'a relaxed write that throws keeps nothing');
      one.close();
      two.close();
    },
  },
  {
    name: 'onFailure: when another handle deletes the database, each listener hears it once and later transactions reject',
    async run(make, name) {
      const one = await make(name);
      const two = await make(name);
      await two.write(async (tx) => tx.putMeta('n', 1));
      const heard: Error[] = [];
      let removedHeard = 0;
      two.onFailure((error) => heard.push(error));
      const stop = two.onFailure(() => removedHeard++);
      stop();
      await one.destroy(); // resolves once the database is gone, so after the other handle let go of it
      equal(heard.length, 1, 'listener calls');
      equal(heard[0] instanceof Error, true, 'the reason is an Error');
      equal(removedHeard, 0, 'a removed listener is not called');
      await rejects(
        two.read((tx) => tx.getMeta('n')),
        'a read after the failure',
      );
      two.close();
    },
  },
  {
    name: 'write transactions never interleave, across two handles on one database (two tabs)',
    async run(make, name) {
      const one = await make(name);
      const two = await make(name);
      const bump = (s: StorageAdapter) =>
        s.write(async (tx) => {
          const n = (await tx.getMeta<number>('n')) ?? 0;
          await tx.getDoc('c', 'k'); // a second request between read and write
          tx.putMeta('n', n + 1);
          return n + 1;
        });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 === 0 ? one : two)));
      equal(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
        'every bump saw the previous one',
      );
      equal(await two.read((tx) => tx.getMeta('n')), 20, 'final count');
      one.close();
      two.close();
    },
  },
  {
    name: 'close: later transactions reject, the data stays for the next handle',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => tx.putDoc(doc('c', 'k', 4)));
      s.close();
      await rejects(
        s.read((tx) => tx.getDoc('c', 'k')),
        'read after close',
      );
      const again = await make(name);
      equal((await again.read((tx) => tx.getDoc('c', 'k')))?.seq, 4, 'data after reopen');
      again.close();
    },
  },
  {
    name: 'destroy deletes the database',
    async run(make, name) {
      const s = await make(name);
      await s.write(async (tx) => {
        tx.putDoc(doc('c', 'k'));
        tx.putMeta('n', 1);
        tx.addOutbox(entry('k', 1));
      });
      await s.destroy();
      const again = await make(name);
      await again.read(async (tx) => {
        equal(await tx.getDoc('c', 'k'), undefined, 'doc');
        equal(await tx.getMeta('n'), undefined, 'meta');
        equal(await tx.countOutbox(), 0, 'outbox');
      });
      again.close();
    },
  },
];
