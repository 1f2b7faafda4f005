import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextHas, unionContexts } from './causal-context.js';
import { compareSiblings, mergeDocStates, type DocState } from './doc-state.js';
import { encodeDocState } from './encoding.js';
import { resolveLww } from './resolve.js';
import { arbHistoryStates } from './testing/arbitraries.js';
import { propertyOptions } from './testing/property-options.js';

const merge = <T>(a: DocState<T>, b: DocState<T>) => mergeDocStates(a, b).state;
const text = (s: DocState<number>) => JSON.stringify(encodeDocState(s));

describe('merge is a join over states from real histories', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(arbHistoryStates(2), ([a, b]) => {
        expect(text(merge(a!, b!))).toBe(text(merge(b!, a!)));
      }),
      propertyOptions(),
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(arbHistoryStates(3), ([a, b, c]) => {
        expect(text(merge(merge(a!, b!), c!))).toBe(text(merge(a!, merge(b!, c!))));
      }),
      propertyOptions(),
    );
  });

  it('is idempotent, and merging a state it already contains changes nothing', () => {
    fc.assert(
      fc.property(arbHistoryStates(2), ([a, b]) => {
        expect(text(merge(a!, a!))).toBe(text(a!));
        const ab = merge(a!, b!);
        expect(text(merge(ab, b!))).toBe(text(ab));
      }),
      propertyOptions(),
    );
  });

  it('never reports an anomaly when no dot was reused', () => {
    fc.assert(
      fc.property(arbHistoryStates(2), ([a, b]) => {
        expect(mergeDocStates(a!, b!).anomalies).toEqual([]);
      }),
      propertyOptions(),
    );
  });
});

/**
 * "Merge, then keep only the highest HLC" — what DESIGN.md warns against. Kept here only to
 * prove the grouping property below catches it.
 */
function mergeDroppingLosers<T>(a: DocState<T>, b: DocState<T>): DocState<T> {
  const merged = merge(a, b);
  const top = [...merged.siblings].sort((x, y) => compareSiblings(y, x))[0];
  return { context: unionContexts(a.context, b.context), siblings: top === undefined ? [] : [top] };
}

/** Four states merged in three groupings must give one state and one LWW value. */
function groupingsAgree(join: (x: DocState<number>, y: DocState<number>) => DocState<number>, [a, b, c, d]: DocState<number>[]) {
  const results = [join(join(join(a!, b!), c!), d!), join(join(a!, c!), join(b!, d!)), join(d!, join(c!, join(b!, a!)))];
  const lww = (s: DocState<number>) => JSON.stringify(resolveLww(s).value ?? null);
  return results.every((r) => text(r) === text(results[0]!) && lww(r) === lww(results[0]!));
}

describe('LWW resolves on read, so every grouping of merges agrees', () => {
  it('every grouping of merges gives the same state and the same LWW value', () => {
    fc.assert(
      fc.property(arbHistoryStates(4), (states) => {
        expect(groupingsAgree(merge, states)).toBe(true);
      }),
      propertyOptions(),
    );
  });

  it('the property catches the strawman that drops LWW losers at merge time', () => {
    const result = fc.check(
      fc.property(arbHistoryStates(4), (states) => groupingsAgree(mergeDroppingLosers, states)),
      propertyOptions({ numRuns: 3000, seed: 42 }),
    );
    expect(result.failed).toBe(true);
  });

  it('a sibling survives a merge unless the other side has seen its dot and lacks it', () => {
    const has = (s: DocState<number>, dot: readonly [string, number]) => s.siblings.some((x) => x.dot[0] === dot[0] && x.dot[1] === dot[1]);
    fc.assert(
      fc.property(arbHistoryStates(2), ([a, b]) => {
        const ab = merge(a!, b!);
        for (const [mine, other] of [
          [a!, b!],
          [b!, a!],
        ] as const) {
          for (const s of mine.siblings) expect(has(ab, s.dot)).toBe(has(other, s.dot) || !contextHas(other.context, s.dot));
        }
      }),
      propertyOptions(),
    );
  });
});
