import { dotKey, type Dot } from '@converge/conflict';
import { settledDot, type AckFrame, type ChangeResult } from '@converge/protocol';
import type { PlannedChange } from './push-builder.js';

const nameOf = (collection: string, key: string, dot: Dot) => `${collection}\u0000${key}\u0000${dotKey(dot)}`;

/** One pushed change and the relay's result for it. */
export interface MatchedResult {
  readonly change: PlannedChange;
  readonly result: ChangeResult;
}

/**
 * The changes of the push in flight that have no result yet, by name (collection, key, and the
 * dot of the delta's last sibling: `settledDot`). The relay's answer may come in parts; each
 * part is matched whole or refused whole: a result that names no change still waiting (unknown,
 * or settled already), a last part that leaves a change without a result, or a part that says
 * `more` when none is left, is a bad frame, and nothing of that part is settled.
 */
export class AwaitedResults {
  readonly #waiting = new Map<string, PlannedChange>();

  constructor(changes: readonly PlannedChange[]) {
    for (const change of changes) {
      const { collection, key, delta } = change.change;
      this.#waiting.set(nameOf(collection, key, settledDot(delta)), change);
    }
  }

  /** The changes still without a result. */
  unanswered(): PlannedChange[] {
    return [...this.#waiting.values()];
  }

  /** True once every change has its result. */
  get done(): boolean {
    return this.#waiting.size === 0;
  }

  /** The changes one part of the answer settles, or why the part is a bad frame (then nothing changes). */
  match(frame: AckFrame): MatchedResult[] | string {
    const matched: MatchedResult[] = [];
    const names = new Set<string>();
    for (const result of frame.results) {
      const name = nameOf(result.collection, result.key, result.dot);
      const change = this.#waiting.get(name);
      if (change === undefined || names.has(name)) {
        return `result for ${result.collection}/${result.key} at ${dotKey(result.dot)} names no change of push ${frame.id} still waiting for one`;
      }
      names.add(name);
      matched.push({ change, result });
    }
    const left = this.#waiting.size - matched.length;
    if (frame.more !== true && left > 0) return `the answer to push ${frame.id} ended with ${left} change${left === 1 ? '' : 's'} still without a result`;
    if (frame.more === true && left === 0) return `a part of the answer to push ${frame.id} says more follow, but every change has its result`;
    for (const name of names) this.#waiting.delete(name);
    return matched;
  }
}
