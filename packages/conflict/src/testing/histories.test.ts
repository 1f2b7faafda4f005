import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbHistoryOptions } from './arbitraries.js';
import { runCartHistory, runRegisterHistory } from './histories.js';
import { propertyOptions } from './property-options.js';

describe('random histories against the exact causal-history oracle', () => {
  it('every replica equals the oracle after every step, and all converge after heal', () => {
    fc.assert(
      fc.property(arbHistoryOptions(120), (o) => {
        runRegisterHistory({ ...o, keys: 2, checkEveryStep: true });
      }),
      propertyOptions(),
    );
  });

  it('a seeded network of 3–5 replicas with loss, duplication and partitions converges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 3, max: 5 }), (seed, replicas) => {
        const net = runRegisterHistory({ seed, replicas, steps: 400, keys: 3 });
        expect(net.inFlight).toHaveLength(0);
      }),
      propertyOptions({ share: 0.2 }),
    );
  });
});

describe('composed join: cart (orMap of counters) inside DVV siblings, with stale second tabs', () => {
  it('agrees with the add-wins / observed-remove specification after every step', () => {
    fc.assert(
      fc.property(arbHistoryOptions(120), (o) => {
        runCartHistory({ ...o, replicas: Math.min(o.replicas, 3), checkEveryStep: true });
      }),
      propertyOptions(),
    );
  });
});
