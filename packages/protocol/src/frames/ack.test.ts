import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { A, conflictedState, sampleFrames } from '../testing/samples.js';
import { settledDot } from './ack.js';

const ack = (): Wire => wireOf(sampleFrames()[6]!);

describe('ack', () => {
  it('answers a partly refused push with one result per change, each naming the change it settles: collection, key and dot', () => {
    const frame = accepted(ack());
    expect(frame.type === 'ack' && frame.results.map((r) => [r.collection, r.key, r.dot, r.status, r.status === 'accepted' ? r.seq : r.code])).toEqual([
      ['notes', 'n-1', [A, 7], 'accepted', 1201],
      ['notes', 'n-1', [A, 8], 'rejected', 'conflict_rejected'],
      ['carts', 'cart-9', [A, 2], 'rejected', 'too_many_siblings'],
    ]);
    expect(frame).not.toHaveProperty('more');
  });

  it("names each change by its delta's last sibling (settledDot), as the push carried it", () => {
    const push = sampleFrames()[5]!;
    expect(push.type === 'push' && push.changes.map((c) => settledDot(c.delta))).toEqual([
      [A, 7],
      [A, 8],
      [A, 2],
    ]);
  });

  it('a part of an answer split over several frames says more follow', () => {
    expect(accepted(wireOf(sampleFrames().at(-1)!))).toMatchObject({ type: 'ack', id: 'p-19', more: true });
  });

  it('a conflict_rejected result carries the current state to roll back or rebase against', () => {
    const frame = accepted(ack());
    const rejected = frame.type === 'ack' ? frame.results[1] : undefined;
    expect(rejected?.status === 'rejected' && rejected.current).toEqual(conflictedState());
    expect(frame.type === 'ack' && frame.results[2]).not.toHaveProperty('current');
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['a level of local', (w) => (w.level = 'local'), 'ack.level'],
    ['a bad id', (w) => (w.id = ''), 'ack.id'],
    ['no results', (w) => (w.results = []), 'ack.results'],
    ['a result without collection', (w) => delete w.results[0].collection, 'ack.results[0].collection'],
    ['a result without key', (w) => delete w.results[2].key, 'ack.results[2].key'],
    ['a result without dot', (w) => delete w.results[0].dot, 'ack.results[0].dot'],
    ['a dot with counter 0', (w) => (w.results[1].dot = [A, 0]), 'ack.results[1].dot'],
    ['a dot with a reserved replica id', (w) => (w.results[1].dot = ['__proto__', 1]), 'ack.results[1].dot'],
    ['more: false', (w) => (w.more = false), 'ack.more'],
    ['a code only a client raises', (w) => (w.results[1].code = 'offline'), 'ack.results[1].code'],
    ['an unknown status', (w) => (w.results[0].status = 'ok'), 'ack.results[0].status'],
    ['an accepted result with seq 0', (w) => (w.results[0].seq = 0), 'ack.results[0].seq'],
    ['a rejected result with an unknown code', (w) => (w.results[1].code = 'nope'), 'ack.results[1].code'],
    ['a rejected result without message', (w) => delete w.results[1].message, 'ack.results[1].message'],
    ['a message over 4096 characters', (w) => (w.results[1].message = 'm'.repeat(4097)), 'ack.results[1].message'],
    ['a current state that breaks an invariant', (w) => (w.results[1].current.s[0][1] = 99), 'ack.results[1].current.siblings[0].dot'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = ack();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }
});
