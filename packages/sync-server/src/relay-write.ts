import { applyCrdtOp, ConvergeError, nextDot, writeDoc, type HlcClock, type ReplicaId } from '@converge/conflict';
import { collectionNameProblem, documentKeyProblem, encodeValue, type RelayLimits, type WireState } from '@converge/protocol';
import { crdtTypeOf, type CollectionRegistry } from './collections.js';
import { crdtDocFromWire, crdtDocToWire } from './crdt-wire.js';
import type { CommittedChange } from './push.js';
import { parseStored, serializeState } from './stored-state.js';
import type { RelayStore } from './store/relay-store.js';

/** A server-side write: a value (register collections), a CRDT operation, or a delete. */
export type RelayWrite =
  { readonly value: unknown } | { readonly op: { readonly type: string; readonly [field: string]: unknown } } | { readonly delete: true };

/** Who writes and under which rules: the relay's own replica. */
export interface RelayWriter {
  readonly store: RelayStore;
  readonly collections: CollectionRegistry;
  readonly limits: RelayLimits;
  readonly relayId: ReplicaId;
  readonly clock: HlcClock;
}

/**
 * Writes as the relay's own replica in a transaction of its own: the write's context is the
 * whole stored state (it replaces every sibling), its dot the relay's next for the key.
 * Throws `bad_message` for a malformed name or a write of the wrong kind, `payload_too_large`
 * when the key's state would exceed `maxStateBytes`.
 */
export async function writeAsRelay(writer: RelayWriter, collection: string, key: string, write: RelayWrite): Promise<CommittedChange> {
  const problem = collectionNameProblem(collection) ?? documentKeyProblem(key);
  if (problem !== undefined) throw new ConvergeError('bad_message', `${collection}/${key}: ${problem}`);
  const { store, limits, relayId, clock } = writer;
  const type = crdtTypeOf(writer.collections.get(collection).strategy);
  return store.transact(async (tx) => {
    const current = parseStored(await tx.get(collection, key));
    const dot = nextDot(current, relayId);
    const hlc = clock.tick();
    let next: WireState;
    if (type !== undefined) {
      if ('value' in write) throw new ConvergeError('bad_message', `${collection} is a CRDT collection: write an operation`);
      const base = crdtDocFromWire(type, current, `stored ${key}`);
      if (!base.ok) throw new ConvergeError('internal', base.error.message);
      const op = 'delete' in write ? { type: 'clear' as const } : write.op;
      next = crdtDocToWire(type, applyCrdtOp(type, base.value, { dot, hlc, op }).state);
    } else {
      if ('op' in write) throw new ConvergeError('bad_message', `${collection} holds values, not CRDT operations`);
      next =
        'delete' in write
          ? writeDoc(current, { dot, hlc, readContext: current.context, deleted: true }).state
          : writeDoc(current, { dot, hlc, readContext: current.context, value: encodeValue(write.value) }).state;
    }
    const text = serializeState(next);
    const bytes = Buffer.byteLength(text);
    if (bytes > limits.maxStateBytes) {
      throw new ConvergeError(
        'payload_too_large',
        `${collection}/${key} would hold ${bytes} bytes of state; the limit is maxStateBytes = ${limits.maxStateBytes}`,
      );
    }
    const { seq, hash } = await tx.put(collection, key, text, dot);
    return { collection, key, seq, hash, dot, text, bytes };
  });
}
