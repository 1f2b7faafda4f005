import type { ChangeFeed } from './change-feed.js';
import type { ClientEvents } from './client-events.js';
import type { ResolvedClientOptions } from './client-options.js';
import type { Emitter } from './emitter.js';
import type { LocalWrites } from './local-writes.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { LiveStatus } from './live-status.js';
import type { SyncHost } from './sync/sync-host.js';
import type { TabCoordinator } from './tabs/tab-coordinator.js';
import { statusMessage } from './tabs/tab-messages.js';

export interface SyncHostParts {
  readonly options: Pick<ResolvedClientOptions, 'token' | 'now' | 'random'>;
  readonly replica: LocalReplica;
  readonly status: LiveStatus;
  readonly events: Emitter<ClientEvents>;
  readonly feed: ChangeFeed;
  readonly writes: LocalWrites;
  readonly tabs: TabCoordinator;
}

/**
 * What the sync engine of the tab holding the socket reports, and where each report goes in
 * the client: changed records to the change feed, acks and refusals to the local writes, the
 * connection's state to the status; every outcome the other tabs must hear is posted to them.
 */
export function clientSyncHost(parts: SyncHostParts): SyncHost {
  const { replica, status, events, feed, writes, tabs } = parts;
  const tellTabs = () => tabs.post(statusMessage(status.get()));
  return {
    replica,
    collections: () => replica.collections(),
    token: parts.options.token,
    committed: (changes) => feed.committed(changes, false),
    rewritten: (written) => {
      for (const w of written) events.emit('written', { writeId: w.writeId, collection: w.collection, key: w.key, dot: w.dot, version: w.version });
    },
    acked: (writeIds, level, unavailable = false) => {
      writes.acked(writeIds, level, unavailable);
      tabs.post(unavailable ? { type: 'acked', writeIds, level, unavailable } : { type: 'acked', writeIds, level });
    },
    rejected: (records) => tabs.post({ type: 'rejected', writes: writes.rejected(records) }),
    connection: (state) => {
      status.update(state === 'synced' ? { connection: state, pending: 0 } : { connection: state });
      tellTabs();
    },
    positions: (cursors) => {
      status.update({ positions: Object.fromEntries(cursors) });
      tellTabs();
    },
    error: (error) => {
      status.update({ error });
      tellTabs();
    },
    replicaChanged: (changes) => {
      feed.committed(changes, false);
      status.update({ replicaId: replica.replicaId });
      tabs.post({ type: 'replica' });
    },
    now: parts.options.now,
    random: parts.options.random,
  };
}
