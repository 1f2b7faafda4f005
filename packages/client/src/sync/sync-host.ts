import type { ConvergeError } from '@converge/conflict';
import type { RelayAckLevel } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import type { DocChange } from '../replica/doc-records.js';
import type { LocalReplica } from '../replica/local-replica.js';
import type { RewrittenWrite } from '../replica/rewrite.js';
import type { RejectedRecord } from '../storage/storage-adapter.js';

export type ConnectionState = 'offline' | 'connecting' | 'syncing' | 'synced';

/** What the sync engine needs from the client that runs it (the tab holding the socket). */
export interface SyncHost {
  readonly replica: LocalReplica;
  /** Collections to declare and subscribe to. */
  collections(): CollectionSpec[];
  /** The auth token for the next `hello` (the app's auth function is called on each connect). */
  token(refresh: boolean): Promise<string | undefined>;
  /** Records changed by a committed transaction (remote changes, push results, rewrites). */
  committed(changes: readonly DocChange[]): void;
  /** The relay holds these writes at `level`; `unavailable`: its store cannot confirm a higher level. */
  acked(writeIds: readonly string[], level: RelayAckLevel, unavailable?: boolean): void;
  rejected(records: readonly RejectedRecord[]): void;
  connection(state: ConnectionState): void;
  /** Last synced positions: collection → seq. */
  positions(cursors: ReadonlyMap<string, number>): void;
  error(error: ConvergeError | undefined): void;
  /** The replica id changed (identity loss): other tabs must hear of it. */
  replicaChanged(changes: readonly DocChange[]): void;
  /** Pending writes were written again under new dots (identity loss, clock skew). */
  rewritten(writes: readonly RewrittenWrite[]): void;
  now(): number;
  random(): number;
}
