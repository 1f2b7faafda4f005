import { ConvergeError } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import type { AckWaiters } from './ack-waiters.js';
import type { ChangeFeed } from './change-feed.js';
import type { ClientEvents, RejectedEvent } from './client-events.js';
import type { BatchWriter, WriteReceipt } from './client-types.js';
import { addOp, clearOp, incrementOp, removeOp, setOp } from './crdt-ops.js';
import type { Emitter } from './emitter.js';
import type { OutboxViews } from './outbox-views.js';
import type { ReadMemories } from './read-memory.js';
import { rebaseRequest } from './rebase.js';
import type { WriteRequest } from './replica/apply-write.js';
import type { LocalReplica } from './replica/local-replica.js';
import { RequestBuilder } from './request-builder.js';
import type { LiveStatus } from './live-status.js';
import type { RejectedRecord } from './storage/storage-adapter.js';
import { decodeAppValue } from './values.js';

export interface LocalWritesParts {
  readonly replica: LocalReplica;
  readonly memories: ReadMemories;
  readonly feed: ChangeFeed;
  readonly views: OutboxViews;
  readonly status: LiveStatus;
  readonly events: Emitter<ClientEvents>;
  readonly waiters: AckWaiters;
  readonly ackTimeoutMs: number;
}

/**
 * This tab's writes and what becomes of them: a commit (one transaction), what it tells the
 * app (`written`, `conflict`), the wait for the level asked for; then the relay's answer —
 * acknowledged at a level, or refused (the promise rejects, `rejected` is emitted, and a
 * leader-follower refusal may be rebased by the collection's `onReject`).
 */
export class LocalWrites {
  #closed = false;

  readonly #parts: LocalWritesParts;

  constructor(parts: LocalWritesParts) {
    this.#parts = parts;
  }

  /** Commits `requests` in one transaction and waits until each reached `ack`. `replaces`: rejected writes they take the place of. */
  async commit(requests: readonly WriteRequest[], ack: AckLevel, replaces: readonly string[] = []): Promise<WriteReceipt[]> {
    if (this.#closed) throw new ConvergeError('closed', 'the client is closed');
    const { replica, memories, feed, views, status, events, waiters } = this.#parts;
    const written = await replica.write(requests, 'strict', replaces);
    for (const w of written) memories.remember(w.collection, w.key, w.memory);
    status.update({ pending: status.get().pending + written.length });
    if (views.watched) void views.refresh();
    feed.committed(
      written.map((w) => ({ collection: w.collection, key: w.key, record: w.record })),
      true,
    );
    for (const w of written) {
      events.emit('written', { writeId: w.writeId, collection: w.collection, key: w.key, dot: w.dot, version: w.memory.context });
      if (w.discarded.length === 0) continue;
      const discarded = w.discarded.map((s) => ({
        value: s.deleted === true ? undefined : decodeAppValue(s.value),
        deleted: s.deleted === true,
        dot: s.dot,
        hlc: s.hlc,
      }));
      events.emit('conflict', { collection: w.collection, key: w.key, writeId: w.writeId, discarded });
    }
    const levels = await Promise.all(written.map((w) => waiters.wait(w.writeId, ack, this.#parts.ackTimeoutMs)));
    return written.map((w, i) => ({ writeId: w.writeId, collection: w.collection, key: w.key, level: levels[i]! }));
  }

  /** See `Client.batch`: `fn` records the writes synchronously; they commit in one transaction. */
  batch(fn: (writer: BatchWriter) => void, ack: AckLevel): Promise<WriteReceipt[]> {
    const requests: WriteRequest[] = [];
    const record = (request: WriteRequest) => void requests.push(request);
    fn({
      collection: (name) => {
        const build = new RequestBuilder(name, () => this.#parts.replica.spec(name), this.#parts.memories);
        const spec = () => build.spec;
        return {
          put: (key, value, o) => record(build.put(key, value, { ack, ...(o?.version === undefined ? {} : { version: o.version }) })),
          delete: (key) => record(build.delete(key, { ack })),
          update: (key, f) => record(build.update(key, f, { ack })),
          increment: (key, itemOrBy, by) => record(build.op(key, incrementOp(spec(), itemOrBy, by), { ack })),
          add: (key, element) => record(build.op(key, addOp(spec(), element), { ack })),
          remove: (key, elementOrItem) => record(build.op(key, removeOp(spec(), elementOrItem), { ack })),
          set: (key, field, value) => record(build.op(key, setOp(spec(), field, value), { ack })),
          clear: (key) => record(build.op(key, clearOp(spec()), { ack })),
          apply: (key, op) => record(build.op(key, op, { ack })),
        };
      },
    });
    return this.commit(requests, ack);
  }

  /**
   * The relay holds these writes at `level` (heard on this tab's connection or from the leader
   * tab); `unavailable`: its store cannot confirm a higher level, so writes waiting for one fail.
   */
  acked(writeIds: readonly string[], level: AckLevel, unavailable = false): void {
    this.#parts.waiters.acked(writeIds, level);
    if (unavailable) this.#parts.waiters.unavailable(writeIds, level);
    this.#parts.events.emit('acked', { writeIds, level });
    this.#parts.views.left(writeIds);
  }

  /** Writes the relay refused on this tab's connection; returns what the other tabs are told. */
  rejected(records: readonly RejectedRecord[]): RejectedEvent[] {
    const events = records.map((record) => {
      this.#parts.waiters.rejected(record.writeId, record.code, record.message);
      const request = rebaseRequest(this.#parts.replica.spec(record.collection), record);
      const event: RejectedEvent = {
        writeId: record.writeId,
        collection: record.collection,
        key: record.key,
        code: record.code,
        message: record.message,
        rebased: request !== undefined,
      };
      this.#parts.events.emit('rejected', event);
      if (request !== undefined) void this.commit([request], 'local', [record.writeId]).catch((error: ConvergeError) => this.#parts.status.update({ error }));
      return event;
    });
    this.#parts.views.left(records.map((r) => r.writeId));
    return events;
  }

  /** Refusals the leader tab heard (and rebased where the collection asked for it). */
  rejectedElsewhere(events: readonly RejectedEvent[]): void {
    for (const event of events) {
      this.#parts.waiters.rejected(event.writeId, event.code, event.message);
      this.#parts.events.emit('rejected', event);
    }
    this.#parts.views.left(events.map((e) => e.writeId));
  }

  /** No more writes; those still waiting for a level reject with the level they reached (cause `closed`). */
  close(): void {
    this.#closed = true;
    this.#parts.waiters.close();
  }
}
