import type { RelayStore } from './store/relay-store.js';

/** The meta value holding when the recovery window closes, in ms since the epoch. */
const RECOVERY_META = 'recovery_until';

/** When the store's recovery window closes (0: never opened). */
export function recoveryWindowEnd(store: RelayStore): number {
  return Number(store.getMeta(RECOVERY_META) ?? 0);
}

/**
 * Keeps the recovery window open until at least `until`. A window only ever extends: a shorter
 * one opened later (a signed cursor beyond the head, under a relay started with a short
 * `recoveryWindowMs`) never cuts short a longer one (`restore --recovery-window 1h`).
 * Returns when the window now closes.
 */
export function extendRecoveryWindow(store: RelayStore, until: number): number {
  const current = recoveryWindowEnd(store);
  if (until > current) store.setMeta(RECOVERY_META, String(until));
  return Math.max(current, until);
}
