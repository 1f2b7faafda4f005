import { describe, expect, it } from 'vitest';
import { encodeValue } from './value-codec.js';
import { readSlot, slotDepthProblem, slotOf } from './value-slot.js';
import type { WireValue } from './wire-state.js';

describe('value slots', () => {
  it('a register value without meta is written as its plain JSON and reads back wrapped', () => {
    for (const value of [1, 'milk', null, true, [1, 2], { title: 'milk', done: false }, {}, { json: 1, extra: 2 }, { meta: {} }, { s: 1 }]) {
      const encoded = encodeValue(value);
      expect(slotOf(encoded)).toEqual(value);
      expect(readSlot(slotOf(encoded))).toEqual(encoded);
    }
  });

  it('a value with meta, and a plain value shaped like {json}, {json, meta} or {s, c}, stays wrapped', () => {
    const withDate = encodeValue({ at: new Date(0) });
    expect(slotOf(withDate)).toBe(withDate);
    for (const lookalike of [{ json: 1 }, { json: 1, meta: { v: 1 } }, { s: [], c: { v: {} } }, { c: 1, s: 2 }]) {
      const encoded = encodeValue(lookalike);
      expect(slotOf(encoded)).toEqual({ json: lookalike });
      expect(readSlot(slotOf(encoded))).toEqual(encoded);
    }
  });

  it('a CRDT value {s, c} is carried as it is', () => {
    const crdt: WireValue = { s: [['apple', [['A', 1, 2]]]], c: { v: { A: 1 } } };
    expect(slotOf(crdt)).toBe(crdt);
    expect(readSlot(crdt)).toBe(crdt);
  });

  it('refuses a wrapper whose meta is not an object, a CRDT value whose c is not, and a slot nested deeper than 58', () => {
    expect(readSlot({ json: 1, meta: 'x' })).toBe('meta must be an object');
    expect(readSlot({ json: 1, meta: [] })).toBe('meta must be an object');
    expect(readSlot({ s: [], c: 1 })).toBe('a CRDT value is {s, c} with c a context');
    let deep: unknown = 1;
    for (let i = 0; i < 58; i++) deep = [deep];
    expect(slotDepthProblem(deep, 4)).toBeUndefined();
    expect(slotDepthProblem([deep], 4)).toBe('value nested deeper than 58 levels');
    // At the deepest slot position (level 7) the frame's own limit of 64 already says it.
    expect(slotDepthProblem([deep], 7)).toBeUndefined();
  });
});
