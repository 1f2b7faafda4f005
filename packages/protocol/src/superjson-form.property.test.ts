// superjson-write.ts and superjson-read.ts against superjson itself (a devDependency, never in
// a client bundle): the same encoding for arbitrary values, the same decoding of whatever
// superjson writes, and, for meta nobody wrote (a forged or corrupted value), the same verdict.
import { propertyOptions } from '@converge/conflict/testing';
import fc from 'fast-check';
import { deserialize, serialize, type SuperJSONResult, type SuperJSONValue } from 'superjson';
import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from './json-shape.js';
import { MAX_VALUE_DEPTH } from './limits.js';
import { readSuperjson } from './superjson-read.js';
import { writeSuperjson } from './superjson-write.js';

function attempt(run: () => unknown): unknown {
  try {
    return run();
  } catch {
    return 'refused';
  }
}

/** A fresh deep copy of parsed JSON, as `decodeValue` hands to the reader. */
const jsonCopy = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** A decoded value's shape with its types and shared references: superjson's own encoding of it. */
const fingerprint = (value: unknown): unknown => attempt(() => JSON.parse(JSON.stringify(serialize(value as SuperJSONValue))));

class Point {
  constructor(readonly x: number) {}
}

const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('a.b', 'a\\b', 'a\\.b', '.', '\\', '', '0', '1', 'x/y', '__proto__', 'constructor', 'toString'),
);

/** Everything superjson's default instance writes, what it refuses, and shared and circular references. */
const arbValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt({ min: -3n, max: 3n }),
    fc.date(),
    fc.constantFrom(Number.NaN, -0, Infinity, -Infinity),
    fc.constantFrom(/a+b/g, /x\/y/iu, /^\d{3}$/),
    fc.constantFrom(new URL('https://example.com/a?b=1'), new Uint8Array([1, 2]), new Float64Array([0.5, Number.NaN]), new BigInt64Array([1n])),
    fc.constantFrom(new Error('boom'), new TypeError('typed'), new Error('with cause', { cause: new Set([1]) })),
    fc.constantFrom(new Point(1), () => 1, Symbol('s'), new DataView(new ArrayBuffer(1))),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('leaf'), tie('array'), tie('object'), tie('map'), tie('set'), tie('shared'), tie('cyclic')),
  array: fc.oneof(fc.array(tie('node'), { maxLength: 4 }), fc.sparseArray(tie('node'), { maxLength: 4 })),
  object: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  map: fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), tie('object')), tie('node')), { maxLength: 3 }).map((e) => new Map(e)),
  set: fc.array(tie('node'), { maxLength: 3 }).map((e) => new Set(e)),
  shared: fc
    .tuple(tie('node'), fc.nat(2))
    .map(([node, where]) => (where === 0 ? [node, node] : where === 1 ? { a: node, b: [node] } : new Map([[node, node]]))),
  cyclic: fc.tuple(tie('object'), key).map(([object, k]) => {
    const holder: Record<string, unknown> = { ...(object as Record<string, unknown>) };
    holder[k === '__proto__' ? 'self' : k] = holder;
    return { holder, list: [holder] };
  }),
}));

describe('superjson-write writes what superjson writes', () => {
  it('the same {json, meta} for every value, or a refusal where superjson refuses', () => {
    fc.assert(
      fc.property(arbValue.node, (value) => {
        expect(attempt(() => writeSuperjson(value))).toStrictEqual(attempt(() => serialize(value as SuperJSONValue)));
      }),
      propertyOptions(),
    );
  });

  it('the same text once stringified', () => {
    fc.assert(
      fc.property(arbValue.node, (value) => {
        expect(attempt(() => JSON.stringify(writeSuperjson(value)))).toBe(attempt(() => JSON.stringify(serialize(value as SuperJSONValue))));
      }),
      propertyOptions(),
    );
  });
});

describe('superjson-read reads what superjson reads', () => {
  it('the same value, types and shared references for whatever superjson wrote', () => {
    fc.assert(
      fc.property(arbValue.node, (value) => {
        const written = attempt(() => jsonCopy(serialize(value as SuperJSONValue))) as SuperJSONResult | 'refused';
        fc.pre(written !== 'refused' && written !== undefined);
        const theirs = attempt(() => deserialize(written));
        const mine = attempt(() => readSuperjson(jsonCopy(written.json), (written.meta ?? {}) as Record<string, unknown>));
        expect(fingerprint(mine)).toStrictEqual(fingerprint(theirs));
        expect(mine).toStrictEqual(theirs);
        if (theirs instanceof Error)
          expect([(mine as Error).stack, Object.hasOwn(mine as Error, 'cause')]).toStrictEqual([theirs.stack, Object.hasOwn(theirs, 'cause')]);
      }),
      propertyOptions(),
    );
  });

  const segment = fc.constantFrom('0', '1', '2', 'a', 'b', 'a\\.b', '\\\\', '\\x', '', '__proto__', 'prototype', 'length', 'toString');
  const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
  const typeName = fc.oneof(
    fc.constantFrom('undefined', 'bigint', 'Date', 'Error', 'regexp', 'set', 'map', 'number', 'URL', 'nope', 'toString'),
    fc.constantFrom(['typed-array', 'Uint8Array'], ['typed-array', 'Nope'], ['class', 'X'], ['symbol', 'y'], ['custom', 'z']),
  );
  const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, tie('leafType'), tie('withChildren'), tie('children'), fc.constantFrom(0, true, null)),
    leafType: typeName.map((t) => [t]),
    withChildren: fc.tuple(typeName, tie('children')).map(([t, c]) => [t, c]),
    children: fc.dictionary(path, tie('tree'), { maxKeys: 3 }),
  })).tree;
  const equalities = fc.oneof(
    fc.dictionary(path, fc.array(path, { maxLength: 2 }), { maxKeys: 2 }),
    fc.tuple(fc.array(path, { maxLength: 2 })).map((t) => [...t]),
    fc.tuple(fc.array(path, { maxLength: 2 }), fc.dictionary(path, fc.array(path, { maxLength: 2 }), { maxKeys: 2 })).map((t) => [...t]),
  );
  const json = fc.jsonValue({ maxDepth: 3 }).chain((base) =>
    fc.constantFrom(
      base,
      { a: base, b: [base, '1', 2], '0': { '1': 'x' } },
      [
        [1, 'x'],
        ['2', [3]],
      ],
      ['2020-01-01T00:00:00.000Z', '/a/g', 'NaN', '12'],
    ),
  );

  it('for meta nobody wrote: the same value, or a refusal where superjson throws', () => {
    fc.assert(
      fc.property(
        json,
        fc.record({ values: tree, referentialEqualities: equalities, v: fc.constantFrom(1, 0, undefined) }, { requiredKeys: [] }),
        (json, meta) => {
          // Only JSON data reaches readSuperjson: decodeValue refuses the rest first (a key such
          // as __proto__, which superjson's copy drops silently), and fast-check's JSON sometimes has one.
          fc.pre(jsonShapeProblem(json, MAX_VALUE_DEPTH, 'json') === undefined);
          const theirs = attempt(() => deserialize({ json: jsonCopy(json), meta } as SuperJSONResult));
          const mine = attempt(() => readSuperjson(jsonCopy(json), meta as Record<string, unknown>));
          expect(fingerprint(mine)).toStrictEqual(fingerprint(theirs));
          expect(mine).toStrictEqual(theirs);
        },
      ),
      propertyOptions(),
    );
  });
});
