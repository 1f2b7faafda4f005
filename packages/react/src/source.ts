import { useSyncExternalStore } from 'react';
import type { Client } from '@converge/client';
import { useClient } from './provider.js';

/**
 * An external store for `useSyncExternalStore`: one snapshot, replaced (never mutated) on each
 * change the client notifies, so `get` returns the same object until something changed. It
 * starts following the client with its first subscriber and stops with its last.
 */
export class Source<S> {
  private readonly listeners = new Set<() => void>();
  private stop: (() => void) | undefined;

  constructor(
    private snapshot: S,
    /** Follows the client, calling `set` on each change; returns the unsubscribe function. */
    private readonly follow: (source: Source<S>) => () => void,
    /** Called when it starts and stops following (it keeps the registry of shared sources). */
    private readonly running: (on: boolean) => void,
  ) {}

  readonly get = (): S => this.snapshot;

  set(next: S): void {
    if (next === this.snapshot) return;
    this.snapshot = next;
    for (const listener of [...this.listeners]) listener();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      this.running(true);
      this.stop = this.follow(this);
    }
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.stop?.();
      this.stop = undefined;
      this.running(false);
    };
  };
}

/** The sources of each client, shared by every component that asks for the same thing. */
const registries = new WeakMap<Client, Map<string, Source<unknown>>>();

/**
 * The snapshot of the source named `id` of the provider's client (made by `initial` and `follow`
 * the first time it is asked for), kept current by `useSyncExternalStore`.
 */
export function useSource<S>(id: string, initial: (client: Client) => S, follow: (source: Source<S>, client: Client) => () => void): S {
  const client = useClient();
  let sources = registries.get(client);
  if (sources === undefined) registries.set(client, (sources = new Map()));
  let source = sources.get(id) as Source<S> | undefined;
  if (source === undefined) {
    const registry = sources;
    const made: Source<S> = new Source(
      initial(client),
      (s) => follow(s, client),
      (on) => {
        // A stopped source leaves the registry (the next asker starts afresh); one restarted by a
        // component still holding it (StrictMode's second mount) comes back unless replaced.
        if (on && !registry.has(id)) registry.set(id, made as Source<unknown>);
        else if (!on && registry.get(id) === made) registry.delete(id);
      },
    );
    sources.set(id, made as Source<unknown>);
    source = made;
  }
  return useSyncExternalStore(source.subscribe, source.get, source.get);
}
