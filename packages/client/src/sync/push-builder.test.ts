import { EMPTY_CONTEXT, writeDoc, type DocState } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import type { WireValue } from '@converge/protocol';
import type { OutboxEntry } from '../storage/storage-adapter.js';
import { planPush, squash } from './push-builder.js';

type Entry = OutboxEntry & { readonly id: number };
const empty: DocState<WireValue> = { context: EMPTY_CONTEXT, siblings: [] };

function entry(id: number, key: string, counter: number, value: string, mode: Entry['mode'] = 'multi-leader', read = EMPTY_CONTEXT): Entry {
  const { delta } = writeDoc<WireValue>(empty, {
    dot: ['A', counter],
    hlc: { wall: counter, logical: 0, replica: 'A' },
    readContext: read,
    value: { json: value },
  });
  return {
    id,
    writeId: `A:${id}`,
    collection: 'c',
    key,
    mode,
    replica: 'A',
    writeNumber: id,
    delta,
    write: { kind: 'put', value: { json: value }, readContext: read },
    ack: 'local',
    createdAt: 0,
  };
}

describe('squash', () => {
  it('merges the deltas of writes to one key: two tabs’ concurrent writes both survive, never “the last one”', () => {
    const [change, ...rest] = squash([entry(1, 'k', 1, 'tab 1'), entry(2, 'other', 1, 'o'), entry(3, 'k', 2, 'tab 2 (stale read)')]);
    expect(rest).toHaveLength(1);
    expect(change!.entries.map((e) => e.id)).toEqual([1, 3]);
    expect(change!.change.delta.siblings.map((s) => (s.deleted === true ? null : s.value))).toEqual([{ json: 'tab 1' }, { json: 'tab 2 (stale read)' }]);
    expect(change!.change.writeNumber).toBe(3);
  });

  it('a later write that read the earlier one replaces it in the squashed delta', () => {
    const first = entry(1, 'k', 1, 'v1');
    const [change] = squash([first, entry(2, 'k', 2, 'v2', 'multi-leader', first.delta.context)]);
    expect(change!.change.delta.siblings.map((s) => s.dot)).toEqual([['A', 2]]);
    expect(change!.change.delta.context.vv.get('A')).toBe(2);
  });

  it('leader-follower writes are never squashed: each dot gets its own decision', () => {
    const changes = squash([entry(1, 'k', 1, 'a', 'leader-follower'), entry(2, 'k', 2, 'b', 'leader-follower')]);
    expect(changes.map((c) => c.change.delta.siblings.length)).toEqual([1, 1]);
  });
});

describe('planPush', () => {
  const changes = squash(Array.from({ length: 10 }, (_, i) => entry(i + 1, `k${i}`, 1, 'x'.repeat(100))));

  it('fits maxChangesPerFrame and maxFrameBytes, in outbox order', () => {
    const byCount = planPush(changes, { maxChangesPerFrame: 3, maxFrameBytes: 1 << 20 }, 'p1');
    expect('frame' in byCount && byCount.frame.changes.map((c) => c.key)).toEqual(['k0', 'k1', 'k2']);
    const byBytes = planPush(changes, { maxChangesPerFrame: 1000, maxFrameBytes: 700 }, 'p2');
    expect('frame' in byBytes && byBytes.text.length).toBeLessThanOrEqual(700);
    expect('frame' in byBytes && byBytes.frame.changes.length).toBeGreaterThan(0);
  });

  it('asks for the highest ack level of the writes it carries; a change that fits no frame is reported', () => {
    const strict = squash([{ ...entry(1, 'a', 1, 'x'), ack: 'quorum' }, entry(2, 'b', 1, 'y')]);
    const plan = planPush(strict, { maxChangesPerFrame: 10, maxFrameBytes: 1 << 20 }, 'p3');
    expect('frame' in plan && plan.frame.ack).toBe('quorum');
    expect(planPush(changes, { maxChangesPerFrame: 10, maxFrameBytes: 50 }, 'p4')).toHaveProperty('tooLarge');
  });
});
