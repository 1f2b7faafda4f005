// Smoke test of W6 at tiny sizes (correctness only, no timing asserted): in one process every
// concurrent value is kept by the siblings collection and the lwwMap read shows one of them;
// through the relay every client ends with the same state. Yjs runs where the peers are installed.
import { describe, expect, it } from 'vitest';
import { peersInstalled } from '../peers/load-peer.js';
import { convergeLwwMap, convergeSiblings, yjsMap } from './in-process.js';
import { caseValue } from './map-cases.js';
import { networkOnce } from './map.bench.js';
import type { MapSystem } from './map-role.js';

if (!peersInstalled()) console.warn('peer systems not installed: the W6 smoke test runs Converge only. `npm run bench -- peers` installs them.');

describe('W6 harness', () => {
  it('in one process: the siblings collection keeps every concurrent value; lwwMap shows one of them', async () => {
    const values = Array.from({ length: 30 }, (_, i) => JSON.stringify(caseValue('object', i, 30)));
    const siblings = convergeSiblings('object', 30);
    expect(siblings.kept).toBe(30);
    expect(values).toContain(siblings.shown);
    const map = convergeLwwMap('object', 30);
    expect(values).toContain(map.shown);
    if (peersInstalled()) expect(values).toContain((await yjsMap('object', 30)).shown);
  });

  const systems: MapSystem[] = ['converge-lwwmap', 'converge-siblings', ...(peersInstalled() ? (['yjs'] as const) : [])];
  it.each(systems)(
    'through the relay (%s): every client converges to the same state',
    async (system) => {
      const run = await networkOnce(system, 'number', 5);
      expect(run.refused).toBe(0);
      expect(run.kept).toBe(system === 'yjs' ? 1 : 5);
      expect(Number(run.shown)).toBeGreaterThanOrEqual(0);
      expect(run.bytes.in).toBeGreaterThan(0);
    },
    120_000,
  );
});
