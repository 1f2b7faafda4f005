import { dotKey, type Dot } from '@converge/conflict';
import type { ReadResultFrame, WireState } from '@converge/protocol';
import { ProtocolClient } from '@converge/sync-server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { replicaOf, type Client } from '../client.js';
import { createMemoryStorage, MemoryDatabase } from '../storage/memory-storage.js';
import { clientSet, dbName, relayClientSet } from '../testing/client-set.js';
import { coreFixture } from '../testing/core-fixture.js';
import { importInto } from './data-transfer.js';
import { exportToBlob, exportToText } from './export-source.js';

const COLLECTIONS = {
  carts: { mode: 'multi-leader', strategy: 'cart' },
  stock: { mode: 'leader-follower', strategy: 'lww' },
} as const;

const clients = relayClientSet();
const offline = clientSet(() => ({}));
const openCore = coreFixture();
afterEach(() => offline.closeAll());

/** A client without a relay (its writes stay pending), declaring the test's collections. */
const openOffline = (label: string) => offline.open(dbName(label), { collections: COLLECTIONS });

/** Everything a user could see of a client's data, in a comparable form. */
async function contents(client: Client) {
  const notes = await client.collection('notes').scan();
  const carts = await client.collection<Map<string, number>>('carts').scan();
  return {
    notes: notes.map((d) => ({ key: d.key, value: d.value, conflicts: d.conflicts.map((c) => c.value), pending: d.pending })),
    carts: carts.map((d) => ({ key: d.key, value: d.value, pending: d.pending })),
    outbox: (await client.outbox()).map(({ writeId, collection, key, kind, value, op, ack }) => ({ writeId, collection, key, kind, value, op, ack })),
    rejected: (await client.rejected()).map(({ writeId, collection, key, code, value }) => ({ writeId, collection, key, code, value })),
  };
}

/** What a target holds of its own, to show that a refused import changed nothing. */
async function storageOf(client: Client) {
  const replica = replicaOf(client);
  return {
    record: await replica.record(),
    docs: await replica.scan('notes', {}),
    pending: await replica.pendingWrites(),
    rejected: await replica.rejectedWrites(),
  };
}

/** The relay's own state of keys, read from it with a `read` frame. */
async function relayStates(url: string, collection: string, keys: readonly string[]): Promise<Map<string, WireState>> {
  const reader = await ProtocolClient.connect(url, { replicaId: `reader${Date.now()}` });
  try {
    await reader.next('welcome');
    reader.send({ type: 'read', id: 'r-1', collection, keys, consistency: 'leader' });
    const result: ReadResultFrame = await reader.next('read-result');
    return new Map(result.docs.map((d) => [d.key, d.state!]));
  } finally {
    reader.close();
  }
}

const dotsOf = (state: WireState | undefined): Dot[] => state?.siblings.map((s) => s.dot) ?? [];

describe('export and import on the memory adapter', () => {
  it('a fresh client gets everything — documents, pending writes, the rejected list, write statuses, cursors — under a new replica id, and its pending writes sync under that id', async () => {
    const relay = await clients.startRelay({ collections: COLLECTIONS });
    const source = await clients.open(dbName('source'), { collections: COLLECTIONS });
    const helper = await clients.open(dbName('helper'), { collections: COLLECTIONS });
    const notes = source.collection('notes');
    const confirmed = await notes.put('a', { title: 'confirmed' }, { ack: 'relay' });
    await notes.put('gone', 'to delete', { ack: 'relay' });
    await notes.put('evicted', 'evicted here', { ack: 'relay' });
    // A refused write: the leader took another value while the source was offline.
    await source.collection('stock').put('sku', 10, { ack: 'relay' });
    await source.whenSynced();
    await expect.poll(async () => (await helper.collection('stock').get('sku'))?.value).toBe(10);
    source.pause();
    await helper.collection('stock').put('sku', 9, { ack: 'relay' });
    const refused = source.collection('stock').put('sku', 8, { ack: 'relay' });
    source.resume();
    await expect(refused).rejects.toMatchObject({ code: 'conflict_rejected' });
    await source.whenSynced();
    await notes.evict('evicted');
    // Pending writes: a put, a delete, a cart operation.
    source.pause();
    await notes.put('p', { title: 'pending' });
    await notes.delete('gone');
    await source.collection('carts').increment('cart', 'apple', 2);
    const before = await contents(source);
    expect(before.outbox.map((w) => w.key)).toEqual(['p', 'gone', 'cart']);
    expect(before.rejected).toMatchObject([{ key: 'sku', code: 'conflict_rejected', value: 8 }]);

    const text = await exportToText(source.exportData());
    const sourceId = source.replicaId;
    const target = await clients.open(dbName('target'), { collections: COLLECTIONS, paused: true });
    const targetId = target.replicaId;
    const written: { writeId: string; dot: Dot }[] = [];
    target.on('written', (w) => written.push({ writeId: w.writeId, dot: w.dot }));
    const summary = await target.importData(text);

    expect(summary).toEqual({ replicaId: target.replicaId, documents: 5, pending: 3, rejected: 1 });
    expect(target.replicaId).not.toBe(sourceId);
    expect(target.replicaId).not.toBe(targetId);
    expect(target.status.get().replicaId).toBe(target.replicaId);
    expect((await replicaOf(target).record())?.retired).toEqual([sourceId, targetId]);
    expect(await contents(target)).toEqual(before);
    expect(target.status.get().pending).toBe(3);
    expect((await target.writeStatus(confirmed.writeId))?.status).toBe('relay');
    expect(await replicaOf(target).cursors(['notes', 'stock'])).toEqual(await replicaOf(source).cursors(['notes', 'stock']));
    // Every pending write was written again under the new id, before anything could push it.
    const pending = await replicaOf(target).pendingWrites();
    expect(pending.map((e) => e.replica)).toEqual([target.replicaId, target.replicaId, target.replicaId]);
    expect(written.map((w) => w.writeId)).toEqual(before.outbox.map((w) => w.writeId));
    expect(written.every((w) => w.dot[0] === target.replicaId)).toBe(true);
    // The evicted key's counter floor came along: a write to it never reuses a counter of that key.
    expect((await target.collection('notes').get('evicted'))?.value).toBeUndefined();

    target.resume();
    await target.whenSynced({ timeoutMs: 10_000 });
    expect(await target.outbox()).toEqual([]);
    const observer = await clients.open(dbName('observer'), { collections: COLLECTIONS });
    observer.collection('notes');
    await observer.whenSynced({ timeoutMs: 10_000 });
    expect((await observer.collection('notes').get('p'))?.value).toEqual({ title: 'pending' });
    expect((await observer.collection('notes').inspect('p')).siblings.map((s) => s.dot[0])).toEqual([target.replicaId]);
    expect(await observer.collection('notes').get('gone')).toBeUndefined();
    expect((await observer.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 2]]));
    const atRelay = await relayStates(relay.url, 'notes', ['p', 'a']);
    expect(dotsOf(atRelay.get('p'))).toEqual([written[0]!.dot]);
    expect(dotsOf(atRelay.get('a'))[0]![0]).toBe(sourceId); // the exported id's confirmed writes stay its own
  });

  it('a client that is connected when it imports reconnects at once under the new id, and pushes the imported pending writes', async () => {
    await clients.startRelay({ collections: COLLECTIONS });
    const { text, source } = await sampleExport(); // written offline: the relay has none of it
    const target = await clients.open(dbName('connected'), { collections: COLLECTIONS });
    target.collection('notes');
    await target.whenSynced();
    const { replicaId } = await target.importData(text);
    await target.whenSynced({ timeoutMs: 10_000 });
    const observer = await clients.open(dbName('observer'), { collections: COLLECTIONS });
    await expect
      .poll(async () => (await observer.collection('notes').inspect('a')).siblings.map((s) => [s.dot[0], s.value]))
      .toEqual([[replicaId, { title: 'first' }]]);
    expect((await observer.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 1]]));
    expect(replicaId).not.toBe(source.replicaId);
  });

  it('the same export imported into two clients that both write offline: no dot is reused, and every write is a sibling at the relay and at an observer', async () => {
    const relay = await clients.startRelay({ collections: COLLECTIONS });
    const source = await clients.open(dbName('source'), { collections: COLLECTIONS });
    await source.collection('notes').put('shared', 'base', { ack: 'relay' });
    source.pause();
    await source.collection('notes').put('p', 'from the source');
    const text = await exportToText(source.exportData());
    const sourceDots = (await source.collection('notes').inspect('p')).siblings.map((s) => `p ${dotKey(s.dot)}`);
    await source.close(); // the source never pushes its pending write: only the copies do

    const copies: Client[] = [];
    /** Dots name writes per key: `key replica:counter`. */
    const dots: string[] = [...sourceDots];
    for (const label of ['one', 'two']) {
      const copy = await clients.open(dbName(label), { collections: COLLECTIONS, paused: true });
      copy.on('written', (w) => dots.push(`${w.key} ${dotKey(w.dot)}`));
      await copy.importData(text);
      await copy.collection('notes').get('shared');
      await copy.collection('notes').put('shared', `edited by ${label}`);
      await copy.collection('notes').put(`own-${label}`, label);
      copies.push(copy);
    }
    const [one, two] = copies as [Client, Client];
    expect(one.replicaId).not.toBe(two.replicaId);
    // Each copy's pending write and its two new writes: 3 dots each, all distinct, none of the source's id.
    expect(dots).toHaveLength(1 + 3 + 3);
    expect(new Set(dots).size).toBe(dots.length);
    expect(dots.slice(1).every((d) => d.includes(` ${one.replicaId}:`) || d.includes(` ${two.replicaId}:`))).toBe(true);

    one.resume();
    two.resume();
    await one.whenSynced({ timeoutMs: 10_000 });
    await two.whenSynced({ timeoutMs: 10_000 });
    const observer = await clients.open(dbName('observer'), { collections: COLLECTIONS });
    await observer.whenSynced({ timeoutMs: 10_000 });
    const keys = ['shared', 'p', 'own-one', 'own-two'];
    const atRelay = await relayStates(relay.url, 'notes', keys);
    const valuesAt = async (client: Client, key: string) =>
      (await client.collection('notes').inspect(key)).siblings.map((s) => (s.deleted === true ? 'deleted' : s.value)).sort();
    for (const client of [observer, one, two]) {
      await expect.poll(() => valuesAt(client, 'shared')).toEqual(['edited by one', 'edited by two']);
      expect(await valuesAt(client, 'p')).toEqual(['from the source', 'from the source']); // re-pushed once by each copy
      expect(await valuesAt(client, 'own-one')).toEqual(['one']);
      expect(await valuesAt(client, 'own-two')).toEqual(['two']);
    }
    for (const key of keys) {
      const observed = (await observer.collection('notes').inspect(key)).siblings.map((s) => s.dot);
      expect(dotsOf(atRelay.get(key)).map(dotKey).sort()).toEqual(observed.map(dotKey).sort());
    }
    const atRelayDots = keys.flatMap((key) => dotsOf(atRelay.get(key)).map((d) => `${key} ${dotKey(d)}`));
    expect(new Set(atRelayDots).size).toBe(atRelayDots.length);
    expect(atRelayDots).toEqual(expect.arrayContaining(dots.slice(1)));
    expect(
      dotsOf(atRelay.get('p'))
        .map((d) => d[0])
        .sort(),
    ).toEqual([one.replicaId, two.replicaId].sort());
  });
});

/** An export of an offline client holding a confirmed-looking document, a pending write and a cart. */
async function sampleExport(): Promise<{ readonly text: string; readonly source: Client }> {
  const source = await openOffline('sample');
  await source.collection('notes').put('a', { title: 'first' });
  await source.collection('carts').increment('cart', 'apple', 1);
  return { text: await exportToText(source.exportData()), source };
}

const replaceLine = (text: string, match: RegExp, line: (old: string) => string | undefined) =>
  text
    .split('\n')
    .flatMap((old) => (match.test(old) ? [line(old)].filter((l) => l !== undefined) : [old]))
    .join('\n');

describe('importData refuses, and changes nothing', () => {
  const endCount = (text: string, delta: number) =>
    replaceLine(text, /"type":"end"/, (old) => old.replace(/"lines":(\d+)/, (_m, n: string) => `"lines":${Number(n) + delta}`));
  const corruptions: readonly (readonly [string, (text: string) => string, RegExp])[] = [
    ['another format', (t) => replaceLine(t, /"format":/, (old) => old.replace('converge-export', 'other-export')), /line 1: format: not a Converge export/],
    [
      'an unknown version',
      (t) => replaceLine(t, /"format":/, (old) => old.replace('"version":1', '"version":2')),
      /line 1: version: export format version 2: this client reads version 1/,
    ],
    ['a line that is not JSON', (t) => replaceLine(t, /"type":"doc"/, (old) => old.slice(0, -3)), /line \d+: line: not a line of JSON/],
    [
      'a state whose sibling its context does not hold',
      (t) => replaceLine(t, /"key":"a"/, (old) => old.replace(/"state":\["([^"]+)",1,/, '"state":["$1",0,')),
      /line \d+: doc.state/,
    ],
    [
      'a line of an unknown type',
      (t) => replaceLine(t, /"type":"end"/, (old) => `{"type":"surprise"}\n${old}`),
      /line \d+: type: no line is of type "surprise"/,
    ],
    [
      'a meta entry nobody defines',
      (t) => replaceLine(t, /"type":"end"/, (old) => `{"type":"meta","key":"other","value":1}\n${old}`),
      /no meta entry is named "other"/,
    ],
    ['an export cut short', (t) => replaceLine(t, /"type":"end"/, () => undefined), /ends before its end line: it was cut short/],
    [
      'a line lost in the middle',
      (t) => replaceLine(t, /"key":"limits"|"key":"recent"|"type":"rejected"|"key":"a"/, () => undefined),
      /lines: the end line counts \d+ lines before it; there are \d+/,
    ],
    ['lines after the end line', (t) => `${t}{"type":"meta","key":"limits","value":{}}\n`, /goes on after its end line/],
    [
      'a pending write without its document',
      (t) =>
        endCount(
          replaceLine(t, /"type":"doc".*"key":"cart"/, () => undefined),
          -1,
        ),
      /pending [^ ]+: its document carts\/cart is missing/,
    ],
    ['the replica record twice', (t) => replaceLine(t, /"key":"replica"/, (old) => `${old}\n${old}`), /meta: "replica" appears twice/],
    ['an empty export', () => '', /the export cannot be imported: export: it is empty/],
  ];

  for (const [what, corrupt, message] of corruptions) {
    it(`${what}: bad_message naming it; the target stays empty, with its replica id`, async () => {
      const { text } = await sampleExport();
      const target = await openOffline('target');
      const before = await storageOf(target);
      const id = target.replicaId;
      const error = await target.importData(corrupt(text)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'bad_message' });
      expect((error as Error).message).toMatch(message);
      expect(await storageOf(target)).toEqual(before);
      expect(target.replicaId).toBe(id);
      expect((await target.importData(text)).documents).toBe(2); // the same client takes a sound export afterwards
    });
  }

  it('a client that holds documents or writes: bad_message, nothing of the export is stored', async () => {
    const { text } = await sampleExport();
    const target = await openOffline('busy');
    await target.collection('notes').put('mine', 1);
    const before = await storageOf(target);
    await expect(target.importData(text)).rejects.toMatchObject({ code: 'bad_message', message: expect.stringMatching(/empty client only/) });
    expect(await storageOf(target)).toEqual(before);
    expect(await target.collection('carts').get('cart')).toBeUndefined();
  });

  it('a collection the client declares with another CRDT type than the export: bad_message', async () => {
    const { text } = await sampleExport();
    const target = await offline.open(dbName('counter'), { collections: { carts: { strategy: 'counter' } } });
    const before = await storageOf(target);
    await expect(target.importData(text)).rejects.toMatchObject({
      code: 'bad_message',
      message: 'collection carts holds cart values in the export; this client declares it counter',
    });
    expect(await storageOf(target)).toEqual(before);
  });
});

describe('what an export carries', () => {
  it('values keep their types — Date, Map, Set, BigInt, undefined, nested — confirmed, pending and as siblings', async () => {
    const source = await openOffline('values');
    const value = {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      map: new Map<string, unknown>([
        ['big', 12345678901234567890n],
        ['set', new Set([1, 'two', new Date(0)])],
      ]),
      nothing: undefined,
      list: [1n, -0.5, 'ünïcödé ✓ 🙂', null, [new Map([[1, 2]])]],
    };
    const notes = source.collection('notes');
    await notes.put('typed', value);
    await notes.put('plain', 'text');
    const otherTab = await offline.open(source.name, { collections: COLLECTIONS }); // the same database: it has read nothing
    await otherTab.collection('notes').put('plain', new Date(1)); // a blind write: two siblings
    const target = await openOffline('values-copy');
    await target.importData(source.exportData());
    expect((await target.collection('notes').get('typed'))?.value).toEqual(value);
    const plain = await target.collection('notes').get('plain');
    expect([plain?.value, ...(plain?.conflicts.map((c) => c.value) ?? [])]).toEqual(expect.arrayContaining(['text', new Date(1)]));
    expect(await contents(target)).toEqual(await contents(source));
  });

  it('a database larger than a page exports every document once; a write made while the export is read is left out, and the copy reads as the source did when the export began', async () => {
    await clients.startRelay();
    const source = await clients.open(dbName('paged'));
    await source.putMany(
      'notes',
      Array.from({ length: 600 }, (_, i) => [`k${String(i).padStart(4, '0')}`, i] as const),
      { ack: 'relay' },
    );
    source.pause();
    const lines: string[] = [];
    for await (const line of source.exportData()) {
      lines.push(line);
      if (lines.length === 20) await source.collection('notes').put('k0590', 'written during the export');
    }
    const docs = lines.filter((l) => l.includes('"type":"doc"'));
    expect(docs).toHaveLength(600);
    expect(lines.filter((l) => l.includes('"type":"pending"'))).toEqual([]);
    const target = await openOffline('paged-copy');
    await target.importData(lines);
    expect((await target.collection('notes').get('k0590'))?.value).toBe(590);
    expect((await target.collection('notes').get('k0590'))?.pending).toBe(false);
    expect(await target.collection('notes').scan({ limit: 1000 })).toHaveLength(600);
  });

  it('another handle on the same database writes under the new replica id once the import committed', async () => {
    const { text } = await sampleExport();
    const db = new MemoryDatabase(dbName('shared'));
    const importer = await offline.open(db.name, { storage: createMemoryStorage(db), collections: COLLECTIONS });
    const other = await offline.open(db.name, { storage: createMemoryStorage(db), collections: COLLECTIONS });
    const { replicaId } = await importer.importData(text);
    await other.collection('notes').put('b', 'from the other handle');
    expect((await other.collection('notes').inspect('b')).siblings.map((s) => s.dot)).toEqual([[replicaId, 1]]);
    expect(other.replicaId).toBe(replicaId);
  });

  it('the other tabs of the database hear of it: the imported keys changed (with writes to push), and the replica id', async () => {
    const { text } = await sampleExport();
    const { core, channel } = await openCore({ collections: COLLECTIONS });
    const { replicaId } = await importInto(core, text);
    expect(channel.posted).toEqual(
      expect.arrayContaining([
        { type: 'changed', collection: 'notes', keys: ['a'], outbox: true },
        { type: 'changed', collection: 'carts', keys: ['cart'], outbox: true },
        { type: 'replica' },
      ]),
    );
    expect(core.status.get()).toMatchObject({ replicaId, pending: 2 });
  });

  it('reads an export from a Blob, and from UTF-8 byte chunks cut anywhere (a multi-byte character and CRLF line ends included)', async () => {
    const source = await openOffline('blob');
    await source.collection('notes').put('ü', 'ünïcödé 🙂');
    const blob = await exportToBlob(source.exportData());
    expect(blob.type).toBe('application/x-ndjson');
    const fromBlob = await openOffline('from-blob');
    await fromBlob.importData(blob);
    expect((await fromBlob.collection('notes').get('ü'))?.value).toBe('ünïcödé 🙂');

    const bytes = new TextEncoder().encode((await blob.text()).replaceAll('\n', '\r\n'));
    async function* chunks() {
      for (let at = 0; at < bytes.length; at += 7) yield bytes.slice(at, at + 7);
    }
    const fromBytes = await openOffline('from-bytes');
    await fromBytes.importData(chunks());
    expect(await contents(fromBytes)).toEqual(await contents(source));
  });
});
