import { afterEach } from 'vitest';
import { createClient, type Client } from '../client.js';
import type { ClientOptions } from '../client-options.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import type { Transport } from '../sync/transport.js';
import { startRelayFixture, type RelayFixture, type RelayFixtureOptions } from './relay-fixture.js';

let databases = 0;

/** A fresh database name per call, so tests never share state by accident. */
export function dbName(label: string): string {
  return `${label}-${++databases}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Options of a test client; `transport: undefined` opens it without a relay (offline). */
export type TestClientOptions = { readonly [K in keyof ClientOptions]?: ClientOptions[K] | undefined };

/** Clients a test opens, all closed by `closeAll` (call it in afterEach). */
export function clientSet(defaults: () => Partial<ClientOptions> & { readonly transport?: Transport }) {
  const open: Client[] = [];
  return {
    async open(name: string, options: TestClientOptions = {}): Promise<Client> {
      const client = await createClient({ storage: createMemoryStorage(name), tabs: false, ...defaults(), ...options, name } as ClientOptions);
      open.push(client);
      return client;
    },
    async closeAll(): Promise<void> {
      for (const client of open.splice(0)) await client.close();
    },
  };
}

/**
 * `clientSet` with a relay per test: `startRelay` starts a relay fixture, clients connect to it
 * in memory, and after each test the clients and then the relay are closed (call it at the top
 * of a file or of a describe).
 */
export function relayClientSet() {
  let relay: RelayFixture | undefined;
  const clients = clientSet(() => ({ transport: relay!.memory }));
  afterEach(async () => {
    await clients.closeAll();
    await relay?.close();
    relay = undefined;
  });
  return {
    ...clients,
    async startRelay(options?: RelayFixtureOptions): Promise<RelayFixture> {
      relay = await startRelayFixture(options);
      return relay;
    },
  };
}
