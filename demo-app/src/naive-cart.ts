import { sortedItems, type CartValue } from './cart.js';

/**
 * The literature's wrong cart merge, on purpose: union the concurrent carts and add their
 * quantities. Both siblings still carry the items of their common ancestor, so those are counted
 * twice, and an item one device removed comes back from the other's copy. Deterministic and
 * order-independent (so it is a valid `merge(fn)`), and still wrong: it is not idempotent and
 * it cannot see the ancestor.
 */
export function naiveUnionSum(values: readonly CartValue[]): CartValue {
  const items: Record<string, number> = {};
  for (const value of values) {
    for (const [item, n] of Object.entries(value.items)) items[item] = (items[item] ?? 0) + n;
  }
  const by = [...new Set(values.map((v) => v.by))].sort().join(' + ');
  return { items: sortedItems(items), by };
}
