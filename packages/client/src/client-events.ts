import type { ConvergeError, Dot, ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import type { Conflict, Version } from './replica/read-model.js';

/** A write that removed LWW values the app was never shown. */
export interface ConflictEvent {
  readonly collection: string;
  readonly key: string;
  readonly writeId: string;
  readonly discarded: readonly Conflict<unknown>[];
}

/** A write the relay refused for good; it is in `client.rejected()` until retried or discarded. */
export interface RejectedEvent {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly code: ErrorCode;
  readonly message: string;
  /**
   * The collection's `onReject` returned a value: it is written as a new write over the
   * current state (its own `written` event follows), and the refusal is not kept in `rejected()`.
   */
  readonly rebased: boolean;
}

/**
 * A write committed locally: its dot and its version (what it was derived from, plus its dot).
 * Fired again, with the same `writeId`, when a pending write is written again under a new dot:
 * after identity loss (a new replica id) or a refused clock (`clock_skew`).
 */
export interface WrittenEvent {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
  readonly version: Version;
}

/** What `client.on(event, listener)` hears. */
export interface ClientEvents extends Record<string, unknown> {
  written: WrittenEvent;
  conflict: ConflictEvent;
  rejected: RejectedEvent;
  storageFailure: ConvergeError;
  acked: { readonly writeIds: readonly string[]; readonly level: AckLevel };
}
