import type { HlcClock, ReplicaId } from '@converge/conflict';
import type { CollectionDeclaration, RelayLimits } from '@converge/protocol';
import type { ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { META } from './meta-keys.js';
import type { ReplicaClock } from './replica-clock.js';
import { relayHeadStanding } from './write-chain.js';

/** What a `welcome` tells the replica. */
export interface WelcomeFacts {
  /** The id this connection's `hello` spoke for. */
  readonly replicaId: ReplicaId;
  /** The relay's latest write number and chain for that id. */
  readonly writeNumber: number;
  readonly writeChain: string;
  readonly now: number;
  /** The relay's clock minus this tab's, measured around the handshake. */
  readonly offsetMs: number;
  readonly limits: RelayLimits;
  readonly collections: Readonly<Record<string, CollectionDeclaration>>;
}

export type WelcomeLearned =
  | { readonly verdict: 'id_changed' }
  | {
      readonly verdict: 'ok' | 'identity_lost';
      /** The replica record as now written. */
      readonly rep: ReplicaRecord;
      /** The clock with the relay's offset (fresh when the stored stamp lay too far ahead). */
      readonly clock: HlcClock;
      readonly collections: Readonly<Record<string, CollectionDeclaration>>;
    };

/**
 * In the transaction after `welcome`: persists the relay's limits and collections, learns the
 * clock offset (dropping a stored stamp that lies too far ahead, so the next writes are not
 * refused again), and compares the relay's write number and chain for this replica id with this
 * database's (`relayHeadStanding`): `identity_lost` when this database went back in time.
 * `id_changed` when another tab replaced the id since `hello` (nothing is written).
 */
export async function learnWelcome(tx: StorageWriter, rep: ReplicaRecord, welcome: WelcomeFacts, clocks: ReplicaClock): Promise<WelcomeLearned> {
  if (rep.id !== welcome.replicaId) return { verdict: 'id_changed' };
  const limits = await tx.getMeta<RelayLimits>(META.limits);
  if (limits === undefined || JSON.stringify(limits) !== JSON.stringify(welcome.limits)) tx.putMeta(META.limits, welcome.limits);
  const collections = Object.fromEntries(Object.entries(welcome.collections).map(([name, c]) => [name, { mode: c.mode, strategy: c.strategy }]));
  tx.putMeta(META.collections, collections);
  const ahead = rep.clock !== undefined && rep.clock.wall > welcome.now + welcome.limits.maxClockSkewMs / 2;
  const { clock: _clock, ...rest } = rep;
  const next: ReplicaRecord = ahead ? { ...rest, clockOffsetMs: welcome.offsetMs } : { ...rep, clockOffsetMs: welcome.offsetMs };
  tx.putMeta(META.replica, next);
  const clock = clocks.forTransaction(next, { offsetMs: welcome.offsetMs, fresh: ahead });
  const standing = await relayHeadStanding(tx, rep, { writeNumber: welcome.writeNumber, chain: welcome.writeChain });
  return { verdict: standing === 'other' ? 'identity_lost' : 'ok', rep: next, clock, collections };
}
