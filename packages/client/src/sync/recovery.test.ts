import { describe, expect, it } from 'vitest';
import { MemoryDatabase, createMemoryStorage } from '../storage/memory-storage.js';
import { dbName, relayClientSet } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import type { Transport } from './transport.js';

const clients = relayClientSet();

const dotsOf = async (client: Awaited<ReturnType<typeof clients.open>>, key: string) =>
  (await client.collection('notes').inspect(key)).siblings.map((s) => s.dot);

describe('identity loss', () => {
  it('restored profile: a database restored from an old copy gets a new replica id; no write is lost and no dot of the old id is reused', async () => {
    await clients.startRelay();
    const db = new MemoryDatabase(dbName('profile'));
    const before = await clients.open(db.name, { storage: createMemoryStorage(db) });
    await before.collection('notes').put('k1', 'v1', { ack: 'relay' });
    const backup = db.snapshot(dbName('restored'));
    await before.collection('notes').put('k1', 'v2', { ack: 'relay' }); // after the backup: the relay has it
    await before.collection('notes').put('k2', 'future', { ack: 'relay' });
    const oldId = before.replicaId;
    await before.close();

    // The restored copy writes offline first: its counters restart where the backup left them.
    const restoredOffline = await clients.open(backup.name, { storage: createMemoryStorage(backup), transport: undefined });
    await restoredOffline.collection('notes').put('k2', 'restored'); // would reuse oldId's dot for k2
    await restoredOffline.close();

    const restored = await clients.open(backup.name, { storage: createMemoryStorage(backup) });
    await eventually(() => expect(restored.replicaId).not.toBe(oldId));
    await restored.whenSynced({ timeoutMs: 5000 });
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => {
      expect((await observer.collection('notes').get('k1'))?.value).toBe('v2');
      const k2 = await observer.collection('notes').get('k2');
      expect([k2?.value, ...(k2?.conflicts.map((c) => c.value) ?? [])].sort()).toEqual(['future', 'restored']);
    });
    // The re-applied write is under the new id; the old id's only dot for k2 is the relay's own.
    const k2Dots = await dotsOf(observer, 'k2');
    expect(k2Dots).toContainEqual([restored.replicaId, 1]);
    expect(k2Dots.filter((d) => d[0] === oldId)).toEqual([[oldId, 1]]);
    expect((await observer.collection('notes').inspect('k2')).siblings.find((s) => s.dot[0] === oldId)?.value).toBe('future');
    expect(await restored.rejected()).toEqual([]);
  });

  it('replica_reset from the relay (a reused dot, write numbers equal): a new replica id, the pending write re-applied under it', async () => {
    await clients.startRelay();
    const db = new MemoryDatabase(dbName('twin'));
    const first = await clients.open(db.name, { storage: createMemoryStorage(db) });
    await first.whenSynced({ timeoutMs: 5000 });
    const backup = db.snapshot(dbName('twin-copy'));
    await first.collection('notes').put('k', 'original', { ack: 'relay' });
    const oldId = first.replicaId;
    await first.close();
    const twin = await clients.open(backup.name, { storage: createMemoryStorage(backup), transport: undefined });
    await twin.collection('notes').put('k', 'twin'); // same dot, same write number, other content
    await twin.close();
    const online = await clients.open(backup.name, { storage: createMemoryStorage(backup) });
    await eventually(() => expect(online.replicaId).not.toBe(oldId));
    await online.whenSynced({ timeoutMs: 5000 });
    await eventually(async () => {
      const k = await online.collection('notes').get('k');
      expect([k?.value, ...(k?.conflicts.map((c) => c.value) ?? [])].sort()).toEqual(['original', 'twin']);
    });
    expect((await dotsOf(online, 'k')).map((d) => d[0]).sort()).toEqual([oldId, online.replicaId].sort());
  });
});

describe('a reused dot the relay covers but no longer holds (issue 12 §1)', () => {
  const valuesOf = async (client: Awaited<ReturnType<typeof clients.open>>, key: string) =>
    (await client.collection('notes').inspect(key)).siblings.map((s) => (s.deleted === true ? 'deleted' : s.value)).sort();

  it('a restored copy writes over an old read, minting a dot the relay saw superseded: every client ends with [deleted, v3], nothing acked is lost', async () => {
    await clients.startRelay();
    const db = new MemoryDatabase(dbName('c'));
    const c = await clients.open(db.name, { storage: createMemoryStorage(db) });
    await c.collection('notes').put('k', 'v1', { ack: 'relay' }); // C:1
    const backup = db.snapshot(dbName('c-copy'));
    await c.collection('notes').get('k');
    await c.collection('notes').put('k', 'v1b', { ack: 'relay' }); // C:2
    const oldId = c.replicaId;
    await c.close();

    const b = await clients.open(dbName('b'));
    await eventually(async () => expect((await b.collection('notes').get('k'))?.value).toBe('v1b'));
    await b.collection('notes').delete('k', { ack: 'relay' }); // B:1 over {C:1, C:2}

    // C's storage is the copy of step 1; offline, it writes over what it read ({C:1}): C:2 again.
    const offline = await clients.open(backup.name, { storage: createMemoryStorage(backup), transport: undefined });
    await offline.collection('notes').get('k');
    const receipt = await offline.collection('notes').put('k', 'v3');
    await offline.close();

    const restored = await clients.open(backup.name, { storage: createMemoryStorage(backup) });
    await restored.whenSynced({ timeoutMs: 5000 });
    expect(restored.replicaId).not.toBe(oldId);
    await eventually(async () => {
      expect(await valuesOf(b, 'k')).toEqual(['deleted', 'v3']);
      expect(await valuesOf(restored, 'k')).toEqual(['deleted', 'v3']);
    });
    expect(await restored.rejected()).toEqual([]);
    expect((await restored.writeStatus(receipt.writeId))?.status).toBe('relay');
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => expect(await valuesOf(observer, 'k')).toEqual(['deleted', 'v3']));
  });

  it('storage lost, replica id kept (write number back to 0): the new write reusing A:1, which B superseded, is not absorbed', async () => {
    await clients.startRelay();
    const a = await clients.open(dbName('a'));
    await a.collection('notes').put('k', 'first', { ack: 'relay' }); // A:1
    const oldId = a.replicaId;
    await a.close();
    const b = await clients.open(dbName('b'));
    await eventually(async () => expect((await b.collection('notes').get('k'))?.value).toBe('first'));
    await b.collection('notes').put('k', 'from b', { ack: 'relay' }); // B:1 supersedes A:1

    // A fresh database that kept only the replica id: its counters and write number restart.
    const wiped = new MemoryDatabase(dbName('a-wiped'));
    const setup = createMemoryStorage(wiped);
    await setup.write(async (tx) => tx.putMeta('replica', { id: oldId, writeNumber: 0, retired: [] }));
    setup.close();
    const offline = await clients.open(wiped.name, { storage: createMemoryStorage(wiped), transport: undefined });
    await offline.collection('notes').put('k', 'again'); // a blind write: A:1 once more
    expect((await offline.collection('notes').inspect('k')).siblings.map((s) => s.dot)).toEqual([[oldId, 1]]);
    await offline.close();

    const back = await clients.open(wiped.name, { storage: createMemoryStorage(wiped) });
    await back.whenSynced({ timeoutMs: 5000 });
    expect(back.replicaId).not.toBe(oldId);
    await eventually(async () => {
      expect(await valuesOf(b, 'k')).toEqual(['again', 'from b']);
      expect(await valuesOf(back, 'k')).toEqual(['again', 'from b']);
    });
    expect(await back.rejected()).toEqual([]);
  });
});

describe('counter floors', () => {
  it('delete, evict, re-create: the counter floor is kept, so the old tombstone never hides the new value', async () => {
    await clients.startRelay();
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    await a.collection('notes').put('k', 'first', { ack: 'relay' });
    await a.collection('notes').delete('k', { ack: 'relay' });
    await a.collection('notes').evict('k');
    expect(await a.collection('notes').inspect('k')).toMatchObject({ siblings: [], exists: false });
    await a.collection('notes').put('k', 'again', { ack: 'relay' });
    expect(await dotsOf(a, 'k')).toContainEqual([a.replicaId, 3]); // not 1: that dot is the relay's, superseded by the delete
    await eventually(async () => expect((await b.collection('notes').get('k'))?.value).toBe('again'));
    expect((await a.collection('notes').get('k'))?.value).toBe('again');
  });

  it('evict refuses a key with pending writes', async () => {
    await clients.startRelay();
    const a = await clients.open(dbName('a'), { transport: undefined });
    await a.collection('notes').put('k', 1);
    await expect(a.collection('notes').evict('k')).rejects.toMatchObject({ code: 'bad_message' });
  });
});

describe('relay data loss', () => {
  it('a wiped relay (new lineage): clients catch up from 0 and re-push their states, so the relay regains them', async () => {
    const relay = await clients.startRelay({ store: 'memory' });
    const a = await clients.open(dbName('a'));
    await a.collection('notes').put('k', 'kept by a', { ack: 'relay' });
    await relay.restart({ wipe: true });
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => expect((await observer.collection('notes').get('k'))?.value).toBe('kept by a'), 10_000);
  });

  it('a relay restored from an older backup (cursor beyond its head): the lost writes come back from the client', async () => {
    const relay = await clients.startRelay();
    const a = await clients.open(dbName('a'));
    await a.collection('notes').put('k1', 1, { ack: 'relay' });
    await relay.stop();
    const backup = await relay.backup();
    await relay.start();
    await a.collection('notes').put('k2', 2, { ack: 'relay' });
    await a.collection('notes').put('k3', 3, { ack: 'relay' });
    await eventually(() => expect(a.status.get().positions['notes']).toBeGreaterThanOrEqual(3));
    await relay.stop();
    await relay.start({ restore: backup });
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => {
      expect((await observer.collection('notes').get('k2'))?.value).toBe(2);
      expect((await observer.collection('notes').get('k3'))?.value).toBe(3);
    }, 10_000);
  });
});

describe('clock', () => {
  it('clock_skew: the write is written again as a new write with the corrected clock; its promise resolves and nothing is lost', async () => {
    await clients.startRelay({ limits: { maxClockSkewMs: 2000 } });
    let skew = 0;
    const a = await clients.open(dbName('a'), { now: () => Date.now() + skew });
    await a.whenSynced({ timeoutMs: 5000 });
    skew = 10 * 60_000; // the device clock jumps ten minutes ahead mid-session
    const receipt = await a.collection('notes').put('k', 'v', { ack: 'relay' });
    expect(receipt.level).toBe('relay');
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => expect(await observer.collection('notes').get('k')).toMatchObject({ value: 'v', conflicts: [] }));
    const inspected = await observer.collection('notes').inspect('k');
    expect(inspected.siblings).toHaveLength(1);
    expect(inspected.siblings[0]!.dot).toEqual([a.replicaId, 2]); // dot 1 was refused, and is covered, not re-stamped
    expect(inspected.siblings[0]!.hlc.wall).toBeLessThan(Date.now() + 5000);
  });
});

describe('connection', () => {
  it('a connection that stops answering is detected by the heartbeat and replaced', async () => {
    const relay = await clients.startRelay({ limits: { heartbeatMs: 100 } });
    let opens = 0;
    let frozen: { value: boolean } | undefined;
    const inner = relay.memory;
    const transport: Transport = {
      open(handlers) {
        opens++;
        const mine = { value: false };
        frozen = mine;
        const conn = inner.open({ ...handlers, onMessage: (text) => (mine.value ? undefined : handlers.onMessage(text)) });
        return { send: (text) => (mine.value ? undefined : conn.send(text)), close: (code, reason) => conn.close(code, reason) };
      },
    };
    const a = await clients.open(dbName('a'), { transport });
    await a.whenSynced({ timeoutMs: 5000 });
    frozen!.value = true; // the link goes silent without closing
    await a.collection('notes').put('after', 1);
    await eventually(() => expect(opens).toBe(2), 5000);
    await a.whenSynced({ timeoutMs: 5000 });
    expect(await a.outbox()).toEqual([]);
  });

  it('rate_limited: the client backs off and pushes smaller batches until everything is in', async () => {
    await clients.startRelay({ rateLimit: { changesPerSecond: 40, burst: 20 } });
    const name = dbName('a');
    const offline = await clients.open(name, { transport: undefined });
    await offline.batch((b) => {
      for (let i = 0; i < 60; i++) b.collection('notes').put(`k${i}`, i);
    });
    await offline.close();
    const a = await clients.open(name, { backoff: { baseMs: 50, maxMs: 200 } });
    await a.whenSynced({ timeoutMs: 15_000 });
    const observer = await clients.open(dbName('observer'));
    await eventually(async () => expect(await observer.collection('notes').scan()).toHaveLength(60));
  });
});
