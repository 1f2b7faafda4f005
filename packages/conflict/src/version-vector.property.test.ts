import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyOptions } from './testing/property-options.js';
import { mergeVectors, vectorFrom, type VersionVector } from './version-vector.js';

/** A vector as `vectorFrom` makes them (replica-id order), over a few short replica ids so they overlap. */
const arbVector = fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G', 'a', 'b', 'c'), fc.integer({ min: 1, max: 5 })).map((d) => vectorFrom(d));

/** The pointwise maximum, computed the obvious way. */
function pointwiseMax(a: VersionVector, b: VersionVector): [string, number][] {
  const out = new Map(a);
  for (const [replica, counter] of b) out.set(replica, Math.max(counter, out.get(replica) ?? 0));
  return [...out].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

describe('mergeVectors', () => {
  it('is the pointwise maximum, in replica-id order, and returns an input that already dominates unchanged', () => {
    fc.assert(
      fc.property(arbVector, arbVector, (a, b) => {
        const merged = mergeVectors(a, b);
        expect([...merged]).toEqual(pointwiseMax(a, b));
        if ([...b].every(([r, c]) => (a.get(r) ?? 0) >= c)) expect(merged).toBe(a);
        else if (a.size === 0) expect(merged).toBe(b);
      }),
      propertyOptions(),
    );
  });

  it('a result with a replica new to the first vector is in replica-id order even when an input was not (a vector built by hand)', () => {
    fc.assert(
      fc.property(arbVector, arbVector, (a, b) => {
        fc.pre(a.size > 0 && [...b.keys()].some((r) => !a.has(r)));
        const reversed = (v: VersionVector) => new Map([...v].reverse());
        expect([...mergeVectors(a, reversed(b))]).toEqual(pointwiseMax(a, b));
        expect([...mergeVectors(reversed(a), b)]).toEqual(pointwiseMax(a, b));
      }),
      propertyOptions(),
    );
  });
});
