import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { relayRequestListener } from '../http.js';
import type { RelayOptions } from '../relay-options.js';
import { createRelay, type Relay } from '../relay.js';
import { MemoryStore } from '../store/memory-store.js';

export interface TestRelay {
  readonly relay: Relay;
  readonly server: Server;
  readonly port: number;
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A real relay on 127.0.0.1 (port 0 unless `listen.port` names one, e.g. to restart on the same
 * port), with a silent logger and a memory store unless given; its server answers `/healthz`,
 * `/` and (with `metricsToken`, to requests bearing it) `/metrics` like the CLI's sync port.
 */
export async function startTestRelay(options: Partial<RelayOptions> = {}, listen: { readonly port?: number } = {}): Promise<TestRelay> {
  const relay = createRelay({ logger: pino({ level: 'silent' }), cursorSecret: 'test-cursor-secret', ...options, store: options.store ?? new MemoryStore() });
  const server = createServer(relayRequestListener(relay.handleRequest));
  relay.attach(server);
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    relay,
    server,
    port,
    url: `ws://127.0.0.1:${port}/`,
    async close() {
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
