import type { ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import type { RejectedEvent } from '../client-events.js';
import type { ConnectionState } from '../sync/sync-host.js';

/** An error as it crosses between tabs. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What tabs of one database tell each other over BroadcastChannel (docs/CLIENT.md, "Multi-tab protocol"). */
export type TabMessage =
  /** A tab committed changes to these keys (`outbox`: it wrote, so the leader has something to push). */
  | { readonly type: 'changed'; readonly collection: string; readonly keys: readonly string[]; readonly outbox: boolean }
  /** Leader → all: the relay now holds these writes at `level` (`unavailable`: it cannot confirm a higher one). */
  | { readonly type: 'acked'; readonly writeIds: readonly string[]; readonly level: AckLevel; readonly unavailable?: true }
  /** Leader → all: the relay refused these writes for good (in the rejected list, or rebased by the leader's `onReject`). */
  | { readonly type: 'rejected'; readonly writes: readonly RejectedEvent[] }
  /** Leader → all: the connection's state (sent on every change and when a tab asks). */
  | {
      readonly type: 'status';
      readonly connection: ConnectionState;
      readonly positions: Readonly<Record<string, number>>;
      readonly error: ErrorInfo | undefined;
    }
  /** Follower → leader: please send your status. */
  | { readonly type: 'status?' }
  /** Follower → leader: read these keys from the relay (`get(key, { consistency: 'leader' })`). */
  | { readonly type: 'read'; readonly id: string; readonly collection: string; readonly keys: readonly string[] }
  /** Leader → follower: the read is merged into storage (or failed). */
  | { readonly type: 'read-done'; readonly id: string; readonly error: ErrorInfo | undefined }
  /** Follower → leader: this tab started using a collection the app did not declare; follow it too. */
  | { readonly type: 'collection'; readonly name: string }
  /** The replica id changed (identity loss). */
  | { readonly type: 'replica' }
  /** A tab is deleting the database (`destroy()`): every tab closes its client. */
  | { readonly type: 'destroyed' };
