import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VALUE_DEPTH } from './limits.js';
import { RICH_VALUE } from './testing/samples.js';
import { decodeValue, encodeValue, isEncodedValue } from './value-codec.js';
import { propertyOptions } from '@converge/conflict/testing';

function roundTrip(value: unknown): unknown {
  const encoded = JSON.parse(JSON.stringify(encodeValue(value))) as unknown;
  const back = decodeValue(encoded);
  if (!back.ok) throw back.error;
  return back.value;
}

/** Values superjson carries: JSON plus Date, Map, Set, BigInt, undefined, RegExp, NaN, ±Infinity, -0. */
const arbRich: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
    fc.constantFrom(/a+b/g, /x/iu, /^\d{3}$/),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('node'), { maxLength: 4 }),
  object: fc.dictionary(
    fc.string().filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)),
    tie('node'),
    { maxKeys: 4, noNullPrototype: true },
  ),
  map: fc.array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie('node')), { maxLength: 3 }).map((e) => new Map(e)),
  set: fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }).map((e) => new Set(e)),
})).node;

describe('encodeValue / decodeValue', () => {
  it('keep the types plain JSON loses', () => {
    expect(roundTrip(RICH_VALUE)).toStrictEqual(RICH_VALUE);
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(12345678901234567890n)).toBe(12345678901234567890n);
    expect((roundTrip(new Date(0)) as Date).getTime()).toBe(0);
    expect(roundTrip(new Map([[1, new Set([2])]]))).toStrictEqual(new Map([[1, new Set([2])]]));
    expect(String(roundTrip(/a.b/gm))).toBe('/a.b/gm');
  });

  it('round-trip any value built from the types superjson carries', () => {
    fc.assert(
      fc.property(arbRich, (value) => {
        expect(roundTrip(value)).toStrictEqual(value);
      }),
      propertyOptions(),
    );
  });

  it('keep shared and circular references', () => {
    const shared = { n: 1 };
    const cyclic: { self?: unknown; list: unknown[] } = { list: [shared, shared] };
    cyclic.self = cyclic;
    const back = roundTrip(cyclic) as typeof cyclic;
    expect(back.self).toBe(back);
    expect(back.list[0]).toBe(back.list[1]);
  });

  it('read back a value that never went through JSON text (memory storage and IndexedDB keep its shared objects shared)', () => {
    const shared = { pattern: /a+/g, at: new Date(1), tags: new Set(['x']) };
    const value = { left: shared, right: [shared] };
    const back = decodeValue(structuredClone(encodeValue(value)));
    expect(back.ok && back.value).toStrictEqual(value);
    const same = back.ok ? (back.value as typeof value) : undefined;
    expect(same?.right[0]).toBe(same?.left);
  });

  it('omit meta when JSON says everything', () => {
    expect(encodeValue({ a: [1, 'x', null] })).toEqual({ json: { a: [1, 'x', null] } });
    expect(isEncodedValue(encodeValue(new Date(0)))).toBe(true);
  });

  it('refuse at the writer what would not come back: functions, symbols, class instances, reserved keys, deep nesting', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const cases: [unknown, string][] = [
      [{ f: () => 1 }, 'value.json.f'],
      [[Symbol('s')], 'value.json[0]'],
      [{ at: new Point(1) }, 'value.json.at'],
      [JSON.parse('{"__proto__":{"x":1}}'), 'value'],
      [{ constructor: 'Bob' }, 'value'],
    ];
    for (const [value, path] of cases) {
      let error: unknown;
      try {
        encodeValue(value);
      } catch (e) {
        error = e;
      }
      expect(error, path).toMatchObject({ code: 'bad_message', path });
    }
    let deep: unknown = 0;
    for (let i = 0; i < MAX_VALUE_DEPTH; i++) deep = [deep];
    expect(() => encodeValue(deep)).toThrow(/deeper than 58/);
  });

  it('refuse malformed encoded values without throwing', () => {
    const bad: unknown[] = [
      null,
      42,
      'x',
      [],
      {},
      { meta: {} },
      { json: 1, meta: 'x' },
      { json: 1, extra: true },
      { json: 'x', meta: { values: ['class', 'Missing'], v: 1 } },
      { json: 'x', meta: { values: 'zzz', v: 1 } },
      { json: { a: {} }, meta: { values: { 'a.__proto__.polluted': ['undefined'] }, v: 1 } },
      { json: [1], meta: { values: { '0': [['typed-array', 'NoSuchArray']] }, v: 1 } },
      JSON.parse('{"json":{"__proto__":{"polluted":true}}}'),
    ];
    for (const value of bad) {
      const result = decodeValue(value);
      expect(result.ok, JSON.stringify(value)).toBe(false);
      expect(!result.ok && result.error.code).toBe('bad_message');
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('never throw, never change their input and never pollute a prototype, whatever the meta', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(fc.record({ json: fc.jsonValue(), meta: fc.jsonValue() }), (encoded) => {
        const copy = JSON.stringify(encoded);
        decodeValue(encoded);
        expect(JSON.stringify(encoded)).toBe(copy);
      }),
      propertyOptions(),
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  });

  it('decode without mutating the encoded value, so a stored value decodes again the same', () => {
    const encoded = encodeValue({ at: new Date(5), s: new Set([1]) });
    const snapshot = JSON.stringify(encoded);
    const first = decodeValue(encoded);
    const second = decodeValue(encoded);
    expect(JSON.stringify(encoded)).toBe(snapshot);
    expect(first.ok && second.ok && first.value).toStrictEqual(second.ok && second.value);
  });

  it('a value without meta skips superjson and comes back as a fresh copy: the app may mutate what it read', () => {
    const encoded = encodeValue({ title: 'milk', tags: ['a'], nested: { n: 1 } });
    expect(encoded.meta).toBeUndefined();
    const read = decodeValue(encoded);
    const value = (read.ok ? read.value : undefined) as { title: string; tags: string[]; nested: { n: number } };
    expect(value).toEqual(encoded.json);
    value.tags.push('b');
    value.nested.n = 2;
    value.title = 'changed';
    expect(encoded.json).toEqual({ title: 'milk', tags: ['a'], nested: { n: 1 } });
    const again = decodeValue(encoded);
    expect(again.ok && again.value).toEqual({ title: 'milk', tags: ['a'], nested: { n: 1 } });
  });

  it('a value without meta is still checked: reserved keys and non-finite numbers are refused with a path', () => {
    const polluted = decodeValue({ json: JSON.parse('{"a":{"constructor":1}}') });
    expect(!polluted.ok && polluted.error.path).toBe('value.json.a.constructor');
    const infinite = decodeValue({ json: [1, Number.POSITIVE_INFINITY] });
    expect(!infinite.ok && infinite.error.path).toBe('value.json[1]');
  });
});
