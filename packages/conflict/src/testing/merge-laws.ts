import fc from 'fast-check';
import { contextHas } from '../causal-context.js';
import { mergeDocStates, type DocState } from '../doc-state.js';
import { encodeDocState } from '../encoding.js';
import { resolveLww } from '../resolve.js';
import { arbHistoryStates } from './arbitraries.js';

/** What a state goes through before the laws are checked, e.g. a wire encoding and back. */
export type StateTransform = (state: DocState<number>) => DocState<number>;

const merge = <T>(a: DocState<T>, b: DocState<T>) => mergeDocStates(a, b).state;
const text = (s: DocState<number>) => JSON.stringify(encodeDocState(s));

function same(actual: string, expected: string, law: string): void {
  if (actual !== expected) throw new Error(`${law} broken:\n  ${actual}\n  ${expected}`);
}

/** Four states merged in three groupings must give one state and one LWW value. */
export function groupingsAgree(join: (x: DocState<number>, y: DocState<number>) => DocState<number>, [a, b, c, d]: DocState<number>[]): boolean {
  const results = [join(join(join(a!, b!), c!), d!), join(join(a!, c!), join(b!, d!)), join(d!, join(c!, join(b!, a!)))];
  const lww = (s: DocState<number>) => JSON.stringify(resolveLww(s).value ?? null);
  return results.every((r) => text(r) === text(results[0]!) && lww(r) === lww(results[0]!));
}

/**
 * The laws of `mergeDocStates` as fast-check properties over states from real histories (one
 * key, 2–5 replicas, stale and blind writes, lossy out-of-order delivery), every state passed
 * through `through` first. Run them with `fc.assert(property, propertyOptions())`; a broken law
 * throws, naming it.
 */
export function mergeLawProperties(through: StateTransform = (state) => state): [name: string, property: fc.IProperty<[DocState<number>[]]>][] {
  const states = (count: number) => arbHistoryStates(count).map((list) => list.map(through));
  return [
    ['is commutative', fc.property(states(2), ([a, b]) => same(text(merge(a!, b!)), text(merge(b!, a!)), 'commutativity'))],
    ['is associative', fc.property(states(3), ([a, b, c]) => same(text(merge(merge(a!, b!), c!)), text(merge(a!, merge(b!, c!))), 'associativity'))],
    [
      'is idempotent, and merging a state it already contains changes nothing',
      fc.property(states(2), ([a, b]) => {
        same(text(merge(a!, a!)), text(a!), 'idempotence');
        const ab = merge(a!, b!);
        same(text(merge(ab, b!)), text(ab), 'absorption');
      }),
    ],
    [
      'never reports an anomaly when no dot was reused',
      fc.property(states(2), ([a, b]) => same(JSON.stringify(mergeDocStates(a!, b!).anomalies), '[]', 'no anomaly')),
    ],
    ['every grouping of merges gives the same state and the same LWW value', fc.property(states(4), (four) => groupingsAgree(merge, four))],
    [
      'a sibling survives a merge unless the other side has seen its dot and lacks it',
      fc.property(states(2), ([a, b]) => {
        const has = (s: DocState<number>, dot: readonly [string, number]) => s.siblings.some((x) => x.dot[0] === dot[0] && x.dot[1] === dot[1]);
        const ab = merge(a!, b!);
        for (const [mine, other] of [
          [a!, b!],
          [b!, a!],
        ] as const) {
          for (const s of mine.siblings) same(String(has(ab, s.dot)), String(has(other, s.dot) || !contextHas(other.context, s.dot)), 'sibling survival');
        }
      }),
    ],
  ];
}
