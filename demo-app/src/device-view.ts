import type { ClientStatus, Doc, RejectedWrite } from '@converge/client';
import type { CartValue } from './cart.js';
import type { OutboxRow } from './edit-log.js';
import type { LwwOutcome } from './lww-cart.js';
import { explainRefusal, type Stock } from './purchase.js';
import { labelWrite } from './write-labels.js';

/** A refused write with the words the UI shows for it. */
export interface RefusedWrite {
  readonly write: RejectedWrite;
  readonly explanation: string;
  /** Why retrying cannot succeed, shown next to the disabled retry button (a purchase with no stock left); undefined: it can be retried. */
  readonly noRetry: string | undefined;
}

/** Everything one device card shows; a new object on every change. */
export interface DeviceView {
  readonly name: string;
  /** The device's online switch (the connection itself is `status.connection`). */
  readonly online: boolean;
  readonly status: ClientStatus;
  readonly cart: Doc<Map<string, number>> | undefined;
  readonly naive: Doc<CartValue> | undefined;
  readonly lww: Doc<CartValue> | undefined;
  readonly lwwOutcome: LwwOutcome | undefined;
  readonly products: readonly Doc<Stock>[];
  readonly edits: readonly OutboxRow[];
  /** What waits in the outbox: writes, and the edits (user actions, rows of `edits`) they belong to. */
  readonly pending: { readonly edits: number; readonly writes: number };
  readonly refused: readonly RefusedWrite[];
  /** What the LWW cart's last write here discarded (reported by the client's `conflict` event), in words. */
  readonly lwwDropped: string | undefined;
}

/** The refused writes with their explanation: a purchase says who got the stock, and cannot be retried with none left. */
export function refusedWrites(rejected: readonly RejectedWrite[], products: readonly Doc<Stock>[]): RefusedWrite[] {
  return rejected.map((write): RefusedWrite => {
    if (write.collection !== 'inventory') return { write, explanation: `${labelWrite(write)}: ${write.message} (${write.code})`, noRetry: undefined };
    const current = products.find((p) => p.key === write.key)?.value;
    const explanation = explainRefusal(write.key, write.value as Stock | undefined, current, write.code);
    return { write, explanation, noRetry: (current?.stock ?? 0) > 0 ? undefined : 'nothing left to buy' };
  });
}
