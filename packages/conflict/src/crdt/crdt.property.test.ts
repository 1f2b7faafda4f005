import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDot, EMPTY_CONTEXT, unionContexts } from '../causal-context.js';
import { canonical } from '../canonical.js';
import { propertyOptions } from '../testing/property-options.js';
import type { CrdtState, CrdtType } from './crdt-type.js';
import { counter } from './counter.js';
import { orSet } from './or-set.js';
import { cart, lwwMap } from './types.js';

/** A step of a random dot-store history: an operation at a replica, or one replica joining another's state. */
type Step<Op extends { readonly type: string }> = { kind: 'op'; at: number; op: Op | { type: 'clear' } } | { kind: 'join'; from: number; to: number };

function arbSteps<Op extends { readonly type: string }>(arbOp: fc.Arbitrary<Op>): fc.Arbitrary<Step<Op>[]> {
  const at = fc.integer({ min: 0, max: 2 });
  return fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('op' as const), at, op: arbOp }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('op' as const), at, op: fc.constant({ type: 'clear' as const }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('join' as const), from: at, to: at }) },
    ),
    { maxLength: 30 },
  );
}

function join<S>(type: CrdtType<S, unknown, never>, a: CrdtState<S>, b: CrdtState<S>): CrdtState<S> {
  return { store: type.join(a.store, a.seen, b.store, b.seen), seen: unionContexts(a.seen, b.seen) };
}

/** Runs a history on three replicas; returns every state any replica held. */
function history<S, Op extends { readonly type: string }>(type: CrdtType<S, unknown, Op>, steps: Step<Op>[]) {
  const ids = ['A', 'B', 'C'];
  const counters = [0, 0, 0];
  const states: CrdtState<S>[] = ids.map(() => ({ store: type.empty(), seen: EMPTY_CONTEXT }));
  const seen: CrdtState<S>[] = [...states];
  const ops: { dot: string; op: Op | { type: 'clear' } }[] = [];
  steps.forEach((step, i) => {
    if (step.kind === 'join') {
      states[step.to] = join(type, states[step.to]!, states[step.from]!);
    } else {
      const dot = [ids[step.at]!, ++counters[step.at]!] as const;
      const s = states[step.at]!;
      const store = step.op.type === 'clear' ? type.empty() : type.apply(s.store, step.op as Op, dot, { wall: i, logical: 0, replica: dot[0] });
      states[step.at] = { store, seen: addDot(s.seen, dot) };
      ops.push({ dot: `${dot[0]}:${dot[1]}`, op: step.op });
    }
    seen.push(states[step.kind === 'join' ? step.to : step.at]!);
  });
  return { states, seen, ops };
}

const types = [
  ['counter', counter, fc.record({ type: fc.constant('increment' as const), by: fc.integer({ min: -5, max: 5 }) })],
  ['orSet', orSet, fc.record({ type: fc.constantFrom('add' as const, 'remove' as const), element: fc.constantFrom('x', 'y', 1, { z: [1] }) })],
  [
    'cart (orMap of counters)',
    cart,
    fc.oneof(
      fc.record({
        type: fc.constant('update' as const),
        key: fc.constantFrom('milk', 'eggs'),
        op: fc.record({ type: fc.constant('increment' as const), by: fc.integer({ min: -2, max: 3 }) }),
      }),
      fc.record({ type: fc.constant('remove' as const), key: fc.constantFrom('milk', 'eggs') }),
    ),
  ],
  [
    'lwwMap',
    lwwMap,
    fc.oneof(
      fc.record({
        type: fc.constant('update' as const),
        key: fc.constantFrom('name', 'city'),
        op: fc.record({ type: fc.constant('set' as const), value: fc.constantFrom('a', 'b', null) }),
      }),
      fc.record({ type: fc.constant('remove' as const), key: fc.constantFrom('name', 'city') }),
    ),
  ],
] as const;

describe.each(types)('%s: the join is a semilattice over states from random histories', (_name, type, arbOp) => {
  const t = type as unknown as CrdtType<unknown, unknown, { readonly type: string }>;
  const text = (s: CrdtState<unknown>) => canonical([t.toJson(s.store), s.seen]);
  const arbStates = fc.tuple(arbSteps(arbOp as fc.Arbitrary<{ readonly type: string }>), fc.nat(), fc.nat(), fc.nat()).map(([steps, i, j, k]) => {
    const { seen } = history(t, steps);
    return [seen[i % seen.length]!, seen[j % seen.length]!, seen[k % seen.length]!] as const;
  });

  it('commutative, associative, idempotent', () => {
    fc.assert(
      fc.property(arbStates, ([a, b, c]) => {
        expect(text(join(t, a, b))).toBe(text(join(t, b, a)));
        expect(text(join(t, join(t, a, b), c))).toBe(text(join(t, a, join(t, b, c))));
        expect(text(join(t, a, a))).toBe(text(a));
      }),
      propertyOptions(),
    );
  });
});

describe('counter value', () => {
  it('equals the sum of increments minus decrements once every replica has joined everything', () => {
    const arbOp = fc.record({ type: fc.constant('increment' as const), by: fc.integer({ min: -5, max: 5 }) });
    fc.assert(
      fc.property(
        arbSteps(arbOp).map((steps) => steps.filter((s) => s.kind === 'join' || s.op.type !== 'clear')),
        (steps) => {
          const { states, ops } = history(counter, steps);
          const all = states.reduce((a, b) => join(counter, a, b));
          const expected = ops.reduce((sum, o) => sum + (o.op.type === 'increment' ? o.op.by : 0), 0);
          expect(counter.read(all.store)).toBe(expected);
        },
      ),
      propertyOptions(),
    );
  });
});
