// Yjs in the peer benchmark: each replica a Y.Doc with one Y.Map of records, synced through
// y-websocket 2.1.0's WebsocketProvider with its server utilities as the relay (relay.cjs).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { PeerDriver, W1CatchUp, W2Outcome } from '../driver.js';
import { loadPeer } from '../load-peer.js';
import { spawnRelayScript } from '../relay-child.js';
import { startMeasure } from '../measure.js';
import { recordKey, recordValue, touch, w2Key, w2Value, type W1Workload, type W2Workload } from '../workload.js';

// The members of yjs and y-websocket the driver uses.
interface YMap {
  set(key: string, value: unknown): void;
  get(key: string): unknown;
  readonly size: number;
  toJSON(): Record<string, unknown>;
}
interface YDoc {
  getMap(name: string): YMap;
  on(event: 'update', f: () => void): void;
  destroy(): void;
}
interface Yjs {
  Doc: new () => YDoc;
  encodeStateVector(doc: YDoc): Uint8Array;
  encodeStateAsUpdate(doc: YDoc): Uint8Array;
}
interface Provider {
  readonly synced: boolean;
  once(event: 'sync', f: (synced: boolean) => void): void;
  destroy(): void;
}
interface YWebsocket {
  WebsocketProvider: new (url: string, room: string, doc: YDoc, options: { WebSocketPolyfill: unknown; disableBc: boolean }) => Provider;
}

const ROOM = 'records';
const MAP = 'records';
/** The seeded document a relay started on `dir` loads (relay.mjs). */
const STATE_FILE = 'yjs-state.bin';

/**
 * What the provider constructs: `ws`, with permessage-deflate off (Node 20 has no WebSocket
 * global), taking messages up to 1 GiB as a browser would (ws's default stops at 100 MiB, and a
 * Yjs catch-up is one message).
 */
class PlainWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  }
}

async function load() {
  const Y = await loadPeer<Yjs>('yjs');
  const { WebsocketProvider } = await loadPeer<YWebsocket>('y-websocket');
  const connect = (url: string, doc: YDoc): { provider: Provider; synced: Promise<void> } => {
    const provider = new WebsocketProvider(url, ROOM, doc, { WebSocketPolyfill: PlainWebSocket, disableBc: true });
    return { provider, synced: new Promise((resolve) => provider.once('sync', () => resolve())) };
  };
  return { Y, connect };
}

/** Resolves once `doc`'s map holds `size` entries. */
function mapSize(doc: YDoc, size: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => doc.getMap(MAP).size >= size && resolve();
    doc.on('update', check);
    check();
  });
}

async function write(url: string, { records }: W1Workload): Promise<undefined> {
  const { Y, connect } = await load();
  const doc = new Y.Doc();
  const map = doc.getMap(MAP);
  for (let i = 1; i <= records; i++) map.set(recordKey(i), recordValue(i)); // one transaction per record, as an app's writes
  const a = connect(url, doc);
  // y-websocket has no acknowledgement: a second replica reads until the relay serves everything.
  const check = new Y.Doc();
  const checker = connect(url, check);
  await Promise.all([a.synced, checker.synced, mapSize(check, records)]);
  a.provider.destroy();
  checker.provider.destroy();
}

/** The document A would leave in the relay, written where a relay started on `dir` loads it. */
async function seed(dir: string, { records }: W1Workload): Promise<void> {
  const { Y } = await load();
  const doc = new Y.Doc();
  const map = doc.getMap(MAP);
  for (let i = 1; i <= records; i++) map.set(recordKey(i), recordValue(i)); // one transaction per record, as A writes
  writeFileSync(join(dir, STATE_FILE), Y.encodeStateAsUpdate(doc));
}

async function catchUp(url: string, { records }: W1Workload): Promise<W1CatchUp> {
  const { Y, connect } = await load();
  const measure = await startMeasure();
  const doc = new Y.Doc();
  const b = connect(url, doc);
  await b.synced;
  const map = doc.getMap(MAP);
  let readable = 0;
  let checksum = 0;
  for (let i = 1; i <= records; i++) {
    const value = map.get(recordKey(i));
    if (value === undefined) continue;
    readable++;
    checksum += touch(value);
  }
  const measured = await measure.stop();
  b.provider.destroy();
  return { ...measured, readable, checksum };
}

async function w2(url: string, { updates, keys }: W2Workload): Promise<W2Outcome> {
  const { Y, connect } = await load();
  const docs = [new Y.Doc(), new Y.Doc()] as const;
  docs.forEach((doc, r) => {
    const map = doc.getMap(MAP);
    for (let u = 0; u < updates; u++) map.set(w2Key(u % keys), w2Value(r, u)); // one transaction per update, as an app's edits
  });
  const measure = await startMeasure();
  const same = () => Buffer.from(Y.encodeStateVector(docs[0])).equals(Y.encodeStateVector(docs[1]));
  const converged = new Promise<void>((resolve) => {
    for (const doc of docs) doc.on('update', () => same() && resolve());
  });
  const providers = docs.map((doc) => connect(url, doc).provider);
  await converged;
  const { ms, bytes: wire } = await measure.stop();
  const [a, b] = docs.map((doc) => doc.getMap(MAP).toJSON()) as [Record<string, unknown>, Record<string, unknown>];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) throw new Error(`W2: the Yjs replicas differ at ${key}`);
  }
  for (const provider of providers) provider.destroy();
  // A Y.Map keeps one value per key: the concurrent write that lost is gone.
  return { ms, bytes: wire, kept: docs[0].getMap(MAP).size, keys: docs[0].getMap(MAP).size };
}

export const yjs: PeerDriver = {
  name: 'yjs',
  label: 'Yjs 13.6 (y-websocket 2.1 server utils)',
  startRelay: (dir) => {
    const state = join(dir, STATE_FILE);
    return spawnRelayScript(fileURLToPath(new URL('./relay.mjs', import.meta.url)), (port) => `ws://127.0.0.1:${port}`, existsSync(state) ? { YJS_STATE_FILE: state } : {});
  },
  w1: { write, catchUp, seed },
  w2,
};
