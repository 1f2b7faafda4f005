import { ConvergeError } from '@converge/conflict';
import type { ChangeFeed } from './change-feed.js';
import type { LocalWrites } from './local-writes.js';
import type { OutboxViews } from './outbox-views.js';
import type { RelayLink } from './relay-link.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { LiveStatus } from './live-status.js';
import type { FollowerReads } from './tabs/follower-reads.js';
import type { TabCoordinator } from './tabs/tab-coordinator.js';
import { errorInfo, statusMessage, TAB_PROTOCOL, type TabMessage } from './tabs/tab-messages.js';

export interface TabBridgeParts {
  readonly tabs: TabCoordinator;
  readonly replica: LocalReplica;
  readonly status: LiveStatus;
  readonly feed: ChangeFeed;
  readonly writes: LocalWrites;
  readonly views: OutboxViews;
  readonly link: RelayLink;
  readonly followerReads: FollowerReads;
  /** Closes this client (another tab deleted the database). */
  close(): Promise<void>;
  /** Work a message started failed: reported in the status, never an unhandled rejection. */
  failed(error: unknown): void;
}

/**
 * What this tab does with the other tabs' messages (docs/CLIENT.md, "Multi-tab protocol"): a
 * follower mirrors the leader's status and outcomes, the leader pushes the followers' writes and
 * answers their reads, every tab re-reads keys another tab changed. A message this tab cannot
 * read — another build's, after a deploy — is refused, and said once per version in the status.
 */
export class TabBridge {
  readonly #refusedVersions = new Set<number | undefined>();

  readonly #parts: TabBridgeParts;

  constructor(parts: TabBridgeParts) {
    this.#parts = parts;
  }

  /** This tab waits for the lock: mirror the leader's status (ask for it now). */
  follow(): void {
    this.#parts.status.update({ role: this.#parts.tabs.role });
    this.#parts.tabs.post({ type: 'status?' });
  }

  message(message: TabMessage): void {
    const { tabs, replica, status, feed, writes, views, link } = this.#parts;
    const leader = link.leading;
    switch (message.type) {
      case 'changed':
        feed.changedElsewhere(message.collection, message.keys).catch(() => undefined);
        if (message.outbox) {
          link.kick();
          void views.refresh();
        }
        return;
      case 'acked':
        writes.acked(message.writeIds, message.level, message.unavailable === true);
        return;
      case 'rejected':
        writes.rejectedElsewhere(message.writes);
        return;
      case 'status':
        if (!leader) {
          const error = message.error === undefined ? undefined : new ConvergeError(message.error.code, message.error.message);
          status.update({ connection: message.connection, positions: message.positions, error });
        }
        return;
      case 'status?':
        if (leader) tabs.post(statusMessage(status.get()));
        return;
      case 'read':
        if (leader) {
          link.read(message.collection, message.keys).then(
            () => tabs.post({ type: 'read-done', id: message.id, error: undefined }),
            (error: ConvergeError) => tabs.post({ type: 'read-done', id: message.id, error: errorInfo(error) }),
          );
        }
        return;
      case 'read-done':
        this.#parts.followerReads.done(message.id, message.error);
        return;
      case 'collection':
        if (leader) {
          replica.spec(message.name);
          link.subscribe(message.name);
        }
        return;
      case 'replica':
        replica.open().then((rep) => status.update({ replicaId: rep.id }), this.#parts.failed);
        link.kick(); // a session still speaking for the old id reconnects
        return;
      case 'destroyed':
        this.#parts.close().catch(this.#parts.failed);
        return;
    }
  }

  /** Data this tab cannot read (`TabHandlers.refused`): ignored; the first of each version is reported. */
  refused(problem: string, version: number | undefined): void {
    if (this.#refusedVersions.has(version)) return;
    this.#refusedVersions.add(version);
    const message =
      version === TAB_PROTOCOL
        ? `a malformed message from another tab was ignored (${problem})`
        : `a message from another tab was ignored (${problem}): a tab of another build of this app is open; tabs of different builds sync on their own until it is reloaded`;
    this.#parts.status.update({ error: new ConvergeError('bad_message', message) });
  }
}
