import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { A, B, registerDelta, sampleFrames, WALL } from '../testing/samples.js';

const push = (): Wire => wireOf(sampleFrames()[5]!);

describe('push', () => {
  it('carries each write with its collection, key, delta, write number and the resync marker', () => {
    const frame = accepted(push());
    expect(frame.type === 'push' && frame.changes.map((c) => [c.collection, c.key, c.writeNumber, c.resync ?? false])).toEqual([
      ['notes', 'n-1', 57, false],
      ['notes', 'n-1', 58, false],
      ['carts', 'cart-9', 59, true],
    ]);
  });

  it("puts each delta in protocol 2's state form: a simple state as its sibling alone, others with their own replica table", () => {
    const wire = push();
    expect(wire.changes[0].delta).toEqual({
      r: [A],
      v: [],
      d: [0, 7],
      s: [[0, 7, WALL + 7, 0, expect.objectContaining({ json: expect.anything(), meta: expect.anything() })]],
    });
    expect(wire.changes[2].delta).toEqual([A, 2, WALL + 2, 0, { s: expect.anything(), c: { v: { [A]: 2 } } }]);
  });

  it('accepts a resync state with siblings of other replicas', () => {
    const wire = push();
    wire.changes[0].delta = {
      r: [B, A],
      v: [1, 3, 0, 9],
      d: [0, 12],
      s: [
        [1, 3, 1, 0, 1],
        [0, 12, 2, 5],
        [0, 9, 2, 0, { json: 2 }],
      ],
    };
    wire.changes[0].resync = true;
    const frame = accepted(wire);
    expect(frame.type === 'push' && frame.changes[0]!.delta.siblings.map((s) => [s.dot, s.deleted === true ? 'deleted' : s.value])).toEqual([
      [[A, 3], { json: 1 }],
      [[B, 9], { json: 2 }],
      [[B, 12], 'deleted'],
    ]);
  });

  // Paths inside a state name the decoded fields (context.vv, context.cloud, siblings[i]) once
  // the compact form is read; wire names (r, v, d, s) where the compact form itself is broken.
  const cases: [string, (w: Wire) => void, string][] = [
    ['a missing id', (w) => delete w.id, 'push.id'],
    ['a reserved id', (w) => (w.id = 'constructor'), 'push.id'],
    ['an unknown ack level', (w) => (w.ack = 'disk'), 'push.ack'],
    ['no changes', (w) => (w.changes = []), 'push.changes'],
    ['a change that is a list', (w) => (w.changes[1] = []), 'push.changes[1]'],
    ['a collection name with a slash', (w) => (w.changes[0].collection = 'a/b'), 'push.changes[0].collection'],
    ['an empty key', (w) => (w.changes[0].key = ''), 'push.changes[0].key'],
    ['a key of 1025 characters', (w) => (w.changes[0].key = 'k'.repeat(1025)), 'push.changes[0].key'],
    ['the key __proto__', (w) => (w.changes[2].key = '__proto__'), 'push.changes[2].key'],
    ['a missing write number', (w) => delete w.changes[0].writeNumber, 'push.changes[0].writeNumber'],
    ['write number 0', (w) => (w.changes[0].writeNumber = 0), 'push.changes[0].writeNumber'],
    ['a write number beyond 2^53', (w) => (w.changes[0].writeNumber = 2 ** 60), 'push.changes[0].writeNumber'],
    ['a missing write chain', (w) => delete w.changes[0].chain, 'push.changes[0].chain'],
    ['a write chain that is not lowercase hex', (w) => (w.changes[0].chain = 'AB12'), 'push.changes[0].chain'],
    ['a write chain of 33 digits', (w) => (w.changes[0].chain = 'a'.repeat(33)), 'push.changes[0].chain'],
    ['resync false', (w) => (w.changes[0].resync = false), 'push.changes[0].resync'],
    ['a missing delta', (w) => delete w.changes[0].delta, 'push.changes[0].delta'],
    ['a replica table that is not a list', (w) => (w.changes[0].delta.r = A), 'push.changes[0].delta.r'],
    ['a vector that is not pairs', (w) => (w.changes[0].delta.v = [0]), 'push.changes[0].delta.v'],
    ['siblings not a list', (w) => (w.changes[0].delta.s = {}), 'push.changes[0].delta.s'],
    ['a sibling of three fields', (w) => (w.changes[0].delta.s[0] = [0, 7, 1]), 'push.changes[0].delta.s[0]'],
    ['counter 0 in the vector', (w) => ((w.changes[0].delta.r = [A, B]), (w.changes[0].delta.v = [1, 0])), `push.changes[0].delta.context.vv.${B}`],
    ['a counter of 2^53 in the cloud', (w) => (w.changes[0].delta.d = [0, 2 ** 53]), 'push.changes[0].delta.context.cloud[0]'],
    ['a bad replica id in the table', (w) => (w.changes[0].delta.r = ['a b']), 'push.changes[0].delta.context.cloud[0]'],
    ['a reserved replica id in the table', (w) => (w.changes[0].delta.r = ['__proto__']), 'push.changes[0].delta.context.cloud[0]'],
    ['a replica index beyond the table', (w) => (w.changes[0].delta.s[0][0] = 5), 'push.changes[0].delta.siblings[0].dot'],
    ['a negative wall time', (w) => (w.changes[0].delta.s[0][2] = -1), 'push.changes[0].delta.siblings[0].hlc'],
    ['a wall time past the Date range', (w) => (w.changes[0].delta.s[0][2] = 8.64e15 + 1), 'push.changes[0].delta.siblings[0].hlc'],
    ['a logical counter past 0xffff', (w) => (w.changes[0].delta.s[0][3] = 0x10000), 'push.changes[0].delta.siblings[0].hlc'],
    ['a sibling dot outside the context', (w) => (w.changes[0].delta.s[0][1] = 8), 'push.changes[0].delta.siblings[0].dot'],
    ['two siblings with one dot', (w) => w.changes[0].delta.s.push([...w.changes[0].delta.s[0]]), 'push.changes[0].delta.siblings'],
    ['a cloud dot the vector covers', (w) => (w.changes[0].delta = { r: [A], v: [0, 7], d: [0, 7], s: [] }), 'push.changes[0].delta.context.cloud[0]'],
    ['a wrapped value whose meta is a string', (w) => (w.changes[0].delta.s[0][4].meta = 'x'), 'push.changes[0].delta.siblings[0].value'],
    ['a CRDT value whose seen-set is not an object', (w) => (w.changes[2].delta[4].c = 5), 'push.changes[2].delta.siblings[0].value'],
    ['a simple delta of four fields', (w) => w.changes[2].delta.pop(), 'push.changes[2].delta'],
    ['counter 0 in a simple delta', (w) => (w.changes[2].delta[1] = 0), 'push.changes[2].delta.siblings[0].dot'],
    ['a reserved replica id in a simple delta', (w) => (w.changes[2].delta[0] = 'constructor'), 'push.changes[2].delta.siblings[0].dot'],
    ['a fractional wall in a simple delta', (w) => (w.changes[2].delta[2] = 1.5), 'push.changes[2].delta.siblings[0].hlc'],
    ['a state that is a string', (w) => (w.changes[2].delta = 'state'), 'push.changes[2].delta'],
    // The ack names each change by its delta's last sibling: a change must carry one, and no two may share the name.
    ['a context-only delta (no sibling)', (w) => (w.changes[1].delta = { r: [A], v: [0, 1], s: [] }), 'push.changes[1].delta.siblings'],
    ['two changes naming the same write', (w) => (w.changes[1] = structuredClone(w.changes[0])), 'push.changes[1]'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} as bad_message at ${path}`, () => {
      const wire = push();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }

  it('refuses a __proto__ or constructor key inside a value', () => {
    const wire = push();
    wire.changes[0].delta.s[0][4] = { json: { constructor: { polluted: 1 } } };
    expect(refusal(wire)).toMatchObject({ path: 'push.changes[0].delta.s[0][4].json.constructor' });
    const text = JSON.stringify(push()).replace('"json":{', '"json":{"__proto__":{"polluted":1},');
    expect(refusal(text).path).toMatch(/^push\.changes\[0\]\.delta\.s\[0\]\[4\]\.json\.__proto__$/);
  });

  it('accepts a delta built by a real write with a read context', () => {
    const first = registerDelta(A, 1, 'v1');
    const wire = push();
    wire.changes = [
      {
        collection: 'notes',
        key: 'k',
        delta: wireOf({
          type: 'push',
          id: 'x',
          ack: 'local',
          changes: [{ collection: 'c', key: 'k', delta: registerDelta(A, 2, 'v2', first.context), writeNumber: 2, chain: '2' }],
        }).changes[0].delta,
        writeNumber: 2,
        chain: '2',
      },
    ];
    expect(accepted(wire)).toMatchObject({ changes: [{ delta: { context: { vv: new Map([[A, 2]]) } } }] });
  });
});
