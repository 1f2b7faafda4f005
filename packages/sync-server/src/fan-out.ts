import type { CommittedChange } from './judge-push.js';
import type { RelayStore } from './store/relay-store.js';

/** One fan-out round: the changes committed since the last round, by collection, in commit order. */
export interface LiveRound {
  readonly changes: ReadonlyMap<string, readonly CommittedChange[]>;
  /** The collection's head seq now (read once per round). */
  head(collection: string): number;
  /** Encoded frames of this round with their UTF-8 sizes, shared by subscribers that get the same one. */
  readonly frames: Map<string, { readonly text: string; readonly bytes: number }>;
}

/** Anything that takes live rounds: the relay's sessions. */
export interface LiveReceiver {
  deliverLive(round: LiveRound): void;
}

/**
 * Live fan-out in rounds: every change committed in one turn of the event loop goes out
 * together, one round to every session, with each collection's head read once per round and
 * frames encoded once for every subscriber that gets the same one.
 */
export class FanOut {
  private pending: CommittedChange[] = [];

  constructor(
    private readonly store: RelayStore,
    private readonly receivers: () => Iterable<LiveReceiver>,
  ) {}

  /** Queues committed changes (in commit order) for the next round. */
  add(committed: readonly CommittedChange[]): void {
    if (committed.length === 0) return;
    if (this.pending.length === 0) setImmediate(() => this.deliver());
    this.pending.push(...committed);
  }

  private deliver(): void {
    const round = this.pending;
    this.pending = [];
    if (round.length === 0 || this.store.closed) return;
    const changes = new Map<string, CommittedChange[]>();
    for (const change of round) {
      const list = changes.get(change.collection);
      if (list === undefined) changes.set(change.collection, [change]);
      else list.push(change);
    }
    const heads = new Map<string, number>();
    const head = (collection: string) => {
      let seq = heads.get(collection);
      if (seq === undefined) heads.set(collection, (seq = this.store.head(collection).seq));
      return seq;
    };
    const live: LiveRound = { changes, head, frames: new Map() };
    for (const receiver of this.receivers()) receiver.deliverLive(live);
  }
}
