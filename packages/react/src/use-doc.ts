import type { Client, Conflict, Doc, Version } from '@converge/client';
import { useSource } from './source.js';

/** What `useDoc` returns. */
export interface DocSnapshot<T> {
  /** The value this replica reads for the key (pending local writes included); undefined while loading or when absent. */
  readonly value: T | undefined;
  /** The key has a value (false while loading, and for an absent or deleted key). */
  readonly exists: boolean;
  /** Concurrent versions left to resolve (`collection.resolve`); empty when there is nothing to resolve. */
  readonly conflicts: readonly Conflict<T>[];
  /** A local write to this key is not yet held by the relay (false for an absent key). */
  readonly pending: boolean;
  /** The value shown is one the relay has acknowledged. */
  readonly confirmed: boolean;
  /** The version of the value shown: pass it to `put(key, value, { version })` to write over exactly it. */
  readonly version: Version | undefined;
  /** The first read from storage has not answered yet (then `exists` is false and `value` undefined). */
  readonly loading: boolean;
  /** That read failed (storage closed or failed). */
  readonly error: Error | undefined;
}

const NONE: readonly never[] = [];
const base = { value: undefined, exists: false, conflicts: NONE, pending: false, confirmed: false, version: undefined, error: undefined };
const LOADING: DocSnapshot<never> = { ...base, loading: true };
const ABSENT: DocSnapshot<never> = { ...base, loading: false };

/** Per client, the listeners waiting for the relay's answers to writes, behind one `acked` and one `rejected` listener. */
const answerListeners = new WeakMap<Client, { readonly listeners: Set<() => void>; readonly stop: () => void }>();

/** Calls `listener` whenever the relay acknowledges or refuses writes of `client`; returns the unsubscribe function. */
function onWriteAnswers(client: Client, listener: () => void): () => void {
  let hub = answerListeners.get(client);
  if (hub === undefined) {
    const listeners = new Set<() => void>();
    const call = () => {
      for (const l of [...listeners]) l();
    };
    const stopAcked = client.on('acked', call);
    const stopRejected = client.on('rejected', call);
    hub = {
      listeners,
      stop: () => {
        stopAcked();
        stopRejected();
      },
    };
    answerListeners.set(client, hub);
  }
  const { listeners } = hub;
  listeners.add(listener);
  return () => {
    if (!listeners.delete(listener) || listeners.size > 0) return;
    answerListeners.get(client)?.stop();
    answerListeners.delete(client);
  };
}

const snapshotOf = <T>(doc: Doc<T> | undefined): DocSnapshot<T> =>
  doc === undefined
    ? ABSENT
    : {
        value: doc.value,
        exists: true,
        conflicts: doc.conflicts,
        pending: doc.pending,
        confirmed: doc.confirmed,
        version: doc.version,
        loading: false,
        error: undefined,
      };

/**
 * One document of a collection, kept current: the component renders again when that key
 * changes (a local write, a remote change, another tab's write, the relay's ack) and for nothing
 * else. Every component asking for the same key shares one subscription and one snapshot, which
 * stays the same object until the key changes. The first render of a key no component holds
 * yet is `{ loading: true, exists: false }` until storage answers.
 *
 * @example
 * ```tsx
 * function Title() {
 *   const title = useDoc<string>('lists', 'groceries');
 *   if (title.loading) return <p>…</p>;
 *   return <h1 className={title.pending ? 'saving' : ''}>{title.value ?? 'Untitled'}</h1>;
 * }
 * ```
 */
export function useDoc<T = unknown>(collection: string, key: string): DocSnapshot<T> {
  return useSource<DocSnapshot<T>>(
    `doc\0${collection}\0${key}`,
    () => LOADING,
    (source, client) => {
      const docs = client.collection<T>(collection);
      let heard = false;
      const stop = docs.watch(key, (events) => {
        heard = true; // a change is newer than any read started before it
        source.set(snapshotOf(events[events.length - 1]!.doc));
      });
      docs.get(key).then(
        (doc) => heard || source.set(snapshotOf(doc)),
        (error: Error) => heard || source.set({ ...source.get(), loading: false, error }),
      );
      // `watch` fires for changes of the value, not for the relay's answer to a write: while the
      // snapshot is pending, it is read again when the relay acknowledges or refuses writes.
      let reading = 0;
      const stopAnswers = onWriteAnswers(client, () => {
        if (!source.get().pending) return;
        const read = ++reading;
        docs.get(key).then(
          (doc) => read === reading && source.set(snapshotOf(doc)),
          () => undefined, // a closed client: its watch ends too
        );
      });
      return () => {
        stop();
        stopAnswers();
      };
    },
  );
}
