// Converge's relay over its in-memory store (what the peers' relays use), with the CLI's
// limits and the per-connection rate limit lifted (only replica A's seeding hits it). Plain
// JavaScript run by node with no loader, like the CLI. Prints {"port": N} once listening.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createRelay, MemoryStore } from '@converge/sync-server';

const UNLIMITED = { changesPerSecond: 1e9, burst: 1e9 };

/** A relay on a fresh MemoryStore, listening on 127.0.0.1 (`port` 0: any free one). */
export async function startMemoryRelay(port = 0) {
  const relay = createRelay({
    store: new MemoryStore(),
    cursorSecret: 'bench-cursor-secret-0123456789',
    rateLimit: UNLIMITED,
    principalRateLimit: UNLIMITED,
  });
  const server = createServer();
  relay.attach(server);
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  return {
    port: server.address().port,
    close: async () => {
      server.close();
      await relay.close();
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { port, close } = await startMemoryRelay();
  console.log(JSON.stringify({ port }));
  process.on('SIGTERM', () => void close().then(() => process.exit(0)));
}
