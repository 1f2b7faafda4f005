import type { ConvergeError } from '@converge/conflict';
import { AckTimeoutError } from '@converge/conflict';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientCore } from './client-core.js';
import { coreFixture } from './testing/core-fixture.js';
import { eventually } from './testing/eventually.js';
import { encodeAppValue } from './values.js';

const open = coreFixture();
const put = (key: string, value: unknown, ack: 'local' | 'relay' = 'local') => ({
  collection: 'notes',
  key,
  ack,
  kind: 'put' as const,
  value: encodeAppValue(value),
  read: undefined,
});
const pendingIds = async (core: ClientCore) => (await core.replica.pendingWrites()).map((e) => e.writeId);

afterEach(() => {
  vi.useRealTimers();
});

describe('LocalWrites', () => {
  it('a commit tells the app each write (`written`, with its dot and version) and each LWW value it removed unseen (`conflict`)', async () => {
    const { core } = await open({ collections: { prefs: { strategy: 'lww' } } });
    const other = await open({ name: core.options.name, collections: { prefs: { strategy: 'lww' } } }); // another tab
    await core.writes.commit([{ ...put('theme', 'dark'), collection: 'prefs' }], 'local');
    await other.core.writes.commit([{ ...put('theme', 'light'), collection: 'prefs' }], 'local'); // blind: 'dark' stays, hidden
    const shown = core.memories.read(core.replica.spec('prefs'), (await core.replica.doc('prefs', 'theme'))!);
    expect(shown).toMatchObject({ value: 'light', conflicts: [] });
    const events: string[] = [];
    core.events.on('written', (e) => events.push(`written ${e.key} ${e.dot[1]}`));
    core.events.on('conflict', (e) => events.push(`conflict ${e.key} ${e.discarded.map((d) => d.value).join()}`));
    await core.writes.commit([{ ...put('theme', 'blue'), collection: 'prefs', read: core.memories.recall('prefs', 'theme') }], 'local');
    expect(events).toEqual(['written theme 3', 'conflict theme dark']); // removed by the write, never shown
  });

  it('a write waiting for a level resolves when the relay holds it there, or rejects with AckTimeoutError naming the level reached', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { core } = await open({ ackTimeoutMs: 1000 });
    const held = core.writes.commit([put('held', 1, 'relay')], 'relay');
    const late = core.writes.commit([put('late', 2, 'relay')], 'quorum').catch((e: unknown) => e);
    await vi.waitFor(async () => expect(await pendingIds(core)).toHaveLength(2));
    const [heldId, lateId] = await pendingIds(core);
    core.writes.acked([heldId!, lateId!], 'relay');
    expect((await held)[0]?.level).toBe('relay');
    await vi.advanceTimersByTimeAsync(1000);
    const error = await late;
    expect(error).toBeInstanceOf(AckTimeoutError);
    expect((error as AckTimeoutError).reached).toBe('relay');
  });

  it("a leader-follower refusal is offered to the collection's onReject: its answer is written as a new write over the current value", async () => {
    const { core } = await open({ collections: { stock: { mode: 'leader-follower', onReject: (attempted: unknown) => `${String(attempted)}, rebased` } } });
    await core.writes.commit([{ ...put('sku', 'mine'), collection: 'stock' }], 'local');
    const [entry] = await core.replica.pendingWrites();
    const events = core.writes.rejected([
      { writeId: entry!.writeId, collection: 'stock', key: 'sku', write: entry!.write, code: 'conflict_rejected', message: 'stale', at: 0 },
    ]);
    expect(events).toEqual([expect.objectContaining({ code: 'conflict_rejected', rebased: true })]);
    await eventually(async () => expect((await core.views.outbox()).map((w) => w.value)).toEqual(['mine', 'mine, rebased']));
  });

  it('once closed, a commit rejects with closed, and a write still waiting for a level rejects with the level it reached (cause closed)', async () => {
    const { core } = await open();
    const waiting = core.writes.commit([put('k', 1, 'relay')], 'relay').catch((e: unknown) => e);
    await eventually(async () => expect(await pendingIds(core)).toHaveLength(1));
    core.writes.close();
    const error = (await waiting) as AckTimeoutError;
    expect(error).toBeInstanceOf(AckTimeoutError);
    expect((error.cause as ConvergeError).code).toBe('closed');
    await expect(core.writes.commit([put('after', 1)], 'local')).rejects.toMatchObject({ code: 'closed' });
  });
});
