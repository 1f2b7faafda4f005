import type { ErrorCode, ReplicaId } from '@converge/conflict';
import { settledDot, type ChangeResult, type RelayLimits } from '@converge/protocol';
import type { CollectionRegistry } from './collections.js';
import { FORBIDDEN_UNREADABLE, judge, LeaderWrite, Put, refuseEarly, Refusal } from './judge-change.js';
import { decideAsLeader } from './leader-decision.js';
import type { CommittedChange, Push, PushOutcome, PushRules } from './push.js';
import type { DecisionRef, Prefetch, StoreTx } from './store/relay-store.js';

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
