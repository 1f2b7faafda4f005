import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { A, CURSOR, sampleFrames } from '../testing/samples.js';

const hello = (): Wire => wireOf(sampleFrames()[1]!);

describe('hello', () => {
  it('decodes subscriptions, cursor, filter, token and the collection declaration', () => {
    const frame = accepted(hello());
    expect(frame).toMatchObject({
      type: 'hello',
      protocol: 3,
      replicaId: A,
      subscriptions: [
        { collection: 'carts', cursor: null },
        { cursor: CURSOR, filter: { prefix: 'user-7/' } },
      ],
    });
  });

  it('decodes the collections map onto a null prototype', () => {
    const frame = accepted(hello());
    const collections = frame.type === 'hello' ? frame.collections! : {};
    expect(Object.getPrototypeOf(collections)).toBeNull();
    expect((collections as Record<string, unknown>)['toString']).toBeUndefined();
    expect(collections['stock']).toEqual({ mode: 'leader-follower', strategy: 'lww' });
  });

  it('ignores unknown fields and keeps only the known ones', () => {
    const frame = accepted({ ...hello(), extra: { deep: [1] } });
    expect(frame).not.toHaveProperty('extra');
  });

  const cases: [string, (w: Wire) => void, string, string?][] = [
    ['protocol 0', (w) => (w.protocol = 0), 'hello.protocol'],
    ['fractional protocol', (w) => (w.protocol = 1.5), 'hello.protocol'],
    ['missing replica id', (w) => delete w.replicaId, 'hello.replicaId'],
    ['replica id with a slash', (w) => (w.replicaId = 'a/b'), 'hello.replicaId'],
    ['reserved replica id', (w) => (w.replicaId = 'constructor'), 'hello.replicaId'],
    ['empty token', (w) => (w.token = ''), 'hello.token'],
    ['token too long', (w) => (w.token = 'x'.repeat(8193)), 'hello.token'],
    ['subscriptions not a list', (w) => (w.subscriptions = {}), 'hello.subscriptions'],
    ['subscription not an object', (w) => (w.subscriptions[0] = 'carts'), 'hello.subscriptions[0]'],
    ['bad collection', (w) => (w.subscriptions[0].collection = 'a b'), 'hello.subscriptions[0].collection'],
    ['reserved collection', (w) => (w.subscriptions[0].collection = 'prototype'), 'hello.subscriptions[0].collection'],
    ['cursor missing', (w) => delete w.subscriptions[0].cursor, 'hello.subscriptions[0].cursor'],
    ['cursor seq negative', (w) => (w.subscriptions[1].cursor.seq = -1), 'hello.subscriptions[1].cursor.seq'],
    ['cursor seq unsafe', (w) => (w.subscriptions[1].cursor.seq = 2 ** 53), 'hello.subscriptions[1].cursor.seq'],
    ['cursor lineage missing', (w) => delete w.subscriptions[1].cursor.lineage, 'hello.subscriptions[1].cursor.lineage'],
    ['cursor hash not a digest', (w) => (w.subscriptions[1].cursor.hash = 'zz zz'), 'hello.subscriptions[1].cursor.hash'],
    ['cursor mac empty', (w) => (w.subscriptions[1].cursor.mac = ''), 'hello.subscriptions[1].cursor.mac'],
    ['cursor a string', (w) => (w.subscriptions[1].cursor = '42'), 'hello.subscriptions[1].cursor'],
    ['filter without prefix', (w) => (w.subscriptions[1].filter = {}), 'hello.subscriptions[1].filter.prefix'],
    ['filter a string', (w) => (w.subscriptions[1].filter = 'user-7/'), 'hello.subscriptions[1].filter'],
    ['collections a list', (w) => (w.collections = []), 'hello.collections'],
    ['declared collection name bad', (w) => (w.collections['a b'] = { mode: 'multi-leader', strategy: 'lww' }), 'hello.collections["a b"]'],
    ['unknown mode', (w) => (w.collections.carts.mode = 'leaderless'), 'hello.collections.carts.mode'],
    ['unknown strategy', (w) => (w.collections.carts.strategy = 'max'), 'hello.collections.carts.strategy'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} as bad_message at ${path}`, () => {
      const wire = hello();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }

  it('refuses a __proto__ collection name anywhere before it can become a key', () => {
    const text = JSON.stringify(hello()).replace('"stock":', '"__proto__":');
    expect(refusal(text)).toMatchObject({ code: 'bad_message', path: 'hello.collections.__proto__' });
    expect(({} as Record<string, unknown>)['mode']).toBeUndefined();
  });

  it('refuses more subscriptions or declared collections than the limit as payload_too_large', () => {
    expect(refusal(hello(), { maxChangesPerFrame: 1 })).toMatchObject({ code: 'payload_too_large', path: 'hello.subscriptions' });
    const wire = hello();
    wire.subscriptions = [];
    expect(refusal(wire, { maxChangesPerFrame: 1 })).toMatchObject({ code: 'payload_too_large', path: 'hello.collections' });
  });
});
