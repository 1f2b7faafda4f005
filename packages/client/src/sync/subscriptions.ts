import { ConvergeError } from '@converge/conflict';
import type { ChangesFrame, Cursor, WelcomeFrame } from '@converge/protocol';
import type { PushLoop } from './push-loop.js';
import type { SessionContext } from './session-context.js';

interface Subscription {
  readonly collection: string;
  cursor: Cursor | null;
  caughtUp: boolean;
  /** The relay lost data this replica may hold: once caught up, re-push its states. */
  resync: boolean;
}

/**
 * The session's subscriptions, one per collection: catch-up and live changes applied with their
 * cursor, credit granted back per catch-up frame, and the resync after the relay lost data.
 * Only frames received in order move a cursor: catch-up frames while catching up, live frames
 * after; it never goes back within a lineage.
 */
export class Subscriptions {
  readonly #subs = new Map<string, Subscription>();

  readonly #ctx: SessionContext;
  readonly #push: PushLoop;

  constructor(ctx: SessionContext, push: PushLoop) {
    this.#ctx = ctx;
    this.#push = push;
  }

  /** The subscriptions `hello` asked for. */
  begin(subscriptions: readonly { readonly collection: string; readonly cursor: Cursor | null }[]): void {
    for (const { collection, cursor } of subscriptions) this.#subs.set(collection, { collection, cursor, caughtUp: false, resync: false });
  }

  /** Another lineage, or a head below a cursor (a relay wiped or restored): catch up from 0, then re-push. */
  afterWelcome(frame: WelcomeFrame): void {
    for (const sub of this.#subs.values()) {
      const head = frame.collections[sub.collection]?.head ?? 0;
      if (sub.cursor !== null && (sub.cursor.lineage !== frame.lineage || sub.cursor.seq > head)) sub.resync = true;
    }
  }

  /** Last synced positions: collection → seq. */
  positions(): Map<string, number> {
    return new Map([...this.#subs.values()].map((s) => [s.collection, s.cursor?.seq ?? 0]));
  }

  get caughtUp(): boolean {
    return [...this.#subs.values()].every((s) => s.caughtUp);
  }

  has(collection: string): boolean {
    return this.#subs.has(collection);
  }

  /** A `changes` frame: applied with its cursor in one transaction, credit granted back for catch-up. */
  async changes(frame: ChangesFrame, bytes: number): Promise<void> {
    const ctx = this.#ctx;
    const sub = this.#subs.get(frame.collection);
    if (!ctx.open || sub === undefined) return;
    if (frame.resync === true) sub.resync = true;
    // A live frame during catch-up is applied, but its watermark may lie beyond seqs not received yet.
    const inOrder = frame.phase === 'catchup' || sub.caughtUp;
    const stored = sub.cursor;
    const backwards = stored !== null && stored.lineage === frame.cursor.lineage && frame.cursor.seq < stored.seq && !sub.resync;
    const advance = inOrder && !backwards;
    const applied = await ctx.host.replica.applyRemote(frame.collection, frame.docs, advance ? frame.cursor : undefined);
    if (!ctx.open) return;
    if (advance) sub.cursor = frame.cursor;
    if (applied.changes.length > 0) ctx.host.committed(applied.changes);
    if (applied.reused.length > 0) {
      ctx.host.error(new ConvergeError('replica_reset', `the relay holds this replica's dot ${applied.reused[0]!.join(':')} with other content`));
      await ctx.replaceIdentity();
      return;
    }
    if (frame.phase === 'catchup') ctx.send({ type: 'credit', collection: frame.collection, bytes: Math.max(1, bytes) });
    if (frame.done === true) {
      sub.caughtUp = true;
      if (sub.resync) {
        sub.resync = false;
        await this.#push.queueResync(sub.collection);
      }
    }
    ctx.host.positions(this.positions());
  }

  /** The relay refused one subscription (`forbidden`, `rate_limited`): the others go on, and it counts as caught up. */
  refused(collection: string): boolean {
    const sub = this.#subs.get(collection);
    if (sub === undefined) return false;
    sub.caughtUp = true;
    return true;
  }

  /** Follows one more collection (one the app started using after `hello`): its cursor, then `subscribe`. */
  async add(collection: string): Promise<void> {
    if (this.#subs.has(collection)) return;
    const [cursor] = await this.#ctx.host.replica.cursors([collection]);
    if (this.#ctx.closed || this.#subs.has(collection)) return;
    this.#subs.set(collection, { collection, cursor: cursor ?? null, caughtUp: false, resync: false });
    this.#ctx.send({ type: 'subscribe', subscriptions: [{ collection, cursor: cursor ?? null }] });
  }
}
