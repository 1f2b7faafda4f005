import { describe, expect, it } from 'vitest';
import { coreFixture } from './testing/core-fixture.js';
import { scriptedRelay } from './testing/scripted-relay.js';
import { eventually } from './testing/eventually.js';
import { TAB_PROTOCOL } from './tabs/tab-messages.js';

const open = coreFixture();

describe('TabBridge: what a tab does with the other tabs’ messages', () => {
  it("a tab without the socket mirrors the leader's status; the tab holding it ignores another's", async () => {
    const { core: follower, channel } = await open();
    channel.hear({ type: 'status', connection: 'synced', positions: { notes: 7 }, error: { code: 'offline', message: 'was down' } });
    expect(follower.status.get()).toMatchObject({ connection: 'synced', positions: { notes: 7 }, error: { code: 'offline' } });

    const relay = scriptedRelay();
    const { core: leader, channel: leaderChannel } = await open({ transport: relay.transport });
    expect(leader.link.leading).toBe(true);
    leaderChannel.hear({ type: 'status', connection: 'synced', positions: { notes: 7 }, error: undefined });
    expect(leader.status.get().positions).toEqual({});
    leaderChannel.hear({ type: 'status?' });
    expect(leaderChannel.posted.at(-1)).toMatchObject({ type: 'status', connection: leader.status.get().connection });
  });

  it("the leader's acks and refusals settle this tab's waiting writes and reach its app as events", async () => {
    const { core, channel } = await open();
    const events: string[] = [];
    core.events.on('acked', (e) => events.push(`acked ${e.level}`));
    core.events.on('rejected', (e) => events.push(`rejected ${e.code}`));
    const put = (key: string) => ({ collection: 'notes', key, ack: 'relay' as const, kind: 'put' as const, value: { json: key }, read: undefined });
    const a = core.writes.commit([put('a')], 'relay');
    const b = core.writes.commit([put('b')], 'relay').catch((error: { code: string }) => error.code);
    await eventually(async () => expect(await core.replica.pendingCount()).toBe(2));
    const [pa, pb] = await core.replica.pendingWrites();
    channel.hear({ type: 'acked', writeIds: [pa!.writeId], level: 'all' });
    channel.hear({ type: 'rejected', writes: [{ writeId: pb!.writeId, collection: 'notes', key: 'b', code: 'forbidden', message: 'no', rebased: false }] });
    expect((await a)[0]?.level).toBe('all');
    expect(await b).toBe('forbidden');
    expect(events).toEqual(['acked all', 'rejected forbidden']);
  });

  it("another tab's committed keys are re-read for this tab's watchers; with outbox: true the outbox is re-read", async () => {
    const { core, channel } = await open();
    const other = await open({ name: core.options.name }); // the other tab, on the same database
    const seen: unknown[] = [];
    core.feed.watch('notes', 'k', (events) => seen.push(...events.map((e) => e.doc?.value)));
    await other.core.writes.commit([{ collection: 'notes', key: 'k', ack: 'local', kind: 'put', value: { json: 'theirs' }, read: undefined }], 'local');
    channel.hear({ type: 'changed', collection: 'notes', keys: ['k'], outbox: true });
    await eventually(() => expect(seen).toEqual(['theirs']));
    await eventually(() => expect(core.status.get().pending).toBe(1));
  });

  it('a message of another build is not acted on, and said once per version in status.error', async () => {
    const { core, channel } = await open();
    const closing = { type: 'destroyed' };
    channel.hearRaw({ ...closing, v: TAB_PROTOCOL + 1 });
    channel.hearRaw({ type: 'status', connection: 'synced', positions: {}, error: undefined, v: TAB_PROTOCOL + 1 });
    expect(core.closed).toBe(false);
    expect(core.status.get().connection).toBe('offline');
    expect(core.status.get().error).toMatchObject({ code: 'bad_message', message: expect.stringContaining('another build') });
    core.status.update({ error: undefined });
    channel.hearRaw({ ...closing, v: TAB_PROTOCOL + 1 });
    expect(core.status.get().error).toBeUndefined(); // that version was reported already
    channel.hearRaw({ type: 'destroyed' }); // a build from before versions
    expect(core.status.get().error).toMatchObject({ code: 'bad_message' });
    expect(core.closed).toBe(false);
  });

  it('destroyed: another tab deleted the database, this client closes', async () => {
    const { core, channel } = await open();
    channel.hear({ type: 'destroyed' });
    await eventually(() => expect(core.closed).toBe(true));
  });
});
