import { describe, expect, it } from 'vitest';
import { emptyDocState, mergeDocStates, nextDot, type DocState } from '../doc-state.js';
import { decodeDocState, encodeDocState } from '../encoding.js';
import { applyCrdtOp, checkCrdtWrite, crdtStateFromJson, crdtStateToJson, readCrdt } from './crdt-doc.js';
import type { CrdtState, CrdtType } from './crdt-type.js';
import type { DotFun } from './dot-fun.js';
import { counter } from './counter.js';
import { orSet } from './or-set.js';
import { cart, lwwMap } from './types.js';

let wall = 1;
function op<S, Op extends { readonly type: string }>(
  type: CrdtType<S, unknown, Op>,
  state: DocState<CrdtState<S>>,
  replica: string,
  o: Op | { type: 'clear' },
) {
  return applyCrdtOp(type, state, { dot: nextDot(state, replica), hlc: { wall: wall++, logical: 0, replica }, op: o });
}
const merge = <T>(...states: DocState<T>[]) => states.reduce((a, b) => mergeDocStates(a, b).state);
const add = (key: string, by: number) => ({ type: 'update' as const, key, op: { type: 'increment' as const, by } });

describe('S13 shopping cart', () => {
  // Base {milk: 1, eggs: 1}, synced to X and Y. X removes eggs; Y adds bread.
  const base = op(cart, op(cart, emptyDocState(), 'B', add('milk', 1)).state, 'B', add('eggs', 1)).state;
  const x = op(cart, base, 'X', { type: 'remove', key: 'eggs' });
  const y = op(cart, base, 'Y', add('bread', 1));

  it('orMap(counter) gives {milk: 1, bread: 1}, in either order', () => {
    const xy = readCrdt(cart, merge(x.state, y.delta)).value;
    const yx = readCrdt(cart, merge(y.state, x.delta)).value;
    expect(Object.fromEntries(xy)).toEqual({ bread: 1, milk: 1 });
    expect(yx).toEqual(xy);
  });

  it('the naive "union the carts and add quantities" double-counts milk and resurrects eggs', () => {
    const naive = (a: Map<string, number>, b: Map<string, number>) => {
      const out = new Map(a);
      for (const [item, qty] of b) out.set(item, (out.get(item) ?? 0) + qty);
      return out;
    };
    const xCart = readCrdt(cart, x.state).value;
    const yCart = readCrdt(cart, y.state).value;
    const merged = naive(xCart, yCart);
    expect(merged.get('milk')).toBe(2); // double-counted: both carts carry the common ancestor's milk
    expect(merged.get('eggs')).toBe(1); // resurrected: X removed it
    expect(naive(merged, yCart)).not.toEqual(merged); // and not idempotent
  });
});

describe('counter', () => {
  it('from a synced base of 1, A +2 and B +3 concurrently → 6, whatever the order and re-delivery', () => {
    const base = op(counter, emptyDocState(), 'S', { type: 'increment', by: 1 });
    const a = op(counter, base.state, 'A', { type: 'increment', by: 2 });
    const b = op(counter, base.state, 'B', { type: 'increment', by: 3 });
    const deltas = [base.delta, a.delta, b.delta];
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0, 1, 2],
      [1, 1, 0, 2, 0],
    ]) {
      const s = order.reduce((st, i) => merge(st, deltas[i]!), emptyDocState<CrdtState<DotFun<number>>>());
      expect(readCrdt(counter, s).value).toBe(6);
    }
  });

  it('two tabs of one replica never lose an increment (entries are named by DVV dots)', () => {
    const base = op(counter, emptyDocState(), 'A', { type: 'increment', by: 1 }).state;
    const tab1 = op(counter, base, 'A', { type: 'increment', by: 5 });
    // tab2 writes from the stale base, with the next dot allocated from shared storage.
    const tab2 = applyCrdtOp(counter, base, {
      dot: nextDot(tab1.state, 'A'),
      hlc: { wall: wall++, logical: 0, replica: 'A' },
      op: { type: 'increment', by: 7 },
    });
    expect(readCrdt(counter, merge(tab1.state, tab2.delta)).value).toBe(13);
  });
});

describe('orSet and lwwMap', () => {
  it('orSet: add wins over a concurrent remove; remove drops what it saw', () => {
    const base = op(orSet, emptyDocState(), 'A', { type: 'add', element: 'x' }).state;
    const removed = op(orSet, base, 'A', { type: 'remove', element: 'x' });
    const readded = op(orSet, base, 'B', { type: 'add', element: 'x' });
    expect(readCrdt(orSet, merge(removed.state, readded.delta)).value).toEqual(['x']);
    expect(readCrdt(orSet, removed.state).exists).toBe(false);
  });

  it('lwwMap: each field is last-writer-wins on its own', () => {
    const base = emptyDocState<CrdtState<never>>() as never;
    const a = op(lwwMap, base, 'A', { type: 'update', key: 'name', op: { type: 'set', value: 'Ann' } });
    const b = op(lwwMap, base, 'B', { type: 'update', key: 'city', op: { type: 'set', value: 'Oslo' } });
    const c = op(lwwMap, base, 'C', { type: 'update', key: 'name', op: { type: 'set', value: 'Bob' } }); // later HLC
    expect(Object.fromEntries(readCrdt(lwwMap, merge(a.state, b.delta, c.delta)).value)).toEqual({ name: 'Bob', city: 'Oslo' });
  });
});

describe('clear is the CRDT delete', () => {
  it('writes an ordinary sibling, reads as absent, and a concurrent increment survives alone', () => {
    const base = op(cart, emptyDocState(), 'A', add('milk', 2)).state;
    const cleared = op(cart, base, 'A', { type: 'clear' });
    expect(cleared.state.siblings[0]!.deleted).toBeUndefined();
    expect(readCrdt(cart, cleared.state).exists).toBe(false);
    const inc = op(cart, base, 'B', add('milk', 1));
    expect(Object.fromEntries(readCrdt(cart, merge(cleared.state, inc.delta)).value)).toEqual({ milk: 1 });
  });
});

describe('CRDT values on the wire and the relay check', () => {
  const toJson = (s: DocState<CrdtState<unknown>>) => JSON.parse(JSON.stringify(encodeDocState(s, (v) => crdtStateToJson(cart as never, v))));
  const fromJson = (json: unknown) => {
    const raw = decodeDocState(json);
    if (!raw.ok) throw raw.error;
    return {
      context: raw.value.context,
      siblings: raw.value.siblings.map((s) => {
        if (s.deleted === true) return s;
        const v = crdtStateFromJson(cart as never, s.value);
        if (!v.ok) throw v.error;
        return { ...s, value: v.value };
      }),
    } as DocState<CrdtState<never>>;
  };
  const relay = op(cart, op(cart, emptyDocState(), 'A', add('milk', 1)).state, 'B', add('eggs', 2)).state;

  it('round-trips as plain JSON', () => {
    expect(fromJson(toJson(relay))).toEqual(relay);
  });

  it('accepts an honest write, refuses one that forges another writer entry or claims unseen dots', () => {
    const honest = op(cart, relay, 'C', add('milk', 3));
    expect(checkCrdtWrite(cart as never, fromJson(toJson(honest.delta)), relay as never, 'C').ok).toBe(true);

    const json = toJson(honest.delta);
    const value = json.s[0][4];
    // Inflate B's eggs entry (B:1 → 200): content differs from what the relay holds.
    value.s = value.s.map(([k, entries]: [string, [string, number, number][]]) => [k, entries.map((e) => (e[0] === 'B' ? [e[0], e[1], 200] : e))]);
    const forged = checkCrdtWrite(cart as never, fromJson(json), relay as never, 'C');
    expect(!forged.ok && forged.error.code).toBe('forbidden');

    const json2 = toJson(honest.delta);
    json2.s[0][4].s.push(['bread', [['D', 1, 5]]]);
    json2.s[0][4].c.v.D = 1;
    const unseen = checkCrdtWrite(cart as never, fromJson(json2), relay as never, 'C');
    expect(!unseen.ok && unseen.error.code).toBe('forbidden'); // seen-set outside the envelope context
  });

  it("accepts the writer's own earlier entries the relay has not seen yet (a squashed outbox)", () => {
    const first = op(cart, relay, 'C', add('milk', 1));
    const second = op(cart, first.state, 'C', add('milk', 1)); // covers the first: one sibling carries both
    const squashed = merge(first.delta, second.delta);
    expect(squashed.siblings).toHaveLength(1);
    expect(checkCrdtWrite(cart as never, fromJson(toJson(squashed)), relay as never, 'C').ok).toBe(true);
  });

  it('refuses an entry outside the value seen-set at decode time', () => {
    const bad = crdtStateFromJson(cart as never, { s: [['milk', [['A', 9, 1]]]], c: { v: { A: 1 } } });
    expect(!bad.ok && bad.error.code).toBe('bad_message');
  });

  it('refuses malformed operations from the app with a typed error', () => {
    expect(() => op(cart, emptyDocState(), 'A', { type: 'update', key: '__proto__', op: { type: 'increment', by: 1 } })).toThrow(
      expect.objectContaining({ code: 'bad_message' }),
    );
    expect(() => op(counter, emptyDocState(), 'A', { type: 'increment', by: 0.5 })).toThrow(expect.objectContaining({ code: 'bad_message' }));
  });
});
