import type { Inspection } from '@converge/client';

/**
 * The correct cart's entries, read from `inspect`: every quantity is a sum of entries, each
 * named by the dot of the write that added it. That is what lets the demo say who added what.
 */

/** One increment in the cart: `amount` of `item`, added by the write `[replica, counter]`. */
export interface CartEntry {
  readonly item: string;
  readonly replica: string;
  readonly counter: number;
  readonly amount: number;
}

export const entryId = (e: CartEntry) => `${e.replica}\u0000${e.counter}\u0000${e.item}`;

/** The entries the cart reads as: those the join of its siblings keeps, each once (siblings share the entries they both saw). */
export function cartEntries(inspection: Inspection): CartEntry[] {
  const out = new Map<string, CartEntry>();
  for (const e of inspection.siblings.flatMap((s) => s.entries ?? [])) {
    if (!e.kept || e.key === undefined) continue;
    const entry = { item: e.key, replica: e.dot[0], counter: e.dot[1], amount: e.value as number };
    out.set(entryId(entry), entry);
  }
  return [...out.values()];
}

/** Quantities per item from entries (what the cart reads as). */
export function quantities(entries: readonly CartEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) out[e.item] = (out[e.item] ?? 0) + e.amount;
  return out;
}
