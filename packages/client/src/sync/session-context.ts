import type { ConvergeError, ReplicaId } from '@converge/conflict';
import type { ClientFrame, RelayLimits } from '@converge/protocol';
import type { SyncHost } from './sync-host.js';

/** How a session ended, which decides when the engine reconnects. */
export type SessionEnd =
  | { readonly kind: 'retry'; readonly error?: ConvergeError } // backoff
  | { readonly kind: 'slow'; readonly error?: ConvergeError } // longer backoff (rate limited, relay behind)
  | { readonly kind: 'now'; readonly error?: ConvergeError } // reconnect at once (new replica id, fresh clock, fresh token)
  | { readonly kind: 'auth'; readonly error: ConvergeError } // unauthorized: refresh the token
  | { readonly kind: 'fatal'; readonly error: ConvergeError } // configuration error: stop until resume()
  | { readonly kind: 'stopped' };

/** The relay limits a session works within (the defaults until `welcome` gives the relay's). */
export type SessionLimits = Pick<RelayLimits, 'maxFrameBytes' | 'maxChangesPerFrame' | 'heartbeatMs'>;

/** Fixed values of the sync protocol's client side (their values are in `client-options.ts`). */
export interface SyncTuning {
  /** Limits used before the first `welcome` (then the relay's): frame decoding, the heartbeat, and the largest value accepted locally. */
  readonly preWelcome: SessionLimits & Pick<RelayLimits, 'maxValueBytes'>;
  /** Pause before re-pushing writes the relay left queued for a transient reason: `minMs` plus up to `jitterMs`. */
  readonly transientRetry: { readonly minMs: number; readonly jitterMs: number };
  /** Reconnects made at once in a row (new replica id, fresh clock, fresh token) before backoff applies again. */
  readonly atOnceInARow: number;
  /** Extra backoff steps after `rate_limited` or `behind`. */
  readonly slowBackoffSteps: number;
  /** After `rate_limited` a push carries at most half of this (then half again); a push size of this or more grows back to unbounded. */
  readonly pushSizeCeiling: number;
}

export interface SessionOptions {
  /** From opening the socket to `welcome`, ms. */
  readonly connectTimeoutMs: number;
  /** A leader read's answer, ms. */
  readonly readTimeoutMs: number;
  /** Most changes per push (lowered after `rate_limited`, so a push fits the relay's token bucket). */
  readonly maxChangesPerPush: number;
  readonly sync: SyncTuning;
}

/** What the parts of a session (handshake, subscriptions, push loop, reads) share. */
export interface SessionContext {
  readonly host: SyncHost;
  readonly options: SessionOptions;
  /** After a `welcome` that passed its checks, until the session ends. */
  readonly open: boolean;
  readonly closed: boolean;
  readonly limits: SessionLimits;
  /** The replica id this connection's `hello` spoke for. */
  readonly helloId: ReplicaId;
  send(frame: ClientFrame): void;
  /** Sends a frame already encoded (a planned push). */
  sendText(text: string): void;
  /** Ends the session and closes the connection. */
  close(end: SessionEnd): void;
  /** Runs `work` after the frames already queued (work started by a timer). */
  enqueue(work: () => Promise<void> | void): void;
  /** A new replica id, pending writes re-applied under it, then a fresh connection. */
  replaceIdentity(): Promise<void>;
  /** Says `synced` once every subscription is caught up and nothing is left to push. */
  updateSynced(): void;
  /** Every subscription has received its catch-up (and queued its re-push of states, if the relay lost data). */
  readonly caughtUp: boolean;
}
