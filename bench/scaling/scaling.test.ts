// Smoke test of the scaling suite at tiny sizes (correctness only, no timing asserted). Each
// part checks what it measures (B read every record A wrote, the catch-up delivered exactly the
// changed keys, the cold open found the document); Yjs's seeded relay runs where the peers are
// installed.
import { describe, expect, it } from 'vitest';
import { peersInstalled } from '../peers/load-peer.js';
import { runColdOpen } from './cold-open.js';
import { powerLawExponent } from './fit.js';
import { runIdleCurve } from './idle-curve.js';
import { runOfflineCatchup } from './offline-catchup.js';
import { scalingMarkdown } from './scaling-markdown.js';
import { runW1Curve } from './w1-curve.js';

const facts = { startedAt: '', commit: '', seconds: 0, machine: { cpu: '', cores: 2, node: '', platform: '' }, loadavg: { start: [0, 0, 0], end: [0, 0, 0] } };
const part = <T>(results: T) => ({ ...facts, countedRuns: 1, full: false, results });

if (!peersInstalled()) console.warn('peer systems not installed: the scaling smoke test runs Converge only. `npm run bench -- peers` installs them.');

describe('scaling harness', () => {
  it('fits the exponent of a power law', () => {
    expect(
      powerLawExponent([
        [10, 3],
        [100, 30],
        [1000, 300],
      ]),
    ).toBeCloseTo(1, 10);
    expect(
      powerLawExponent([
        [10, 5],
        [100, 5],
      ]),
    ).toBeCloseTo(0, 10);
  });

  it('W1 curve: B reads every record at each size from a seeded relay', async () => {
    const systems = ['converge-sqlite', ...(peersInstalled() ? ['yjs'] : [])];
    const curve = await runW1Curve(systems, [40, 80], 1);
    expect(curve.skipped).toEqual([]);
    expect(curve.runs).toHaveLength(systems.length * 2 * 2);
    for (const run of curve.runs) expect(run.bytesIn).toBeGreaterThan(0);
    expect(scalingMarkdown({ w1: part(curve) })).toContain('Exponent k');
  }, 180_000);

  it('idle connections: every connection is an open session', async () => {
    const [run] = await runIdleCurve([5], 0);
    expect(run!.open).toBe(5);
    expect(Number.isFinite(run!.perConnectionKB)).toBe(true);
  }, 60_000);

  it('offline catch-up: a cursor from before k changes gets exactly the k changed keys', async () => {
    const offline = await runOfflineCatchup(150, [3, 150], 1);
    expect(offline.runs.filter((r) => r.round === 1).map((r) => [r.fromNull, r.run.docs])).toEqual([
      [true, 150],
      [false, 3],
      [false, 150],
    ]);
    expect(scalingMarkdown({ offline: part(offline) })).toContain('cursor before 3 changes');
  }, 120_000);

  it('cold open: the client finds the document at each size, in Chromium', async () => {
    const stages = await runColdOpen([50, 100], 1);
    expect(stages.map((s) => [s.documents, s.opens.length])).toEqual([
      [50, 1],
      [100, 1],
    ]);
  }, 120_000);
});
