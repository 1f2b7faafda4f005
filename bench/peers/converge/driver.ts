// Converge in the peer benchmark, as a protocol-level Node replica (replica.ts), against the
// relay CLI on its SQLite store (what users get) and against createRelay on MemoryStore (what
// the peers' relays keep: memory only).
import { createHlcClock, deepEqual, EMPTY_CONTEXT, emptyDocState, liveSiblings, mergeDocStates, nextDot, writeDoc, type ReplicaId } from '@converge/conflict';
import { encodeValue, type PushedChange, type WireState, type WireValue } from '@converge/protocol';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../../relay/relay-process.js';
import type { PeerDriver, W1CatchUp, W2Outcome } from '../driver.js';
import { spawnRelayScript } from '../relay-child.js';
import { startMeasure } from '../measure.js';
import { recordKey, recordValue, touch, w2Key, w2Value, type W1Workload, type W2Workload } from '../workload.js';
import { COLLECTION, newReplicaId, WireReplica } from './replica.js';

/** Changes per push (the CLI's maxChangesPerFrame) and pushes in flight while A seeds. */
const PER_PUSH = 1000;
const IN_FLIGHT = 4;

async function write(url: string, { records }: W1Workload): Promise<undefined> {
  // A writes and reads nothing back: no subscription (its own changes would come back live).
  const replica = await WireReplica.open(url, { subscribe: false });
  const clock = createHlcClock({ replica: replica.replicaId, now: Date.now });
  const changes: PushedChange[] = [];
  for (let i = 1; i <= records; i++) {
    const state = emptyDocState<WireValue>();
    const dot = nextDot(state, replica.replicaId);
    const { delta } = writeDoc<WireValue>(state, { dot, hlc: clock.tick(), readContext: EMPTY_CONTEXT, value: encodeValue(recordValue(i)) });
    changes.push({ collection: COLLECTION, key: recordKey(i), delta, writeNumber: i, chain: i.toString(16) });
  }
  const batches: PushedChange[][] = [];
  for (let i = 0; i < changes.length; i += PER_PUSH) batches.push(changes.slice(i, i + PER_PUSH));
  const pushNext = async (): Promise<void> => {
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      const ack = await replica.push(batch);
      const refused = ack.results.find((r) => r.status !== 'accepted');
      if (refused !== undefined) throw new Error(`replica A: a change was refused: ${JSON.stringify(refused)}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, pushNext));
  await replica.close();
}

async function catchUp(url: string, { records }: W1Workload): Promise<W1CatchUp> {
  const measure = await startMeasure();
  const replica = await WireReplica.open(url);
  await replica.caughtUp;
  let readable = 0;
  let checksum = 0;
  for (let i = 1; i <= records; i++) {
    const values = replica.read(recordKey(i));
    if (values.length !== 1) continue;
    readable++;
    checksum += touch(values[0]);
  }
  const measured = await measure.stop();
  await replica.close();
  return { ...measured, readable, checksum };
}

/**
 * One replica's offline edits: each update overwrites what this replica holds for its key
 * (context = the local state's), and the outbox squashes the deltas per key by merging them.
 */
function offlineEdits(replicaId: ReplicaId, replica: number, { updates, keys }: W2Workload) {
  const clock = createHlcClock({ replica: replicaId, now: Date.now });
  const states = new Map<string, WireState>();
  const outbox = new Map<string, WireState>();
  for (let u = 0; u < updates; u++) {
    const key = w2Key(u % keys);
    const state = states.get(key) ?? emptyDocState<WireValue>();
    const dot = nextDot(state, replicaId);
    const written = writeDoc<WireValue>(state, { dot, hlc: clock.tick(), readContext: state.context, value: encodeValue(w2Value(replica, u)) });
    states.set(key, written.state);
    outbox.set(key, mergeDocStates(outbox.get(key) ?? emptyDocState<WireValue>(), written.delta).state);
  }
  const changes = [...outbox].map(([key, delta], i): PushedChange => ({ collection: COLLECTION, key, delta, writeNumber: i + 1, chain: (i + 1).toString(16) }));
  return { states, changes };
}

async function w2(url: string, workload: W2Workload): Promise<W2Outcome> {
  const ids = [newReplicaId(), newReplicaId()];
  const edits = ids.map((id, r) => offlineEdits(id, r, workload));
  const measure = await startMeasure();
  const replicas = await Promise.all(
    ids.map(async (id, r) => {
      const replica = await WireReplica.open(url, { replicaId: id, states: edits[r]!.states });
      // Converged on this side once every key holds both replicas' concurrent values.
      const both = new Set<string>();
      const converged = new Promise<void>((resolve) => {
        replica.onChanges = (keys) => {
          for (const key of keys) if (liveSiblings(replica.states.get(key)!).length === 2) both.add(key);
          if (both.size === workload.keys) resolve();
        };
      });
      const ack = await replica.push(edits[r]!.changes);
      if (ack.results.some((c) => c.status !== 'accepted')) throw new Error(`replica ${r}: a change was refused: ${JSON.stringify(ack.results)}`);
      await converged;
      return replica;
    }),
  );
  const { ms, bytes: wire } = await measure.stop();
  const [a, b] = replicas as [WireReplica, WireReplica];
  let kept = 0;
  for (const [key, state] of a.states) {
    if (!deepEqual(state, b.states.get(key))) throw new Error(`W2: the replicas differ at ${key}`);
    kept += liveSiblings(state).length;
  }
  await Promise.all(replicas.map((r) => r.close()));
  return { ms, bytes: wire, kept, keys: a.states.size };
}

const roles = { w1: { write, catchUp }, w2 };

export const convergeSqlite: PeerDriver = {
  name: 'converge-sqlite',
  label: 'Converge (relay CLI, SQLite)',
  startRelay: (dir) => startRelay({ db: join(dir, 'relay.db'), kind: 'unlimited' }),
  ...roles,
};

export const convergeMemory: PeerDriver = {
  name: 'converge-memory',
  label: 'Converge (createRelay, MemoryStore)',
  startRelay: () => spawnRelayScript(fileURLToPath(new URL('./memory-relay.mjs', import.meta.url)), (port) => `ws://127.0.0.1:${port}/`),
  ...roles,
};
