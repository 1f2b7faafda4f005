import { addDot, contextHas, dotKey, WRITE_CHAIN_ZERO, type CausalContext, type Dot, type HlcClock, type ReplicaId, type WriteChain } from '@converge/conflict';
import type { CollectionSpec } from '../collection-spec.js';
import type { OutboxEntry, ReplicaRecord, StorageWriter, WriteIntent } from '../storage/storage-adapter.js';
import { applyWrite, type WriteRequest } from './apply-write.js';
import { removeDots } from './context-ops.js';
import { docId, entryDot, type DocChange } from './doc-records.js';
import { META } from './meta-keys.js';
import type { ReplicaClock } from './replica-clock.js';
import { chainAfterWrite } from './write-chain.js';

type Entry = OutboxEntry & { readonly id: number };

export interface RewriteEnv {
  readonly replica: ReplicaId;
  readonly clock: HlcClock;
  readonly spec: (collection: string) => CollectionSpec;
  /** The last write number used (the caller stores it when done). */
  writeNumber: number;
  /** The write chain through `writeNumber` (the caller stores it when done). */
  chain: WriteChain | undefined;
}

/** A pending write written again: its new dot and version (what it was derived from, plus the dot). */
export interface RewrittenWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
  readonly version: CausalContext;
}

/** What a rewrite changed: the records, and each write's new dot. */
export interface Rewrite {
  readonly changes: DocChange[];
  readonly rewritten: RewrittenWrite[];
}

function requestOf(entry: Entry, write: WriteIntent, readContext: CausalContext | undefined): WriteRequest {
  const base = { collection: entry.collection, key: entry.key, ack: entry.ack, writeId: entry.writeId };
  if (write.kind === 'op') return { ...base, kind: 'op', op: write.op };
  const read = { context: readContext ?? write.readContext, winner: undefined };
  return write.kind === 'put' ? { ...base, kind: 'put', value: write.value, read } : { ...base, kind: 'delete', read };
}

/**
 * Writes pending entries again as new writes: each gets a new dot (under `env.replica`), a new
 * stamp from `env.clock` and a new write number, keeping its write id and its place in the
 * outbox. CRDT operations are re-applied to the current state; register values are written
 * anew with their read context, adjusted as follows.
 *
 * - After identity loss (`fromBase`): the state restarts from what the relay confirmed, and
 *   read contexts drop the old dots of pending writes, replaced by their new dots, so nothing
 *   of the old id that the relay has not confirmed is claimed.
 * - After `clock_skew` (`!fromBase`): the refused write stays in the state and the new write's
 *   context covers it, so the refused dot is superseded, never re-stamped.
 */
export async function rewriteEntries(tx: StorageWriter, entries: readonly Entry[], env: RewriteEnv, fromBase: boolean): Promise<Rewrite> {
  const groups = new Map<string, Entry[]>();
  for (const entry of entries) {
    const id = docId(entry.collection, entry.key);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [entry]);
    else group.push(entry);
  }
  const changes: DocChange[] = [];
  const rewritten: RewrittenWrite[] = [];
  for (const group of groups.values()) {
    const { collection, key } = group[0]!;
    const found = await tx.getDoc(collection, key);
    if (found === undefined) continue;
    const spec = env.spec(collection);
    let record = fromBase ? { ...found, state: found.base ?? found.state } : found;
    const oldDots = group.map(entryDot);
    const renamed = new Map<string, Dot>();
    for (const entry of group) {
      const old = entryDot(entry);
      let readContext = entry.write.kind === 'op' ? undefined : entry.write.readContext;
      if (readContext !== undefined && fromBase) {
        readContext = removeDots(readContext, oldDots);
        for (const dot of oldDots) {
          const now = renamed.get(dotKey(dot));
          if (now !== undefined && entry.write.kind !== 'op' && contextHas(entry.write.readContext, dot)) readContext = addDot(readContext, now);
        }
      } else if (readContext !== undefined) {
        readContext = addDot(readContext, old);
      }
      const applied = applyWrite(spec, record, requestOf(entry, entry.write, readContext), {
        replica: env.replica,
        hlc: env.clock.tick(),
        maxValueBytes: Infinity,
        maxStateBytes: Infinity,
      });
      renamed.set(dotKey(old), applied.dot);
      rewritten.push({ writeId: entry.writeId, collection, key, dot: applied.dot, version: applied.memory.context });
      record = applied.record;
      const { skewed: _skewed, ...rest } = entry;
      env.chain = chainAfterWrite(env.chain, collection, key, applied.delta, applied.dot);
      tx.putOutbox({ ...rest, replica: env.replica, writeNumber: ++env.writeNumber, chain: env.chain, delta: applied.delta, write: applied.intent });
    }
    const next = fromBase ? { ...record, base: found.base ?? found.state } : record;
    tx.putDoc(next);
    changes.push({ collection, key, record: next });
  }
  return { changes, rewritten };
}

/**
 * Writes pending writes again in one transaction and stores the replica record that results
 * (`rep` is the record to write them under), stamped by the transaction's clock (`clocks`,
 * returned with it). `fromBase`: every pending write, under a new replica id (identity loss; the
 * new id's write chain starts afresh); otherwise only the writes refused with `clock_skew`.
 */
export async function rewritePending(
  tx: StorageWriter,
  rep: ReplicaRecord,
  options: { readonly clocks: ReplicaClock; readonly spec: (collection: string) => CollectionSpec; readonly fromBase: boolean },
): Promise<Rewrite & { readonly rep: ReplicaRecord; readonly clock: HlcClock }> {
  const clock = options.clocks.forTransaction(rep);
  const listed = (await tx.listOutbox()) as Entry[];
  const entries = options.fromBase ? listed : listed.filter((e) => e.skewed === true);
  if (!options.fromBase && entries.length === 0) return { rep, clock, changes: [], rewritten: [] };
  // A new id starts a new chain: the relay has seen no write of it.
  const env: RewriteEnv = {
    replica: rep.id,
    clock,
    spec: options.spec,
    writeNumber: rep.writeNumber,
    chain: options.fromBase ? WRITE_CHAIN_ZERO : rep.chain,
  };
  const { changes, rewritten } = await rewriteEntries(tx, entries, env, options.fromBase);
  const next: ReplicaRecord = { ...rep, writeNumber: env.writeNumber, ...(env.chain === undefined ? {} : { chain: env.chain }), clock: clock.last() };
  tx.putMeta(META.replica, next);
  return { rep: next, clock, changes, rewritten };
}
