import { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import type { RelayStore } from '../store/relay-store.js';
import { REPLICA_A, REPLICA_B, dotOf, putAll, snapshot, writeHeadOf, type Snapshot, type StoreHarness } from './store-fixtures.js';

const COLLECTIONS = ['carts', 'stock'];

/** Writes a little of everything a store keeps. */
async function fill(store: RelayStore): Promise<void> {
  await putAll(store, 'carts', ['a', 'b', 'c']);
  await putAll(store, 'stock', ['x']);
  await store.transact(async (tx) => {
    const { seq } = await tx.put('carts', 'a', 'a2', dotOf(9));
    await tx.recordDecision('carts', 'a', dotOf(9), { status: 'accepted', seq });
    await tx.recordDecision('carts', 'b', dotOf(1, REPLICA_B), { status: 'rejected' });
    await tx.noteWrite(REPLICA_A, writeHeadOf(12));
  });
  await store.setMeta('recovery-window-until', '123');
  await store.claimReplica(REPLICA_B, 'bob');
}

async function expectFilled(store: RelayStore, original: Snapshot): Promise<void> {
  expect(await snapshot(store, COLLECTIONS)).toEqual(original);
  expect(await store.decision('carts', 'a', dotOf(9))).toEqual({ status: 'accepted', seq: 4 });
  expect(await store.decision('carts', 'b', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' });
  expect((await store.writeHead(REPLICA_A)).writeNumber).toBe(12);
  expect(await store.getMeta('recovery-window-until')).toBe('123');
  expect(await store.replicaOwner(REPLICA_B)).toBe('bob');
}

export function persistenceTests(harness: StoreHarness): void {
  const openFile = harness.openFile;
  if (!harness.backups) {
    describe('backup', () => {
      it('rejects with a ConvergeError: this store makes no copies of its own', async () => {
        const store = await harness.make();
        await expect(store.backup(harness.tempPath('backup.db'))).rejects.toBeInstanceOf(ConvergeError);
      });
    });
  }
  if (openFile === undefined) return;

  describe('persistence', () => {
    it('reopening keeps lineage, creation time, documents, log, hashes, decisions, write numbers, meta and replica owners', async () => {
      const path = harness.tempPath('relay.db');
      const store = await openFile(path);
      await fill(store);
      const original = await snapshot(store, COLLECTIONS);
      await store.close();

      const reopened = await openFile(path);
      await expectFilled(reopened, original);
      // The log goes on where it stopped, its chain included.
      const next = await reopened.transact((tx) => tx.put('carts', 'd', 'd', dotOf(20)));
      expect(next.seq).toBe(original.logs[0]!.head.seq + 1);
      await reopened.close();
      expect(await (await openFile(path)).head('carts')).toEqual(next);
    });

    it('a wiped database starts over empty, with a new lineage', async () => {
      const path = harness.tempPath('relay.db');
      const store = await openFile(path);
      await fill(store);
      const lineage = store.lineage;
      await store.close();
      await harness.wipe(path);

      const fresh = await openFile(path);
      expect(fresh.lineage).not.toBe(lineage);
      expect(await fresh.collections()).toEqual([]);
      expect((await fresh.head('carts')).seq).toBe(0);
    });
  });
  if (!harness.backups) return;

  describe('backups', () => {
    it('a backup opens with the same lineage and content; later writes are not in it', async () => {
      const store = await openFile(harness.tempPath('relay.db'));
      await fill(store);
      const original = await snapshot(store, COLLECTIONS);
      const backupPath = harness.tempPath('backup.db');
      await store.backup(backupPath);
      await store.transact((tx) => tx.put('carts', 'after-backup', 'x', dotOf(30)));

      const restored = await openFile(backupPath);
      await expectFilled(restored, original);
      expect(await restored.get('carts', 'after-backup')).toBeUndefined();
    });

    it('a backup taken while transactions continue holds a consistent prefix of the log', async () => {
      const store = await openFile(harness.tempPath('relay.db'));
      const keyAtSeq = [''];
      const padding = 'p'.repeat(400);
      const write = (count: number) =>
        store.transact(async (tx) => {
          for (let index = 0; index < count; index++) {
            const key = `k${keyAtSeq.length % 700}`;
            await tx.put('carts', key, `${key}:${keyAtSeq.length}:${padding}`, dotOf(keyAtSeq.length));
            keyAtSeq.push(key);
          }
        });
      await write(2000);
      const backupPath = harness.tempPath('backup.db');
      const backup = store.backup(backupPath);
      let done = false;
      backup.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        await write(50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await backup;

      const copy = await openFile(backupPath);
      const head = await copy.head('carts');
      expect(head.seq).toBeGreaterThanOrEqual(2000);
      expect(head.hash).toBe(await store.hashAt('carts', head.seq));
      const latest = new Map<string, number>();
      for (let seq = 1; seq <= head.seq; seq++) latest.set(keyAtSeq[seq]!, seq);
      const docs = await copy.scan('carts', 0, Number.MAX_SAFE_INTEGER);
      expect(docs.map((doc) => [doc.key, doc.seq])).toEqual([...latest].sort((a, b) => a[1] - b[1]));
      for (const doc of docs) expect(doc.state).toBe(`${doc.key}:${doc.seq}:${padding}`);
    });
  });
}
