import { describe, expect, it } from 'vitest';
import { addDot, compact, containsContext, contextHas, firstUnseenDot, unionContexts, type CausalContext } from './causal-context.js';
import { compareVectors, covers, mergeVectors, vectorFrom } from './version-vector.js';
import { replicaIdFromBytes, replicaIdProblem } from './replica-id.js';

const ctx = (vv: Record<string, number>, cloud: [string, number][] = []): CausalContext => ({ vv: vectorFrom(vv), cloud });

describe('version vectors', () => {
  it('compare as sets of writes', () => {
    expect(compareVectors(vectorFrom({ A: 1 }), vectorFrom({ A: 1 }))).toBe('equal');
    expect(compareVectors(vectorFrom({ A: 1 }), vectorFrom({ A: 2 }))).toBe('before');
    expect(compareVectors(vectorFrom({ A: 2, B: 1 }), vectorFrom({ A: 2 }))).toBe('after');
    expect(compareVectors(vectorFrom({ A: 1 }), vectorFrom({ B: 1 }))).toBe('concurrent');
  });

  it('merge pointwise and cover dots up to their counter', () => {
    const m = mergeVectors(vectorFrom({ A: 3, B: 1 }), vectorFrom({ B: 4, C: 2 }));
    expect(Object.fromEntries(m)).toEqual({ A: 3, B: 4, C: 2 });
    expect(covers(m, ['B', 4])).toBe(true);
    expect(covers(m, ['B', 5])).toBe(false);
    expect(covers(m, ['D', 1])).toBe(false);
  });
});

describe('causal context', () => {
  it('adds a dot to the cloud until the gap before it fills', () => {
    const c = addDot(ctx({ B: 1 }), ['B', 3]);
    expect(c).toEqual(ctx({ B: 1 }, [['B', 3]]));
    expect(contextHas(c, ['B', 2])).toBe(false);
    expect(addDot(c, ['B', 2])).toEqual(ctx({ B: 3 }));
  });

  it('unites vectors and clouds and compacts', () => {
    expect(unionContexts(ctx({ A: 1 }, [['B', 2]]), ctx({ B: 1 }))).toEqual(ctx({ A: 1, B: 2 }));
    expect(
      compact(vectorFrom({}), [
        ['A', 2],
        ['A', 2],
        ['A', 4],
      ]),
    ).toEqual(
      ctx({}, [
        ['A', 2],
        ['A', 4],
      ]),
    );
  });

  it('containment is exact over dot sets: a forged {B: 2^50} is not "seen"', () => {
    const relay = ctx({ B: 3 });
    expect(firstUnseenDot(relay, ctx({ B: 2 ** 50 }))).toEqual(['B', 4]);
    expect(containsContext(relay, ctx({ B: 3 }))).toBe(true);
  });

  it('containment is exact over dot sets: a forged dot inside a gap is caught', () => {
    const relay = ctx({ B: 1 }, [['B', 3]]); // B2 not seen
    expect(firstUnseenDot(relay, ctx({}, [['B', 2]]))).toEqual(['B', 2]);
    expect(firstUnseenDot(relay, ctx({ B: 2 }))).toEqual(['B', 2]);
    expect(containsContext(relay, ctx({}, [['B', 3]]))).toBe(true);
  });
});

describe('replica ids', () => {
  it('are made from at least 96 random bits and are URL-safe', () => {
    const id = replicaIdFromBytes(new Uint8Array(16).fill(255));
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(() => replicaIdFromBytes(new Uint8Array(8))).toThrow(RangeError);
    expect(replicaIdFromBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).toHaveLength(16);
  });

  it('refuse reserved names, empty, too long and odd characters', () => {
    for (const bad of ['__proto__', 'constructor', 'prototype', '', 'a'.repeat(65), 'a:b', 'ä', 5]) {
      expect(replicaIdProblem(bad)).toBeTypeOf('string');
    }
    expect(replicaIdProblem('r-1_A')).toBeUndefined();
  });
});
