import { callListener } from './listener-errors.js';
import type { DocChange } from './replica/doc-records.js';
import type { Doc } from './replica/read-model.js';

/** A key, or every key starting with `prefix` (`{ prefix: '' }`: the whole collection). */
export type WatchTarget = string | { readonly prefix: string };

/** One document changed by a committed batch; `doc` is undefined when it now reads as absent. */
export interface WatchEvent<T> {
  readonly key: string;
  readonly doc: Doc<T> | undefined;
}

interface Watcher {
  readonly collection: string;
  readonly target: WatchTarget;
  readonly listener: (events: WatchEvent<unknown>[]) => void;
}

const matches = (target: WatchTarget, key: string) => (typeof target === 'string' ? key === target : key.startsWith(target.prefix));

/** Watch listeners; each is called once per committed batch that touched its keys. */
export class Watchers {
  readonly #watchers = new Set<Watcher>();

  add(collection: string, target: WatchTarget, listener: (events: WatchEvent<unknown>[]) => void): () => void {
    const watcher: Watcher = { collection, target, listener };
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  get size(): number {
    return this.#watchers.size;
  }

  /** True when some watcher would see a change of this collection (so the change is worth reading). */
  watches(collection: string): boolean {
    for (const w of this.#watchers) if (w.collection === collection) return true;
    return false;
  }

  /** Delivers one committed batch; `read` turns a change into what the app sees (and remembers it). */
  deliver(changes: readonly DocChange[], read: (change: DocChange) => WatchEvent<unknown>): void {
    if (this.#watchers.size === 0 || changes.length === 0) return;
    const events = new Map<DocChange, WatchEvent<unknown>>();
    for (const watcher of [...this.#watchers]) {
      const mine = changes.filter((c) => c.collection === watcher.collection && matches(watcher.target, c.key));
      if (mine.length === 0) continue;
      const out = mine.map((c) => {
        let event = events.get(c);
        if (event === undefined) events.set(c, (event = read(c)));
        return event;
      });
      callListener(watcher.listener, out);
    }
  }
}
