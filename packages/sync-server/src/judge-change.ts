import {
  adoptOrMerge,
  checkCrdtWrite,
  ConvergeError,
  contextHas,
  isTooFarAhead,
  type CausalContext,
  type Dot,
  type ErrorCode,
  type ReplicaId,
} from '@converge/conflict';
import { isEncodedValue, type PushedChange, type RelayLimits, type WireState } from '@converge/protocol';
import { crdtTypeOf } from './collections.js';
import { crdtDocFromWire } from './crdt-wire.js';
import type { JudgeCounts, Push, PushRules } from './push.js';
import { parseStored, serializeState } from './stored-state.js';
import type { StoredDoc, WriteHead } from './store/relay-store.js';

/** Siblings per key at which the relay counts a warning; refusal is at `limits.maxSiblingsPerKey`. */
const SIBLING_WARNING = 25;

/** A change refused: its code, its message, and the stored state to send back (to a principal that may read it). */
export class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly current?: WireState,
  ) {}
}

/** A change judged fit to store: the state to put. */
export class Put {
  constructor(
    readonly text: string,
    readonly bytes: number,
    readonly dot: Dot,
  ) {}
}

/** A leader-follower write that passed every check but the leader's compare-and-set. */
export class LeaderWrite {
  constructor(readonly current: WireState) {}
}

const NONE_UNSEEN: ReadonlyMap<ReplicaId, number> = new Map();

/** Other replicas' dots the context claims that the relay has not seen: replica → highest such counter. */
function unseenForeignDots(seen: CausalContext, claimed: CausalContext, self: ReplicaId): ReadonlyMap<ReplicaId, number> {
  // The common write: a context of the writer's own writes only.
  if (claimed.cloud.length === 0 && claimed.vv.size === 1 && claimed.vv.has(self)) return NONE_UNSEEN;
  let out: Map<ReplicaId, number> | undefined;
  const note = (replica: ReplicaId, counter: number) => (out ??= new Map()).set(replica, Math.max(out.get(replica) ?? 0, counter));
  for (const [replica, counter] of claimed.vv) {
    if (replica !== self && (seen.vv.get(replica) ?? 0) < counter) note(replica, counter);
  }
  for (const dot of claimed.cloud) {
    if (dot[0] !== self && !contextHas(seen, dot)) note(dot[0], dot[1]);
  }
  return out ?? NONE_UNSEEN;
}

/** What a principal that may not read the key hears of a `forbidden` refusal. */
export const FORBIDDEN_UNREADABLE =
  "the write was refused: on a key this principal may not read, a write may carry only its own replica's dots, in its sibling and in its context";

/** Whether the delta names a dot of a replica other than `self`, in a sibling or its context. */
function namesOtherReplicas(delta: WireState, self: ReplicaId): boolean {
  if (delta.siblings.some((s) => s.dot[0] !== self)) return true;
  for (const replica of delta.context.vv.keys()) if (replica !== self) return true;
  return delta.context.cloud.some((d) => d[0] !== self);
}

/**
 * What is refused before the key is read: a reused write number, a key the principal may not
 * write, a change without siblings — and, from a principal that may not read the key, a change
 * naming another replica's dot: it cannot have seen another replica's write of the key, and
 * judging such a claim by the stored state would tell it which dots the relay has seen.
 */
export function refuseEarly(rules: PushRules, push: Push, change: PushedChange, known: WriteHead, readable: boolean): Refusal | undefined {
  if (change.writeNumber === known.writeNumber && change.chain !== known.chain) {
    return new Refusal(
      'replica_reset',
      `write number ${change.writeNumber} of replica ${push.replicaId} arrived with another history than before: this replica id was reused`,
    );
  }
  if (!rules.auth.authorize(push.principal, change.collection, change.key, 'write')) {
    return new Refusal('forbidden', `principal ${push.principal.id} may not write this key`);
  }
  if (change.delta.siblings.length === 0) return new Refusal('bad_message', 'a pushed change carries at least one sibling');
  if (!readable && namesOtherReplicas(change.delta, push.replicaId)) return new Refusal('forbidden', FORBIDDEN_UNREADABLE);
  return undefined;
}

/**
 * The verdict on one change, by the key's stored state: the seq it already has (nothing
 * changes), a refusal, the state to put, or a leader-follower write for the compare-and-set.
 */
export function judge(
  rules: PushRules,
  push: Push,
  change: PushedChange,
  stored: StoredDoc | undefined,
  counts: JudgeCounts,
): number | Refusal | Put | LeaderWrite {
  const { collection, key, delta } = change;
  const resync = change.resync === true;
  const config = rules.collections.get(collection);
  const type = crdtTypeOf(config.strategy);
  const current = parseStored(stored);

  for (const sibling of delta.siblings) {
    if (sibling.deleted !== true) {
      const bytes = push.frameBytes > rules.limits.maxValueBytes ? Buffer.byteLength(JSON.stringify(sibling.value)) : 0;
      if (bytes > rules.limits.maxValueBytes) {
        return new Refusal('payload_too_large', `value of ${sibling.dot.join(':')} has ${bytes} bytes; the limit is ${rules.limits.maxValueBytes}`);
      }
      if (type === undefined && !isEncodedValue(sibling.value)) {
        return new Refusal('bad_message', `${collection} is a ${config.strategy} collection: values are encoded {json, meta}`);
      }
    }
    const own = sibling.dot[0] === push.replicaId;
    if (!own && !(resync && rules.recoveryOpen) && !contextHas(current.context, sibling.dot)) {
      return new Refusal('forbidden', `replica ${push.replicaId} may not mint dot ${sibling.dot.join(':')}`);
    }
    if (own && !resync && isTooFarAhead(sibling.hlc, rules.now, rules.limits.maxClockSkewMs)) {
      return new Refusal('clock_skew', `write stamped ${sibling.hlc.wall - rules.now} ms ahead of the relay; the limit is ${rules.limits.maxClockSkewMs} ms`);
    }
  }

  const unseen = unseenForeignDots(current.context, delta.context, push.replicaId);
  if (unseen.size > 0) {
    if (!(resync && rules.recoveryOpen)) {
      const [replica, counter] = unseen.entries().next().value!;
      return new Refusal('forbidden', `context claims ${replica}:${counter}, a write of another replica this relay has not seen`);
    }
    for (const [replica, counter] of unseen) {
      if (!delta.siblings.some((s) => s.dot[0] === replica && s.dot[1] === counter)) {
        return new Refusal('forbidden', `re-pushed state claims ${replica} up to ${counter} without the sibling that bears it`);
      }
    }
    counts.repairs++;
  }

  if (type !== undefined) {
    const decoded = crdtDocFromWire(type, delta, 'delta');
    if (!decoded.ok) return new Refusal('bad_message', `not a ${type.name} value: ${decoded.error.message}`);
    // A repair (a re-push inside the recovery window) is judged too: it may bring back entries
    // under dots the relay lost, never re-create ones it saw removed.
    const base = crdtDocFromWire(type, current, 'stored');
    if (!base.ok) throw new ConvergeError('internal', `stored ${collection}/${key}: ${base.error.message}`);
    const checked = checkCrdtWrite(type, decoded.value, base.value, push.replicaId, { repair: resync && rules.recoveryOpen });
    if (!checked.ok) return new Refusal(checked.error.code, checked.error.message);
  }

  if (config.mode === 'leader-follower') return new LeaderWrite(current);

  // A key the relay does not hold adopts the (canonical, validated) delta: merging into the empty state changes nothing.
  const { state: merged, anomalies } = adoptOrMerge(stored === undefined ? undefined : current, delta);
  if (anomalies.length > 0) {
    const dot = anomalies[0]!.dot.join(':');
    return new Refusal('replica_reset', `dot ${dot} arrived with different content: this replica id was reused`, current);
  }
  const next = storable(rules.limits, change, merged, stored);
  if (next instanceof Refusal) return next;
  const { text, bytes } = next;
  if (stored !== undefined && text === stored.state) return stored.seq;
  const siblings = merged.siblings.length;
  if (!resync && siblings > rules.limits.maxSiblingsPerKey && siblings > current.siblings.length) {
    return new Refusal('too_many_siblings', `the key would hold ${siblings} siblings; the limit is ${rules.limits.maxSiblingsPerKey}`);
  }
  if (siblings > 1) counts.siblingsCreated++;
  if (siblings >= SIBLING_WARNING) counts.siblingWarnings++;
  return new Put(text, bytes, delta.siblings[delta.siblings.length - 1]!.dot);
}

/**
 * The stored text of a key's next state and its UTF-8 size, or a refusal when the state would
 * exceed `maxStateBytes` and grow. A state that shrinks is accepted, so a key stored before the
 * limit was lowered can still be resolved.
 */
export function storable(
  limits: RelayLimits,
  _change: PushedChange,
  state: WireState,
  stored: StoredDoc | undefined,
): { text: string; bytes: number } | Refusal {
  const text = serializeState(state);
  const bytes = Buffer.byteLength(text);
  if (bytes > limits.maxStateBytes && (stored === undefined || bytes > Buffer.byteLength(stored.state))) {
    return new Refusal(
      'payload_too_large',
      `the key would hold ${bytes} bytes of state; the limit is maxStateBytes = ${limits.maxStateBytes}: resolve its siblings or write smaller values`,
    );
  }
  return { text, bytes };
}
