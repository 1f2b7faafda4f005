import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { conflictedState, sampleFrames } from '../testing/samples.js';

const read = (): Wire => wireOf(sampleFrames()[7]!);
const result = (): Wire => wireOf(sampleFrames()[8]!);

describe('read', () => {
  it('asks for keys of one collection with a consistency', () => {
    expect(accepted(read())).toEqual({ type: 'read', id: 'r-3', collection: 'stock', keys: ['sku-1', 'sku-2'], consistency: 'leader' });
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['no keys', (w) => (w.keys = []), 'read.keys'],
    ['a reserved key', (w) => (w.keys[1] = 'prototype'), 'read.keys[1]'],
    ['a key that is a number', (w) => (w.keys[0] = 1), 'read.keys[0]'],
    ['an unknown consistency', (w) => (w.consistency = 'quorum'), 'read.consistency'],
    ['a missing collection', (w) => delete w.collection, 'read.collection'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = read();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }
});

describe('read-result', () => {
  it('answers every key, null with seq 0 for a key the relay does not hold', () => {
    const frame = accepted(result());
    expect(frame.type === 'read-result' && frame.docs).toEqual([
      { key: 'sku-1', seq: 88, state: conflictedState() },
      { key: 'sku-2', seq: 0, state: null },
    ]);
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['a doc without state', (w) => delete w.docs[1].state, 'read-result.docs[1].state'],
    ['a negative seq', (w) => (w.docs[0].seq = -1), 'read-result.docs[0].seq'],
    ['a state that is a string', (w) => (w.docs[0].state = 'x'), 'read-result.docs[0].state'],
    ['a bad id', (w) => (w.id = 'a b'), 'read-result.id'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = result();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }
});
