import type { ClientStatus } from '@converge/client';
import { useSource } from './source.js';

/**
 * `client.status`, kept current: `connection` (`offline`, `connecting`, `syncing`, `synced`),
 * `pending`, `positions`, `lastSyncedAt`, `error`, `storage`, `role`, `replicaId`, `paused`.
 * The object is the client's own, replaced on each change.
 *
 * @example
 * ```tsx
 * function SyncBadge() {
 *   const { connection, pending } = useSyncStatus();
 *   return <span>{connection}{pending > 0 ? ` (${pending} to send)` : ''}</span>;
 * }
 * ```
 */
export function useSyncStatus(): ClientStatus {
  return useSource<ClientStatus>(
    'status',
    (client) => client.status.get(),
    (source, client) => client.status.subscribe((status) => source.set(status)),
  );
}
