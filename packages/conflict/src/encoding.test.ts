import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT } from './causal-context.js';
import { emptyDocState, nextDot, writeDoc } from './doc-state.js';
import { decodeContext, decodeDocState, decodeDocStateBatch, encodeDocState, encodeDocStateBatch } from './encoding.js';
import { decodeIndexedState, encodeIndexedState } from './indexed-state.js';
import { arbHistoryStates, arbJunk } from './testing/arbitraries.js';
import { validateDocState } from './validate.js';
import { vectorFrom } from './version-vector.js';
import { propertyOptions } from './testing/property-options.js';

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
        for (const s of states) {
          const indexed = decodeIndexedState(JSON.parse(JSON.stringify(encodeIndexedState(s))));
          expect(indexed.ok && indexed.value).toEqual(s);
        }
      }),
      propertyOptions(),
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
        const indexed = decodeIndexedState(junk);
        if (!indexed.ok) expect(indexed.error.code).toBe('bad_message');
        decodeContext(junk);
        validateDocState(junk);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      propertyOptions(),
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

describe('indexed form: a state with its own replica table', () => {
  const id = 'AAAAAAAAAAAAAAAA';
  const other = 'BBBBBBBBBBBBBBBB';

  it('writes each replica id once and refers to it by index; the cloud only when there is one', () => {
    const s0 = emptyDocState<string>();
    const a = writeDoc(s0, { dot: [id, 1], hlc: { wall: 5, logical: 0, replica: id }, readContext: EMPTY_CONTEXT, value: 'x' }).state;
    const b = writeDoc(a, { dot: [other, 3], hlc: { wall: 6, logical: 1, replica: other }, readContext: EMPTY_CONTEXT, deleted: true }).state;
    expect(JSON.stringify(encodeIndexedState(b))).toBe(`{"r":["${id}","${other}"],"v":[0,1],"d":[1,3],"s":[[0,1,5,0,"x"],[1,3,6,1]]}`);
  });

  it('resolves table entries through the caller (a frame maps them to its own table)', () => {
    const frameTable = ['zero', id];
    const json = { r: [1], v: [0, 2], s: [[0, 2, 9, 0, 'v']] };
    const decoded = decodeIndexedState(json, {}, 'doc', (ref) => (typeof ref === 'number' ? frameTable[ref] : undefined));
    expect(decoded.ok && decoded.value.siblings[0]!.dot).toEqual([id, 2]);
  });

  const good = { r: [id], v: [0, 2], s: [[0, 2, 10, 0, 'x']] };
  const cases: [string, unknown, string][] = [
    ['a table that is not an array', { ...good, r: id }, 'state.r'],
    ['an index beyond the table', { ...good, s: [[1, 2, 10, 0, 'x']] }, 'state.siblings[0].dot'],
    ['a vector of odd length', { ...good, v: [0] }, 'state.v'],
    ['a replica listed twice in the vector', { ...good, r: [id, id], v: [0, 2, 1, 2] }, 'state.v'],
    ['a cloud that is not pairs', { ...good, d: [0] }, 'state.d'],
    ['a sibling outside the context', { ...good, v: [0, 1] }, 'state.siblings[0].dot'],
    ['siblings missing', { r: [id], v: [] }, 'state.s'],
    ['a reserved id in the table', { ...good, r: ['__proto__'] }, 'state.context.vv'],
  ];
  it.each(cases)('refuses %s', (_name, input, path) => {
    const result = decodeIndexedState(input);
    expect(!result.ok && [result.error.code, result.error.path]).toEqual(['bad_message', path]);
  });
});
