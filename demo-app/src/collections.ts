import { merge, type CollectionOptions } from '@converge/client';
import type { CartValue } from './cart.js';
import { naiveUnionSum } from './naive-cart.js';
import { rebasePurchase, type Stock } from './purchase.js';

/**
 * The demo's collections as every device declares them. The relay's own declaration
 * (demo-app/relay.config.json) is authoritative: a device that declared another mode or strategy
 * would be refused at connect (a test keeps the two equal).
 */
export const COLLECTIONS = {
  /** The correct cart: an OR-map of counters, merged by dots (no double counting, no resurrection). */
  cart: { strategy: 'cart' },
  /** Wrong on purpose: the whole cart as one value; concurrent carts are unioned and summed. */
  'naive-cart': { strategy: merge<CartValue>(naiveUnionSum) } satisfies CollectionOptions<CartValue>,
  /** Wrong on purpose: the whole cart as one value; the last writer wins, the other cart is dropped. */
  'lww-cart': { strategy: 'lww' },
  /** Stock per product; the relay is the single leader and refuses a purchase from stale stock. */
  inventory: { mode: 'leader-follower', strategy: 'lww', onReject: rebasePurchase } satisfies CollectionOptions<Stock>,
  /** Replica id → device name, so the inspector and the "what just happened" line can name writers. */
  devices: { strategy: 'lww' },
} as const;

export type CollectionName = keyof typeof COLLECTIONS;
