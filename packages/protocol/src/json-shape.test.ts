import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from './json-shape.js';

const nest = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

describe('jsonShapeProblem', () => {
  it('accepts plain JSON data up to the depth limit, counting the outermost container as level 1', () => {
    expect(jsonShapeProblem(nest(5), 5, 'x')).toBeUndefined();
    expect(jsonShapeProblem({ a: [1, 'b', true, null, { c: 0.5 }] }, 64, 'x')).toBeUndefined();
    expect(jsonShapeProblem('leaf', 0, 'x')).toBeUndefined();
    expect(jsonShapeProblem(Object.create(null), 1, 'x')).toBeUndefined();
  });

  it('names the path of what it refuses', () => {
    expect(jsonShapeProblem(nest(6), 5, 'x')).toEqual({ path: 'x.k[0].k[0].k', message: 'nested deeper than 5 levels' });
    expect(jsonShapeProblem({ list: [1, { 'odd key': Number.NaN }] }, 64, 'v')).toEqual({ path: 'v.list[1]["odd key"]', message: 'number must be finite' });
    expect(jsonShapeProblem(JSON.parse('{"a":{"__proto__":{}}}'), 64, 'v')?.path).toBe('v.a.__proto__');
    expect(jsonShapeProblem({ a: { constructor: 1 } }, 64, 'v')?.message).toBe("key 'constructor' is reserved");
    expect(jsonShapeProblem({ prototype: 1 }, 64, 'v')?.path).toBe('v.prototype');
  });

  it('refuses what JSON text cannot carry unchanged', () => {
    for (const bad of [Number.POSITIVE_INFINITY, -0, undefined, 1n, Symbol('s'), () => 1, new Date(), new Map(), [undefined], { a: undefined }]) {
      expect(jsonShapeProblem(bad, 64, 'v'), String(bad)).toBeDefined();
    }
  });

  it('stops at the depth limit on hostile nesting instead of overflowing the stack', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(jsonShapeProblem(deep, 64, 'v')?.message).toBe('nested deeper than 64 levels');
  });

  it('with freeze, freezes what passed in place, children first, and takes a frozen object as checked', () => {
    const value = { a: [1, { b: 'x' }], c: null };
    expect(jsonShapeProblem(value, 64, 'v', true)).toBeUndefined();
    expect([value, value.a, value.a[1]].every((o) => Object.isFrozen(o))).toBe(true);
    const bad = { ok: { n: 1 }, no: -0 };
    expect(jsonShapeProblem(bad, 64, 'v', true)?.path).toBe('v.no');
    expect([Object.isFrozen(bad), Object.isFrozen(bad.ok)]).toEqual([false, true]);
    expect(jsonShapeProblem(bad, 64, 'v')?.path).toBe('v.no'); // a later walk without freeze checks everything again
    expect(jsonShapeProblem({ a: 1 }, 64, 'v')).toBeUndefined();
    expect(Object.isFrozen({ a: 1 })).toBe(false);
  });
});
