import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, replicaOf, type Client } from './client.js';
import type { ClientOptions } from './client-options.js';
import { merge } from './collection-spec.js';
import { openIndexedDbStorage } from './storage/idb-storage.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import type { StorageAdapter } from './storage/storage-adapter.js';
import { dbName } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';
import type { WatchEvent } from './watchers.js';

const open: Client[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

describe.each(['memory', 'indexeddb'] as const)('collections, local (%s storage)', (kind) => {
  const storageFor = (name: string): Promise<StorageAdapter> => (kind === 'memory' ? Promise.resolve(createMemoryStorage(name)) : openIndexedDbStorage(name));
  /** A client without a relay; two calls with one name are two tabs of one database. */
  const tab = async (name: string, options: Partial<ClientOptions> = {}) => {
    const client = await createClient({ name, storage: await storageFor(name), tabs: false, ...options });
    open.push(client);
    return client;
  };

  it('put, get, delete and scan, with values superjson carries', async () => {
    const client = await tab(dbName('basic'));
    const notes = client.collection<{ at: Date; tags: Set<string>; n: bigint }>('notes');
    const value = { at: new Date(5), tags: new Set(['a']), n: 10n };
    await notes.put('n-1', value);
    await notes.put('n-2', { ...value, n: 2n });
    await notes.put('m-1', { ...value, n: 3n });
    const got = await notes.get('n-1');
    expect(got?.value).toEqual(value);
    expect(got?.value.at).toBeInstanceOf(Date);
    expect(got).toMatchObject({ key: 'n-1', conflicts: [], pending: true, confirmed: false });
    expect((await notes.scan({ prefix: 'n-' })).map((d) => d.key)).toEqual(['n-1', 'n-2']);
    expect((await notes.scan({ limit: 1 })).map((d) => d.key)).toEqual(['m-1']);
    expect(await notes.scan({ limit: 0 })).toEqual([]);
    await notes.delete('n-1');
    expect(await notes.get('n-1')).toBeUndefined();
    expect((await notes.scan()).map((d) => d.key)).toEqual(['m-1', 'n-2']);
    expect(await notes.get('never')).toBeUndefined();
  });

  it('the default write context is what this tab last read, never the current stored context', async () => {
    const name = dbName('contexts');
    const tab1 = await tab(name);
    const tab2 = await tab(name);
    await tab1.collection('notes').put('k', 'v1');
    await tab1.collection('notes').get('k'); // tab 1 reads v1
    await tab2.collection('notes').get('k'); // tab 2 reads v1 too
    await tab2.collection('notes').put('k', 'v2 from tab 2');
    await tab1.collection('notes').put('k', 'v3 from tab 1'); // derived from v1: it must not supersede tab 2's write
    const doc = await tab1.collection('notes').get('k');
    expect([doc?.value, ...(doc?.conflicts.map((c) => c.value) ?? [])].sort()).toEqual(['v2 from tab 2', 'v3 from tab 1']);
    // Now tab 1 has read both: its next write covers them.
    await tab1.collection('notes').put('k', 'merged');
    expect(await tab1.collection('notes').get('k')).toMatchObject({ value: 'merged', conflicts: [] });
  });

  it('a tab that never read the key writes blind (a sibling); an explicit version supersedes what it names', async () => {
    const name = dbName('blind');
    const tab1 = await tab(name);
    const tab2 = await tab(name);
    await tab1.collection('notes').put('k', 'old');
    await tab2.collection('notes').put('k', 'blind');
    expect((await tab1.collection('notes').get('k'))?.conflicts).toHaveLength(1);
    const read = await tab2.collection('notes').get('k');
    await tab1.collection('notes').put('k', 'resolved', { version: read!.version });
    expect(await tab2.collection('notes').get('k')).toMatchObject({ value: 'resolved', conflicts: [] });
  });

  it('update reads and writes in one transaction over the stored value', async () => {
    const name = dbName('update');
    const tab1 = await tab(name);
    const tab2 = await tab(name);
    await tab1.collection<number>('counters').put('c', 0);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? tab1 : tab2).collection<number>('counters').update('c', (n) => (n ?? 0) + 1)));
    expect(await tab1.collection('counters').get('c')).toMatchObject({ value: 10, conflicts: [] });
  });

  it('CRDT collections take their operations; delete is the type’s clear; mismatched calls are typed errors', async () => {
    const client = await tab(dbName('crdt'), {
      collections: { counters: { strategy: 'counter' }, sets: { strategy: 'orSet' }, carts: { strategy: 'cart' }, profiles: { strategy: 'lwwMap' } },
    });
    const counters = client.collection<number>('counters');
    await counters.increment('c', 5);
    await counters.increment('c', -2);
    expect((await counters.get('c'))?.value).toBe(3);
    const sets = client.collection<unknown[]>('sets');
    await sets.add('s', 'a');
    await sets.add('s', 'b');
    await sets.remove('s', 'a');
    expect((await sets.get('s'))?.value).toEqual(['b']);
    const carts = client.collection<Map<string, number>>('carts');
    await carts.increment('cart', 'apple', 2);
    await carts.increment('cart', 'pear');
    await carts.remove('cart', 'pear');
    expect((await carts.get('cart'))?.value).toEqual(new Map([['apple', 2]]));
    await carts.delete('cart');
    expect(await carts.get('cart')).toBeUndefined();
    await carts.increment('cart', 'apple');
    expect((await carts.get('cart'))?.value).toEqual(new Map([['apple', 1]]));
    const profiles = client.collection<Map<string, unknown>>('profiles');
    await profiles.set('p', 'name', 'Ada');
    await profiles.set('p', 'city', 'London');
    await profiles.remove('p', 'city');
    expect((await profiles.get('p'))?.value).toEqual(new Map([['name', 'Ada']]));
    await expect(counters.put('c', 1)).rejects.toMatchObject({ code: 'bad_message' });
    await expect(client.collection('notes').increment('n', 1)).rejects.toMatchObject({ code: 'bad_message' });
    await expect(counters.increment('c', 'apple')).rejects.toMatchObject({ code: 'bad_message' });
    await expect(carts.apply('cart', { type: 'increment', by: 1 })).rejects.toMatchObject({ code: 'bad_message' });
  });

  it('watch fires once per committed batch, for local writes and another tab’s', async () => {
    const name = dbName('watch');
    const tab1 = await tab(name, { tabs: { locks: null } });
    const tab2 = await tab(name, { tabs: { locks: null } });
    const calls: WatchEvent<unknown>[][] = [];
    const single: unknown[] = [];
    tab1.collection('notes').watch({ prefix: 'n-' }, (events) => calls.push(events));
    tab1.collection('notes').watch('n-2', (events) => single.push(events.map((e) => e.doc?.value)));
    await tab1.batch((b) => {
      b.collection('notes').put('n-1', 1);
      b.collection('notes').put('n-2', 2);
      b.collection('notes').put('x-1', 3);
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((e) => [e.key, e.doc?.value])).toEqual([
      ['n-1', 1],
      ['n-2', 2],
    ]);
    await tab2.collection('notes').put('n-3', 'from tab 2');
    await eventually(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.map((e) => [e.key, e.doc?.value])).toEqual([['n-3', 'from tab 2']]);
    await tab1.collection('notes').delete('n-2');
    expect(calls[2]!.map((e) => [e.key, e.doc])).toEqual([['n-2', undefined]]);
    expect(single).toEqual([[2], [undefined]]);
  });

  it('a batch is atomic: a failing write stores none of them', async () => {
    const client = await tab(dbName('atomic'));
    await expect(
      client.batch((b) => {
        b.collection('notes').put('a', 1);
        b.collection('notes').update('b', () => {
          throw new Error('app bug');
        });
      }),
    ).rejects.toThrow('app bug');
    expect(await client.collection('notes').get('a')).toBeUndefined();
    expect(await client.outbox()).toEqual([]);
    await client.putMany('notes', [
      ['a', 1],
      ['b', 2],
    ]);
    expect((await client.outbox()).map((w) => w.key)).toEqual(['a', 'b']);
  });

  it('conflicts() lists concurrent versions; resolve() writes over all of them', async () => {
    const name = dbName('resolve');
    const tab1 = await tab(name);
    const tab2 = await tab(name);
    await tab1.collection('notes').put('k', 'one');
    await tab2.collection('notes').put('k', 'two');
    const conflicts = await tab1.collection('notes').conflicts('k');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ deleted: false });
    await tab1.collection('notes').resolve('k', 'both');
    expect(await tab2.collection('notes').get('k')).toMatchObject({ value: 'both', conflicts: [] });
  });

  it('merge(fn) combines concurrent values on read; lww hides losers and reports those a write removes unseen', async () => {
    const name = dbName('strategies');
    const collections = { tags: { strategy: merge<string[]>((values) => [...new Set(values.flat())].sort()) }, titles: { strategy: 'lww' as const } };
    const tab1 = await tab(name, { collections });
    const tab2 = await tab(name, { collections });
    await tab1.collection('tags').put('t', ['a']);
    await tab2.collection('tags').put('t', ['b', 'c']);
    expect((await tab1.collection('tags').get('t'))?.value).toEqual(['a', 'b', 'c']);

    await tab1.collection('titles').put('x', 'first');
    await tab2.collection('titles').put('x', 'second'); // blind: concurrent with 'first'
    const seen = await tab1.collection('titles').get('x');
    expect(seen).toMatchObject({ value: 'second', conflicts: [] });
    const reported: unknown[] = [];
    tab1.on('conflict', (e) => reported.push(...e.discarded.map((d) => d.value)));
    await tab1.collection('titles').put('x', 'third');
    expect(reported).toEqual(['first']); // removed by the write, never shown as the value
    expect(await tab2.collection('titles').get('x')).toMatchObject({ value: 'third', conflicts: [] });
  });

  it('reads return frozen values (deep): an app cannot change the replica through them; update and merge functions get copies', async () => {
    const name = dbName('frozen');
    const collections = { tags: { strategy: merge<{ list: string[] }>((values) => values.reduce((a, v) => (a.list.push(...v.list), a))) } };
    const tab1 = await tab(name, { collections });
    const tab2 = await tab(name, { collections });
    const notes = tab1.collection<{ title: string; tags: string[] }>('notes');
    await notes.put('n', { title: 'a', tags: ['x'] });
    const read = (await notes.get('n'))!.value;
    expect(Object.isFrozen(read) && Object.isFrozen(read.tags)).toBe(true);
    expect(() => read.tags.push('y')).toThrow(TypeError);
    expect(() => ((read as { title: string }).title = 'b')).toThrow(TypeError);
    // No copy per read where storage hands back the same record (IndexedDB clones every read).
    if (kind === 'memory') expect((await notes.scan())[0]!.value).toBe(read);
    else expect(Object.isFrozen((await notes.scan())[0]!.value)).toBe(true);
    expect((await tab2.collection('notes').get('n'))?.value).toEqual({ title: 'a', tags: ['x'] });
    // A function of the app may change what it is given: a copy, never the stored value.
    await notes.update('n', (current) => (current!.tags.push('y'), current!));
    expect((await notes.get('n'))?.value).toEqual({ title: 'a', tags: ['x', 'y'] });
    await tab1.collection('tags').put('t', { list: ['a'] });
    await tab2.collection('tags').put('t', { list: ['b'] });
    expect((await tab1.collection<{ list: string[] }>('tags').get('t'))?.value.list.sort()).toEqual(['a', 'b']);
    expect((await tab1.collection<{ list: string[] }>('tags').get('t'))?.value.list.sort()).toEqual(['a', 'b']);
    // Values with superjson meta (Date, Map, …) are decoded afresh on each read.
    const dated = tab1.collection<{ at: Date }>('dated');
    await dated.put('d', { at: new Date(5) });
    const first = (await dated.get('d'))!.value;
    first.at.setTime(9);
    expect((await dated.get('d'))!.value.at.getTime()).toBe(5);
  });

  it('inspect shows siblings with dots and HLCs, the context, the rule and pending writes', async () => {
    const name = dbName('inspect');
    const tab1 = await tab(name);
    const tab2 = await tab(name);
    await tab1.collection('notes').put('k', 'one');
    await tab2.collection('notes').put('k', 'two');
    const inspected = await tab1.collection('notes').inspect('k');
    expect(inspected.siblings.map((s) => s.value)).toEqual(['two', 'one']);
    expect(inspected.siblings.map((s) => s.dot)).toEqual([
      [tab1.replicaId, 2],
      [tab1.replicaId, 1],
    ]);
    expect(inspected.siblings[0]).toMatchObject({ chosen: true, confirmed: false, deleted: false });
    expect(inspected.context).toEqual({ v: { [tab1.replicaId]: 2 } });
    expect(inspected.rule).toContain('highest HLC');
    expect(inspected.pending.map((p) => p.dot[1])).toEqual([1, 2]);
  });

  it('inspect types the entries of a CRDT value (dots, item, amount) and says which ones the join of the siblings keeps', async () => {
    const carts = { carts: { strategy: 'cart' as const } };
    const a = await tab(dbName('inspect-a'), { collections: carts });
    const b = await tab(dbName('inspect-b'), { collections: carts });
    const syncAtoB = async () => {
      const record = await replicaOf(a).doc('carts', 'c');
      await replicaOf(b).applyRemote('carts', [{ key: 'c', seq: 1, state: record!.state }]);
    };
    await a.collection('carts').increment('c', 'apple', 2);
    await syncAtoB();
    await b.collection('carts').remove('c', 'apple'); // b saw a's 2 apples and removed them
    await a.collection('carts').increment('c', 'apple', 3); // concurrently, a adds 3 more
    await syncAtoB();
    const inspected = await b.collection('carts').inspect('c');
    const [ra, rb] = [a.replicaId, b.replicaId];
    expect(inspected.siblings.map((s) => s.entries)).toEqual(
      expect.arrayContaining([
        [
          { dot: [ra, 1], key: 'apple', value: 2, kept: false },
          { dot: [ra, 2], key: 'apple', value: 3, kept: true },
        ],
        [],
      ]),
    );
    expect(inspected.siblings.map((s) => s.dot[0]).sort()).toEqual([ra, rb].sort());
    expect((await b.collection('carts').get('c'))?.value).toEqual(new Map([['apple', 3]]));

    const maps = await tab(dbName('inspect-map'), { collections: { prefs: { strategy: 'lwwMap' } } });
    await maps.collection('prefs').set('p', 'color', 'red');
    const [only] = (await maps.collection('prefs').inspect('p')).siblings;
    expect(only?.entries).toEqual([{ dot: [maps.replicaId, 1], key: 'color', value: 'red', hlc: only!.hlc, kept: true }]);
    expect((await maps.collection('notes').inspect('k')).siblings).toEqual([]);
  });

  it('a batch records CRDT operations by name: add, remove, set, clear', async () => {
    const client = await tab(dbName('batch-ops'), { collections: { carts: { strategy: 'cart' }, tags: { strategy: 'orSet' }, prefs: { strategy: 'lwwMap' } } });
    await client.batch((b) => {
      b.collection('carts').increment('c', 'apple', 2);
      b.collection('carts').increment('c', 'pear', 1);
      b.collection('tags').add('t', 'red');
      b.collection('tags').add('t', 'blue');
      b.collection('prefs').set('p', 'color', 'red');
      b.collection('prefs').set('gone', 'x', 1);
    });
    await client.batch((b) => {
      b.collection('carts').remove('c', 'apple');
      b.collection('tags').remove('t', 'red');
      b.collection('prefs').clear('gone');
    });
    expect((await client.collection('carts').get('c'))?.value).toEqual(new Map([['pear', 1]]));
    expect((await client.collection('tags').get('t'))?.value).toEqual(['blue']);
    expect((await client.collection('prefs').get('p'))?.value).toEqual(new Map([['color', 'red']]));
    expect(await client.collection('prefs').get('gone')).toBeUndefined();
  });

  it('a value over 1 MiB is refused at put before the first contact with a relay, and never enters the outbox', async () => {
    const client = await tab(dbName('big'));
    await expect(client.collection('notes').put('k', 'x'.repeat(1024 * 1024))).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(await client.outbox()).toEqual([]);
    expect(await client.collection('notes').get('k')).toBeUndefined();
  });

  it('outbox() and status.pending follow local writes; destroy() deletes the database', async () => {
    const name = dbName('destroy');
    const client = await tab(name);
    await client.collection('notes').put('a', 1, { ack: 'local' });
    await client.collection('notes').delete('a');
    expect((await client.outbox()).map((w) => [w.kind, w.status])).toEqual([
      ['put', 'local'],
      ['delete', 'local'],
    ]);
    expect(client.status.get().pending).toBe(2);
    await client.destroy();
    const again = await tab(name);
    expect(await again.outbox()).toEqual([]);
    expect(await again.collection('notes').get('a')).toBeUndefined();
  });
});
