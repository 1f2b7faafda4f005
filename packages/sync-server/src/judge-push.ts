import { createHash } from 'node:crypto';
import {
  addDot,
  adoptOrMerge,
  ConvergeError,
  checkCrdtWrite,
  contextHas,
  isTooFarAhead,
  mergeDocStates,
  siblingContent,
  type CausalContext,
  type Dot,
  type ErrorCode,
  type ReplicaId,
} from '@converge/conflict';
import { isEncodedValue, settledDot, type ChangeResult, type PushedChange, type RelayLimits, type WireState } from '@converge/protocol';
import type { Principal, RelayAuth } from './auth/auth.js';
import { crdtTypeOf, type CollectionRegistry } from './collections.js';
import { crdtDocFromWire } from './crdt-wire.js';
import { parseStored, serializeState } from './stored-state.js';
import type { DecisionRef, Prefetch, StoreTx, StoredDoc, WriteHead } from './store/relay-store.js';

/** Siblings per key at which the relay counts a warning; refusal is at `limits.maxSiblingsPerKey`. */
const SIBLING_WARNING = 25;

/** A push as a session hands it over: the changes of one `push` frame and who sent them. */
export interface Push {
  /** The replica id the connection gave in `hello`: the only one it may mint dots for. */
  readonly replicaId: ReplicaId;
  readonly principal: Principal;
  readonly changes: readonly PushedChange[];
  /**
   * The pushed frame's size in UTF-8 bytes (an upper bound will do). A value is part of its
   * frame, so when the whole frame fits `maxValueBytes`, no value needs measuring.
   */
  readonly frameBytes: number;
}

/** What every push of one group commit is judged by. */
export interface PushRules {
  readonly collections: CollectionRegistry;
  readonly auth: RelayAuth;
  readonly limits: RelayLimits;
  /** The relay's clock at the commit, ms. */
  readonly now: number;
  /** Inside a recovery window, re-pushed states may carry other replicas' unseen dots with the siblings that bear them. */
  readonly recoveryOpen: boolean;
}

/** A change the relay committed: what fan-out sends to subscribers. */
export interface CommittedChange {
  readonly collection: string;
  readonly key: string;
  readonly seq: number;
  /** The chain hash through `seq`: live cursors are signed with it. */
  readonly hash: string;
  /** The merged state as stored (`serializeState`): live frames are built from it. */
  readonly text: string;
  /** Its UTF-8 size. */
  readonly bytes: number;
}

export interface PushOutcome {
  /** One per pushed change, in push order. */
  readonly results: ChangeResult[];
  readonly committed: CommittedChange[];
  /** What the metrics count: repairs inside a recovery window, keys left with siblings. */
  readonly counts: {
    repairs: number;
    siblingsCreated: number;
    siblingWarnings: number;
  };
}

/**
 * Everything judging `pushes` will read, for one `StoreTx.prefetch`: each change's key, each
 * pushing replica's latest write, and the leader decisions of leader-follower writes.
 */
export function readsOf(pushes: readonly Push[], collections: CollectionRegistry): Prefetch {
  const docs = new Map<string, string[]>();
  const decisions: DecisionRef[] = [];
  const writeHeads = new Set<ReplicaId>();
  for (const { replicaId, changes } of pushes) {
    writeHeads.add(replicaId);
    for (const { collection, key, delta } of changes) {
      const keys = docs.get(collection);
      if (keys === undefined) docs.set(collection, [key]);
      else keys.push(key);
      const [sibling, extra] = delta.siblings;
      if (sibling !== undefined && extra === undefined && collections.get(collection).mode === 'leader-follower') {
        decisions.push({ collection, key, dot: sibling.dot });
      }
    }
  }
  return { docs, decisions, writeHeads: [...writeHeads] };
}

class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly current?: WireState,
  ) {}
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

/**
 * Judges and applies one push inside the group commit's transaction: validation and trust
 * checks, merge (or the leader's compare-and-set), a new seq per changed key. Every change gets
 * a result; a refused change changes nothing and does not block the others.
 */
export async function judgePush(rules: PushRules, tx: StoreTx, push: Push): Promise<PushOutcome> {
  const { changes } = push;
  const counts: PushOutcome['counts'] = { repairs: 0, siblingsCreated: 0, siblingWarnings: 0 };
  const committed: CommittedChange[] = [];
  const known = await tx.writeHead(push.replicaId);
  let latest = known;
  const results: ChangeResult[] = [];
  for (const change of changes) {
    const { collection, key } = change;
    const dot = settledDot(change.delta);
    const readable = rules.auth.authorize(push.principal, collection, key, 'read');
    // One store read and at most one put per change; everything between is synchronous.
    let outcome: number | Refusal | undefined = refuseEarly(rules, push, change, known, readable);
    if (outcome === undefined) {
      const stored = await tx.get(collection, key);
      const verdict = judge(rules, push, change, stored, counts);
      if (verdict instanceof Put) {
        const { seq, hash } = await tx.put(collection, key, verdict.text, verdict.dot);
        committed.push({ collection, key, seq, hash, text: verdict.text, bytes: verdict.bytes });
        outcome = seq;
      } else if (verdict instanceof LeaderWrite) outcome = await decideAsLeader(rules.limits, tx, change, stored, verdict.current, committed);
      else outcome = verdict;
    }
    if (change.writeNumber > latest.writeNumber) latest = change;
    if (outcome instanceof Refusal) {
      // The stored state, and any fact about it, goes back only to a principal that may read the key.
      const current = readable ? outcome.current : undefined;
      results.push({
        collection,
        key,
        dot,
        status: 'rejected',
        code: outcome.code,
        message: readable ? outcome.message : (unreadableMessage(outcome.code, rules.limits) ?? outcome.message),
        ...(current === undefined ? {} : { current }),
      });
    } else {
      // A seq is a position of the collection's log: only a principal that may read the key gets it.
      results.push(readable ? { collection, key, dot, status: 'accepted', seq: outcome } : { collection, key, dot, status: 'accepted' });
    }
  }
  if (latest !== known) await tx.noteWrite(push.replicaId, { writeNumber: latest.writeNumber, chain: latest.chain });
  return { results, committed, counts };
}

/** A change judged fit to store: the state to put. */
class Put {
  constructor(
    readonly text: string,
    readonly bytes: number,
    readonly dot: Dot,
  ) {}
}

/** A leader-follower write that passed every check but the leader's compare-and-set. */
class LeaderWrite {
  constructor(readonly current: WireState) {}
}

/**
 * What a refusal says to a principal that may not read the key: nothing the relay's state of it
 * decided (a holder's dot, a size, a sibling count), so the same words whatever is stored.
 * `undefined` keeps the message, which then speaks of the pushed write alone.
 */
function unreadableMessage(code: ErrorCode, limits: RelayLimits): string | undefined {
  switch (code) {
    case 'conflict_rejected':
      return "the leader refused the write: it was not made over the key's current version";
    case 'payload_too_large':
      return `the write would take the key past the relay's limits (maxValueBytes ${limits.maxValueBytes}, maxStateBytes ${limits.maxStateBytes})`;
    case 'too_many_siblings':
      return `the write would take the key past maxSiblingsPerKey (${limits.maxSiblingsPerKey})`;
    case 'forbidden':
      return FORBIDDEN_UNREADABLE;
    default:
      return undefined; // bad_message, clock_skew, replica_reset: about the write itself
  }
}

const FORBIDDEN_UNREADABLE =
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
function refuseEarly(rules: PushRules, push: Push, change: PushedChange, known: WriteHead, readable: boolean): Refusal | undefined {
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

function judge(
  rules: PushRules,
  push: Push,
  change: PushedChange,
  stored: StoredDoc | undefined,
  counts: PushOutcome['counts'],
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
function storable(limits: RelayLimits, _change: PushedChange, state: WireState, stored: StoredDoc | undefined): { text: string; bytes: number } | Refusal {
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

/** A short fingerprint of a sibling's content (dot excluded), recorded with each leader decision. */
function fingerprint(sibling: WireState['siblings'][number]): string {
  return createHash('sha256').update(siblingContent(sibling)).digest('base64url');
}

/**
 * Leader-follower: the relay accepts a write only if its context contains the dot of every
 * sibling the relay holds for the key (compare-and-set). A refused write's dot joins the key's
 * context as a no-op, so no gap stays open and the dot is never reused. The decision is
 * recorded per dot and a re-send gets the same answer.
 */
async function decideAsLeader(
  limits: RelayLimits,
  tx: StoreTx,
  change: PushedChange,
  stored: StoredDoc | undefined,
  current: WireState,
  committed: CommittedChange[],
): Promise<number | Refusal> {
  const { collection, key, delta } = change;
  const [sibling, extra] = delta.siblings;
  if (sibling === undefined || extra !== undefined) {
    return new Refusal('bad_message', 'a leader-follower write carries exactly one sibling (such writes are never squashed)');
  }
  const content = fingerprint(sibling);
  const decided = await tx.decision(collection, key, sibling.dot);
  const held = current.siblings.find((s) => s.dot[0] === sibling.dot[0] && s.dot[1] === sibling.dot[1]);
  // A known dot with other content is a reused replica id: compare with the decision's
  // fingerprint, else with the sibling the relay still holds; a known dot the relay can no
  // longer compare is not accepted again either.
  const reused =
    decided?.content !== undefined
      ? decided.content !== content
      : held !== undefined
        ? fingerprint(held) !== content
        : decided === undefined && contextHas(current.context, sibling.dot);
  if (reused) {
    return new Refusal('replica_reset', `dot ${sibling.dot.join(':')} arrived with different content: this replica id was reused`, current);
  }
  if (decided !== undefined) {
    return decided.status === 'accepted' ? decided.seq : new Refusal('conflict_rejected', 'this write was already refused', current);
  }
  const stale = current.siblings.find((held) => !contextHas(delta.context, held.dot));
  if (stale !== undefined) {
    const noop: WireState = { context: addDot(current.context, sibling.dot), siblings: current.siblings };
    const text = serializeState(noop);
    const { seq, hash } = await tx.put(collection, key, text, sibling.dot);
    await tx.recordDecision(collection, key, sibling.dot, { status: 'rejected', content });
    committed.push({ collection, key, seq, hash, text, bytes: Buffer.byteLength(text) });
    return new Refusal('conflict_rejected', `write did not see ${stale.dot.join(':')}, the leader's current version`, noop);
  }
  const { state: merged } = mergeDocStates(current, delta);
  const next = storable(limits, change, merged, stored);
  if (next instanceof Refusal) return next;
  const { seq, hash } = await tx.put(collection, key, next.text, sibling.dot);
  await tx.recordDecision(collection, key, sibling.dot, { status: 'accepted', seq, content });
  committed.push({ collection, key, seq, hash, text: next.text, bytes: next.bytes });
  return seq;
}
