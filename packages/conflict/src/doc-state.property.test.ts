import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unionContexts } from './causal-context.js';
import { compareSiblings, mergeDocStates, type DocState } from './doc-state.js';
import { arbHistoryStates } from './testing/arbitraries.js';
import { groupingsAgree, mergeLawProperties } from './testing/merge-laws.js';
import { propertyOptions } from './testing/property-options.js';

// The same laws run over states that went through the wire (packages/protocol, wire-laws.property.test.ts).
describe('merge is a join over states from real histories', () => {
  for (const [name, property] of mergeLawProperties()) {
    it(name, () => fc.assert(property, propertyOptions()));
  }
});

/**
 * "Merge, then keep only the highest HLC" — the strawman docs/INTERNALS.md warns against. Kept here only to
 * prove the grouping property catches it.
 */
function mergeDroppingLosers<T>(a: DocState<T>, b: DocState<T>): DocState<T> {
  const merged = mergeDocStates(a, b).state;
  const top = [...merged.siblings].sort((x, y) => compareSiblings(y, x))[0];
  return { context: unionContexts(a.context, b.context), siblings: top === undefined ? [] : [top] };
}

describe('LWW resolves on read, so every grouping of merges agrees', () => {
  it('the grouping property catches the strawman that drops LWW losers at merge time', () => {
    const result = fc.check(
      fc.property(arbHistoryStates(4), (states) => groupingsAgree(mergeDroppingLosers, states)),
      propertyOptions({ numRuns: 3000, seed: 42 }),
    );
    expect(result.failed).toBe(true);
  });
});
