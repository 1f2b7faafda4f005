import { describe, expect, it } from 'vitest';
import { coreFixture } from './testing/core-fixture.js';
import { eventually } from './testing/eventually.js';
import { scriptedRelay } from './testing/scripted-relay.js';
import { encodeAppValue } from './values.js';

const open = coreFixture();
const put = (collection: string, key: string, value: unknown) => ({
  collection,
  key,
  ack: 'local' as const,
  kind: 'put' as const,
  value: encodeAppValue(value),
  read: undefined,
});

describe('ChangeFeed', () => {
  it('one call per watcher per committed batch, with its keys only, each read as the app sees it and remembered as the default context of the next write', async () => {
    const { core } = await open();
    const calls: [string, unknown][][] = [];
    core.feed.watch('notes', { prefix: 'n-' }, (events) => calls.push(events.map((e) => [e.key, e.doc?.value])));
    await core.writes.commit([put('notes', 'n-1', 'a'), put('notes', 'x', 'b'), put('other', 'n-2', 'c'), put('notes', 'n-2', 'd')], 'local');
    expect(calls).toEqual([
      [
        ['n-1', 'a'],
        ['n-2', 'd'],
      ],
    ]);
    expect(core.memories.recall('notes', 'n-1')?.context).toEqual((await core.replica.doc('notes', 'n-1'))?.state.context);
  });

  it('after a local write other tabs are told per collection (outbox: true) and the push is kicked; after remote changes outbox is false', async () => {
    const relay = scriptedRelay();
    const { core, channel } = await open({ transport: relay.transport, collections: { notes: {} } });
    await eventually(() => expect(relay.sent.some((f) => f.type === 'hello')).toBe(true));
    relay.welcome({ notes: 0 });
    await eventually(() => expect(core.status.get().connection).toBe('syncing')); // welcomed: pushes go out
    await core.writes.commit([put('notes', 'a', 1), put('notes', 'b', 2), put('carts', 'c', 3)], 'local');
    expect(channel.posted.filter((m) => m.type === 'changed')).toEqual([
      { type: 'changed', collection: 'notes', keys: ['a', 'b'], outbox: true },
      { type: 'changed', collection: 'carts', keys: ['c'], outbox: true },
    ]);
    await eventually(() => expect(relay.sent.some((f) => f.type === 'push')).toBe(true)); // kicked
    const [record] = await core.replica.docs('notes', ['a']);
    core.feed.committed([{ collection: 'notes', key: 'a', record }], false);
    expect(channel.posted.at(-1)).toEqual({ type: 'changed', collection: 'notes', keys: ['a'], outbox: false });
  });

  it("another tab's changes are read again only for collections someone here watches", async () => {
    const { core } = await open();
    const seen: unknown[] = [];
    await core.writes.commit([put('notes', 'k', 'v')], 'local');
    await core.feed.changedElsewhere('notes', ['k']); // nobody watches: nothing read, nothing called
    core.feed.watch('notes', 'k', (events) => seen.push(...events.map((e) => e.doc?.value)));
    await core.feed.changedElsewhere('notes', ['k', 'gone']);
    expect(seen).toEqual(['v']);
  });
});
