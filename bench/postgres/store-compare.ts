// Ingest and W1 catch-up, the relay CLI on PostgreSQL beside the relay CLI on SQLite. W1's
// workload (bench/peers/workload.ts: `records` records of ~106 B JSON): replica A's writes,
// built as the peer benchmark's Converge replica builds them (1,000 changes per push, 4 pushes
// in flight), are pushed from this process and timed from the first push to the last ack
// (ingest, changes/s); then a fresh relay process on the seeded store and a fresh replica B
// (the peer benchmark's protocol-level Converge replica, `w1-catchup` role, in a process of its
// own) catch up and read every record (W1 catch-up, ms, B's own measure). Each counted round
// runs both stores, the order alternating; every run has a fresh SQLite file or PostgreSQL schema.
import { createHlcClock, EMPTY_CONTEXT, emptyDocState, nextDot, writeDoc } from '@converge/conflict';
import { encodeValue, type PushedChange, type WireValue } from '@converge/protocol';
import postgres from 'postgres';
import { COLLECTION } from '../peers/converge/replica.js';
import type { W1CatchUp } from '../peers/driver.js';
import { runRole } from '../peers/run-process.js';
import { pairRatios, type Spread } from '../peers/stats.js';
import { expectedChecksum, recordKey, recordValue } from '../peers/workload.js';
import { pushAll } from '../relay/relay.bench.js';
import { startRelay, tempDb, type RelayStartOptions } from '../relay/relay-process.js';
import { newReplicaId, pushText, WireClient } from '../relay/wire.js';

export type StoreName = 'sqlite' | 'postgres';

export interface StoreRun {
  readonly store: StoreName;
  readonly round: number;
  readonly ingestMs: number;
  readonly changesPerSecond: number;
  readonly catchUpMs: number;
}

export interface StoreComparison {
  readonly records: number;
  readonly runs: readonly StoreRun[];
  /** PostgreSQL over SQLite, per round (ingest: changes/s; catch-up: ms). */
  readonly ingestRatio: Spread;
  readonly catchUpRatio: Spread;
}

const PER_PUSH = 1000;
const IN_FLIGHT = 4;

/** A's W1 pushes, as bench/peers/converge/driver.ts writes them. */
function w1Pushes(records: number): string[] {
  const replica = newReplicaId();
  const clock = createHlcClock({ replica, now: Date.now });
  const changes: PushedChange[] = [];
  for (let i = 1; i <= records; i++) {
    const state = emptyDocState<WireValue>();
    const { delta } = writeDoc<WireValue>(state, {
      dot: nextDot(state, replica),
      hlc: clock.tick(),
      readContext: EMPTY_CONTEXT,
      value: encodeValue(recordValue(i)),
    });
    changes.push({ collection: COLLECTION, key: recordKey(i), delta, writeNumber: i, chain: i.toString(16) });
  }
  const queue: string[] = [];
  for (let i = 0; i < changes.length; i += PER_PUSH) queue.push(pushText(`p${i}`, changes.slice(i, i + PER_PUSH)));
  return [String(replica), ...queue];
}

async function ingestAndCatchUp(store: StoreName, records: number, round: number, pgUrl: string, checksum: number): Promise<StoreRun> {
  const { db, cleanup } = tempDb(`pg-compare-${store}`);
  const schema = `bench_w1_${process.pid}_${round}`;
  const options: RelayStartOptions = { db, kind: 'unlimited', ...(store === 'postgres' ? { store: { url: pgUrl, schema } } : {}) };
  try {
    const [replica, ...queue] = w1Pushes(records);
    const relay = await startRelay(options);
    let ingest;
    try {
      const client = await WireClient.open(relay.url);
      await client.hello(replica as never);
      ingest = await pushAll(relay.cpuMs, [client], [queue], IN_FLIGHT, 300_000);
      client.close();
    } finally {
      await relay.stop();
    }
    if (ingest.failure !== undefined || ingest.rejected > 0 || ingest.changes !== records)
      throw new Error(`${store} ingest: ${ingest.failure ?? `${ingest.changes} of ${records} accepted, ${ingest.rejected} rejected`}`);
    const reader = await startRelay(options);
    let b: W1CatchUp;
    try {
      // The peer benchmark's Converge replica speaks only the protocol: its role is the same on either store.
      b = await runRole<W1CatchUp>('converge-sqlite', 'w1-catchup', [reader.url, JSON.stringify({ records })], { timeoutMs: 300_000 });
    } finally {
      await reader.stop();
    }
    if (b.readable !== records || b.checksum !== checksum)
      throw new Error(`${store} W1: B read ${b.readable} of ${records} records (checksum ${b.checksum}, expected ${checksum})`);
    return { store, round, ingestMs: ingest.ms, changesPerSecond: (records * 1000) / ingest.ms, catchUpMs: b.ms };
  } finally {
    cleanup();
    if (store === 'postgres') {
      const sql = postgres(pgUrl, { max: 1, onnotice: () => undefined });
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end({ timeout: 5 });
    }
  }
}

export async function runStoreComparison(pgUrl: string, records: number, runs: number, log: (line: string) => void): Promise<StoreComparison> {
  const checksum = expectedChecksum(records);
  const out: StoreRun[] = [];
  for (let round = 0; round <= runs; round++) {
    const order: StoreName[] = round % 2 === 0 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite'];
    for (const store of order) {
      const run = await ingestAndCatchUp(store, records, round, pgUrl, checksum);
      log(
        `${store} ${round === 0 ? 'warm-up' : `round ${round}`}: ingest ${Math.round(run.changesPerSecond).toLocaleString('en')} changes/s, W1 catch-up ${run.catchUpMs.toFixed(0)} ms`,
      );
      out.push(run);
    }
  }
  const counted = (store: StoreName) => out.filter((r) => r.store === store && r.round > 0);
  return {
    records,
    runs: out,
    ingestRatio: pairRatios(
      counted('postgres').map((r) => r.changesPerSecond),
      counted('sqlite').map((r) => r.changesPerSecond),
    ),
    catchUpRatio: pairRatios(
      counted('postgres').map((r) => r.catchUpMs),
      counted('sqlite').map((r) => r.catchUpMs),
    ),
  };
}
