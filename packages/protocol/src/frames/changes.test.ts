import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { conflictedState, CURSOR, sampleFrames } from '../testing/samples.js';

const catchup = (): Wire => wireOf(sampleFrames()[9]!);
const live = (): Wire => wireOf(sampleFrames()[10]!);

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

  it('a live frame has no done marker; an empty frame moves the watermark past filtered seqs', () => {
    expect(accepted(live())).not.toHaveProperty('done');
    const empty = { ...live(), docs: [], states: { r: [], s: [] }, watermark: 50, cursor: { ...CURSOR, seq: 50 } };
    expect(accepted(empty)).toMatchObject({ docs: [], watermark: 50 });
  });

  it('marks the first catch-up frame after a cursor the relay could not resume from with resync', () => {
    const restart = { ...catchup(), resync: true };
    expect(accepted(restart)).toMatchObject({ phase: 'catchup', resync: true, done: true });
    expect(accepted(catchup())).not.toHaveProperty('resync');
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['resync on a live frame', (w) => ((w.phase = 'live'), delete w.done, (w.resync = true)), 'changes.resync'],
    ['resync false', (w) => (w.resync = false), 'changes.resync'],
    ['an unknown phase', (w) => (w.phase = 'replay'), 'changes.phase'],
    ['done on a live frame', (w) => ((w.phase = 'live'), (w.done = true)), 'changes.done'],
    ['done false', (w) => (w.done = false), 'changes.done'],
    ['a missing watermark', (w) => delete w.watermark, 'changes.watermark'],
    ['a cursor behind the watermark', (w) => (w.cursor.seq = 41), 'changes.cursor.seq'],
    ['a cursor without mac', (w) => delete w.cursor.mac, 'changes.cursor.mac'],
    ['a doc beyond the watermark', (w) => ((w.watermark = 41), (w.cursor.seq = 41)), 'changes.docs[1][1]'],
    ['a doc with seq 0', (w) => (w.docs[0][1] = 0), 'changes.docs[0][1]'],
    ['a doc that is an object', (w) => (w.docs[0] = { key: 'n-1', seq: 40 }), 'changes.docs[0]'],
    ['a reserved key', (w) => (w.docs[0][0] = 'constructor'), 'changes.docs[0][0]'],
    ['fewer states than docs', (w) => w.states.s.pop(), 'changes.states.s'],
    ['states missing', (w) => delete w.states, 'changes.states'],
    ['a state with a replica index out of range', (w) => (w.states.s[0][2][0][0] = 9), 'changes.states.s[0].siblings[0].dot'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = catchup();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }

  it('refuses more docs than the limit as payload_too_large', () => {
    expect(refusal(catchup(), { maxChangesPerFrame: 1 })).toMatchObject({ code: 'payload_too_large', path: 'changes.docs' });
  });
});
