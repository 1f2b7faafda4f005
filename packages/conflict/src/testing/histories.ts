import { canonical } from '../canonical.js';
import { applyCrdtOp, crdtStateToJson, readCrdt } from '../crdt/crdt-doc.js';
import type { ClearOp, CrdtState } from '../crdt/crdt-type.js';
import type { OrMapOp } from '../crdt/or-map.js';
import type { IncrementOp } from '../crdt/counter.js';
import type { DotFun } from '../crdt/dot-fun.js';
import { cart } from '../crdt/types.js';
import { dotKey } from '../dot.js';
import { mergeDocStates, writeDoc, type DocState } from '../doc-state.js';
import { encodeDocState } from '../encoding.js';
import { contextDotKeys, OracleReplica } from './oracle.js';
import { SimNetwork, type SimReplica } from './sim-network.js';

export interface HistoryOptions<V = unknown> {
  readonly seed: number;
  /** 2–5 replicas. */
  readonly replicas: number;
  readonly steps: number;
  readonly keys?: number;
  /** Compare with the oracle after every step (slower), not only at the end. */
  readonly checkEveryStep?: boolean;
  /** Stop before the final heal and full exchange. */
  readonly unsettled?: boolean;
  /** What states go through between replicas, e.g. a wire encoding and back (see `SimNetworkOptions`). */
  readonly transport?: (state: DocState<V>) => DocState<V>;
}

type RegisterPayload = { readonly value: number } | { readonly deleted: true };

function fail(seed: number, message: string): never {
  throw new Error(`seed ${seed}: ${message}`);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** One random network action: deliver, duplicate, drop, partition, heal, full merge or evict. */
function networkStep<V>(net: SimNetwork<V>, roll: number): void {
  const { rng } = net;
  if (roll < 0.3) net.deliverRandom();
  else if (roll < 0.35) net.deliverRandom(true);
  else if (roll < 0.4) net.dropRandom();
  else if (roll < 0.43) net.partition();
  else if (roll < 0.47) net.heal();
  else if (roll < 0.52) net.fullMerge(rng.pick(net.replicas), rng.pick(net.replicas));
  else if (roll < 0.53) {
    const replica = rng.pick(net.replicas);
    const keys = [...replica.docs.keys()];
    if (keys.length > 0) net.evict(replica, rng.pick(keys));
  }
}

function assertConverged<V>(net: SimNetwork<V>, encode: (state: DocState<V>) => string): void {
  for (const key of net.keys()) {
    const [first, ...rest] = net.replicas.map((r) => encode(net.state(r, key)));
    for (const other of rest) if (other !== first) fail(net.rng.seed, `replicas disagree on ${key}:\n${first}\n${other}`);
  }
}

/**
 * A random history of register writes and deletes (current, stale and blind read contexts),
 * deltas delivered late, twice, out of order or never, partitions, full-state merges and
 * evictions, checked against the exact causal-history oracle; then heal and full exchange,
 * and every replica must hold identical states. Throws with the seed on any disagreement.
 */
export function runRegisterHistory(options: HistoryOptions<number>): SimNetwork<number> {
  const net = new SimNetwork<number>({ seed: options.seed, replicas: options.replicas, ...(options.transport ? { transport: options.transport } : {}) });
  const keys = Array.from({ length: options.keys ?? 2 }, (_, i) => `k${i}`);
  const writes = new Map<string, { dot: readonly [string, number]; seen: Set<string>; payload: RegisterPayload }>();
  const oracles = new Map<string, OracleReplica<RegisterPayload>>();
  const oracle = (r: SimReplica<number>, key: string): OracleReplica<RegisterPayload> => {
    const id = `${r.id}/${key}`;
    let o = oracles.get(id);
    if (o === undefined) oracles.set(id, (o = new OracleReplica()));
    return o;
  };
  net.hooks = {
    onDelta: (to, key, delta) => oracle(to, key).receive(writes.get(`${key}/${dotKey(delta.siblings[0]!.dot)}`)!),
    onFullMerge: (from, to, key) => oracle(to, key).receiveAll(oracle(from, key)),
    onEvict: (replica, key) => oracle(replica, key).clear(),
  };
  const check = (r: SimReplica<number>, key: string): void => {
    const state = net.state(r, key);
    const o = oracle(r, key);
    if (!sameSet(contextDotKeys(state.context), o.context())) {
      fail(options.seed, `${r.id}/${key}: context differs from the oracle's`);
    }
    const live = new Map(o.live().map((w) => [dotKey(w.dot), w.payload]));
    const actual = new Map(state.siblings.map((s) => [dotKey(s.dot), s.deleted === true ? { deleted: true } : { value: s.value }]));
    if (canonical(live) !== canonical(actual)) {
      fail(options.seed, `${r.id}/${key}: siblings ${canonical(actual)} but the oracle has ${canonical(live)}`);
    }
  };
  let nextValue = 1;
  for (let step = 0; step < options.steps; step++) {
    net.tick();
    const roll = net.rng.next();
    const replica = net.rng.pick(net.replicas);
    const key = net.rng.pick(keys);
    if (roll >= 0.53) {
      const mode = net.rng.pick(['current', 'current', 'stale', 'blind'] as const);
      const readContext = net.readContext(replica, key, mode);
      const payload: RegisterPayload = net.rng.chance(0.15) ? { deleted: true } : { value: nextValue++ };
      const result = net.write(replica, key, (state, dot, hlc) =>
        'deleted' in payload ? writeDoc(state, { dot, hlc, readContext, deleted: true }) : writeDoc(state, { dot, hlc, readContext, value: payload.value }),
      );
      const write = { dot: result.dot, seen: contextDotKeys(readContext), payload };
      writes.set(`${key}/${dotKey(result.dot)}`, write);
      oracle(replica, key).receive(write);
    } else {
      networkStep(net, roll);
    }
    if (options.checkEveryStep === true) for (const r of net.replicas) for (const k of keys) check(r, k);
  }
  if (options.unsettled !== true) {
    net.settle();
    for (const r of net.replicas) for (const k of keys) check(r, k);
    assertConverged(net, (s) => JSON.stringify(encodeDocState(s)));
  }
  return net;
}

type CartOp = OrMapOp<IncrementOp> | ClearOp;
/** A cart's value in a history: the `cart` CRDT's state (item → dot → amount, and its seen-set). */
export type CartState = CrdtState<ReadonlyMap<string, DotFun<number>>>;

/**
 * A random history of shopping-cart operations (increments, decrements, removes, clears)
 * at replicas that each also have a second tab writing from a stale state, with random
 * delivery; after every step each replica's cart must equal the add-wins / observed-remove
 * specification over the operations it has seen: the quantity of an item is the sum of its
 * increments that no remove or clear of it had seen.
 */
export function runCartHistory(options: HistoryOptions<CartState>): SimNetwork<CartState> {
  const net = new SimNetwork<CartState>({ seed: options.seed, replicas: options.replicas, ...(options.transport ? { transport: options.transport } : {}) });
  const items = ['milk', 'eggs', 'bread'];
  const key = 'cart';
  const ops = new Map<string, { seen: Set<string>; op: CartOp }>();
  const expected = (r: SimReplica<CartState>): Map<string, number> => {
    const received = [...contextDotKeys(net.state(r, key).context)].flatMap((k) => {
      const op = ops.get(k);
      return op === undefined ? [] : [[k, op] as const];
    });
    const out = new Map<string, number>();
    for (const [dot, { op }] of received) {
      if (op.type !== 'update') continue;
      const removed = received.some(
        ([, other]) => (other.op.type === 'clear' || (other.op.type === 'remove' && other.op.key === op.key)) && other.seen.has(dot),
      );
      if (!removed) out.set(op.key, (out.get(op.key) ?? 0) + op.op.by);
    }
    return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  };
  const check = (r: SimReplica<CartState>): void => {
    const actual = readCrdt(cart, net.state(r, key));
    const want = expected(r);
    if (canonical(actual.value) !== canonical(want) || actual.exists !== want.size > 0) {
      fail(options.seed, `${r.id}: cart ${canonical(actual.value)} but the specification says ${canonical(want)}`);
    }
  };
  for (let step = 0; step < options.steps; step++) {
    net.tick();
    const roll = net.rng.next();
    const replica = net.rng.pick(net.replicas);
    if (roll >= 0.53) {
      const item = net.rng.pick(items);
      const pick = net.rng.next();
      const op: CartOp =
        pick < 0.65
          ? { type: 'update', key: item, op: { type: 'increment', by: net.rng.pick([1, 1, 2, 3, -1]) } }
          : pick < 0.92
            ? { type: 'remove', key: item }
            : { type: 'clear' };
      const staleTab = net.rng.chance(0.3);
      let seen = new Set<string>();
      const result = net.write(replica, key, (state, dot, hlc) => {
        const base = staleTab ? net.staleState(replica, key) : state;
        seen = contextDotKeys(base.context);
        const written = applyCrdtOp(cart, base, { dot, hlc, op });
        return { ...written, state: mergeDocStates(state, written.delta).state };
      });
      ops.set(dotKey(result.dot), { seen, op });
    } else {
      networkStep(net, roll);
    }
    if (options.checkEveryStep === true) for (const r of net.replicas) check(r);
  }
  if (options.unsettled !== true) {
    net.settle();
    for (const r of net.replicas) check(r);
    assertConverged(net, (s) => JSON.stringify(encodeDocState(s, (v) => crdtStateToJson(cart, v))));
  }
  return net;
}
