import { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { clientSyncHost } from './client-sync-host.js';
import { coreFixture } from './testing/core-fixture.js';
import { eventually } from './testing/eventually.js';
import { encodeAppValue } from './values.js';

const open = coreFixture();

async function hosted(options: Parameters<ReturnType<typeof coreFixture>>[0] = {}) {
  const { core, channel } = await open(options);
  return { core, channel, host: clientSyncHost({ ...core, writes: core.writes, tabs: core.tabs }) };
}

describe('clientSyncHost: where the sync engine’s reports go', () => {
  it('acked: the write waiting for that level resolves, the app hears `acked`, and the other tabs are told', async () => {
    const { core, channel, host } = await hosted();
    const acked: string[][] = [];
    core.events.on('acked', (e) => acked.push([...e.writeIds]));
    const waiting = core.writes.commit([{ collection: 'notes', key: 'k', ack: 'quorum', kind: 'put', value: encodeAppValue(1), read: undefined }], 'quorum');
    await eventually(async () => expect(await core.replica.pendingCount()).toBe(1));
    const [entry] = await core.replica.pendingWrites();
    host.acked([entry!.writeId], 'all');
    expect((await waiting)[0]?.level).toBe('all');
    expect(acked).toEqual([[entry!.writeId]]);
    expect(channel.posted).toContainEqual({ type: 'acked', writeIds: [entry!.writeId], level: 'all' });
  });

  it("rejected: the write's promise rejects, the app hears `rejected`, and the other tabs are told, with whether onReject rebased it", async () => {
    const { core, channel, host } = await hosted({ collections: { stock: { mode: 'leader-follower', onReject: (_a: unknown, current: unknown) => current } } });
    const waiting = core.writes
      .commit([{ collection: 'stock', key: 's', ack: 'relay', kind: 'put', value: encodeAppValue(1), read: undefined }], 'relay')
      .catch((e: ConvergeError) => e.code);
    await eventually(async () => expect(await core.replica.pendingCount()).toBe(1));
    const [entry] = await core.replica.pendingWrites();
    const record = {
      writeId: entry!.writeId,
      collection: 'stock',
      key: 's',
      write: entry!.write,
      code: 'conflict_rejected' as const,
      message: 'stale',
      at: 0,
      current: entry!.delta,
    };
    host.rejected([record]);
    expect(await waiting).toBe('conflict_rejected');
    expect(channel.posted).toContainEqual({
      type: 'rejected',
      writes: [{ writeId: entry!.writeId, collection: 'stock', key: 's', code: 'conflict_rejected', message: 'stale', rebased: true }],
    });
  });

  it("the connection's state, positions and errors go to the status and, as they change, to the other tabs", async () => {
    const { core, channel, host } = await hosted();
    host.connection('syncing');
    host.positions(new Map([['notes', 3]]));
    host.error(new ConvergeError('offline', 'down'));
    host.connection('synced');
    expect(core.status.get()).toMatchObject({ connection: 'synced', positions: { notes: 3 }, error: { code: 'offline' }, pending: 0 });
    const statuses = channel.posted.filter((m) => m.type === 'status');
    expect(statuses.at(-1)).toEqual({ type: 'status', connection: 'synced', positions: { notes: 3 }, error: { code: 'offline', message: 'down' } });
    expect(statuses).toHaveLength(4);
  });

  it('a new replica id: watchers hear of the rewritten records, the status shows the id, the other tabs are told', async () => {
    const { core, channel, host } = await hosted();
    const seen: string[] = [];
    core.feed.watch('notes', { prefix: '' }, (events) => seen.push(...events.map((e) => e.key)));
    await core.writes.commit([{ collection: 'notes', key: 'k', ack: 'local', kind: 'put', value: encodeAppValue(1), read: undefined }], 'local');
    const reset = await core.replica.resetIdentity(core.replica.replicaId);
    host.replicaChanged(reset!.changes);
    expect(seen).toEqual(['k', 'k']);
    expect(core.status.get().replicaId).toBe(reset!.id);
    expect(channel.posted.at(-1)).toEqual({ type: 'replica' });
  });

  it("the token comes from the app's auth on each connect, with refresh after unauthorized", async () => {
    const asked: boolean[] = [];
    const { host } = await hosted({ auth: ({ refresh }) => (asked.push(refresh), refresh ? 'fresh' : 'stale') });
    expect([await host.token(false), await host.token(true)]).toEqual(['stale', 'fresh']);
    expect(asked).toEqual([false, true]);
  });
});
