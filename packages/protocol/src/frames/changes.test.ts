import { simpleState } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { A, cartState, conflictedState, CURSOR, registerDelta, sampleFrames, WALL } from '../testing/samples.js';

const catchup = (): Wire => wireOf(sampleFrames()[9]!);
/** A live frame of three simple docs by A, B and A again (counter 2, logical 3 on the last). */
const simple = (): Wire =>
  wireOf({
    type: 'changes',
    collection: 'notes',
    phase: 'live',
    docs: [
      { key: 'a', seq: 40, state: registerDelta(A, 1, { title: 'milk' }) },
      { key: 'b', seq: 41, state: registerDelta('replicaBBBBBBBBBBBBB', 1, 'eggs') },
      { key: 'c', seq: 42, state: simpleState({ dot: [A, 2], hlc: { wall: WALL, logical: 3, replica: A }, value: { json: [1, 2] } }) },
    ],
    watermark: 42,
    cursor: CURSOR,
  });

describe('changes', () => {
  it('a catch-up frame pairs each key and seq with its state, and carries watermark, signed cursor and done', () => {
    const frame = accepted(catchup());
    expect(frame).toMatchObject({ type: 'changes', phase: 'catchup', watermark: 42, cursor: CURSOR, done: true });
    expect(frame.type === 'changes' && frame.docs.map((d) => [d.key, d.seq])).toEqual([
      ['n-1', 40],
      ['n-2', 42],
    ]);
    expect(frame.type === 'changes' && frame.docs[0]!.state).toEqual(conflictedState());
  });

  it('writes simple docs as [key, seq step, value, wall step, counter?, replica?, logical?], leaving defaults out', () => {
    const wire = simple();
    expect(wire.replicas).toEqual([A, 'replicaBBBBBBBBBBBBB']);
    expect(wire.docs).toEqual([
      ['a', 40, { title: 'milk' }, WALL + 1],
      ['b', 1, 'eggs', 0, 1, 1, 0],
      ['c', 1, [1, 2], -1, 2, 0, 3],
    ]);
    const frame = accepted(wire);
    expect(frame.type === 'changes' && frame.docs.map((d) => [d.seq, d.state.siblings[0]!.hlc, d.state.siblings[0]!.dot])).toEqual([
      [40, { wall: WALL + 1, logical: 0, replica: A }, [A, 1]],
      [41, { wall: WALL + 1, logical: 0, replica: 'replicaBBBBBBBBBBBBB' }, ['replicaBBBBBBBBBBBBB', 1]],
      [42, { wall: WALL, logical: 3, replica: A }, [A, 2]],
    ]);
  });

  it('a burst of writes by one replica leaves every trailing field out: the logical is what an HLC stamps next', () => {
    // Five writes in one millisecond (logical 0…4), then two in the next (logical 0, 1).
    const stamps = [0, 1, 2, 3, 4].map((logical) => ({ wall: WALL, logical })).concat([0, 1].map((logical) => ({ wall: WALL + 1, logical })));
    const docs = stamps.map((hlc, i) => ({
      key: `key-${i}`,
      seq: 100 + i,
      state: simpleState({ dot: [A, 1], hlc: { ...hlc, replica: A }, value: { json: i } }),
    }));
    const wire = wireOf({ type: 'changes', collection: 'notes', phase: 'catchup', docs, watermark: 106, cursor: { ...CURSOR, seq: 106 } });
    expect(wire.docs.map((d: unknown[]) => d.length)).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(wire.docs.map((d: unknown[]) => d[3])).toEqual([WALL, 0, 0, 0, 0, 1, 0]);
    const frame = accepted(wire);
    expect(frame.type === 'changes' && frame.docs.map((d) => d.state.siblings[0]!.hlc.logical)).toEqual([0, 1, 2, 3, 4, 0, 1]);
  });

  it('a CRDT value in a simple doc stays {s, c}; a register value shaped like one is wrapped', () => {
    const cart = cartState();
    const lookalike = registerDelta(A, 1, { s: 1, c: { v: {} } });
    const wire = wireOf({
      type: 'changes',
      collection: 'carts',
      phase: 'live',
      docs: [
        { key: 'cart', seq: 41, state: cart },
        { key: 'reg', seq: 42, state: lookalike },
      ],
      watermark: 42,
      cursor: CURSOR,
    });
    expect(wire.docs[0][2]).toMatchObject({ s: expect.anything(), c: { v: { [A]: 2 } } });
    expect(wire.docs[1][2]).toEqual({ json: { s: 1, c: { v: {} } } });
    const frame = accepted(wire);
    expect(frame.type === 'changes' && frame.docs.map((d) => d.state)).toEqual([cart, lookalike]);
  });

  it('a live frame has no done marker; an empty frame moves the watermark past filtered seqs', () => {
    expect(accepted(simple())).not.toHaveProperty('done');
    const empty = { ...simple(), replicas: [], docs: [], watermark: 50, cursor: { ...CURSOR, seq: 50 } };
    expect(accepted(empty)).toMatchObject({ docs: [], watermark: 50 });
  });

  it('marks the first catch-up frame after a cursor the relay could not resume from with resync', () => {
    const restart = { ...catchup(), resync: true };
    expect(accepted(restart)).toMatchObject({ phase: 'catchup', resync: true, done: true });
    expect(accepted(catchup())).not.toHaveProperty('resync');
  });

  const cases: [string, () => Wire, (w: Wire) => void, string][] = [
    ['resync on a live frame', catchup, (w) => ((w.phase = 'live'), delete w.done, (w.resync = true)), 'changes.resync'],
    ['resync false', catchup, (w) => (w.resync = false), 'changes.resync'],
    ['an unknown phase', catchup, (w) => (w.phase = 'replay'), 'changes.phase'],
    ['done on a live frame', catchup, (w) => ((w.phase = 'live'), (w.done = true)), 'changes.done'],
    ['done false', catchup, (w) => (w.done = false), 'changes.done'],
    ['a missing watermark', catchup, (w) => delete w.watermark, 'changes.watermark'],
    ['a cursor behind the watermark', catchup, (w) => (w.cursor.seq = 41), 'changes.cursor.seq'],
    ['a cursor without mac', catchup, (w) => delete w.cursor.mac, 'changes.cursor.mac'],
    ['a doc beyond the watermark', catchup, (w) => ((w.watermark = 41), (w.cursor.seq = 41)), 'changes.docs[1][1]'],
    ['a doc with seq 0', catchup, (w) => (w.docs[0][1] = 0), 'changes.docs[0][1]'],
    ['a seq step that takes the seq below 1', simple, (w) => (w.docs[1][1] = -40), 'changes.docs[1][1]'],
    ['a fractional seq step', simple, (w) => (w.docs[1][1] = 0.5), 'changes.docs[1][1]'],
    ['a doc that is an object', catchup, (w) => (w.docs[0] = { key: 'n-1', seq: 40 }), 'changes.docs[0]'],
    ['a doc of two fields', catchup, (w) => w.docs[0].pop(), 'changes.docs[0]'],
    ['a doc of eight fields', simple, (w) => w.docs[2].push(0), 'changes.docs[2]'],
    ['a reserved key', catchup, (w) => (w.docs[0][0] = 'constructor'), 'changes.docs[0][0]'],
    ['replicas missing', catchup, (w) => delete w.replicas, 'changes.replicas'],
    ['a bad replica id in the table', simple, (w) => (w.replicas[1] = 'a b'), 'changes.replicas[1]'],
    ['a general state with a frame index out of range', catchup, (w) => (w.docs[0][2].r[0] = 9), 'changes.docs[0][2].context.vv'],
    ['a general state whose sibling is outside its context', catchup, (w) => (w.docs[1][2].s[0][1] = 9), 'changes.docs[1][2].siblings[0].dot'],
    ['a simple doc whose replica index is out of range', simple, (w) => (w.docs[1][5] = 2), 'changes.docs[1][5]'],
    ['a simple doc whose replica index is a string', simple, (w) => (w.docs[1][5] = '0'), 'changes.docs[1][5]'],
    ['a simple doc with counter 0', simple, (w) => (w.docs[1][4] = 0), 'changes.docs[1][4]'],
    ['a simple doc whose wall step goes below 0', simple, (w) => (w.docs[0][3] = -1), 'changes.docs[0][3]'],
    ['a simple doc whose wall steps past the Date range', simple, (w) => (w.docs[1][3] = 8.64e15), 'changes.docs[1][3]'],
    ['a simple doc with a logical past 0xffff', simple, (w) => (w.docs[2][6] = 0x10000), 'changes.docs[2][6]'],
    [
      'a simple doc whose left-out logical would be past 0xffff',
      simple,
      (w) => ((w.docs[0][6] = 0xffff), (w.docs[0][4] = 1), (w.docs[0][5] = 0), (w.docs[1] = ['b', 1, 'eggs', 0])),
      'changes.docs[1][6]',
    ],
    ['a wrapped value whose meta is a list', simple, (w) => (w.docs[0][2] = { json: 1, meta: [] }), 'changes.docs[0][2]'],
    ['a CRDT value whose seen-set is a string', simple, (w) => (w.docs[0][2] = { s: [], c: 'x' }), 'changes.docs[0][2]'],
  ];
  for (const [name, base, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = base();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }

  it('refuses more docs than the limit as payload_too_large', () => {
    expect(refusal(catchup(), { maxChangesPerFrame: 1 })).toMatchObject({ code: 'payload_too_large', path: 'changes.docs' });
  });
});
