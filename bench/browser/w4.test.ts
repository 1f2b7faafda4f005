// Smoke test of W4 at tiny size in Chromium (correctness only, no timing asserted): each system
// writes the records, and after a reload reads the middle one back (checked inside the round);
// Converge's raw-idb baseline runs beside it. Yjs and PouchDB run where the peers are installed.
import { describe, expect, it } from 'vitest';
import { peersInstalled } from '../peers/load-peer.js';
import { runW4Rounds, w4Markdown } from './w4.bench.js';

if (!peersInstalled()) console.warn('peer systems not installed: the W4 smoke test runs Converge only. `npm run bench -- peers` installs them.');

describe('W4 harness', () => {
  it('every system writes the records and reads one back after a reload', async () => {
    const systems = ['converge', ...(peersInstalled() ? ['yjs', 'pouchdb'] : [])];
    const rounds = await runW4Rounds(systems, 1, 200);
    expect(rounds.runs.map((r) => r.system).sort()).toEqual([...systems, ...systems].sort());
    for (const run of rounds.runs) expect(run.usageAfterWrite).toBeGreaterThan(0);
    expect(rounds.raw).toHaveLength(2);
    const facts = {
      startedAt: '',
      commit: '',
      seconds: 0,
      machine: { cpu: '', cores: 2, node: '', platform: '' },
      loadavg: { start: [0, 0, 0], end: [0, 0, 0] },
    };
    expect(w4Markdown({ ...facts, countedRuns: 1, records: 200, ...rounds })).toContain('raw-idb baseline');
  }, 180_000);
});
