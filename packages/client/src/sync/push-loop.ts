import { ConvergeError } from '@converge/conflict';
import { settledDot, type AckFrame, type AckLevel, type ConfirmFrame, type RelayAckLevel } from '@converge/protocol';
import { levelRank as rank } from '../ack-levels.js';
import type { PendingEntry } from '../replica/local-replica.js';
import type { SettledChange } from '../replica/settle.js';
import { AwaitedResults } from './ack-results.js';
import { planPush, squash, type PlannedChange } from './push-builder.js';
import type { SessionContext } from './session-context.js';
import { Unconfirmed, writesOf, type Confirming, type ConfirmingChange } from './unconfirmed.js';

interface InFlight {
  readonly id: string;
  /** The changes still waiting for their result (the answer may come in parts). */
  readonly awaited: AwaitedResults;
  /** A re-push of full states after the relay lost data (results are not outbox writes). */
  readonly resync: boolean;
  /** Some writes of an earlier part stay queued for a transient reason: retry once the answer is complete. */
  retry: boolean;
  /** The level the push asked for. */
  readonly wanted: AckLevel;
  /** Its encoded size per change: what keeping one of its changes to push again takes of `Unconfirmed`'s bound. */
  readonly perChange: number;
  /** A push asking again for the level of writes an earlier session left unconfirmed (results are not outbox writes). */
  readonly reask?: { readonly changes: ReadonlyMap<PlannedChange, ConfirmingChange>; readonly asked: number };
}

/**
 * The session's pushes, one in flight: resync states first, then the outbox in order, squashed
 * and split to the relay's limits (writes refused for their clock are written again first, once
 * a session, after `welcome` set the clock), then the writes whose `confirm` an earlier session
 * cut off (`Unconfirmed`: asked again). Each `ack` part settles the changes it names.
 */
export class PushLoop {
  #inFlight: InFlight | undefined;
  #resyncQueue: PlannedChange[] = [];
  #outboxEmpty = false;
  #skewRewritten = false;
  #pushes = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Pushes that asked for more than `relay`, by id, until `confirm` frames settle their level. */
  readonly #confirming = new Map<string, Confirming>();
  /** Cut-off pushes this session asks again for (taken at its first push, once the replica id is known). */
  #reasks: Confirming[] | undefined;

  readonly #ctx: SessionContext;
  readonly #unconfirmed: Unconfirmed;

  constructor(ctx: SessionContext, unconfirmed = new Unconfirmed()) {
    this.#ctx = ctx;
    this.#unconfirmed = unconfirmed;
  }

  /** Nothing left to push: the outbox read empty, no push in flight, no resync states or re-asks queued. */
  get idle(): boolean {
    return this.#outboxEmpty && this.#inFlight === undefined && this.#resyncQueue.length === 0 && this.#reasks?.length === 0;
  }

  /** The session ended: no retry after it; what still waits for a `confirm` is asked again by the next session. */
  stop(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    // Oldest first: the re-asks not sent yet, the one in flight, then this session's pushes.
    const cut = [...(this.#reasks ?? [])];
    const flight = this.#inFlight;
    if (flight?.reask !== undefined) {
      const unanswered = flight.awaited.unanswered().map((c) => flight.reask!.changes.get(c)!);
      if (unanswered.length > 0) cut.push({ wanted: flight.wanted, replica: this.#ctx.helloId, changes: unanswered, asked: flight.reask.asked });
    }
    cut.push(...this.#confirming.values());
    this.#confirming.clear();
    this.#reasks = [];
    this.#unconfirmed.cutOff(cut);
  }

  /** After the relay lost data: re-push this replica's states of the collection, marked `resync`. */
  async queueResync(collection: string): Promise<void> {
    const states = await this.#ctx.host.replica.resyncStates(collection);
    if (states === undefined) return;
    const { writeNumber, chain } = states.mark;
    for (const r of states.records) {
      this.#resyncQueue.push({ change: { collection: r.collection, key: r.key, delta: r.state, writeNumber, chain, resync: true }, entries: [] });
    }
  }

  /** The changes of the next push: resync states first, else the outbox (undefined: the session moved on). */
  async #nextChanges(perPush: number): Promise<{ changes: PlannedChange[]; resync: boolean } | undefined> {
    if (this.#resyncQueue.length > 0) return { changes: this.#resyncQueue, resync: true };
    const ctx = this.#ctx;
    const entries = await ctx.host.replica.pendingWrites(perPush);
    if (!ctx.open || this.#inFlight !== undefined) return undefined;
    if (entries.some((e) => e.replica !== ctx.helloId)) {
      ctx.close({ kind: 'now' }); // another tab gave the replica a new id: this connection speaks for the old one
      return undefined;
    }
    const firstSkewed = entries.findIndex((e) => e.skewed === true);
    if (firstSkewed >= 0 && !this.#skewRewritten) {
      // Refused for their clock (in an earlier session): written again with this session's corrected clock, then listed anew.
      this.#skewRewritten = true;
      const { changes, rewritten } = await ctx.host.replica.rewriteSkewed();
      if (changes.length > 0) ctx.host.committed(changes);
      ctx.host.rewritten(rewritten);
      return this.#nextChanges(perPush);
    }
    this.#outboxEmpty = entries.length === 0;
    return { changes: squash(firstSkewed < 0 ? entries : entries.slice(0, firstSkewed)), resync: false };
  }

  /** Sends the next push when none is in flight (and no retry is waiting). */
  async next(): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.open || this.#inFlight !== undefined || this.#retryTimer !== undefined) return;
    const perPush = Math.min(ctx.limits.maxChangesPerFrame, ctx.options.maxChangesPerPush);
    this.#reasks ??= this.#unconfirmed.take(ctx.helloId);
    const next = await this.#nextChanges(perPush);
    if (next === undefined) return;
    const { changes, resync } = next;
    if (changes.length === 0) {
      // After catch-up: a re-push of states the relay lost (queued at its end) goes first.
      if (this.#reasks.length > 0 && ctx.caughtUp) return this.#reask(perPush);
      ctx.updateSynced();
      return;
    }
    const id = `p${++this.#pushes}`;
    const planned = planPush(changes, { ...ctx.limits, maxChangesPerFrame: perPush }, id);
    if ('tooLarge' in planned) {
      if (resync) this.#resyncQueue = this.#resyncQueue.filter((c) => c !== planned.tooLarge);
      else await this.#settle([this.#refusedTooLarge(planned.tooLarge)]);
      return this.next();
    }
    if (resync) this.#resyncQueue = this.#resyncQueue.slice(planned.changes.length);
    this.#inFlight = {
      id,
      awaited: new AwaitedResults(planned.changes),
      resync,
      retry: false,
      wanted: planned.frame.ack,
      perChange: planned.text.length / planned.changes.length,
    };
    ctx.host.connection('syncing');
    ctx.sendText(planned.text);
  }

  /** Pushes the changes of the first cut-off push again, asking for the level it asked for (as many as fit one push). */
  #reask(perPush: number): Promise<void> {
    const ctx = this.#ctx;
    const first = this.#reasks![0]!;
    const changes = new Map<PlannedChange, ConfirmingChange>(first.changes.map((c) => [{ change: c.change!, entries: [] }, c]));
    const id = `p${++this.#pushes}`;
    const planned = planPush([...changes.keys()], { ...ctx.limits, maxChangesPerFrame: perPush }, id, first.wanted);
    if ('tooLarge' in planned) {
      // No frame carries it any more (the relay's limits changed): left at the level reached.
      const dropped = changes.get(planned.tooLarge)!;
      this.#unconfirmed.release([dropped]);
      this.#reasks![0] = { ...first, changes: first.changes.filter((c) => c !== dropped) };
      if (this.#reasks![0].changes.length === 0) this.#reasks!.shift();
      return this.next();
    }
    const sent = planned.changes.length;
    if (sent < first.changes.length) this.#reasks![0] = { ...first, changes: first.changes.slice(sent) };
    else this.#reasks!.shift();
    this.#inFlight = {
      id,
      awaited: new AwaitedResults(planned.changes),
      resync: false,
      retry: false,
      wanted: first.wanted,
      perChange: 0,
      reask: { changes: new Map(planned.changes.map((c) => [c, changes.get(c)!])), asked: first.asked + 1 },
    };
    ctx.host.connection('syncing');
    ctx.sendText(planned.text);
    return Promise.resolve();
  }

  /** A write no frame can carry: refused here as the relay would (`payload_too_large`), so the writes behind it go on. */
  #refusedTooLarge(tooLarge: PlannedChange): SettledChange {
    const { change, entries } = tooLarge;
    return {
      entries: entries as PendingEntry[],
      delta: change.delta,
      result: {
        collection: change.collection,
        key: change.key,
        dot: settledDot(change.delta),
        status: 'rejected',
        code: 'payload_too_large',
        message: `the write does not fit in a frame of ${this.#ctx.limits.maxFrameBytes} bytes`,
      },
    };
  }

  /**
   * One `ack` (or one part of the answer): each result settles the change it names. A result
   * that names no change still waiting, or an answer that leaves one without a result, is a bad
   * frame: the session reconnects and nothing of that frame leaves the outbox.
   */
  async ack(frame: AckFrame): Promise<void> {
    const ctx = this.#ctx;
    const flight = this.#inFlight;
    const matched = flight === undefined || flight.id !== frame.id ? `ack ${frame.id} answers no push in flight` : flight.awaited.match(frame);
    if (typeof matched === 'string' || flight === undefined) {
      ctx.close({ kind: 'retry', error: new ConvergeError('bad_message', `the relay sent a bad ack: ${matched as string}`) });
      return;
    }
    const complete = flight.awaited.done;
    if (complete) this.#inFlight = undefined;
    if (flight.reask !== undefined) {
      // Held already: a change refused now (the relay's state moved on) stays at the level reached.
      const accepted = matched.flatMap((m) => (m.result.status === 'accepted' ? [flight.reask!.changes.get(m.change)!] : []));
      this.#unconfirmed.release(matched.flatMap((m) => (m.result.status === 'accepted' ? [] : [flight.reask!.changes.get(m.change)!])));
      this.#awaitConfirm(frame.id, { wanted: flight.wanted, replica: ctx.helloId, changes: accepted, asked: flight.reask.asked });
      await this.confirm({ type: 'confirm', id: frame.id, level: frame.level }); // the ack may name the level asked for
      if (complete) await this.next();
      return;
    }
    if (flight.resync) {
      const refused = matched.find((m) => m.result.status === 'rejected')?.result;
      if (refused !== undefined && refused.status === 'rejected') {
        ctx.host.error(new ConvergeError(refused.code, `re-pushing ${refused.collection}/${refused.key} after the relay lost data: ${refused.message}`));
      }
      if (complete) await this.next();
      return;
    }
    const settled = matched.map(({ change, result }) => ({ entries: change.entries as PendingEntry[], delta: change.change.delta, result }));
    if (rank(flight.wanted) > rank(frame.level)) {
      const accepted = matched.flatMap(({ change, result }): ConfirmingChange[] => {
        if (result.status !== 'accepted') return [];
        const writes = change.entries.map(({ writeId, collection, key }) => ({ writeId, collection, key }));
        // Kept to ask again after a cut-off session: a multi-leader change (merged by dot), within the bound.
        const kept = change.entries.every((e) => e.mode !== 'leader-follower') && this.#unconfirmed.reserve(flight.perChange);
        return [kept ? { change: change.change, writes, bytes: flight.perChange } : { writes, bytes: 0 }];
      });
      this.#awaitConfirm(frame.id, { wanted: flight.wanted, replica: ctx.helloId, changes: accepted, asked: 1 });
    }
    const outcome = await this.#settle(settled, frame.level);
    if (outcome === 'identity') return ctx.replaceIdentity();
    if (outcome === 'clock') {
      ctx.close({ kind: 'now', error: new ConvergeError('clock_skew', 'the relay refused a write stamped too far ahead: reconnecting for its clock') });
      return;
    }
    if (outcome === 'retry') flight.retry = true;
    if (!complete) return;
    if (flight.retry) {
      const { minMs, jitterMs } = ctx.options.sync.transientRetry;
      this.#retryTimer = setTimeout(
        () => {
          this.#retryTimer = undefined;
          ctx.enqueue(() => this.next());
        },
        minMs + ctx.host.random() * jitterMs,
      );
      return;
    }
    await this.next();
  }

  /** The relay confirms levels beyond its ack later (`confirm`): what this part of the answer got accepted waits for them. */
  #awaitConfirm(id: string, accepted: Confirming): void {
    const known = this.#confirming.get(id);
    if (known !== undefined) known.changes.push(...accepted.changes);
    else if (accepted.changes.length > 0) this.#confirming.set(id, accepted);
  }

  /**
   * A later level for a push's accepted writes: their status climbs to it; `quorum_unavailable`
   * (the relay's store cannot confirm the level asked for) makes writes waiting for it fail,
   * held at the level reached. `ack_timeout` changes nothing: the relay keeps checking.
   */
  async confirm(frame: ConfirmFrame): Promise<void> {
    const { host } = this.#ctx;
    const waiting = this.#confirming.get(frame.id);
    if (waiting === undefined) return; // nothing of ours to raise
    const writes = writesOf(waiting);
    const ids = writes.map((w) => w.writeId);
    if (rank(frame.level) > rank('relay')) {
      await host.replica.raiseLevel(writes, frame.level);
      host.acked(ids, frame.level);
    }
    const done = frame.code === 'quorum_unavailable' || rank(frame.level) >= rank(waiting.wanted);
    if (frame.code === 'quorum_unavailable') host.acked(ids, frame.level, true);
    if (done) {
      this.#confirming.delete(frame.id);
      this.#unconfirmed.release(waiting.changes);
    }
  }

  async #settle(settled: SettledChange[], level: RelayAckLevel = 'relay'): Promise<'ok' | 'identity' | 'clock' | 'retry'> {
    const { host } = this.#ctx;
    const result = await host.replica.settle(settled, level);
    if (result.changes.length > 0) host.committed(result.changes);
    if (result.accepted.length > 0) host.acked(result.accepted, level);
    if (result.rejected.length > 0) host.rejected(result.rejected);
    if (result.identityLost) return 'identity';
    if (result.clockSkew) return 'clock';
    return result.retry ? 'retry' : 'ok';
  }
}
