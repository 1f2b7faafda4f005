import { EMPTY_CONTEXT, emptyDocState, mergeDocStates, nextDot, writeDoc, type CausalContext, type DocState } from '@converge/conflict';
import { propertyOptions } from '@converge/conflict/testing';
import fc from 'fast-check';
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

  it("a key's squashed delta is the merge of its writes' deltas, for any run of writes from two tabs (reading what they last saw, nothing, or the stored state) between remote writes", () => {
    const step = fc.record({
      key: fc.constantFrom('k1', 'k2', 'k3'),
      tab: fc.constantFrom(0, 1),
      read: fc.constantFrom('memory', 'blind', 'stored'),
      remote: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const stored = new Map<string, DocState<WireValue>>();
        const memory = [new Map<string, CausalContext>(), new Map<string, CausalContext>()];
        const entries: Entry[] = [];
        let wall = 0;
        for (const { key, tab, read, remote } of steps) {
          const state = stored.get(key) ?? emptyDocState<WireValue>();
          wall++;
          if (remote) {
            // Another replica's write, over what it may have seen of ours, arrives between our writes.
            const b = writeDoc<WireValue>(state, {
              dot: nextDot(state, 'B'),
              hlc: { wall, logical: 0, replica: 'B' },
              readContext: read === 'stored' ? state.context : EMPTY_CONTEXT,
              value: { json: wall },
            });
            stored.set(key, mergeDocStates(state, b.delta).state);
            continue;
          }
          const readContext = read === 'stored' ? state.context : read === 'memory' ? (memory[tab]!.get(key) ?? EMPTY_CONTEXT) : EMPTY_CONTEXT;
          const written = writeDoc<WireValue>(state, { dot: nextDot(state, 'A'), hlc: { wall, logical: 0, replica: 'A' }, readContext, value: { json: wall } });
          stored.set(key, written.state);
          memory[tab]!.set(key, written.delta.context);
          entries.push({ ...entry(entries.length + 1, key, 1, ''), delta: written.delta });
        }
        const changes = squash(entries);
        expect(changes.map((c) => c.change.key)).toEqual([...new Set(entries.map((e) => e.key))]);
        for (const { change, entries: squashed } of changes) {
          const own = entries.filter((e) => e.key === change.key);
          expect(squashed).toEqual(own);
          expect(change.delta).toEqual(own.map((e) => e.delta).reduce((a, b) => mergeDocStates(a, b).state));
          expect(change.writeNumber).toBe(Math.max(...own.map((e) => e.writeNumber)));
        }
      }),
      propertyOptions({ share: 0.3 }),
    );
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
