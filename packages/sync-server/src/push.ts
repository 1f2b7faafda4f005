import type { Dot, ReplicaId } from '@converge/conflict';
import type { ChangeResult, PushedChange, RelayLimits } from '@converge/protocol';
import type { Principal, RelayAuth } from './auth/auth.js';
import type { CollectionRegistry } from './collections.js';
import type { DirectStoreTx, StoreTx } from './store/relay-store.js';

/** A push as a session hands it over: the changes of one `push` frame and who sent them. */
export interface Push {
  /** The replica id the connection gave in `hello`: the only one it may mint dots for. */
  readonly replicaId: ReplicaId;
  readonly principal: Principal;
  readonly changes: readonly PushedChange[];
  /**
   * The pushed frame's size in UTF-8 bytes (an upper bound will do). A value is part of its
   * frame, so when the whole frame fits `maxValueBytes`, no value needs measuring.
   */
  readonly frameBytes: number;
}

/** What every push of one group commit is judged by. */
export interface PushRules {
  readonly collections: CollectionRegistry;
  readonly auth: RelayAuth;
  readonly limits: RelayLimits;
  /** The relay's clock at the commit, ms. */
  readonly now: number;
  /** Inside a recovery window, re-pushed states may carry other replicas' unseen dots with the siblings that bear them. */
  readonly recoveryOpen: boolean;
}

/** A change in a collection's log as live fan-out sends it to subscribers. */
export interface LiveChange {
  readonly collection: string;
  readonly key: string;
  readonly seq: number;
  /** The chain hash through `seq`: live cursors are signed with it. */
  readonly hash: string;
  /** The merged state as stored (`serializeState`): live frames are built from it. */
  readonly text: string;
  /** Its UTF-8 size. */
  readonly bytes: number;
}

/** A change this relay committed: with its dot, the last field of its chain link (`chainHash`). */
export interface CommittedChange extends LiveChange {
  readonly dot: Dot;
}

export interface PushOutcome {
  /** One per pushed change, in push order. */
  readonly results: ChangeResult[];
  readonly committed: CommittedChange[];
  /** What the metrics count: repairs inside a recovery window, keys left with siblings. */
  readonly counts: JudgeCounts;
}

/** What the metrics count of a push: repairs inside a recovery window, keys left with siblings. */
export interface JudgeCounts {
  repairs: number;
  siblingsCreated: number;
  siblingWarnings: number;
}

/**
 * The transaction a push is judged in: `StoreTx` (answers in promises) or, for a store in the
 * relay's process, its `direct` view (answers at once).
 */
export type JudgeTx = StoreTx | DirectStoreTx;
