import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import type { RelayStore } from '../store/relay-store.js';
import { REPLICA_A, REPLICA_B, dotOf, putAll, snapshot, writeHeadOf, type StoreHarness } from './store-fixtures.js';

const COLLECTIONS = ['carts', 'stock'];

/** Writes a little of everything a store keeps. */
function fill(store: RelayStore): void {
  putAll(store, 'carts', ['a', 'b', 'c']);
  putAll(store, 'stock', ['x']);
  store.transact((tx) => {
    const { seq } = tx.put('carts', 'a', 'a2', dotOf(9));
    tx.recordDecision('carts', 'a', dotOf(9), { status: 'accepted', seq });
    tx.recordDecision('carts', 'b', dotOf(1, REPLICA_B), { status: 'rejected' });
    tx.noteWrite(REPLICA_A, writeHeadOf(12));
  });
  store.setMeta('recovery-window-until', '123');
  store.claimReplica(REPLICA_B, 'bob');
}

function expectFilled(store: RelayStore, original: ReturnType<typeof snapshot>): void {
  expect(snapshot(store, COLLECTIONS)).toEqual(original);
  expect(store.decision('carts', 'a', dotOf(9))).toEqual({ status: 'accepted', seq: 4 });
  expect(store.decision('carts', 'b', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' });
  expect(store.writeHead(REPLICA_A).writeNumber).toBe(12);
  expect(store.getMeta('recovery-window-until')).toBe('123');
  expect(store.replicaOwner(REPLICA_B)).toBe('bob');
}

export function persistenceTests(harness: StoreHarness): void {
  const openFile = harness.openFile;
  if (openFile === undefined) {
    describe('backup', () => {
      it('rejects with a ConvergeError: this store keeps nothing on disk', async () => {
        const store = harness.make();
        await expect(store.backup(harness.tempPath('backup.db'))).rejects.toBeInstanceOf(ConvergeError);
      });
    });
    return;
  }

  describe('persistence', () => {
    it('reopening keeps lineage, creation time, documents, log, hashes, decisions, write numbers, meta and replica owners', () => {
      const path = harness.tempPath('relay.db');
      const store = openFile(path);
      fill(store);
      const original = snapshot(store, COLLECTIONS);
      store.close();

      const reopened = openFile(path);
      expectFilled(reopened, original);
      // The log goes on where it stopped, its chain included.
      const next = reopened.transact((tx) => tx.put('carts', 'd', 'd', dotOf(20)));
      expect(next.seq).toBe(original.logs[0]!.head.seq + 1);
      reopened.close();
      expect(openFile(path).head('carts')).toEqual(next);
    });

    it('a wiped database starts over empty, with a new lineage', () => {
      const path = harness.tempPath('relay.db');
      const store = openFile(path);
      fill(store);
      const lineage = store.lineage;
      store.close();
      rmSync(dirname(path), { recursive: true, force: true });
      mkdirSync(dirname(path));

      const fresh = openFile(path);
      expect(fresh.lineage).not.toBe(lineage);
      expect(fresh.collections()).toEqual([]);
      expect(fresh.head('carts').seq).toBe(0);
    });

    it('a backup opens with the same lineage and content; later writes are not in it', async () => {
      const store = openFile(harness.tempPath('relay.db'));
      fill(store);
      const original = snapshot(store, COLLECTIONS);
      const backupPath = harness.tempPath('backup.db');
      await store.backup(backupPath);
      store.transact((tx) => tx.put('carts', 'after-backup', 'x', dotOf(30)));

      const restored = openFile(backupPath);
      expectFilled(restored, original);
      expect(restored.get('carts', 'after-backup')).toBeUndefined();
    });

    it('a backup taken while transactions continue holds a consistent prefix of the log', async () => {
      const store = openFile(harness.tempPath('relay.db'));
      const keyAtSeq = [''];
      const padding = 'p'.repeat(400);
      const write = (count: number) =>
        store.transact((tx) => {
          for (let index = 0; index < count; index++) {
            const key = `k${keyAtSeq.length % 700}`;
            tx.put('carts', key, `${key}:${keyAtSeq.length}:${padding}`, dotOf(keyAtSeq.length));
            keyAtSeq.push(key);
          }
        });
      write(2000);
      const backupPath = harness.tempPath('backup.db');
      const backup = store.backup(backupPath);
      let done = false;
      backup.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        write(50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await backup;

      const copy = openFile(backupPath);
      const head = copy.head('carts');
      expect(head.seq).toBeGreaterThanOrEqual(2000);
      expect(head.hash).toBe(store.hashAt('carts', head.seq));
      const latest = new Map<string, number>();
      for (let seq = 1; seq <= head.seq; seq++) latest.set(keyAtSeq[seq]!, seq);
      const docs = copy.scan('carts', 0, Number.MAX_SAFE_INTEGER);
      expect(docs.map((doc) => [doc.key, doc.seq])).toEqual([...latest].sort((a, b) => a[1] - b[1]));
      for (const doc of docs) expect(doc.state).toBe(`${doc.key}:${doc.seq}:${padding}`);
    });
  });
}
