/**
 * The demo's shopping carts as plain data. The correct cart is the `cart` collection (an OR-map
 * of counters, read as `Map<item, quantity>`); the two wrong-on-purpose carts hold the whole cart
 * as one value, `{ items, by }`, written by whichever device edited last.
 */

/** Item → quantity. */
export type CartItems = Readonly<Record<string, number>>;

/** The value of the naive and LWW carts: the items and the device that wrote them. */
export interface CartValue {
  readonly items: CartItems;
  /** The device that wrote this value (several, joined by " + ", for a naive merge of siblings). */
  readonly by: string;
}

/** One edit a device makes, applied to all three carts. */
export type CartEdit = { readonly kind: 'add'; readonly item: string; readonly by: number } | { readonly kind: 'remove'; readonly item: string };

/** The shared cart every device edits (one document per collection). */
export const CART_KEY = 'family-cart';

/** An edit applied to a whole-cart value: quantities add up; an item at 0 or below leaves the cart. */
export function applyEdit(items: CartItems, edit: CartEdit): CartItems {
  const out: Record<string, number> = { ...items };
  const next = edit.kind === 'remove' ? 0 : (out[edit.item] ?? 0) + edit.by;
  if (next > 0) out[edit.item] = next;
  else delete out[edit.item];
  return sortedItems(out);
}

export function sortedItems(items: CartItems): CartItems {
  return Object.fromEntries(Object.entries(items).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function itemsOfMap(map: ReadonlyMap<string, number> | undefined): CartItems {
  return sortedItems(Object.fromEntries([...(map ?? new Map<string, number>())].filter(([, n]) => n !== 0)));
}

/** "milk 4, eggs 1", or "empty". */
export function formatItems(items: CartItems): string {
  const entries = Object.entries(items);
  return entries.length === 0 ? 'empty' : entries.map(([item, n]) => `${item} ${n}`).join(', ');
}

/** How an edit reads in the outbox: "+2 milk", "−1 milk", "remove eggs". */
export function formatEdit(edit: CartEdit): string {
  if (edit.kind === 'remove') return `remove ${edit.item}`;
  return `${edit.by > 0 ? '+' : '−'}${Math.abs(edit.by)} ${edit.item}`;
}
