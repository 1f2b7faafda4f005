import type { AckLevel } from '@converge/protocol';
import type { PendingWrite, RejectedWrite, WriteReceipt } from './client-types.js';
import { callListener } from './listener-errors.js';
import type { WriteRequest } from './replica/apply-write.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { LiveStatus } from './live-status.js';
import type { WriteStatus } from './storage/storage-adapter.js';
import { pendingWriteOf, rejectedWriteOf } from './write-views.js';

/** A `watchOutbox` listener: the pending writes, and the writes that left the outbox since the previous call. */
export type OutboxListener = (writes: PendingWrite[], settled: WriteStatus[]) => void;

/** Writes a refused write again (a new write over the current value) and takes it off the rejected list. */
export type Retry = (request: WriteRequest, ack: AckLevel, replaces: string) => Promise<WriteReceipt>;

/**
 * How the app sees its writes: the outbox (`outbox`, `watchOutbox`), each write's status
 * (`writeStatus(es)`), the refused writes (`rejected`), and `status.pending`. Every view is read
 * from the replica; `refresh` re-reads after something changed the outbox (a write here or in
 * another tab, an ack, a refusal), one read at a time and at most one more queued.
 */
export class OutboxViews {
  readonly #listeners = new Set<OutboxListener>();
  /** Listeners not called yet, with the writes whose statuses their first call reports. */
  readonly #firstCalls = new Map<OutboxListener, readonly string[]>();
  /** Writes that left the outbox since the listeners were last called. */
  #left: string[] = [];
  #refreshing: Promise<void> | undefined;
  #again = false;

  readonly #replica: LocalReplica;
  readonly #status: LiveStatus;

  constructor(replica: LocalReplica, status: LiveStatus) {
    this.#replica = replica;
    this.#status = status;
  }

  /** Pending writes in outbox order, each with its status. */
  async outbox(): Promise<PendingWrite[]> {
    return (await this.#replica.pendingWrites()).map(pendingWriteOf);
  }

  /** See `Client.watchOutbox`. */
  watch(listener: OutboxListener, settled: readonly string[]): () => void {
    this.#listeners.add(listener);
    this.#firstCalls.set(listener, settled);
    void this.refresh();
    return () => {
      this.#listeners.delete(listener);
      this.#firstCalls.delete(listener);
    };
  }

  /** Whether anyone follows the outbox (otherwise a write needs no re-read of it). */
  get watched(): boolean {
    return this.#listeners.size > 0;
  }

  /** These writes left the outbox (acknowledged or refused): the next call of the listeners reports them. */
  left(writeIds: readonly string[]): void {
    if (this.#listeners.size > 0) this.#left.push(...writeIds);
    void this.refresh();
  }

  writeStatuses(writeIds: readonly string[]): Promise<(WriteStatus | undefined)[]> {
    return this.#replica.writeStatuses(writeIds);
  }

  /** Writes the relay refused for good, with `retry()` (through `retry`) and `discard()`. */
  async rejected(retry: Retry): Promise<RejectedWrite[]> {
    return (await this.#replica.rejectedWrites()).map((r) =>
      rejectedWriteOf(r, {
        retry: (request, ack) => retry(request, ack, r.writeId),
        discard: () => this.#replica.discardRejected(r.writeId),
      }),
    );
  }

  /** Re-reads the outbox for `status.pending` and the listeners. */
  refresh(): Promise<void> {
    if (this.#refreshing !== undefined) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#read();
        } while (this.#again);
      } catch {
        // storage closed or failed: reported elsewhere
      } finally {
        // Cleared as the loop ends, with no await in between: a refresh asked for after the last
        // check starts a new read (cleared one microtask later, by a `.finally`, it was lost).
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Waits for a refresh under way (the client is closing). */
  async settled(): Promise<void> {
    await this.#refreshing?.catch(() => undefined);
  }

  async #read(): Promise<void> {
    if (this.#listeners.size === 0) {
      this.#status.update({ pending: await this.#replica.pendingCount() });
      return;
    }
    const left = this.#left.splice(0);
    const first = new Map(this.#firstCalls);
    this.#firstCalls.clear();
    const asked = [...new Set([...left, ...[...first.values()].flat()])];
    const { pending, statuses } = await this.#replica.pendingWithStatuses(asked);
    this.#status.update({ pending: pending.length });
    const byId = new Map(asked.map((id, i) => [id, statuses[i]]));
    const settled = (ids: readonly string[]) => ids.flatMap((id) => byId.get(id) ?? []).filter((s) => s.status !== 'local');
    const writes = pending.map(pendingWriteOf);
    const settledNow = settled(left);
    for (const listener of [...this.#listeners]) {
      const named = first.get(listener);
      // A listener added since this read was taken gets its first call from the next one.
      if (named === undefined && this.#firstCalls.has(listener)) continue;
      callListener(listener, writes, named === undefined ? settledNow : settled(named));
    }
  }
}
