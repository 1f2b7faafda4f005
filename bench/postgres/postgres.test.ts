// Smoke test of the postgres suite at tiny sizes (correctness only, no timing asserted): on a
// real cluster, every latency cell got every write through both Converge and raw PostgreSQL at
// its level, both stores stored and served every W1 record (store-compare.ts checks B's
// checksum), and a failover round reached a quorum ack on the promoted standby.
import { describe, expect, it } from 'vitest';
import { measurePostgres, postgresMarkdown } from './postgres.bench.js';

describe('postgres bench harness', () => {
  it('latency per level beside raw PostgreSQL, ingest and W1 catch-up on both stores, and a failover, at tiny sizes', async () => {
    const results = await measurePostgres({
      rounds: 1,
      writes: 8,
      records: 150,
      runs: 1,
      failovers: 1,
      only: ['latency', 'stores', 'failover'],
      log: () => undefined,
    });
    expect(results.latency!.map((c) => [c.writers, c.level, c.writes])).toEqual([
      [1, 'relay', 8],
      [1, 'quorum', 8],
      [1, 'all', 8],
      [20, 'relay', 20],
      [20, 'quorum', 20],
      [20, 'all', 20],
    ]);
    for (const c of results.latency!) for (const x of [c.converge.p50, c.converge.p99, c.raw.p50, c.raw.p99, c.ratioP50]) expect(x).toBeGreaterThan(0);
    expect(results.stores!.runs.map((r) => [r.store, r.round])).toEqual([
      ['sqlite', 0],
      ['postgres', 0],
      ['postgres', 1],
      ['sqlite', 1],
    ]);
    for (const r of results.stores!.runs) expect(r.changesPerSecond).toBeGreaterThan(0);
    const [round] = results.failover!;
    expect(round!.promoted).not.toBe(round!.killed);
    expect(round!.firstQuorumMs).toBeGreaterThan(0);
    expect(round!.confirmed).toBeGreaterThan(0);
    const markdown = postgresMarkdown(results);
    expect(markdown).toContain('| 20 | quorum | 20 |');
    expect(markdown).toContain('kill → first quorum ack ms');
  }, 240_000);
});
