import type { ErrorCode, ReplicaId } from '@converge/conflict';
import { settledDot, type ChangeResult, type PushedChange, type RelayLimits } from '@converge/protocol';
import type { CollectionRegistry } from './collections.js';
import { FORBIDDEN_UNREADABLE, judge, LeaderWrite, Put, refuseEarly, Refusal } from './judge-change.js';
import { decideAsLeader } from './leader-decision.js';
import type { CommittedChange, JudgeTx, Push, PushOutcome, PushRules } from './push.js';
import type { DecisionRef, LogPosition, Prefetch, StoredDoc, WriteHead } from './store/relay-store.js';

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

/** An answer of either kind of `JudgeTx`. */
type Answer<T> = T | Promise<T>;

/**
 * Judges and applies one push inside the group commit's transaction: validation and trust
 * checks, merge (or the leader's compare-and-set), a new seq per changed key. Every change gets
 * a result; a refused change changes nothing and does not block the others. One store read and
 * at most one put per change, everything between synchronous; with a direct transaction the
 * whole push is judged synchronously (no promise per change), else it resolves once judged.
 */
export function judgePush(rules: PushRules, tx: JudgeTx, push: Push): Answer<PushOutcome> {
  const known = tx.writeHead(push.replicaId);
  return known instanceof Promise ? known.then((head) => new PushJudgement(rules, tx, push, head).run()) : new PushJudgement(rules, tx, push, known).run();
}

/** One push being judged, change by change; resumes after each answer the store gives in a promise. */
class PushJudgement {
  readonly #results: ChangeResult[] = [];
  readonly #committed: CommittedChange[] = [];
  readonly #counts: PushOutcome['counts'] = { repairs: 0, siblingsCreated: 0, siblingWarnings: 0 };
  #latest: WriteHead;
  #next = 0;

  constructor(
    private readonly rules: PushRules,
    private readonly tx: JudgeTx,
    private readonly push: Push,
    private readonly known: WriteHead,
  ) {
    this.#latest = known;
  }

  run(): Answer<PushOutcome> {
    const { changes } = this.push;
    while (this.#next < changes.length) {
      const judged = this.#judge(changes[this.#next++]!);
      if (judged instanceof Promise) return judged.then(() => this.run());
    }
    const { replicaId } = this.push;
    const latest = this.#latest;
    const noted = latest === this.known ? undefined : this.tx.noteWrite(replicaId, { writeNumber: latest.writeNumber, chain: latest.chain });
    return noted instanceof Promise ? noted.then(() => this.#outcome()) : this.#outcome();
  }

  #outcome(): PushOutcome {
    return { results: this.#results, committed: this.#committed, counts: this.#counts };
  }

  #judge(change: PushedChange): Answer<void> {
    const { rules, push } = this;
    const readable = rules.auth.authorize(push.principal, change.collection, change.key, 'read');
    const early = refuseEarly(rules, push, change, this.known, readable);
    if (early !== undefined) return this.#settle(change, readable, early);
    const stored = this.tx.get(change.collection, change.key);
    return stored instanceof Promise ? stored.then((doc) => this.#judgeStored(change, readable, doc)) : this.#judgeStored(change, readable, stored);
  }

  #judgeStored(change: PushedChange, readable: boolean, stored: StoredDoc | undefined): Answer<void> {
    const verdict = judge(this.rules, this.push, change, stored, this.#counts);
    if (verdict instanceof Put) {
      const at = this.tx.put(change.collection, change.key, verdict.text, verdict.dot);
      return at instanceof Promise ? at.then((position) => this.#stored(change, readable, verdict, position)) : this.#stored(change, readable, verdict, at);
    }
    if (verdict instanceof LeaderWrite) {
      return decideAsLeader(this.rules.limits, this.tx, change, stored, verdict.current, this.#committed).then((outcome) =>
        this.#settle(change, readable, outcome),
      );
    }
    return this.#settle(change, readable, verdict);
  }

  #stored(change: PushedChange, readable: boolean, put: Put, { seq, hash }: LogPosition): void {
    const { collection, key } = change;
    this.#committed.push({ collection, key, seq, hash, dot: put.dot, text: put.text, bytes: put.bytes });
    this.#settle(change, readable, seq);
  }

  /** The change's result: its seq, or its refusal in the words the principal may hear. */
  #settle(change: PushedChange, readable: boolean, outcome: number | Refusal): void {
    const { collection, key } = change;
    const dot = settledDot(change.delta);
    if (change.writeNumber > this.#latest.writeNumber) this.#latest = change;
    if (outcome instanceof Refusal) {
      // The stored state, and any fact about it, goes back only to a principal that may read the key.
      const current = readable ? outcome.current : undefined;
      this.#results.push({
        collection,
        key,
        dot,
        status: 'rejected',
        code: outcome.code,
        message: readable ? outcome.message : (unreadableMessage(outcome.code, this.rules.limits) ?? outcome.message),
        ...(current === undefined ? {} : { current }),
      });
    } else {
      // A seq is a position of the collection's log: only a principal that may read the key gets it.
      this.#results.push(readable ? { collection, key, dot, status: 'accepted', seq: outcome } : { collection, key, dot, status: 'accepted' });
    }
  }
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
