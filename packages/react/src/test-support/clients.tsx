import { createClient, createMemoryStorage, type Client, type ClientOptions } from '@converge/client';
import { startRelayFixture, type RelayFixture, type RelayFixtureOptions } from '@converge/client/testing';
import type { ReactNode } from 'react';
import { afterEach } from 'vitest';
import { ConvergeProvider } from '../provider.js';

let databases = 0;

/** A fresh database name per call, so tests never share state by accident. */
export const dbName = (label: string): string => `${label}-${++databases}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Real clients on memory storage (a `name` shared by two calls is one database: two tabs), and
 * a real relay on 127.0.0.1 when a test starts one; all closed after each test.
 */
export function testClients() {
  const open: Client[] = [];
  let relay: RelayFixture | undefined;
  afterEach(async () => {
    for (const client of open.splice(0)) await client.close();
    await relay?.close();
    relay = undefined;
  });
  return {
    async startRelay(options?: RelayFixtureOptions): Promise<RelayFixture> {
      relay = await startRelayFixture(options);
      return relay;
    },
    /** A client of database `name`; connected to the relay when one was started. */
    async open(name: string, options: Partial<ClientOptions> = {}): Promise<Client> {
      const client = await createClient({
        storage: createMemoryStorage(name),
        tabs: false,
        ...(relay === undefined ? {} : { transport: relay.memory }),
        ...options,
        name,
      });
      open.push(client);
      return client;
    },
  };
}

/** A `wrapper` for `render`/`renderHook`: the provider (StrictMode: `render`'s `reactStrictMode: true`). */
export const providerOf =
  (client: Client) =>
  ({ children }: { readonly children?: ReactNode }) => <ConvergeProvider client={client}>{children}</ConvergeProvider>;

/**
 * Counts the client subscriptions the hooks hold (watches, events, outbox and status
 * listeners), by wrapping the client's public methods; `live()` is how many are open now.
 */
export function countSubscriptions(client: Client): { live(): number; opened(): number } {
  let live = 0;
  let opened = 0;
  const counted =
    <A extends unknown[]>(subscribe: (...args: A) => () => void) =>
    (...args: A): (() => void) => {
      const stop = subscribe(...args);
      live++;
      opened++;
      let stopped = false;
      return () => {
        if (!stopped) live--;
        stopped = true;
        stop();
      };
    };
  const c = client as unknown as Record<string, (...args: never[]) => () => void>;
  for (const method of ['on', 'watchOutbox'] as const) c[method] = counted(c[method]!.bind(client));
  // Watches are each collection's (one object per name): counted on every collection handed out.
  const collection = client.collection.bind(client);
  const watched = new WeakSet<object>();
  client.collection = <T,>(name: string) => {
    const found = collection<T>(name);
    if (!watched.has(found)) {
      watched.add(found);
      found.watch = counted(found.watch.bind(found));
    }
    return found;
  };
  const status = client.status as unknown as { subscribe: (listener: never) => () => void };
  status.subscribe = counted(status.subscribe.bind(client.status));
  return { live: () => live, opened: () => opened };
}
