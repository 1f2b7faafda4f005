/* eslint-disable import-x/no-nodejs-modules, no-restricted-imports -- a Node test fixture: it runs the relay beside the client */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectionDeclaration, RelayLimits } from '@converge/protocol';
import { MemoryStore, SqliteStore, type Relay, type RelayAuth } from '@converge/sync-server';
import { memoryConnectionPair, startTestRelay, type TestRelay } from '@converge/sync-server/testing';
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
  const { store: kind = 'sqlite', ...relayOptions } = options;
  let generation = 0;
  const dbPath = () => join(dir, `relay-${generation}.db`);
  let running: TestRelay | undefined;
  let port = 0;
  const open = async () => {
    const store = kind === 'sqlite' ? new SqliteStore(dbPath()) : new MemoryStore();
    running = await startTestRelay({ ...relayOptions, store, cursorSecret: 'client-test-cursor-secret' }, { port });
    port = running.port;
  };
  await open();
  const stop = async () => {
    const stopping = running;
    running = undefined;
    await stopping?.close();
  };
  const fixture: RelayFixture = {
    get url() {
      return `ws://127.0.0.1:${port}/`;
    },
    get relay() {
      if (running === undefined) throw new Error('the relay is stopped');
      return running.relay;
    },
    memory: memoryTransport(() => {
      if (running === undefined) throw new Error('relay is down');
      const pair = memoryConnectionPair();
      running.relay.accept(pair.relayEnd);
      return pair.clientEnd;
    }),
    ws: webSocketTransport(`ws://127.0.0.1:${port}/`, WebSocket),
    WebSocket: WebSocket,
    stop,
    async start(startOptions = {}) {
      if (running !== undefined) return;
      if (startOptions.wipe === true) generation++;
      if (startOptions.restore !== undefined && kind === 'sqlite') {
        generation++;
        copyFileSync(startOptions.restore, dbPath());
      }
      await open();
    },
    async restart(restartOptions = {}) {
      await stop();
      await fixture.start(restartOptions);
    },
    async backup() {
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
