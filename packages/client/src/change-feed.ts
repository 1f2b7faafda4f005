import type { ReadMemories } from './read-memory.js';
import type { RelayLink } from './relay-link.js';
import type { DocChange } from './replica/doc-records.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { TabCoordinator } from './tabs/tab-coordinator.js';
import { Watchers, type WatchEvent, type WatchTarget } from './watchers.js';

/**
 * Where committed changes go: every transaction of this tab that changed records (a local
 * write, changes from the relay, a refused write rolled back, a rewrite) is delivered here once.
 * Watchers hear of it (each record read as the app sees it, and remembered as returned), the
 * other tabs are told which keys changed, and after a local write the push loop is kicked.
 * Changes another tab committed arrive as keys and are re-read for this tab's watchers.
 */
export class ChangeFeed {
  readonly #watchers = new Watchers();

  readonly #replica: LocalReplica;
  readonly #memories: ReadMemories;
  readonly #tabs: TabCoordinator;
  readonly #link: RelayLink;

  constructor(replica: LocalReplica, memories: ReadMemories, tabs: TabCoordinator, link: RelayLink) {
    this.#replica = replica;
    this.#memories = memories;
    this.#tabs = tabs;
    this.#link = link;
  }

  watch(collection: string, target: WatchTarget, listener: (events: WatchEvent<unknown>[]) => void): () => void {
    return this.#watchers.add(collection, target, listener);
  }

  /** Records changed by a transaction this tab committed; `wrote`: it added writes to the outbox. */
  committed(changes: readonly DocChange[], wrote: boolean): void {
    if (changes.length === 0) return;
    this.#watchers.deliver(changes, (c) => this.#event(c));
    if (wrote) this.#link.kick();
    if (!this.#tabs.shared) return;
    const byCollection = new Map<string, string[]>();
    for (const c of changes) {
      const keys = byCollection.get(c.collection);
      if (keys === undefined) byCollection.set(c.collection, [c.key]);
      else keys.push(c.key);
    }
    for (const [collection, keys] of byCollection) this.#tabs.post({ type: 'changed', collection, keys, outbox: wrote });
  }

  /** Another tab committed changes to these keys: re-read them for this tab's watchers. */
  async changedElsewhere(collection: string, keys: readonly string[]): Promise<void> {
    if (!this.#watchers.watches(collection)) return;
    const records = await this.#replica.docs(collection, keys);
    this.#watchers.deliver(
      keys.map((key, i) => ({ collection, key, record: records[i] })),
      (c) => this.#event(c),
    );
  }

  #event(change: DocChange): WatchEvent<unknown> {
    if (change.record === undefined) return { key: change.key, doc: undefined };
    return { key: change.key, doc: this.#memories.read(this.#replica.spec(change.collection), change.record) };
  }
}
