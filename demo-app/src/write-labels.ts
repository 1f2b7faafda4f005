import type { CrdtOp } from '@converge/client';
import { formatItems, type CartValue } from './cart.js';
import type { Stock } from './purchase.js';

/** A write as the outbox holds it (a pending or a refused one). */
export interface WriteInfo {
  readonly collection: string;
  readonly key: string;
  readonly kind: 'put' | 'delete' | 'op';
  readonly value?: unknown;
  readonly op?: CrdtOp;
}

/** Short collection names for the outbox chips. */
export const SHORT_NAMES: Readonly<Record<string, string>> = { cart: 'cart', 'naive-cart': 'naive', 'lww-cart': 'lww', inventory: 'stock', devices: 'devices' };

function opLabel(op: CrdtOp): string {
  if (op.type === 'remove') return `remove ${String(op['key'])}`;
  if (op.type === 'clear') return 'empty the cart';
  const inner = op['op'] as { by?: number } | undefined;
  const by = inner?.by ?? 0;
  return `${by >= 0 ? '+' : '−'}${Math.abs(by)} ${String(op['key'])}`;
}

/** How a write reads in the outbox when this page did not make it (after a reload, a rebase). */
export function labelWrite(write: WriteInfo): string {
  if (write.kind === 'op' && write.op !== undefined) return opLabel(write.op);
  if (write.kind === 'delete') return `delete ${write.key}`;
  switch (write.collection) {
    case 'naive-cart':
    case 'lww-cart':
      return formatItems((write.value as CartValue | undefined)?.items ?? {});
    case 'inventory': {
      const stock = write.value as Stock | undefined;
      return `buy ${write.key} → ${stock?.stock ?? '?'} left`;
    }
    case 'devices':
      return `register ${String(write.value)}`;
    default:
      return `${write.key} = ${JSON.stringify(write.value)}`;
  }
}
