import type { Logger } from 'pino';
import type { CommittedChange, LiveChange } from './push.js';
import { chainHash } from './store/chain-hash.js';
import { storedText } from './stored-state.js';
import type { LogPosition, RelayStore, RemoteCommit } from './store/relay-store.js';

/** What fan-out reads of the store: heads, hashes and scans, and other processes' commit notices. */
export type FanOutStore = Pick<RelayStore, 'closed' | 'head' | 'hashAt' | 'scan' | 'watchCommits'>;

/** One fan-out round: changes by collection, in seq order, each collection's continuing the last round's. */
export interface LiveRound {
  readonly changes: ReadonlyMap<string, readonly LiveChange[]>;
  /** The position through which the collection's changes have now been handed out: this round's last change. */
  head(collection: string): LogPosition;
  /** Encoded frames of this round with their UTF-8 sizes, shared by subscribers that get the same one. */
  readonly frames: Map<string, { readonly text: string; readonly bytes: number }>;
}

/** Anything that takes live rounds: the relay's sessions. */
export interface LiveReceiver {
  deliverLive(round: LiveRound): void;
}

export interface FanOutOptions {
  /** Keys read per store scan when changes are read back (another process's commits). */
  readonly batchSize: number;
  /** For stores shared with other relay processes: how often heads are checked for commits whose notice was lost, ms. */
  readonly headCheckMs: number;
  readonly log: Logger;
  /**
   * The log is not the one handed out: the head check found a collection's log shorter than
   * `through`, or another chain hash at `through`, or a change did not continue the chain
   * handed out (a failover lost commits and the new primary reuses their seqs). The fan-out has
   * forgotten its positions (`reset`); the relay restarts its sessions so every client checks
   * its cursor again. With it, and a store shared with other processes, every change is checked
   * to continue the chain handed out before it goes out (below).
   */
  readonly onFork?: (collection: string) => void;
  /**
   * Reads come from a standby, which may not show yet what this relay's own commits already
   * handed out: a head below `through`, or no hash at `through`, is lag, not a fork. Only a
   * different hash at `through` is one.
   */
  readonly readsLag?: boolean;
}

/**
 * Live fan-out in rounds. Per collection it keeps `through`: the seq through which every change
 * has been handed to live subscribers, and it hands out changes gap-free and in seq order.
 * This relay's own commits go out as committed (every change committed in one turn of the
 * event loop together, frames encoded once for every subscriber that gets the same one). When
 * a collection's changes do not continue from `through` — another relay process committed in
 * between — they are read back from the store by seq instead (`scan` from `through`), which
 * also serves the notices of other processes' commits (`RelayStore.watchCommits`) and, for a
 * shared store, a periodic head check that heals a lost notice. A subscription goes live only
 * once its catch-up reached `through` (`goLive`), so nothing falls between catch-up and live.
 *
 * On a store shared with other processes (with `onFork`), nothing goes out that does not
 * continue the chain hash at `through`: a failover that lost commits already handed out lets
 * the new primary reuse their seqs, and a change past them on the new log, handed out as if it
 * followed them, would move every subscriber's cursor onto the new log beyond changes it never
 * got. A local change is checked by its chain link (`chainHash` of the hash at `through` and the
 * change), a read-back by the store's hash at `through`; a mismatch is a fork (`onFork`).
 */
export class FanOut {
  /** Per collection, `through` and the chain hash there (what every check compares); a new object each time it moves. */
  private readonly through = new Map<string, LogPosition>();
  private pending: CommittedChange[] = [];
  /** Collections with commits beyond `through` to read from the store. */
  private readonly behind = new Set<string>();
  private running: Promise<void> | undefined;
  private readonly stopWatching: (() => void) | undefined;
  private readonly headCheck: ReturnType<typeof setInterval> | undefined;
  /** Whether the log can be replaced under this relay and a fork be told (`onFork`): changes are checked to continue the chain. */
  private readonly checksChain: boolean;

  constructor(
    private readonly store: FanOutStore,
    /** Who takes live rounds: the relay's sessions past `hello`, as they are at each round. */
    private readonly receivers: Iterable<LiveReceiver>,
    private readonly options: FanOutOptions,
  ) {
    this.checksChain = store.watchCommits !== undefined && options.onFork !== undefined;
    if (store.watchCommits !== undefined) {
      this.stopWatching = store.watchCommits((commit) => this.remote(commit));
      this.headCheck = setInterval(() => this.checkHeads(), options.headCheckMs).unref();
    }
  }

  /** Queues this relay's committed changes (in commit order) for the next round. */
  add(committed: readonly CommittedChange[]): void {
    if (committed.length === 0) return;
    this.pending.push(...committed);
    this.schedule();
  }

  /**
   * Whether a subscription whose catch-up sent everything through `seq` may go live now: when
   * no live round went past `seq` yet. Called at the moment it would switch, with nothing
   * awaited in between; `hash` is the chain hash at `seq`.
   */
  goLive(collection: string, seq: number, hash: string): boolean {
    const through = this.through.get(collection);
    if (through === undefined) this.through.set(collection, { seq, hash });
    return through === undefined || seq >= through.seq;
  }

  /**
   * Forgets every position: the log was replaced under the relay (a failover to a primary that
   * lacks commits already handed out, whose seqs it reuses). Whatever was queued is dropped; the
   * next subscription to go live sets each collection's position again.
   */
  reset(): void {
    this.through.clear();
    this.pending = [];
    this.behind.clear();
  }

  /** Stops listening for other processes' commits. */
  close(): void {
    clearInterval(this.headCheck);
    this.stopWatching?.();
  }

  private remote(commit: RemoteCommit | undefined): void {
    if (commit === undefined || commit.collection === undefined) {
      this.checkHeads();
      return;
    }
    const through = this.through.get(commit.collection);
    // A collection nobody here follows live yet: a subscription catching up reads it anyway.
    if (through === undefined || commit.seq <= through.seq) return;
    this.behind.add(commit.collection);
    this.schedule();
  }

  private checkHeads(): void {
    if (this.store.closed) return;
    const forks = this.options.onFork !== undefined;
    const lags = this.options.readsLag === true;
    void Promise.all(
      [...this.through].map(async ([collection, through]) => {
        const [head, stored] = await Promise.all([this.store.head(collection), forks ? this.store.hashAt(collection, through.seq) : through.hash]);
        if (this.through.get(collection) !== through) return; // moved on meanwhile
        // Reading from a standby, a head below `through` or no hash there is lag: only another hash is a fork.
        const shown = !lags || (head.seq >= through.seq && stored !== undefined);
        if (forks && shown && (head.seq < through.seq || stored !== through.hash)) {
          this.forked(collection, through.seq, head.seq);
          return;
        }
        if (head.seq > through.seq) this.behind.add(collection);
      }),
    ).then(
      () => this.schedule(),
      (error: unknown) => {
        if (!this.store.closed) this.options.log.warn({ err: error }, 'fan-out: checking heads failed; retrying at the next check');
      },
    );
  }

  /** The log under the relay is not the one handed out (a failover lost commits): start over. */
  private forked(collection: string, through: number, seq: number): void {
    this.options.log.warn({ collection, through, seq }, 'fan-out: the log is not the one handed out (a failover lost commits): starting over');
    this.reset();
    this.options.onFork?.(collection);
  }

  private schedule(): void {
    if (this.running !== undefined) return;
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.rounds());
  }

  /** Runs rounds until nothing is pending: this relay's commits first, then reads for collections behind. */
  private async rounds(): Promise<void> {
    try {
      while ((this.pending.length > 0 || this.behind.size > 0) && !this.store.closed) {
        this.localRound();
        for (const collection of [...this.behind]) {
          this.behind.delete(collection);
          await this.readBack(collection);
        }
      }
    } catch (error) {
      if (!this.store.closed) this.options.log.warn({ err: error }, 'fan-out: reading changes back failed; retrying at the next notice or head check');
    } finally {
      this.running = undefined;
      if (this.pending.length > 0) this.schedule();
    }
  }

  /** Hands out this relay's own commits that continue `through`; a collection whose commits do not is read back. */
  private localRound(): void {
    const round = this.pending;
    this.pending = [];
    const changes = new Map<string, LiveChange[]>();
    for (const change of round) {
      const { collection, seq } = change;
      const list = changes.get(collection);
      const previous = list?.at(-1) ?? this.through.get(collection);
      const last = previous?.seq ?? seq - 1;
      if (seq <= last) continue;
      if (seq !== last + 1 || this.behind.has(collection)) {
        this.behind.add(collection);
        continue;
      }
      if (this.checksChain && previous !== undefined && chainHash(previous.hash, collection, change.key, change.dot) !== change.hash) {
        this.forked(collection, last, seq);
        return;
      }
      if (list === undefined) changes.set(collection, [change]);
      else list.push(change);
    }
    for (const collection of this.behind) changes.delete(collection);
    this.deliver(changes);
  }

  /**
   * Reads a collection's changes after `through` from the store, one scan at a time, and hands
   * each batch out; on a shared store, only once the store's hash at `through` is the one handed out.
   */
  private async readBack(collection: string): Promise<void> {
    for (;;) {
      const after = this.through.get(collection);
      // A reset forgot the position: the next subscription to go live sets it again.
      if (after === undefined) return;
      const [docs, stored] = await Promise.all([
        this.store.scan(collection, after.seq, this.options.batchSize),
        this.checksChain ? this.store.hashAt(collection, after.seq) : after.hash,
      ]);
      if (this.store.closed) return;
      // A local round moved on meanwhile: read from there.
      if (this.through.get(collection) !== after) continue;
      if (stored !== after.hash) {
        // A standby that does not show `through` yet is behind, not forked: read again at the next notice or head check.
        if (stored === undefined && this.options.readsLag === true) return;
        this.forked(collection, after.seq, docs.at(-1)?.seq ?? after.seq);
        return;
      }
      const fresh: LiveChange[] = docs.map((doc) => {
        const text = storedText(doc);
        return { collection, key: doc.key, seq: doc.seq, hash: doc.hash, text, bytes: Buffer.byteLength(text) };
      });
      if (fresh.length > 0) this.deliver(new Map([[collection, fresh]]));
      if (docs.length < this.options.batchSize) return;
    }
  }

  private deliver(changes: Map<string, LiveChange[]>): void {
    if (changes.size === 0 || this.store.closed) return;
    for (const [collection, list] of changes) {
      const { seq, hash } = list.at(-1)!;
      this.through.set(collection, { seq, hash });
    }
    const live: LiveRound = { changes, head: (collection) => changes.get(collection)!.at(-1)!, frames: new Map() };
    for (const receiver of this.receivers) receiver.deliverLive(live);
  }
}
