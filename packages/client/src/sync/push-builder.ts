import { mergeDocStates } from '@converge/conflict';
import type { AckLevel, PushedChange, PushFrame, RelayLimits } from '@converge/protocol';
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

const LEVELS: readonly AckLevel[] = ['local', 'relay', 'quorum', 'all'];

/**
 * Squashes pending writes into changes: multi-leader writes to one key become one change whose
 * delta is the merge of their deltas (never "the last one": a second tab's concurrent write
 * would be lost); leader-follower writes stay one change each (the leader decides per dot).
 */
export function squash(entries: readonly Entry[]): PlannedChange[] {
  const out: { change: PushedChange; entries: Entry[] }[] = [];
  const byKey = new Map<string, { change: PushedChange; entries: Entry[] }>();
  for (const entry of entries) {
    const change: PushedChange = { collection: entry.collection, key: entry.key, delta: entry.delta, writeNumber: entry.writeNumber };
    if (entry.mode === 'leader-follower') {
      out.push({ change, entries: [entry] });
      continue;
    }
    const id = `${entry.collection}\u0000${entry.key}`;
    const planned = byKey.get(id);
    if (planned === undefined) {
      const fresh = { change, entries: [entry] };
      byKey.set(id, fresh);
      out.push(fresh);
      continue;
    }
    planned.entries.push(entry);
    planned.change = {
      ...planned.change,
      delta: mergeDocStates(planned.change.delta, entry.delta).state,
      writeNumber: Math.max(planned.change.writeNumber, entry.writeNumber),
    };
  }
  return out;
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
): PlannedPush | { readonly tooLarge: PlannedChange } {
  let count = Math.min(changes.length, limits.maxChangesPerFrame);
  for (;;) {
    const chosen = changes.slice(0, count);
    const wanted = chosen.flatMap((c) => c.entries.map((e) => LEVELS.indexOf(e.ack))).reduce((a, b) => Math.max(a, b), 1);
    const frame: PushFrame = { type: 'push', id, ack: LEVELS[wanted]!, changes: chosen.map((c) => c.change) };
    const text = encodeClientFrame(frame);
    if (encodedBytes(text) <= limits.maxFrameBytes) return { frame, text, changes: chosen };
    if (count === 1) return { tooLarge: changes[0]! };
    count = Math.ceil(count / 2);
  }
}
