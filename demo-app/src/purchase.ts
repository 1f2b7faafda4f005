/**
 * The inventory: one document per product, `{ stock, lastBuyer }`, in a leader-follower
 * collection. The relay is the single leader: of two purchases made offline from the same stock,
 * it accepts the first to arrive and refuses the other (`conflict_rejected`), so stock never
 * goes below zero.
 */
export interface Stock {
  readonly stock: number;
  /** The device whose purchase wrote this value (absent: seeded by the relay). */
  readonly lastBuyer?: string;
}

/** One unit sold to `device`, or undefined when there is none left. */
export function purchase(current: Stock | undefined, device: string): Stock | undefined {
  if (current === undefined || current.stock <= 0) return undefined;
  return { stock: current.stock - 1, lastBuyer: device };
}

/**
 * The inventory's `onReject`: a purchase refused because the stock changed under it is made
 * again on the current stock when a unit is left; otherwise it stays refused (the app shows it,
 * with the current value: out of stock).
 */
export function rebasePurchase(attempted: Stock | undefined, current: Stock | undefined): Stock | undefined {
  if (attempted?.lastBuyer === undefined) return undefined;
  return purchase(current, attempted.lastBuyer);
}

/** Why a refused write to a product was refused, in words a shopper understands. */
export function explainRefusal(product: string, attempted: Stock | undefined, current: Stock | undefined, code: string): string {
  const buyer = attempted?.lastBuyer ?? 'this device';
  if (code === 'conflict_rejected' && current !== undefined && current.stock <= 0) {
    const winner = current.lastBuyer === undefined || current.lastBuyer === buyer ? 'another device' : current.lastBuyer;
    return `${buyer}'s purchase of the last ${product} was refused by the relay: ${winner} bought it first. Rolled back: out of stock.`;
  }
  if (code === 'conflict_rejected')
    return `${buyer}'s purchase of ${product} was refused by the relay: the stock changed first (now ${current?.stock ?? '?'}).`;
  return `${buyer}'s write to ${product} was refused by the relay (${code}).`;
}
