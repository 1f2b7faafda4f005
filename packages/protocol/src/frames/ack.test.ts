import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { conflictedState, sampleFrames } from '../testing/samples.js';

const ack = (): Wire => wireOf(sampleFrames()[6]!);

describe('ack', () => {
  it('answers a partly refused push with one result per change, in push order, each naming its collection and key', () => {
    const frame = accepted(ack());
    expect(frame.type === 'ack' && frame.results.map((r) => [r.collection, r.key, r.status, r.status === 'accepted' ? r.seq : r.code])).toEqual([
      ['notes', 'n-1', 'accepted', 1201],
      ['notes', 'n-1', 'rejected', 'conflict_rejected'],
      ['carts', 'cart-9', 'rejected', 'too_many_siblings'],
    ]);
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
