import type { RejectedWrite } from '@converge/client';
import { sameWrites } from './same-writes.js';
import { useSource } from './source.js';

/** What `useRejected` returns. */
export interface RejectedSnapshot {
  /** Writes the relay refused for good, each with `retry()` and `discard()`. */
  readonly writes: readonly RejectedWrite[];
  /** The list has not been read yet. */
  readonly loading: boolean;
}

const LOADING: RejectedSnapshot = { writes: [], loading: true };

/**
 * The writes the relay refused for good (`client.rejected()`), kept current: a refusal heard in
 * any tab joins the list; `retry()` (a new write over the current value) or `discard()` on one
 * of these writes removes it, and so does a retry of that key's write made through this tab's
 * client. (The client announces no discard made elsewhere — by another tab, or through
 * `client.rejected()` directly: the list shows it at the next refusal or the next mount.)
 *
 * @example
 * ```tsx
 * function Refused() {
 *   const { writes, loading } = useRejected();
 *   if (!loading && writes.length === 0) return <p>Nothing refused.</p>;
 *   return writes.map((w) => (
 *     <p key={w.writeId}>
 *       {w.key}: {w.message} <button onClick={() => w.retry()}>retry</button> <button onClick={() => w.discard()}>discard</button>
 *     </p>
 *   ));
 * }
 * ```
 */
export function useRejected(): RejectedSnapshot {
  return useSource<RejectedSnapshot>(
    'rejected',
    () => LOADING,
    (source, client) => {
      let reads = 0;
      let running = true;
      const read = (): void => {
        const n = ++reads;
        client.rejected().then(
          (writes) => {
            if (!running || n !== reads) return; // an older read answered late
            const now = source.get();
            if (now.loading || !sameWrites(now.writes, writes)) source.set({ writes: writes.map(followed), loading: false });
          },
          () => undefined, // storage closed: the client reports it in its status
        );
      };
      const followed = (w: RejectedWrite): RejectedWrite => ({
        ...w,
        retry: (options) => w.retry(options).finally(read),
        discard: () => w.discard().finally(read),
      });
      const stops = [
        client.on('rejected', read),
        client.on('written', (e) => source.get().writes.some((w) => w.collection === e.collection && w.key === e.key) && read()),
      ];
      read();
      return () => {
        running = false;
        for (const stop of stops) stop();
      };
    },
  );
}
