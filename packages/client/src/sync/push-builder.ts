import { containsContext, contextHas, mergeDocStates, WRITE_CHAIN_ZERO } from '@converge/conflict';
import type { AckLevel, PushedChange, PushFrame, RelayLimits, WireState } from '@converge/protocol';
import { ACK_LEVELS, levelRank } from '../ack-levels.js';
import type { OutboxEntry } from '../storage/storage-adapter.js';
import { encodedBytes, encodeClientFrame } from './wire.js';

type Entry = OutboxEntry & { readonly id: number };

/** One change of a push and the outbox entries it carries. */
export interface PlannedChange {
  readonly change: PushedChange;
  readonly entries: readonly Entry[];
}

export interface PlannedPush {
  readonly frame: PushFrame;
  readonly text: string;
  readonly changes: readonly PlannedChange[];
}

/**
 * The join of a key's squashed delta `a` with the delta `b` of a later write to it. When `b`'s
 * context holds all of `a`'s and none of `b`'s siblings is a dot `a` has seen (a write over the
 * earlier ones: the usual run of offline edits), the join is `b` itself — `a`'s siblings are all
 * seen by `b` and held by neither — so no merge is computed; otherwise `mergeDocStates`.
 */
function joinDelta(a: WireState, b: WireState): WireState {
  if (containsContext(b.context, a.context) && b.siblings.every((s) => !contextHas(a.context, s.dot))) return b;
  return mergeDocStates(a, b).state;
}

/**
 * Squashes pending writes into changes: multi-leader writes to one key become one change whose
 * delta is the merge of their deltas (never "the last one": a second tab's concurrent write
 * would be lost); leader-follower writes stay one change each (the leader decides per dot).
 * Changes come in the order of their first write.
 */
export function squash(entries: readonly Entry[]): PlannedChange[] {
  const groups: Entry[][] = [];
  const byKey = new Map<string, Map<string, Entry[]>>();
  for (const entry of entries) {
    if (entry.mode === 'leader-follower') {
      groups.push([entry]);
      continue;
    }
    let keys = byKey.get(entry.collection);
    if (keys === undefined) byKey.set(entry.collection, (keys = new Map()));
    const group = keys.get(entry.key);
    if (group !== undefined) group.push(entry);
    else {
      const fresh = [entry];
      keys.set(entry.key, fresh);
      groups.push(fresh);
    }
  }
  return groups.map((group) => {
    const first = group[0]!;
    let delta = first.delta;
    let latest = first;
    for (let i = 1; i < group.length; i++) {
      delta = joinDelta(delta, group[i]!.delta);
      if (group[i]!.writeNumber > latest.writeNumber) latest = group[i]!;
    }
    // The change names its latest write: the relay keeps the latest write number with its chain.
    const change = { collection: first.collection, key: first.key, delta, writeNumber: latest.writeNumber, chain: latest.chain ?? WRITE_CHAIN_ZERO };
    return { change, entries: group };
  });
}

/**
 * The next push: as many changes (in outbox order) as fit `maxChangesPerFrame` and
 * `maxFrameBytes`. Returns the planned push, or `tooLarge` when even the first change alone
 * does not fit a frame.
 */
export function planPush(
  changes: readonly PlannedChange[],
  limits: Pick<RelayLimits, 'maxFrameBytes' | 'maxChangesPerFrame'>,
  id: string,
  /** The least level the push asks for (else the highest its writes asked for). */
  atLeast: AckLevel = 'relay',
): PlannedPush | { readonly tooLarge: PlannedChange } {
  let count = Math.min(changes.length, limits.maxChangesPerFrame);
  for (;;) {
    const chosen = changes.slice(0, count);
    const wanted = chosen.flatMap((c) => c.entries.map((e) => levelRank(e.ack))).reduce((a, b) => Math.max(a, b), levelRank(atLeast));
    const frame: PushFrame = { type: 'push', id, ack: ACK_LEVELS[wanted]!, changes: chosen.map((c) => c.change) };
    const text = encodeClientFrame(frame);
    if (encodedBytes(text) <= limits.maxFrameBytes) return { frame, text, changes: chosen };
    if (count === 1) return { tooLarge: changes[0]! };
    count = Math.ceil(count / 2);
  }
}
