import type { Inspection } from '@converge/client';
import type { CartValue } from './cart.js';

/** What the LWW cart shows, and what it keeps hidden until the next write drops it. */
export interface LwwOutcome {
  /** The value with the highest HLC: what the app reads. */
  readonly winner: CartValue | undefined;
  /** Concurrent values the app never sees; the next write to the cart discards them. */
  readonly losers: readonly CartValue[];
}

/** Reads the LWW cart's siblings from `inspect`: the chosen one wins, every other live one loses. */
export function lwwOutcome(inspection: Inspection): LwwOutcome {
  const live = inspection.siblings.filter((s) => !s.deleted);
  const winner = live.find((s) => s.chosen);
  return {
    winner: winner?.value as CartValue | undefined,
    losers: live.filter((s) => s !== winner).map((s) => s.value as CartValue),
  };
}
