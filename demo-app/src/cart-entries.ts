import type { InspectedSibling } from '@converge/client';

/**
 * The correct cart's dot-store, read out of `inspect`: every quantity is a sum of entries, each
 * named by the dot of the write that added it. That is what lets the demo say who added what.
 */

/** One increment in the cart: `amount` of `item`, added by the write `[replica, counter]`. */
export interface CartEntry {
  readonly item: string;
  readonly replica: string;
  readonly counter: number;
  readonly amount: number;
}

interface SeenJson {
  readonly v: Readonly<Record<string, number>>;
  readonly d?: readonly (readonly [string, number])[];
}

interface CartSiblingJson {
  readonly s: readonly (readonly [string, readonly (readonly [string, number, number])[]])[];
  readonly c: SeenJson;
}

const seenHas = (seen: SeenJson, replica: string, counter: number) =>
  (seen.v[replica] ?? 0) >= counter || (seen.d ?? []).some(([r, n]) => r === replica && n === counter);

export const entryId = (e: CartEntry) => `${e.replica}\u0000${e.counter}\u0000${e.item}`;

function entriesOf(json: CartSiblingJson): CartEntry[] {
  return json.s.flatMap(([item, dots]) => dots.map(([replica, counter, amount]) => ({ item, replica, counter, amount })));
}

/**
 * The entries of the cart as the app reads it: the join of the live siblings' dot-stores. An
 * entry of one sibling survives unless another sibling has seen its dot and dropped it (a remove
 * or a clear that saw it).
 */
export function joinedEntries(siblings: readonly InspectedSibling[]): CartEntry[] {
  const live = siblings.filter((s) => !s.deleted).map((s) => s.value as CartSiblingJson);
  const stores = live.map((json) => ({ json, ids: new Set(entriesOf(json).map(entryId)) }));
  const out = new Map<string, CartEntry>();
  for (const { json } of stores) {
    for (const entry of entriesOf(json)) {
      const id = entryId(entry);
      const dropped = stores.some((other) => other.json !== json && !other.ids.has(id) && seenHas(other.json.c, entry.replica, entry.counter));
      if (!dropped) out.set(id, entry);
    }
  }
  return [...out.values()];
}

/** Quantities per item from entries (what the cart reads as). */
export function quantities(entries: readonly CartEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) out[e.item] = (out[e.item] ?? 0) + e.amount;
  return out;
}
