import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT } from './causal-context.js';
import { emptyDocState, nextDot, writeDoc } from './doc-state.js';
import { decodeContext, decodeDocState, decodeDocStateBatch, encodeDocState, encodeDocStateBatch } from './encoding.js';
import { arbHistoryStates, arbJunk } from './testing/arbitraries.js';
import { validateDocState } from './validate.js';
import { vectorFrom } from './version-vector.js';

const runs = Number(process.env['CONVERGE_PROPERTY_RUNS'] ?? 1000);

describe('compact encoding', () => {
  it('round-trips states from real histories, alone and in a batch', () => {
    fc.assert(
      fc.property(arbHistoryStates(3), (states) => {
        for (const s of states) {
          const decoded = decodeDocState(JSON.parse(JSON.stringify(encodeDocState(s))));
          expect(decoded.ok && decoded.value).toEqual(s);
        }
        const batch = decodeDocStateBatch(JSON.parse(JSON.stringify(encodeDocStateBatch(states))));
        expect(batch.ok && batch.value).toEqual(states);
      }),
      { numRuns: runs },
    );
  });

  it('writes a single-sibling state compactly and tombstones without a value', () => {
    const id = 'AAAAAAAAAAAAAAAA';
    const s0 = emptyDocState<number>();
    const w = writeDoc(s0, { dot: nextDot(s0, id), hlc: { wall: 1763762279000, logical: 0, replica: id }, readContext: EMPTY_CONTEXT, deleted: true });
    expect(JSON.stringify(encodeDocState(w.state))).toBe(`{"v":{"${id}":1},"s":[["${id}",1,1763762279000,0]]}`);
  });

  it('decoding junk never throws and never pollutes a prototype', () => {
    fc.assert(
      fc.property(arbJunk, (junk) => {
        const result = decodeDocState(junk);
        if (!result.ok) expect(result.error.code).toBe('bad_message');
        decodeDocStateBatch(junk);
        decodeContext(junk);
        validateDocState(junk);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: runs },
    );
  });
});

describe('validation refuses broken states with a path', () => {
  const good = { v: { A: 2 }, s: [['A', 2, 10, 0, 'x']] };
  const cases: [string, unknown, string][] = [
    ['sibling dot outside the context', { v: { A: 1 }, s: [['A', 2, 10, 0, 'x']] }, 'state.siblings[0].dot'],
    [
      'duplicate dots',
      {
        v: { A: 2 },
        s: [
          ['A', 2, 10, 0, 'x'],
          ['A', 2, 11, 0, 'y'],
        ],
      },
      'state.siblings',
    ],
    ['a negative counter', { v: { A: -1 }, s: [] }, 'state.context.vv.A'],
    ['a fractional counter', { v: { A: 1.5 }, s: [] }, 'state.context.vv.A'],
    ['an unsafe counter', { v: { A: 2 ** 53 }, s: [] }, 'state.context.vv.A'],
    ['a __proto__ replica id', JSON.parse('{"v":{"__proto__":1},"s":[]}'), 'state.context.vv'],
    ['a constructor replica id in the cloud', { v: { A: 1 }, d: [['constructor', 3]], s: [] }, 'state.context.cloud[0]'],
    ['a NaN hlc', { v: { A: 2 }, s: [['A', 2, Number.NaN, 0, 'x']] }, 'state.siblings[0].hlc'],
    ['an out-of-range hlc', { v: { A: 2 }, s: [['A', 2, 1e16, 0, 'x']] }, 'state.siblings[0].hlc'],
    ['a cloud dot the vector covers', { v: { A: 2 }, d: [['A', 1]], s: [] }, 'state.context.cloud[0]'],
    ['a sibling of the wrong arity', { v: { A: 2 }, s: [['A', 2, 10]] }, 'state.s[0]'],
    ['a vector that is an array', { v: [1], s: [] }, 'state.v'],
  ];
  it.each(cases)('%s', (_name, input, path) => {
    const result = decodeDocState(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('bad_message');
      expect(result.error.path).toBe(path);
    }
  });

  it('accepts the well-formed state and compacts a non-canonical cloud', () => {
    expect(decodeDocState(good).ok).toBe(true);
    const loose = decodeDocState({ v: { A: 1 }, d: [['A', 2]], s: [] });
    expect(loose.ok && loose.value.context).toEqual({ vv: vectorFrom({ A: 2 }), cloud: [] });
  });

  it('refuses tombstones where the collection has none, and values a checker rejects', () => {
    expect(decodeDocState({ v: { A: 1 }, s: [['A', 1, 1, 0]] }, { noTombstones: true }).ok).toBe(false);
    const checked = decodeDocState(good, { checkValue: (v) => (typeof v === 'number' ? undefined : 'must be a number') });
    expect(!checked.ok && checked.error.path).toBe('state.siblings[0].value');
  });
});

describe('batch encoding writes each replica id once', () => {
  it('is smaller than the states encoded one by one', () => {
    const ids = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC'];
    const states = Array.from({ length: 20 }, (_, k) => {
      let s = emptyDocState<number>();
      for (const id of ids) s = writeDoc(s, { dot: nextDot(s, id), hlc: { wall: 1e12 + k, logical: 0, replica: id }, readContext: s.context, value: k }).state;
      return s;
    });
    const single = states.map((s) => JSON.stringify(encodeDocState(s)).length).reduce((a, b) => a + b, 0);
    const batch = JSON.stringify(encodeDocStateBatch(states)).length;
    expect(batch).toBeLessThan(single / 2);
  });
});
