/* eslint-disable import-x/no-nodejs-modules, no-restricted-imports -- a Node test fixture: it runs the relay beside the client */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectionDeclaration, RelayLimits } from '@converge/protocol';
import { createRelay, MemoryStore, SqliteStore, type Relay, type RelayAuth, type RelayStore } from '@converge/sync-server';
import { memoryConnectionPair } from '@converge/sync-server/testing';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { memoryTransport } from '../sync/memory-transport.js';
import type { Transport } from '../sync/transport.js';
import { webSocketTransport, type WebSocketConstructor } from '../sync/websocket-transport.js';

export interface RelayFixtureOptions {
  /** `sqlite` (a file in a temp dir, survives restarts) or `memory` (a restart wipes it). Default `sqlite`. */
  readonly store?: 'sqlite' | 'memory';
  readonly collections?: Readonly<Record<string, CollectionDeclaration>>;
  readonly limits?: Partial<RelayLimits>;
  readonly auth?: RelayAuth;
  readonly rateLimit?: { readonly changesPerSecond: number; readonly burst: number };
  readonly now?: () => number;
}

/** A real relay on 127.0.0.1 (port 0, kept across restarts) that tests can stop, restart, wipe or restore. */
export interface RelayFixture {
  readonly url: string;
  readonly relay: Relay;
  /** In-memory connections to whichever relay is running (refused while it is down). */
  readonly memory: Transport;
  /** WebSocket connections (the `ws` package). */
  readonly ws: Transport;
  readonly WebSocket: WebSocketConstructor;
  /** The relay goes away (its store closed); clients cannot connect until `start`. */
  stop(): Promise<void>;
  /** Starts the relay again; `wipe`: on a fresh database (a new lineage); `restore`: from a copy taken with `backup`. */
  start(options?: { readonly wipe?: boolean; readonly restore?: string }): Promise<void>;
  restart(options?: { readonly wipe?: boolean }): Promise<void>;
  /** Copies the SQLite database file (the relay must be stopped); returns the copy's path. */
  backup(): Promise<string>;
  close(): Promise<void>;
}

export async function startRelayFixture(options: RelayFixtureOptions = {}): Promise<RelayFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'converge-client-'));
  const kind = options.store ?? 'sqlite';
  let generation = 0;
  const dbPath = () => join(dir, `relay-${generation}.db`);
  let relay: Relay | undefined;
  let server: Server | undefined;
  let port = 0;
  const open = async (store: RelayStore) => {
    relay = createRelay({
      store,
      logger: pino({ level: 'silent' }),
      cursorSecret: 'client-test-cursor-secret',
      ...(options.collections === undefined ? {} : { collections: options.collections }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    });
    server = createServer();
    relay.attach(server);
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const newStore = (): RelayStore => (kind === 'sqlite' ? new SqliteStore(dbPath()) : new MemoryStore());
  await open(newStore());
  const stop = async () => {
    if (relay === undefined) return;
    const [r, s] = [relay, server!];
    relay = undefined;
    server = undefined;
    await r.close();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  const fixture: RelayFixture = {
    get url() {
      return `ws://127.0.0.1:${port}/`;
    },
    get relay() {
      if (relay === undefined) throw new Error('the relay is stopped');
      return relay;
    },
    memory: memoryTransport(() => {
      if (relay === undefined) throw new Error('relay is down');
      const pair = memoryConnectionPair();
      relay.accept(pair.relayEnd);
      return pair.clientEnd;
    }),
    ws: webSocketTransport(`ws://127.0.0.1:${port}/`, WebSocket as unknown as WebSocketConstructor),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    stop,
    async start(startOptions = {}) {
      if (relay !== undefined) return;
      if (startOptions.wipe === true) generation++;
      if (startOptions.restore !== undefined && kind === 'sqlite') {
        const { copyFileSync } = await import('node:fs');
        generation++;
        copyFileSync(startOptions.restore, dbPath());
      }
      await open(newStore());
    },
    async restart(restartOptions = {}) {
      await stop();
      await fixture.start(restartOptions);
    },
    async backup() {
      const { copyFileSync } = await import('node:fs');
      const path = join(dir, `backup-${generation}-${Date.now()}.db`);
      copyFileSync(dbPath(), path);
      return path;
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
