import { createClient, type Client } from '../client.js';
import type { ClientOptions } from '../client-types.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import type { Transport } from '../sync/transport.js';

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
