import type { PendingWrite } from '@converge/client';
import { sameWrites } from './same-writes.js';
import { useSource } from './source.js';

/** What `useOutbox` returns. */
export interface OutboxSnapshot {
  /** Writes committed locally and not yet held by the relay (every tab's), in outbox order. */
  readonly writes: readonly PendingWrite[];
  /** The outbox has not been read yet. */
  readonly loading: boolean;
}

const LOADING: OutboxSnapshot = { writes: [], loading: true };

/**
 * The pending writes (`client.watchOutbox`), kept current: a write committed here or in another
 * tab joins, a write the relay acknowledged or refused leaves.
 *
 * @example
 * ```tsx
 * function Outbox() {
 *   const { writes } = useOutbox();
 *   return <p>{writes.length} change(s) not yet sent: {writes.map((w) => w.key).join(', ')}</p>;
 * }
 * ```
 */
export function useOutbox(): OutboxSnapshot {
  return useSource<OutboxSnapshot>(
    'outbox',
    () => LOADING,
    (source, client) =>
      client.watchOutbox((writes) => {
        const now = source.get();
        if (now.loading || !sameWrites(now.writes, writes) || writes.some((w, i) => w.skewed !== now.writes[i]!.skewed)) source.set({ writes, loading: false });
      }),
  );
}
