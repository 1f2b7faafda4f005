// Catch-up of a client that was offline for k changes out of an N-record collection: N records
// (~106 B JSON, W1's) written by one replica; a subscriber catches up from cursor null and keeps
// the cursor of its last frame; then k of the records are overwritten (each a new version over
// the one that replica read: distinct keys, so the relay has k changed keys to send), and a
// client holding that cursor reconnects. Stages grow k (10, then 1,000, then 100,000 changed
// keys since that cursor); each counted run is a fresh relay process on the file and a fresh
// client process, timed from hello to `done`. The full catch-up from cursor null is the N row.
import { fileURLToPath } from 'node:url';
import { createHlcClock, emptyDocState, EMPTY_CONTEXT, nextDot, writeDoc, type ReplicaId } from '@converge/conflict';
import { encodeValue, type Cursor, type PushedChange, type WireValue } from '@converge/protocol';
import { forkChild } from '../fanout/child.js';
import { recordKey, recordValue } from '../peers/workload.js';
import { pushAll } from '../relay/relay.bench.js';
import { startRelay, tempDb } from '../relay/relay-process.js';
import { newReplicaId, pushText, WireClient } from '../relay/wire.js';
import type { CatchupRun } from './catchup-child.js';

const CATCHUP_CHILD = fileURLToPath(new URL('./catchup-child.ts', import.meta.url));
const COLLECTION = 'records';

export interface OfflineRun {
  /** Changed keys since the cursor; N for the catch-up from cursor null. */
  readonly k: number;
  readonly fromNull: boolean;
  readonly round: number;
  readonly run: CatchupRun;
  readonly relayHwmKB: number;
}

export interface OfflineResults {
  readonly records: number;
  readonly stages: readonly number[];
  readonly runs: readonly OfflineRun[];
  readonly seedMs: number;
}

/** Record i written by `replica` (its first write to the key), and the same key overwritten by it. */
function change(replica: ReplicaId, clock: ReturnType<typeof createHlcClock>, i: number, writeNumber: number, overwrite: boolean): PushedChange {
  const first = writeDoc<WireValue>(emptyDocState<WireValue>(), {
    dot: nextDot(emptyDocState(), replica),
    hlc: clock.tick(),
    readContext: EMPTY_CONTEXT,
    value: encodeValue(recordValue(i)),
  });
  if (!overwrite) return { collection: COLLECTION, key: recordKey(i), delta: first.delta, writeNumber, chain: writeNumber.toString(16) };
  const value = encodeValue({ ...recordValue(i), done: !recordValue(i).done, updatedAt: recordValue(i).updatedAt + 1 });
  const next = writeDoc<WireValue>(first.state, { dot: nextDot(first.state, replica), hlc: clock.tick(), readContext: first.state.context, value });
  return { collection: COLLECTION, key: recordKey(i), delta: next.delta, writeNumber, chain: writeNumber.toString(16) };
}

async function push(url: string, replica: ReplicaId, changes: PushedChange[]): Promise<void> {
  const client = await WireClient.open(url);
  await client.hello(replica);
  const queue: string[] = [];
  for (let i = 0; i < changes.length; i += 1000) queue.push(pushText(`p${i}`, changes.slice(i, i + 1000)));
  const run = await pushAll(() => 0, [client], [queue], 4, 300_000);
  client.close();
  if (run.failure !== undefined || run.rejected > 0) throw new Error(`offline catch-up: writing failed: ${run.failure ?? `${run.rejected} rejected`}`);
}

async function catchUpOnce(db: string, cursor: Cursor | null): Promise<{ run: CatchupRun; relayHwmKB: number }> {
  const relay = await startRelay({ db, kind: 'cli' });
  try {
    const child = await forkChild(CATCHUP_CHILD, [relay.url, COLLECTION, JSON.stringify(cursor)]);
    try {
      child.send({ type: 'start' });
      const { run } = await child.next<{ type: 'done'; run: CatchupRun }>('done', 180_000);
      return { run, relayHwmKB: relay.hwmKB() };
    } finally {
      child.kill();
    }
  } finally {
    await relay.stop();
  }
}

export async function runOfflineCatchup(records: number, stages: readonly number[], runs: number): Promise<OfflineResults> {
  const { db, cleanup } = tempDb('offline-catchup');
  const out: OfflineRun[] = [];
  const replica = newReplicaId();
  const clock = createHlcClock({ replica, now: Date.now });
  try {
    const t0 = performance.now();
    const seedRelay = await startRelay({ db, kind: 'unlimited' });
    try {
      await push(
        seedRelay.url,
        replica,
        Array.from({ length: records }, (_, j) => change(replica, clock, j + 1, j + 1, false)),
      );
    } finally {
      await seedRelay.stop();
    }
    const seedMs = performance.now() - t0;
    let cursor: Cursor | null = null;
    for (let round = 0; round <= runs; round++) {
      const { run, relayHwmKB } = await catchUpOnce(db, null);
      if (run.docs !== records) throw new Error(`catch-up from null delivered ${run.docs} of ${records}`);
      cursor = run.cursor;
      console.error(`[scaling offline] from null ${round === 0 ? 'warm-up' : `round ${round}`}: ${run.ms.toFixed(0)} ms`);
      out.push({ k: records, fromNull: true, round, run, relayHwmKB });
    }
    let written = 0;
    for (const k of stages) {
      const upTo = Math.min(k, records);
      const relay = await startRelay({ db, kind: 'unlimited' });
      try {
        await push(
          relay.url,
          replica,
          Array.from({ length: upTo - written }, (_, j) => change(replica, clock, written + j + 1, records + written + j + 1, true)),
        );
      } finally {
        await relay.stop();
      }
      written = upTo;
      for (let round = 0; round <= runs; round++) {
        const { run, relayHwmKB } = await catchUpOnce(db, cursor);
        if (run.docs !== upTo || run.resync) throw new Error(`offline for ${upTo} changes: ${run.docs} docs delivered${run.resync ? ' (resync)' : ''}`);
        console.error(`[scaling offline] k=${upTo} ${round === 0 ? 'warm-up' : `round ${round}`}: ${run.ms.toFixed(1)} ms`);
        out.push({ k: upTo, fromNull: false, round, run, relayHwmKB });
      }
    }
    return { records, stages, runs: out, seedMs };
  } finally {
    cleanup();
  }
}
