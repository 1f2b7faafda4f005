import type { RelayStore, StoreReads } from './store/relay-store.js';

/** The meta value holding when the recovery window closes, in ms since the epoch. */
const RECOVERY_META = 'recovery_until';

/** When the store's recovery window closes (0: never opened). */
export async function recoveryWindowEnd(reads: StoreReads): Promise<number> {
  return Number((await reads.getMeta(RECOVERY_META)) ?? 0);
}

/**
 * Keeps the recovery window open until at least `until`. A window only ever extends: a shorter
 * one opened later (a signed cursor beyond the head, under a relay started with a short
 * `recoveryWindowMs`) never cuts short a longer one (`restore --recovery-window 1h`).
 * Resolves to when the window now closes (read and extended in one transaction).
 */
export function extendRecoveryWindow(store: RelayStore, until: number): Promise<number> {
  return store.transact(async (tx) => {
    const current = await recoveryWindowEnd(tx);
    if (until > current) await tx.setMeta(RECOVERY_META, String(until));
    return Math.max(current, until);
  });
}
