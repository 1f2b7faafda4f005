import { entryId, quantities, type CartEntry } from './cart-entries.js';
import { formatItems, type CartItems } from './cart.js';
import type { LwwOutcome } from './lww-cart.js';
import { replicaLabel } from './replica-labels.js';

/** What a device knows right after it reconnected and synced. */
export interface ReconnectFacts {
  readonly device: string;
  /** The correct cart's entries when the device went offline, and once it synced again. */
  readonly before: readonly CartEntry[];
  readonly after: readonly CartEntry[];
  /** Device name per replica id (shown by `replicaLabel`). */
  readonly names: ReadonlyMap<string, string>;
  /** Who removed an item, when this page saw the removal. */
  readonly removedBy: ReadonlyMap<string, string>;
  /** What the naive cart reads now. */
  readonly naive: CartItems | undefined;
  readonly lww: LwwOutcome | undefined;
  /** Writes the relay refused while this device was offline, already explained. */
  readonly refusals: readonly string[];
}

/** Added amounts per device and item, in the order first seen: "laptop +2 milk". */
function additions(entries: readonly CartEntry[], names: ReadonlyMap<string, string>): string[] {
  const sums = new Map<string, { who: string; item: string; amount: number }>();
  for (const e of entries) {
    const who = replicaLabel(names, e.replica);
    const id = `${who}\u0000${e.item}`;
    const sum = sums.get(id) ?? { who, item: e.item, amount: 0 };
    sums.set(id, { ...sum, amount: sum.amount + e.amount });
  }
  return [...sums.values()].filter((s) => s.amount !== 0).map((s) => `${s.who} ${s.amount > 0 ? '+' : '−'}${Math.abs(s.amount)} ${s.item}`);
}

/** Where the naive cart disagrees with the correct one, in words: "milk 5 double-counted, eggs 1 came back". */
export function naiveErrors(naive: CartItems, correct: CartItems): string[] {
  const items = [...new Set([...Object.keys(naive), ...Object.keys(correct)])].sort();
  return items.flatMap((item) => {
    const [n, c] = [naive[item] ?? 0, correct[item] ?? 0];
    if (n === c) return [];
    if (c === 0) return [`${item} ${n} came back`];
    if (n === 0) return [`${item} lost`];
    return [`${item} ${n} ${n > c ? 'double-counted' : 'undercounted'}`];
  });
}

/**
 * The one line a visitor reads after a device reconnects, e.g. "laptop +2 milk, phone +1 milk
 * merged → milk 4 · eggs removed by phone · naive cart: milk 5 double-counted, eggs 1 came
 * back · LWW cart kept phone's, hides laptop's (milk 3, eggs 1)".
 */
export function describeReconnect(facts: ReconnectFacts): string {
  const { before, after, names } = facts;
  const seen = new Set(before.map(entryId));
  const added = after.filter((e) => !seen.has(entryId(e)));
  const [was, now] = [quantities(before), quantities(after)];
  const parts: string[] = [];
  const adds = additions(added, names);
  if (adds.length > 0) {
    const touched = [...new Set(added.map((e) => e.item))].sort();
    const result = touched.filter((item) => (now[item] ?? 0) > 0).map((item) => `${item} ${now[item]}`);
    parts.push(`${adds.join(', ')} merged${result.length > 0 ? ` → ${result.join(', ')}` : ''}`);
  }
  for (const item of Object.keys(was).sort()) {
    if ((was[item] ?? 0) > 0 && (now[item] ?? 0) <= 0) {
      const who = facts.removedBy.get(item);
      parts.push(`${item} removed${who === undefined ? ' on another device' : ` by ${who}`}`);
    }
  }
  if (parts.length === 0) return `${facts.device} reconnected: ${['the cart did not change', ...facts.refusals].join(' · ')}`;
  const correct = Object.fromEntries(Object.entries(now).filter(([, n]) => n > 0));
  const wrong = facts.naive === undefined ? [] : naiveErrors(facts.naive, correct);
  if (wrong.length > 0) parts.push(`naive cart: ${wrong.join(', ')}`);
  const lww = facts.lww;
  if (lww?.winner !== undefined && lww.losers.length > 0) {
    const hidden = lww.losers.map((l) => `${l.by}'s (${formatItems(l.items)})`).join(', ');
    parts.push(`LWW cart kept ${lww.winner.by}'s, hides ${hidden}`);
  }
  parts.push(...facts.refusals);
  return `${facts.device} reconnected: ${parts.join(' · ')}`;
}
