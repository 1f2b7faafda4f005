import { ConvergeError } from '@converge/conflict';
import type { ReadResultFrame } from '@converge/protocol';
import { PendingReplies } from '../pending-replies.js';
import type { SessionContext } from './session-context.js';

/**
 * The session's leader reads (`get(key, { consistency: 'leader' })`): a `read` frame each,
 * waiting for its `read-result` (merged into the replica before the read resolves) or an
 * `error` naming it, within `readTimeoutMs`; all rejected with `offline` when the session ends.
 */
export class RelayReads {
  readonly #waiting = new PendingReplies();
  #count = 0;

  readonly #ctx: Pick<SessionContext, 'host' | 'options' | 'open' | 'send'>;

  constructor(ctx: Pick<SessionContext, 'host' | 'options' | 'open' | 'send'>) {
    this.#ctx = ctx;
  }

  /** Resolves once the relay's state of `keys` is merged into the replica. */
  read(collection: string, keys: readonly string[]): Promise<void> {
    if (!this.#ctx.open) return Promise.reject(new ConvergeError('offline', 'no connection to the relay: a leader read needs one'));
    const id = `r${++this.#count}`;
    const timeoutMs = this.#ctx.options.readTimeoutMs;
    const answered = this.#waiting.wait(id, timeoutMs, `the relay did not answer read ${id} within ${timeoutMs} ms`);
    this.#ctx.send({ type: 'read', id, collection, keys, consistency: 'leader' });
    return answered;
  }

  /** The relay's answer: merged into the replica (watchers hear of what changed), then the read resolves. */
  async answer(frame: ReadResultFrame): Promise<void> {
    if (!this.#waiting.has(frame.id)) return;
    const docs = frame.docs.flatMap((d) => (d.state === null ? [] : [{ key: d.key, seq: d.seq, state: d.state }]));
    const applied = await this.#ctx.host.replica.applyRemote(frame.collection, docs);
    if (applied.changes.length > 0) this.#ctx.host.committed(applied.changes);
    this.#waiting.settle(frame.id);
  }

  /** An `error` frame naming a read: that read rejects. False when it names none. */
  refused(id: string | undefined, error: Error): boolean {
    return id !== undefined && this.#waiting.settle(id, error);
  }

  rejectAll(error: Error): void {
    this.#waiting.settleAll(error);
  }
}
