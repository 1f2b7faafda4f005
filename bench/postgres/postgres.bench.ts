// `npm run bench -- postgres [options]` (issue 13 §6): Converge's relay over PostgreSQL, on a
// real cluster this suite starts (a primary and 2 streaming standbys under `ANY 1 (s1, s2)`,
// packages/sync-server/src/testing/pg-cluster.ts, as user postgres), every relay the CLI from
// dist/ in a process of its own on 127.0.0.1 port 0:
//   1. write latency p50/p99 per ack level (relay, quorum, all) with 1 and 20 writers, beside
//      raw PostgreSQL doing the same commits (latency.ts, raw-writer.ts), and the ratio;
//   2. ingest and W1 catch-up, the relay on PostgreSQL (the cluster's primary) beside the relay
//      on SQLite (store-compare.ts);
//   3. failover: SIGKILL of the primary under quorum writes, promotion, time to the first
//      quorum ack (failover.ts).
// Options:
//   --rounds N        counted latency rounds per cell, after a warm-up round (default 5)
//   --writes N        writes per writer per round with 1 writer (default 200; with 20 writers N/8)
//   --records N       W1 records for ingest and catch-up (default 10000)
//   --runs N          counted ingest/catch-up rounds per store, after a warm-up (default 3)
//   --failovers N     failover rounds (default 3)
//   --only a,b        parts: latency, stores, failover (default all)
//   --writers a,b     latency: writer counts (default 1,20)
//   --levels a,b      latency: ack levels (default relay,quorum,all)
//   --profile DIR     the latency relay under `node --cpu-prof`, its profile written to DIR
// Writes the `postgres` entry of bench/results/latest.json; bench/RESULTS.md is left as it is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPgCluster, type PgCluster } from '@converge/sync-server/testing';
import { saveSuiteResults, startRun, factsLine, type RunFacts } from '../results-store.js';
import { startRelay } from '../relay/relay-process.js';
import { runFailover, type FailoverRound } from './failover.js';
import { LEVELS, runLatency, type LatencyCell } from './latency.js';
import { openRawPostgres, type AckLevel } from './raw-writer.js';
import { runStoreComparison, type StoreComparison } from './store-compare.js';
import { median } from '../peers/stats.js';

export interface PostgresBenchOptions {
  readonly rounds: number;
  readonly writes: number;
  readonly records: number;
  readonly runs: number;
  readonly failovers: number;
  readonly only: readonly ('latency' | 'stores' | 'failover')[];
  /** Latency: writer counts (default 1 and 20) and levels (default all three). */
  readonly writerCounts?: readonly number[];
  readonly levels?: readonly AckLevel[];
  readonly profileDir?: string | undefined;
  /** Progress lines (default: stderr; the report is stdout). */
  readonly log?: (line: string) => void;
}

export interface PostgresResults extends RunFacts {
  readonly options: Omit<PostgresBenchOptions, 'log'>;
  readonly cluster: { readonly major: number; readonly synchronous: string; readonly startMs: number };
  readonly latency?: readonly LatencyCell[];
  readonly stores?: StoreComparison;
  readonly failover?: readonly FailoverRound[];
  /** Why the failover part stopped before its last round (its finished rounds are in `failover`). */
  readonly failoverError?: string;
}

const WRITER_COUNTS: readonly number[] = [1, 20];
const CURSOR_SECRET_NOTE = 'every relay here signs cursors with the bench secret (relay-process.ts)';

export async function measurePostgres(options: PostgresBenchOptions): Promise<PostgresResults> {
  const log = options.log ?? ((line: string) => console.error(`[postgres] ${line}`));
  const facts = startRun();
  const cluster: PgCluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  const dir = mkdtempSync(join(tmpdir(), 'converge-bench-postgres-'));
  // The failover part starts a cluster per round (failover.ts); this one serves latency and stores.
  log(`cluster: PostgreSQL ${cluster.major}, primary + 2 standbys under ANY 1, started in ${cluster.startMs} ms; ${CURSOR_SECRET_NOTE}`);
  let latency: LatencyCell[] | undefined;
  let stores: StoreComparison | undefined;
  let failover: FailoverRound[] | undefined;
  const completed: FailoverRound[] = [];
  let failoverError: string | undefined;
  try {
    if (options.only.includes('latency')) {
      const url = cluster.primary.url;
      const relay = await startRelay({
        db: join(dir, 'latency.db'),
        kind: 'unlimited',
        store: { url, schema: 'bench_latency' },
        profileDir: options.profileDir,
      });
      const writerCounts = options.writerCounts ?? WRITER_COUNTS;
      const raw = await openRawPostgres(url, 'bench_raw', Math.max(...writerCounts), cluster.standbys.length);
      try {
        latency = await runLatency(relay.url, raw, {
          writerCounts,
          levels: options.levels ?? LEVELS,
          writes: (writers) => (writers === 1 ? options.writes : Math.max(1, Math.round(options.writes / 8))),
          rounds: options.rounds,
          log,
        });
      } finally {
        await relay.stop();
        await raw.close();
      }
    }
    if (options.only.includes('stores')) stores = await runStoreComparison(cluster.primary.url, options.records, options.runs, log);
  } finally {
    await cluster.stop();
  }
  try {
    if (options.only.includes('failover')) {
      try {
        failover = await runFailover({ rounds: options.failovers, writers: 2, log, dir, done: (round) => completed.push(round) });
      } catch (error) {
        failoverError = String(error).slice(0, 500);
        failover = completed;
        log(`failover: ${failoverError}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { log: _log, ...recorded } = options;
  return {
    ...facts.end(),
    options: recorded,
    cluster: { major: cluster.major, synchronous: 'ANY 1 (2 standbys)', startMs: cluster.startMs },
    ...(latency === undefined ? {} : { latency }),
    ...(stores === undefined ? {} : { stores }),
    ...(failover === undefined ? {} : { failover }),
    ...(failoverError === undefined ? {} : { failoverError }),
  };
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const ratio = (x: number) => `${x.toFixed(2)}×`;

export function postgresMarkdown(results: PostgresResults): string {
  const out: string[] = [factsLine(results), ''];
  out.push(
    `A primary and 2 streaming standbys of PostgreSQL ${results.cluster.major} under \`synchronous_standby_names = 'ANY 1 (s1, s2)'\` on this machine, started by the suite (fsync on). Every relay is the CLI in its own process.`,
    '',
  );
  if (results.latency !== undefined) {
    const o = results.options;
    out.push(
      '### Write latency per ack level, beside raw PostgreSQL',
      '',
      `Protocol-level writers, one push of one blind write (a ~150 B cart) in flight each, timed to the frame reporting the level (\`ack\` for relay, \`confirm\` for quorum and all). Raw: a plain \`postgres\` client per writer making the relay's commit for such a push (head row lock and key read, then key row, chain row, write number, pg_notify) in a schema of the relay's layout at \`synchronous_commit\` local (relay) or on (quorum; all then polls \`pg_stat_replication\` until both standbys flushed). ${o.rounds} counted rounds per row after a warm-up, both systems in each round, order alternating; ratio = median over rounds of Converge's percentile over raw's in the same round (target ≤ 1.5×).`,
      '',
      '| writers | level | writes | Converge p50 ms | raw p50 ms | ratio p50 | Converge p99 ms | raw p99 ms | ratio p99 |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const c of results.latency) {
      out.push(
        `| ${c.writers} | ${c.level} | ${c.writes.toLocaleString('en')} | ${ms(c.converge.p50)} | ${ms(c.raw.p50)} | ${ratio(c.ratioP50)} | ${ms(c.converge.p99)} | ${ms(c.raw.p99)} | ${ratio(c.ratioP99)} |`,
      );
    }
    out.push('');
  }
  if (results.stores !== undefined) {
    const s = results.stores;
    const counted = (store: string) => s.runs.filter((r) => r.store === store && r.round > 0);
    const row = (store: 'sqlite' | 'postgres', label: string) => {
      const runs = counted(store);
      return `| ${label} | ${Math.round(median(runs.map((r) => r.changesPerSecond))).toLocaleString('en')} | ${median(runs.map((r) => r.catchUpMs)).toFixed(0)} |`;
    };
    out.push(
      `### Ingest and W1 catch-up: PostgreSQL vs SQLite, ${s.records.toLocaleString('en')} records`,
      '',
      `W1's records (~106 B JSON) pushed by one replica, 1,000 changes per push, 4 pushes in flight (ingest, first push to last ack), then a fresh relay on the stored records and a fresh protocol-level replica B reading every record (catch-up, B's measure). Medians of ${counted('sqlite').length} counted rounds per store, order alternating; PostgreSQL is the cluster's primary (relay-level commits: \`synchronous_commit = local\`).`,
      '',
      '| store | ingest changes/s | W1 catch-up ms |',
      '|---|---:|---:|',
      row('sqlite', 'SQLite (relay CLI, --db)'),
      row('postgres', 'PostgreSQL (relay CLI, --store)'),
      `| PostgreSQL ÷ SQLite, per round (min / median / max) | ${s.ingestRatio.min.toFixed(2)} / ${s.ingestRatio.median.toFixed(2)} / ${s.ingestRatio.max.toFixed(2)} | ${s.catchUpRatio.min.toFixed(2)} / ${s.catchUpRatio.median.toFixed(2)} / ${s.catchUpRatio.max.toFixed(2)} |`,
      '',
    );
  }
  if (results.failover !== undefined) {
    out.push(
      '### Failover: SIGKILL of the primary to the first quorum ack',
      '',
      "2 writers pushing at quorum through one relay whose --store lists every node (`target_session_attrs=read-write&connect_timeout=2`); the primary SIGKILLed, the most up-to-date standby promoted at once with `pg_promote()` (no HA tool's detection delay), each round on a fresh cluster and relay. First quorum ack: the first `confirm {level: quorum}` of a push sent after the kill.",
      '',
      '| round | killed → promoted | kill → `pg_promote()` done ms | kill → first quorum ack ms | quorum acks in round | pushes re-sent |',
      '|---:|---|---:|---:|---:|---:|',
    );
    for (const f of results.failover)
      out.push(`| ${f.round} | ${f.killed} → ${f.promoted} | ${f.promotedMs.toFixed(0)} | ${f.firstQuorumMs.toFixed(0)} | ${f.confirmed} | ${f.resent} |`);
    if (results.failoverError !== undefined) out.push('', `**Stopped:** ${results.failoverError}`);
    out.push('');
  }
  return out.join('\n');
}

export async function runPostgresBench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '5' },
      writes: { type: 'string', default: '200' },
      records: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '3' },
      failovers: { type: 'string', default: '3' },
      only: { type: 'string', default: 'latency,stores,failover' },
      profile: { type: 'string' },
      writers: { type: 'string', default: WRITER_COUNTS.join(',') },
      levels: { type: 'string', default: LEVELS.join(',') },
    },
  });
  const results = await measurePostgres({
    rounds: Number(values.rounds),
    writes: Number(values.writes),
    records: Number(values.records),
    runs: Number(values.runs),
    failovers: Number(values.failovers),
    only: values.only.split(',').map((s) => s.trim()) as PostgresBenchOptions['only'],
    profileDir: values.profile,
    writerCounts: values.writers.split(',').map(Number),
    levels: values.levels.split(',').map((s) => s.trim()) as AckLevel[],
  });
  saveSuiteResults('postgres', results);
  return postgresMarkdown(results);
}
