import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT } from './causal-context.js';
import { emptyDocState, mergeDocStates, nextDot, writeDoc, type DocState } from './doc-state.js';
import { discardedByWrite, resolve, resolveLww, resolveMerge, resolveSiblings } from './resolve.js';

function blind<T>(state: DocState<T>, replica: string, wall: number, value: T | 'DELETE') {
  const base = { dot: nextDot(state, replica), hlc: { wall, logical: 0, replica }, readContext: EMPTY_CONTEXT };
  return value === 'DELETE' ? writeDoc(state, { ...base, deleted: true }) : writeDoc(state, { ...base, value });
}

function concurrent<T>(...writes: [string, number, T | 'DELETE'][]): DocState<T> {
  return writes.map(([r, wall, v]) => blind(emptyDocState<T>(), r, wall, v).state).reduce((a, b) => mergeDocStates(a, b).state);
}

describe('siblings strategy (default)', () => {
  it('shows the highest-HLC value and lists every other sibling as a conflict', () => {
    const r = resolveSiblings(concurrent<string>(['A', 10, 'a'], ['B', 20, 'b'], ['C', 15, 'c']));
    expect(r.value).toBe('b');
    expect(r.conflicts.map((s) => (s.deleted === true ? null : s.value))).toEqual(['c', 'a']);
    expect(r.winner).toEqual(['B', 1]);
  });

  it('a concurrent delete does not hide a live value, but is listed', () => {
    const r = resolveSiblings(concurrent<string>(['A', 10, 'a'], ['B', 20, 'DELETE']));
    expect(r.exists).toBe(true);
    expect(r.value).toBe('a');
    expect(r.conflicts).toHaveLength(1);
  });

  it('all-deleted reads as absent; a write with the returned version clears the conflicts', () => {
    expect(resolveSiblings(concurrent<string>(['A', 1, 'DELETE'], ['B', 2, 'DELETE'])).exists).toBe(false);
    const state = concurrent<string>(['A', 10, 'a'], ['B', 20, 'b']);
    const read = resolveSiblings(state);
    const next = writeDoc(state, { dot: nextDot(state, 'A'), hlc: { wall: 30, logical: 0, replica: 'A' }, readContext: read.version, value: 'ab' });
    expect(resolveSiblings(next.state)).toMatchObject({ value: 'ab', conflicts: [] });
  });

  it('ties between two tabs of one replica (same HLC) go to the higher dot', () => {
    const s0 = emptyDocState<string>();
    const hlc = { wall: 5, logical: 0, replica: 'A' };
    const t1 = writeDoc(s0, { dot: ['A', 1], hlc, readContext: EMPTY_CONTEXT, value: 'tab1' }).state;
    const t2 = writeDoc(t1, { dot: ['A', 2], hlc, readContext: EMPTY_CONTEXT, value: 'tab2' }).state;
    expect(resolveSiblings(t2).value).toBe('tab2');
  });
});

describe('lww strategy', () => {
  it('reads the highest HLC, hides losers, and a later delete wins', () => {
    expect(resolveLww(concurrent<string>(['A', 10, 'a'], ['B', 20, 'b']))).toMatchObject({ value: 'b', conflicts: [] });
    expect(resolveLww(concurrent<string>(['A', 30, 'DELETE'], ['B', 20, 'b'])).exists).toBe(false);
  });

  it('the next write removes the losers and reports each value it removed unseen', () => {
    const state = concurrent<string>(['A', 10, 'a'], ['B', 20, 'b'], ['C', 5, 'c']);
    const read = resolveLww(state);
    const w = writeDoc(state, { dot: nextDot(state, 'A'), hlc: { wall: 40, logical: 0, replica: 'A' }, readContext: read.version, value: 'new' });
    expect(w.state.siblings).toHaveLength(1);
    const lost = discardedByWrite(w.superseded, read.winner).map((s) => (s.deleted === true ? null : s.value));
    expect(lost.sort()).toEqual(['a', 'c']);
  });
});

describe('merge strategy', () => {
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

  it('computes the app merge on read over sibling values in canonical order', () => {
    const seen: number[][] = [];
    const fn = (values: readonly number[]) => {
      seen.push([...values]);
      return sum(values);
    };
    const ab = concurrent<number>(['A', 10, 2], ['B', 20, 4]);
    const ba = mergeDocStates(blind(emptyDocState<number>(), 'B', 20, 4).state, blind(emptyDocState<number>(), 'A', 10, 2).state).state;
    expect(resolveMerge(ab, fn).value).toBe(6);
    expect(resolveMerge(ba, fn).value).toBe(6);
    expect(seen[0]).toEqual(seen[1]);
  });

  it('does not call the merge for a single value, and is not written back by reading', () => {
    let calls = 0;
    const one = blind(emptyDocState<number>(), 'A', 1, 9).state;
    expect(resolve(one, { kind: 'merge', merge: (v) => (calls++, sum(v)) }).value).toBe(9);
    expect(calls).toBe(0);
    const two = concurrent<number>(['A', 10, 2], ['B', 20, 4]);
    resolve(two, { kind: 'merge', merge: sum });
    expect(two.siblings).toHaveLength(2);
  });
});
