import { EMPTY_CONTEXT, maxCounter, type CausalContext } from '../causal-context.js';
import type { Dot } from '../dot.js';
import { emptyDocState, mergeDocStates, nextDot, type DocState, type WriteResult } from '../doc-state.js';
import { createHlcClock, type Hlc, type HlcClock } from '../hlc.js';
import { createPrng, type Prng } from './prng.js';

export interface SimReplica<V> {
  readonly id: string;
  readonly index: number;
  readonly docs: Map<string, DocState<V>>;
  /** Per-key counter floors: survive eviction, so a counter is never reused. */
  readonly floors: Map<string, number>;
  /** States this replica held per key, oldest first: a stale second tab reads from here. */
  readonly pastStates: Map<string, DocState<V>[]>;
  readonly clock: HlcClock;
}

export interface InFlight<V> {
  readonly from: number;
  readonly to: number;
  readonly key: string;
  readonly delta: DocState<V>;
}

export interface SimNetworkOptions<V = unknown> {
  readonly seed: number;
  readonly replicas: number;
  /** Replica ids; default 'r0', 'r1', … */
  readonly ids?: readonly string[];
  /**
   * What a state goes through between replicas (every delivered delta, every full-state
   * merge), e.g. a wire encoding and back. Default: nothing.
   */
  readonly transport?: (state: DocState<V>) => DocState<V>;
}

export interface SimHooks<V> {
  /** A delta reached a replica (after it was merged). */
  onDelta?(to: SimReplica<V>, key: string, delta: DocState<V>): void;
  /** A replica merged another's whole state for a key. */
  onFullMerge?(from: SimReplica<V>, to: SimReplica<V>, key: string): void;
  /** A replica dropped its copy of a key (the counter floor stays). */
  onEvict?(replica: SimReplica<V>, key: string): void;
}

/**
 * A seeded simulated network of replicas exchanging DVV deltas with random delivery order,
 * duplication, loss and partitions, and full-state exchange to heal. Deterministic for a
 * seed: a failing run prints its seed and replays exactly.
 */
export class SimNetwork<V> {
  readonly rng: Prng;
  readonly replicas: SimReplica<V>[];
  readonly inFlight: InFlight<V>[] = [];
  /** Partition group per replica; messages cross groups only after `heal()`. */
  private groups: number[];
  private time = 1_700_000_000_000;
  private readonly transport: (state: DocState<V>) => DocState<V>;
  hooks: SimHooks<V> = {};

  constructor(options: SimNetworkOptions<V>) {
    this.rng = createPrng(options.seed);
    this.transport = options.transport ?? ((state) => state);
    this.groups = Array.from({ length: options.replicas }, () => 0);
    this.replicas = Array.from({ length: options.replicas }, (_, index) => {
      const id = options.ids?.[index] ?? `r${index}`;
      const skew = this.rng.int(50) - 25;
      return {
        id,
        index,
        docs: new Map(),
        floors: new Map(),
        pastStates: new Map(),
        clock: createHlcClock({ replica: id, now: () => this.time + skew }),
      };
    });
  }

  state(replica: SimReplica<V>, key: string): DocState<V> {
    return replica.docs.get(key) ?? emptyDocState<V>();
  }

  /** Advances simulated time by a random amount (sometimes zero, to exercise same-ms stamps). */
  tick(): void {
    this.time += this.rng.int(3);
  }

  /**
   * A local write: allocates the dot (floor and state together, as one transaction would),
   * lets `make` build the write, stores it and sends its delta to every other replica.
   */
  write(replica: SimReplica<V>, key: string, make: (state: DocState<V>, dot: Dot, hlc: Hlc) => WriteResult<V>): WriteResult<V> {
    const state = this.state(replica, key);
    const dot = nextDot(state, replica.id, replica.floors.get(key) ?? 0);
    const result = make(state, dot, replica.clock.tick());
    this.store(replica, key, result.state);
    replica.floors.set(key, Math.max(replica.floors.get(key) ?? 0, dot[1]));
    for (const other of this.replicas) {
      if (other !== replica) this.inFlight.push({ from: replica.index, to: other.index, key, delta: result.delta });
    }
    return result;
  }

  /** A context this replica held for the key: current, stale (an older one) or blind. */
  readContext(replica: SimReplica<V>, key: string, mode: 'current' | 'stale' | 'blind'): CausalContext {
    if (mode === 'blind') return EMPTY_CONTEXT;
    if (mode === 'current') return this.state(replica, key).context;
    return this.staleState(replica, key).context;
  }

  /** An older state of the key at this replica (a second tab that missed recent changes). */
  staleState(replica: SimReplica<V>, key: string): DocState<V> {
    const past = replica.pastStates.get(key) ?? [];
    return past.length === 0 ? emptyDocState<V>() : this.rng.pick(past);
  }

  private store(replica: SimReplica<V>, key: string, state: DocState<V>): void {
    replica.docs.set(key, state);
    const past = replica.pastStates.get(key) ?? [];
    past.push(state);
    if (past.length > 8) past.shift();
    replica.pastStates.set(key, past);
    replica.floors.set(key, Math.max(replica.floors.get(key) ?? 0, maxCounter(state.context, replica.id)));
  }

  private merge(replica: SimReplica<V>, key: string, incoming: DocState<V>): void {
    const { state, anomalies } = mergeDocStates(this.state(replica, key), incoming);
    if (anomalies.length > 0) {
      throw new Error(`seed ${this.rng.seed}: replica ${replica.id} saw a reused dot ${anomalies[0]!.dot.join(':')} on ${key}`);
    }
    this.store(replica, key, state);
  }

  private connected(a: number, b: number): boolean {
    return this.groups[a] === this.groups[b];
  }

  /** Delivers one random deliverable message; with `duplicate` it stays queued to arrive again. */
  deliverRandom(duplicate = false): boolean {
    const ready = this.inFlight.map((m, i) => [m, i] as const).filter(([m]) => this.connected(m.from, m.to));
    if (ready.length === 0) return false;
    const [message, index] = this.rng.pick(ready);
    if (!duplicate) this.inFlight.splice(index, 1);
    const to = this.replicas[message.to]!;
    const delta = this.transport(message.delta);
    for (const sibling of delta.siblings) to.clock.receive(sibling.hlc);
    this.merge(to, message.key, delta);
    this.hooks.onDelta?.(to, message.key, message.delta);
    return true;
  }

  dropRandom(): void {
    if (this.inFlight.length > 0) this.inFlight.splice(this.rng.int(this.inFlight.length), 1);
  }

  /** Splits replicas into two random groups. */
  partition(): void {
    this.groups = this.replicas.map(() => this.rng.int(2));
  }

  heal(): void {
    this.groups = this.replicas.map(() => 0);
  }

  /** `to` merges `from`'s whole state for every key `from` holds (anti-entropy). */
  fullMerge(from: SimReplica<V>, to: SimReplica<V>): void {
    for (const [key, state] of from.docs) {
      this.merge(to, key, this.transport(state));
      this.hooks.onFullMerge?.(from, to, key);
    }
  }

  /** Drops a replica's copy of a key; its counter floor stays. */
  evict(replica: SimReplica<V>, key: string): void {
    replica.docs.delete(key);
    replica.pastStates.delete(key);
    this.hooks.onEvict?.(replica, key);
  }

  /** Heals, delivers everything in flight, then a full exchange between every pair. */
  settle(): void {
    this.heal();
    while (this.deliverRandom()) {
      /* drain */
    }
    for (const a of this.replicas) for (const b of this.replicas) if (a !== b) this.fullMerge(a, b);
  }

  keys(): string[] {
    const keys = new Set<string>();
    for (const r of this.replicas) for (const key of r.docs.keys()) keys.add(key);
    return [...keys].sort();
  }
}
