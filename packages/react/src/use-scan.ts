import type { Doc, ScanOptions, WatchEvent } from '@converge/client';
import { applyToWindow } from './scan-window.js';
import { useSource } from './source.js';

/** What `useScan` returns. */
export interface ScanSnapshot<T> {
  /** The documents in key order (absent ones skipped), at most `limit`. */
  readonly docs: readonly Doc<T>[];
  /** The first read from storage has not answered yet (then `docs` is empty). */
  readonly loading: boolean;
  /** The last read failed (storage closed or failed). */
  readonly error: Error | undefined;
}

const LOADING: ScanSnapshot<never> = { docs: [], loading: true, error: undefined };

/**
 * The documents of a collection whose keys start with `prefix` (default: all), in key order,
 * at most `limit`, kept current. A change applies to the list as it is (a changed document is
 * a new object, the others keep theirs); the collection is read again only when a key leaves a
 * full window. Components asking for the same collection, prefix and limit share one snapshot.
 *
 * @example
 * ```tsx
 * function Todos() {
 *   const { docs, loading } = useScan<Todo>('todos', { prefix: 'todo:', limit: 100 });
 *   if (loading) return <p>…</p>;
 *   return <ul>{docs.map((d) => <li key={d.key}>{d.value.text}</li>)}</ul>;
 * }
 * ```
 */
export function useScan<T = unknown>(collection: string, options: ScanOptions = {}): ScanSnapshot<T> {
  const { prefix = '', limit = Infinity } = options;
  return useSource<ScanSnapshot<T>>(
    `scan\0${collection}\0${prefix}\0${limit}`,
    () => LOADING,
    (source, client) => {
      const docs = client.collection<T>(collection);
      /** Changes heard while a read runs, applied on top of what it returns; undefined: none runs. */
      let heard: WatchEvent<T>[] | undefined;
      let running = true;
      const apply = (list: readonly Doc<T>[], events: readonly WatchEvent<T>[]) => {
        const next = applyToWindow(list, events, limit);
        if (next === undefined) read();
        else source.set({ docs: next, loading: false, error: undefined });
      };
      const read = () => {
        heard = [];
        docs.scan({ prefix, limit }).then(
          (list) => {
            const events = heard!;
            heard = undefined;
            if (running) apply(list, events);
          },
          (error: Error) => {
            heard = undefined;
            source.set({ ...source.get(), loading: false, error });
          },
        );
      };
      const stop = docs.watch({ prefix }, (events) => (heard === undefined ? apply(source.get().docs, events) : heard.push(...events)));
      read();
      return () => {
        running = false;
        stop();
      };
    },
  );
}
