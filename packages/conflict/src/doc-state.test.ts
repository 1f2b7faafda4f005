import { describe, expect, it } from 'vitest';
import { contextFromDots, EMPTY_CONTEXT, type CausalContext } from './causal-context.js';
import { adoptOrMerge, emptyDocState, mergeDocStates, nextDot, simpleSibling, simpleState, writeDoc, type DocState } from './doc-state.js';
import { vectorFrom } from './version-vector.js';

// PUT@R(ctx, v): replica R writes v having read ctx. Time is the write's order in the test.
let wall = 1000;
function put<T>(state: DocState<T>, replica: string, readContext: CausalContext, value: T, floor = 0) {
  const dot = nextDot(state, replica, floor);
  return writeDoc(state, { dot, hlc: { wall: wall++, logical: 0, replica }, readContext, value });
}
const values = <T>(s: DocState<T>) => s.siblings.map((x) => (x.deleted === true ? 'deleted' : x.value));
const ctx = (vv: Record<string, number>, cloud: [string, number][] = []): CausalContext => ({
  vv: vectorFrom(vv),
  cloud,
});

describe('DocState scenarios', () => {
  it('S1 sequential: a write that read v1 replaces it', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const a2 = put(a1.state, 'A', ctx({ A: 1 }), 'v2');
    expect(values(a2.state)).toEqual(['v2']);
    expect(a2.state.context).toEqual(ctx({ A: 2 }));
    expect(a2.superseded.map((s) => s.dot)).toEqual([['A', 1]]);
  });

  it('S2 two blind writes at one replica: neither replaces the other', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const a2 = put(a1.state, 'A', EMPTY_CONTEXT, 'v2');
    expect(values(a2.state)).toEqual(['v1', 'v2']);
    expect(a2.state.context).toEqual(ctx({ A: 2 }));
  });

  it('S3 a stale context supersedes only what it saw', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const reader = a1.state.context; // {A:1}
    const a2 = put(a1.state, 'A', EMPTY_CONTEXT, 'v2');
    const a3 = put(a2.state, 'A', reader, 'v3');
    expect(values(a3.state)).toEqual(['v2', 'v3']);
    expect(a3.state.context).toEqual(ctx({ A: 3 }));
    // S4: a write that read {A:3} leaves one sibling.
    const a4 = put(a3.state, 'A', ctx({ A: 3 }), 'v4');
    expect(values(a4.state)).toEqual(['v4']);
  });

  it('S5 concurrent writes on two replicas become siblings; merge commutes and is idempotent', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const b0 = mergeDocStates(emptyDocState<string>(), a1.delta).state;
    const a2 = put(a1.state, 'A', ctx({ A: 1 }), 'v2');
    const b1 = put(b0, 'B', ctx({ A: 1 }), 'v3');
    const ab = mergeDocStates(a2.state, b1.state).state;
    expect(values(ab)).toEqual(['v2', 'v3']);
    expect(ab.siblings.map((s) => s.dot)).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
    expect(ab.context).toEqual(ctx({ A: 2, B: 1 }));
    expect(mergeDocStates(b1.state, a2.state).state).toEqual(ab);
    expect(mergeDocStates(ab, ab).state).toEqual(ab);
  });

  it('S6 deltas in every order, duplicated, give identical states; an older delta after a newer changes nothing', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const a2 = put(a1.state, 'A', ctx({ A: 1 }), 'v2');
    const b1 = put(mergeDocStates(emptyDocState<string>(), a1.delta).state, 'B', ctx({ A: 1 }), 'v3');
    const deltas = [a1.delta, a2.delta, b1.delta];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
      [2, 1, 1, 0, 2, 0],
    ];
    const results = orders.map((order) => order.reduce((s, i) => mergeDocStates(s, deltas[i]!).state, emptyDocState<string>()));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(values(results[0]!)).toEqual(['v2', 'v3']);
    const newer = mergeDocStates(emptyDocState<string>(), a2.delta).state;
    expect(mergeDocStates(newer, a1.delta).state).toEqual(newer);
  });

  it("S6b a replica's writes out of order: the context claims only dots that arrived", () => {
    const b1 = put(emptyDocState<string>(), 'B', EMPTY_CONTEXT, 'b1');
    const b2 = put(b1.state, 'B', EMPTY_CONTEXT, 'b2'); // a second tab: blind
    const c1 = mergeDocStates(emptyDocState<string>(), b2.delta).state;
    expect(c1.context).toEqual(ctx({}, [['B', 2]])); // not {B: 2}, which would claim b1
    const c2 = mergeDocStates(c1, b1.delta).state;
    expect(values(c2)).toEqual(['b1', 'b2']);
    expect(c2.context).toEqual(ctx({ B: 2 })); // {B:1, B:2}, compacted
  });

  it('S10 an app merge written back is a new write: it supersedes what it read, not a blind write it never saw', () => {
    const a = put(emptyDocState<number>(), 'A', EMPTY_CONTEXT, 2);
    const b = put(emptyDocState<number>(), 'B', EMPTY_CONTEXT, 4);
    const both = mergeDocStates(a.state, b.state).state;
    const c = put(emptyDocState<number>(), 'C', EMPTY_CONTEXT, 7); // elsewhere, unseen
    const merged = put(both, 'A', both.context, 6); // the app merged [2, 4] into 6
    const everywhere = mergeDocStates(merged.state, c.state).state;
    expect(values(everywhere)).toEqual([6, 7]);
  });

  it('keeps a counter floor: a replica that dropped a key never reuses a counter for it', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const a2 = put(a1.state, 'A', a1.state.context, 'v2');
    // The document was evicted; the floor (2) survives and the next write gets A:3.
    const again = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v3', 2);
    expect(again.dot).toEqual(['A', 3]);
    const merged = mergeDocStates(a2.state, again.delta);
    expect(merged.anomalies).toEqual([]);
    expect(values(merged.state)).toEqual(['v2', 'v3']);
  });

  it('a delete is a tombstone sibling that supersedes what it read', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    const d = writeDoc(a1.state, {
      dot: nextDot(a1.state, 'A'),
      hlc: { wall: wall++, logical: 0, replica: 'A' },
      readContext: a1.state.context,
      deleted: true,
    });
    expect(d.state.siblings).toHaveLength(1);
    expect(d.state.siblings[0]!.deleted).toBe(true);
  });

  it('same dot with different content: merge keeps one deterministically and reports it, never throws', () => {
    const base = emptyDocState<string>();
    const hlc = { wall: 5, logical: 0, replica: 'A' };
    const x = writeDoc(base, { dot: ['A', 1], hlc, readContext: EMPTY_CONTEXT, value: 'x' }).state;
    const y = writeDoc(base, { dot: ['A', 1], hlc, readContext: EMPTY_CONTEXT, value: 'y' }).state;
    const xy = mergeDocStates(x, y);
    const yx = mergeDocStates(y, x);
    expect(xy.state).toEqual(yx.state);
    expect(xy.anomalies).toHaveLength(1);
    expect(xy.anomalies[0]!.dot).toEqual(['A', 1]);
    expect(values(xy.state)).toEqual([xy.anomalies[0]!.kept.deleted === true ? 'deleted' : xy.anomalies[0]!.kept.value]);
    // A re-stamp (same dot, new HLC) is caught too.
    const restamped = writeDoc(base, { dot: ['A', 1], hlc: { ...hlc, wall: 6 }, readContext: EMPTY_CONTEXT, value: 'x' }).state;
    expect(mergeDocStates(x, restamped).anomalies).toHaveLength(1);
  });

  it('refuses to write a dot the state has already seen', () => {
    const a1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1');
    expect(() => writeDoc(a1.state, { dot: ['A', 1], hlc: { wall: 1, logical: 0, replica: 'A' }, readContext: EMPTY_CONTEXT, value: 'again' })).toThrow(
      expect.objectContaining({ code: 'replica_reset' }),
    );
  });

  it('a context built from dots out of order compacts into the vector as gaps fill', () => {
    expect(
      contextFromDots([
        ['B', 3],
        ['B', 1],
      ]),
    ).toEqual(ctx({ B: 1 }, [['B', 3]]));
    expect(
      contextFromDots([
        ['B', 3],
        ['B', 1],
        ['B', 2],
      ]),
    ).toEqual(ctx({ B: 3 }));
  });
});

describe("simple states: one live sibling whose context is its writer's own prefix", () => {
  it('a replica writing a key on its own keeps it simple; the state is rebuilt exactly from its sibling', () => {
    const s1 = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'v1').state;
    const s2 = put(s1, 'A', s1.context, 'v2').state;
    const sibling = simpleSibling(s2);
    expect(sibling?.value).toBe('v2');
    expect(simpleState(sibling!)).toEqual(s2);
  });

  it('siblings, another replica in the context, a cloud or a tombstone make a state not simple', () => {
    const a = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'a').state;
    const concurrent = mergeDocStates(a, put(emptyDocState<string>(), 'B', EMPTY_CONTEXT, 'b').state).state;
    const overB = put(concurrent, 'A', concurrent.context, 'a2').state;
    const blind = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'x', 4).state;
    const deleted = writeDoc(a, { dot: ['A', 2], hlc: { wall: wall++, logical: 0, replica: 'A' }, readContext: a.context, deleted: true }).state;
    expect(simpleSibling(a)).toBeDefined();
    for (const state of [concurrent, overB, blind, deleted]) expect(simpleSibling(state)).toBeUndefined();
  });
});

describe('adoptOrMerge', () => {
  it('a key the receiver does not hold adopts the incoming state as is; a held key merges', () => {
    const incoming = put(emptyDocState<string>(), 'A', EMPTY_CONTEXT, 'a').state;
    expect(adoptOrMerge(undefined, incoming).state).toBe(incoming);
    expect(adoptOrMerge(undefined, incoming).state).toEqual(mergeDocStates(emptyDocState<string>(), incoming).state);
    const local = put(emptyDocState<string>(), 'B', EMPTY_CONTEXT, 'b').state;
    expect(values(adoptOrMerge(local, incoming).state)).toEqual(['a', 'b']);
  });
});
