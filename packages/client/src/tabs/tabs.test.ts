import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replicaOf, type Client } from '../client.js';
import type { Transport } from '../sync/transport.js';
import { clientSet, dbName } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { createMemoryLocks } from '../testing/memory-locks.js';
import { startRelayFixture, type RelayFixture } from '../testing/relay-fixture.js';
import type { BroadcastChannelLike, LockManagerLike } from './tab-coordinator.js';
import { TAB_PROTOCOL } from './tab-messages.js';

let relay: RelayFixture;
let locks: LockManagerLike;
let connections = 0;
const counting = (): Transport => ({
  open(handlers) {
    connections++;
    return relay.memory.open({
      ...handlers,
      onClose: (code, reason) => {
        connections--;
        handlers.onClose(code, reason);
      },
    });
  },
});
const clients = clientSet(() => ({ transport: counting(), tabs: { locks } }));
beforeEach(async () => {
  relay = await startRelayFixture();
  locks = createMemoryLocks();
  connections = 0;
});
afterEach(async () => {
  await clients.closeAll();
  await relay.close();
});

/** Two tabs of one database: the same name (one storage) and one lock manager. */
async function twoTabs(): Promise<[Client, Client]> {
  const name = dbName('tabs');
  const first = await clients.open(name);
  const second = await clients.open(name);
  return [first, second];
}

describe('tabs of one database (Web Locks leader, BroadcastChannel)', () => {
  it('one tab holds the socket; the other follows and mirrors its status', async () => {
    const [leader, follower] = await twoTabs();
    await eventually(() => expect(leader.status.get().role).toBe('leader'));
    expect(follower.status.get().role).toBe('follower');
    await leader.whenSynced({ timeoutMs: 5000 });
    await eventually(() => expect(follower.status.get().connection).toBe('synced'));
    expect(connections).toBe(1);
    expect(follower.replicaId).toBe(leader.replicaId);
  });

  it("a follower's write goes to IndexedDB directly and the leader pushes it; the follower's ack promise resolves", async () => {
    const [, follower] = await twoTabs();
    const acked: string[] = [];
    follower.on('acked', (e) => acked.push(...e.writeIds));
    const receipt = await follower.collection('notes').put('from-follower', 1, { ack: 'relay' });
    expect(receipt.level).toBe('relay');
    expect(await follower.writeStatus(receipt.writeId)).toMatchObject({ status: 'relay' });
    expect(acked).toContain(receipt.writeId);
    const other = await clients.open(dbName('other'));
    await eventually(async () => expect((await other.collection('notes').get('from-follower'))?.value).toBe(1));
    expect(connections).toBe(2);
  });

  it("a follower hears the leader's refusals: its write promise rejects and its app gets the rejected event", async () => {
    await relay.close();
    relay = await startRelayFixture({ collections: { stock: { mode: 'leader-follower', strategy: 'lww' } } });
    const name = dbName('refused');
    const tabs = { collections: { stock: { mode: 'leader-follower' as const, strategy: 'lww' as const } } };
    const leader = await clients.open(name, tabs);
    const follower = await clients.open(name, tabs);
    const other = await clients.open(dbName('other'), tabs);
    await other.collection('stock').put('sku', 1, { ack: 'relay' });
    await leader.whenSynced({ timeoutMs: 5000 });
    leader.pause();
    await other.collection('stock').put('sku', 2, { ack: 'relay' });
    const events: unknown[] = [];
    follower.on('rejected', (e) => events.push({ key: e.key, code: e.code, rebased: e.rebased }));
    const stale = follower.collection('stock').put('sku', 3, { ack: 'relay' }); // blind: it has not seen 2
    leader.resume();
    await expect(stale).rejects.toMatchObject({ code: 'conflict_rejected' });
    await eventually(() => expect(events).toEqual([{ key: 'sku', code: 'conflict_rejected', rebased: false }]));
  });

  it('a remote change reaches the follower’s watchers through the leader', async () => {
    const [leader, follower] = await twoTabs();
    await leader.whenSynced({ timeoutMs: 5000 });
    const seen: unknown[] = [];
    follower.collection('notes').watch('k', (events) => seen.push(...events.map((e) => e.doc?.value)));
    const other = await clients.open(dbName('other'));
    await other.collection('notes').put('k', 'remote', { ack: 'relay' });
    await eventually(() => expect(seen).toContain('remote'));
  });

  it('when the leader tab closes, the other tab takes over the socket and syncs new remote changes', async () => {
    const [leader, follower] = await twoTabs();
    await leader.whenSynced({ timeoutMs: 5000 });
    await leader.close();
    await eventually(() => expect(follower.status.get().role).toBe('leader'));
    const other = await clients.open(dbName('other'));
    await other.collection('notes').put('after-handover', 'yes', { ack: 'relay' });
    await eventually(async () => expect((await follower.collection('notes').get('after-handover'))?.value).toBe('yes'));
    expect(connections).toBe(2);
  });

  it('a frozen leader tab steps down (socket closed, lock released): the other tab takes over and syncs; on resume it follows, one socket', async () => {
    const name = dbName('frozen');
    const page1 = new EventTarget();
    const first = await clients.open(name, { tabs: { locks, lifecycle: page1 } });
    const second = await clients.open(name, { tabs: { locks, lifecycle: new EventTarget() } });
    await first.whenSynced({ timeoutMs: 5000 });
    expect([first.status.get().role, second.status.get().role]).toEqual(['leader', 'follower']);

    page1.dispatchEvent(new Event('freeze'));
    expect(first.status.get()).toMatchObject({ role: 'follower', connection: 'offline' });
    await eventually(() => expect(second.status.get().role).toBe('leader'));
    const other = await clients.open(dbName('other'));
    await other.collection('notes').put('while-frozen', 'remote', { ack: 'relay' });
    await eventually(async () => expect((await second.collection('notes').get('while-frozen'))?.value).toBe('remote'));
    expect(connections).toBe(2); // the second tab's and the other client's

    page1.dispatchEvent(new Event('resume'));
    await eventually(() => expect(first.status.get()).toMatchObject({ role: 'follower', connection: 'synced' }));
    await first.collection('notes').put('after-resume', 1, { ack: 'relay' });
    expect(second.status.get().role).toBe('leader');
    expect(connections).toBe(2);
  });

  it('a page entering the back/forward cache (pagehide, persisted) steps down and rejoins on pageshow; a plain pagehide does not', async () => {
    const name = dbName('bfcache');
    const page1 = new EventTarget();
    const first = await clients.open(name, { tabs: { locks, lifecycle: page1 } });
    const second = await clients.open(name, { tabs: { locks, lifecycle: new EventTarget() } });
    await first.whenSynced({ timeoutMs: 5000 });
    const pageEvent = (type: string, persisted: boolean) => Object.assign(new Event(type), { persisted });

    page1.dispatchEvent(pageEvent('pagehide', false));
    expect(first.status.get().role).toBe('leader');
    page1.dispatchEvent(pageEvent('pagehide', true));
    await eventually(() => expect(second.status.get().role).toBe('leader'));
    expect(first.status.get().role).toBe('follower');
    page1.dispatchEvent(pageEvent('pageshow', true));
    await eventually(() => expect(first.status.get().connection).toBe('synced'));
    expect(connections).toBe(1);
  });

  it('a frozen follower withdraws its lock request: when the leader closes, a live tab takes the socket', async () => {
    const name = dbName('frozen-follower');
    const leader = await clients.open(name, { tabs: { locks, lifecycle: new EventTarget() } });
    const page2 = new EventTarget();
    const frozen = await clients.open(name, { tabs: { locks, lifecycle: page2 } });
    await leader.whenSynced({ timeoutMs: 5000 });
    page2.dispatchEvent(new Event('freeze'));
    const third = await clients.open(name, { tabs: { locks, lifecycle: new EventTarget() } });
    await leader.close();
    await eventually(() => expect(third.status.get().role).toBe('leader'));
    expect(frozen.status.get().role).toBe('follower');
    page2.dispatchEvent(new Event('resume'));
    await eventually(() => expect(frozen.status.get().connection).toBe('synced'));
    expect(third.status.get().role).toBe('leader');
    expect(connections).toBe(1);
  });

  it('a leader read from a follower goes through the leader', async () => {
    const [leader, follower] = await twoTabs();
    await leader.whenSynced({ timeoutMs: 5000 });
    leader.pause();
    const other = await clients.open(dbName('other'));
    await other.collection('notes').put('fresh', 7, { ack: 'relay' });
    leader.resume();
    await leader.whenSynced({ timeoutMs: 5000 });
    expect((await follower.collection('notes').get('fresh', { consistency: 'leader' }))?.value).toBe(7);
  });

  it('clients of different databases in one page stay independent (names include the database)', async () => {
    const a = await clients.open(dbName('device-a'));
    const b = await clients.open(dbName('device-b'));
    await eventually(() => {
      expect(a.status.get().role).toBe('leader');
      expect(b.status.get().role).toBe('leader');
    });
    expect(a.replicaId).not.toBe(b.replicaId);
    expect(connections).toBe(2);
  });

  it('without Web Locks every tab syncs on its own, safely', async () => {
    const name = dbName('no-locks');
    const one = await clients.open(name, { tabs: { locks: null } });
    const two = await clients.open(name, { tabs: { locks: null } });
    expect([one.status.get().role, two.status.get().role]).toEqual(['solo', 'solo']);
    await Promise.all([one.collection('notes').put('a', 1), two.collection('notes').put('b', 2)]);
    await one.whenSynced({ timeoutMs: 5000 });
    await two.whenSynced({ timeoutMs: 5000 });
    expect(connections).toBe(2);
    const other = await clients.open(dbName('other'));
    await eventually(async () => expect((await other.collection('notes').scan()).map((d) => d.value)).toEqual([1, 2]));
  });

  it('a tab syncing on its own follows a new replica id another tab minted: its next writes are not refused', async () => {
    const name = dbName('solo-reset');
    const one = await clients.open(name, { tabs: { locks: null } });
    const two = await clients.open(name, { tabs: { locks: null } });
    await one.whenSynced({ timeoutMs: 5000 });
    await two.whenSynced({ timeoutMs: 5000 });
    const old = one.replicaId;
    await replicaOf(one).resetIdentity(old); // what identity loss does in tab one
    await expect(two.collection('notes').put('after-reset', 1, { ack: 'relay' })).resolves.toMatchObject({ level: 'relay' });
    expect(two.replicaId).not.toBe(old);
    expect(await two.rejected()).toEqual([]);
  });

  it('tabs of two builds of the app (after a deploy) refuse each other’s messages, say so once, and each build syncs on its own', async () => {
    // The second tab runs a build whose tab protocol is one higher: its messages carry that
    // version on the channel, and it reads only that version (here: the same code with the
    // versions swapped at its channel); its leader lock is that version's.
    const next = TAB_PROTOCOL + 1;
    const swap = (data: unknown) => {
      const v = (data as { v?: unknown }).v;
      return { ...(data as object), v: v === TAB_PROTOCOL ? next : v === next ? TAB_PROTOCOL : v };
    };
    const otherBuild = (name: string): BroadcastChannelLike => {
      const channel = new BroadcastChannel(name);
      const wrapped: BroadcastChannelLike = {
        postMessage: (data) => channel.postMessage(swap(data)),
        close: () => channel.close(),
        onmessage: null,
      };
      channel.onmessage = (event) => wrapped.onmessage?.({ data: swap(event.data) });
      (channel as { unref?: () => void }).unref?.();
      return wrapped;
    };
    const otherLocks: LockManagerLike = { request: (name, options, callback) => locks.request(name.replace(/:\d+$/, `:${next}`), options, callback) };
    const name = dbName('builds');
    const refusals = new Map<Client, Set<Error>>();
    const watch = (tab: Client) =>
      tab.status.subscribe((s) => {
        if (s.error?.code === 'bad_message' && s.error.message.includes('another build')) refusals.set(tab, (refusals.get(tab) ?? new Set()).add(s.error));
      });
    const oldTab = await clients.open(name);
    watch(oldTab);
    const newTab = await clients.open(name, { tabs: { locks: otherLocks, channel: otherBuild } });
    watch(newTab);
    await eventually(() => expect([oldTab.status.get().role, newTab.status.get().role]).toEqual(['leader', 'leader']));
    const [fromOld, fromNew] = await Promise.all([
      oldTab.collection('notes').put('old', 1, { ack: 'relay' }),
      newTab.collection('notes').put('new', 2, { ack: 'relay' }),
    ]);
    expect([fromOld.level, fromNew.level]).toEqual(['relay', 'relay']);
    await eventually(() => expect([refusals.get(oldTab)?.size, refusals.get(newTab)?.size]).toEqual([1, 1])); // said once each, not per message
    expect(connections).toBe(2);
    const other = await clients.open(dbName('other'));
    await eventually(async () => expect((await other.collection('notes').scan()).map((d) => d.value)).toEqual([2, 1]));
  });
});
