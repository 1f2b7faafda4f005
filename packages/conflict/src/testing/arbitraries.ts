import fc from 'fast-check';
import type { DocState } from '../doc-state.js';
import { runRegisterHistory } from './histories.js';

/**
 * `count` states of one key taken from a random history of 2–5 replicas (current, stale and
 * blind writes, deletes, lossy out-of-order delivery), left unsettled: real states that share
 * one universe of dots, the inputs merge laws must hold for.
 */
export function arbHistoryStates(count: number): fc.Arbitrary<DocState<number>[]> {
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      replicas: fc.integer({ min: 2, max: 5 }),
      steps: fc.integer({ min: 0, max: 60 }),
      picks: fc.array(fc.nat(), { minLength: count, maxLength: count }),
    })
    .map(({ seed, replicas, steps, picks }) => {
      const net = runRegisterHistory({ seed, replicas, steps, keys: 1, unsettled: true });
      const pool = net.replicas.flatMap((r) => [net.state(r, 'k0'), ...(r.pastStates.get('k0') ?? [])]);
      return picks.map((p) => pool[p % pool.length]!);
    });
}

/** Parameters for a seeded history: seed, 2–5 replicas, a number of steps. */
export function arbHistoryOptions(maxSteps = 150): fc.Arbitrary<{ seed: number; replicas: number; steps: number }> {
  return fc.record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    replicas: fc.integer({ min: 2, max: 5 }),
    steps: fc.integer({ min: 1, max: maxSteps }),
  });
}

/** Untrusted input shaped almost like a state: the fuzz input for validators and decoders. */
export const arbJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withObjectString: true, withNullPrototype: true, withMap: true, withSet: true, withBigInt: true }),
  fc.record({
    v: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype')), fc.oneof(fc.integer(), fc.double(), fc.string())),
    d: fc.array(fc.tuple(fc.string(), fc.oneof(fc.integer(), fc.double()))),
    s: fc.array(fc.array(fc.oneof(fc.string(), fc.integer(), fc.double(), fc.jsonValue()), { maxLength: 6 })),
  }),
);
