import { createHash } from 'node:crypto';
import { addDot, contextHas, mergeDocStates, siblingContent } from '@converge/conflict';
import type { PushedChange, RelayLimits, WireState } from '@converge/protocol';
import { Refusal, storable } from './judge-change.js';
import type { CommittedChange, JudgeTx } from './push.js';
import { serializeState } from './stored-state.js';
import type { StoredDoc } from './store/relay-store.js';

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
export async function decideAsLeader(
  limits: RelayLimits,
  tx: JudgeTx,
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
    committed.push({ collection, key, seq, hash, dot: sibling.dot, text, bytes: Buffer.byteLength(text) });
    return new Refusal('conflict_rejected', `write did not see ${stale.dot.join(':')}, the leader's current version`, noop);
  }
  const { state: merged } = mergeDocStates(current, delta);
  const next = storable(limits, change, merged, stored);
  if (next instanceof Refusal) return next;
  const { seq, hash } = await tx.put(collection, key, next.text, sibling.dot);
  await tx.recordDecision(collection, key, sibling.dot, { status: 'accepted', seq, content });
  committed.push({ collection, key, seq, hash, dot: sibling.dot, text: next.text, bytes: next.bytes });
  return seq;
}
