// B3 through each system's sync: n clients in one process (fresh for every run) each set the
// same key of one shared map while offline, then all connect at once; timed until every client
// holds the converged state; bytes at all their sockets. Converge: `@converge/client` (memory
// storage, `ws`) on the relay CLI (SQLite) declaring the collection (`lwwMap`, or plain
// `siblings`), writes made paused and `resume()`d; converged when every client's key holds the
// relay's siblings (the relay keeps at most `maxSiblingsPerKey`, 100 by default, and refuses the
// pushes past it with too_many_siblings: those clients roll their write back). Yjs: a Y.Doc per
// client, y-websocket providers to its server; converged when every document has integrated
// every client's update.
import { createClient, createMemoryStorage, MemoryDatabase, type Client, type WebSocketConstructor } from '@converge/client';
import { WebSocket } from 'ws';
import type { WireBytes } from '../peers/socket-bytes.js';
import { startMeasure } from '../peers/measure.js';
import { loadPeer } from '../peers/load-peer.js';
import { caseValue, FIELD, MAP_KEY, type MapCase } from './map-cases.js';

export interface NetworkResult {
  readonly ms: number;
  readonly bytes: WireBytes;
  /** Siblings every client holds at the end (Converge); 1 for a Y.Map. */
  readonly kept: number;
  /** Writes the relay refused (too_many_siblings). */
  readonly refused: number;
  /** The value a read shows (the same on every client). */
  readonly shown: string;
}

/** The relay's default `maxSiblingsPerKey`. */
export const MAX_SIBLINGS = 100;

export async function convergeNetwork(url: string, strategy: 'lwwMap' | 'siblings', kind: MapCase, n: number, timeoutMs = 120_000): Promise<NetworkResult> {
  const collection = strategy === 'lwwMap' ? MAP_KEY : 'kv';
  const key = strategy === 'lwwMap' ? MAP_KEY : FIELD;
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(
      await createClient({
        name: `b3-${i}`,
        url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        storage: createMemoryStorage(new MemoryDatabase(`b3-${i}`)),
        tabs: false,
        paused: true,
        ackTimeoutMs: timeoutMs,
        collections: { [collection]: { strategy } },
      }),
    );
  }
  let refused = 0;
  for (const [i, client] of clients.entries()) {
    client.on('rejected', () => refused++);
    const c = client.collection(collection);
    if (strategy === 'lwwMap') await c.set(key, FIELD, caseValue(kind, i, n));
    else await c.put(key, caseValue(kind, i, n));
  }
  const expected = Math.min(n, MAX_SIBLINGS);
  const measure = await startMeasure();
  const converged = clients.map(
    (client) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          void client
            .collection(collection)
            .get(key)
            .then((doc) =>
              reject(
                new Error(
                  `B3 ${strategy}: a client did not converge within ${timeoutMs} ms: it holds ${doc === undefined ? 'nothing' : `${doc.version.vv.size + doc.version.cloud.length} of ${expected} writes, pending ${doc.pending}`}; ` +
                    `status ${JSON.stringify({ ...client.status.get(), error: String(client.status.get().error ?? '') })}`,
                ),
              ),
            );
        }, timeoutMs);
        // Checked on what can complete it: a change applied (watch), this client's write acked or
        // refused; and every 100 ms besides, so no event missed can leave it waiting.
        let checking = false;
        let again = false;
        let done = false;
        const check = async (): Promise<void> => {
          if (done) return;
          if (checking) return void (again = true);
          checking = true;
          do {
            again = false;
            // Every accepted write is one replica's first dot: all are in once the version holds `expected` replicas.
            const doc = await client.collection(collection).get(key);
            if (doc !== undefined && !doc.pending && doc.version.vv.size + doc.version.cloud.length === expected) {
              done = true;
              clearTimeout(timer);
              clearInterval(poll);
              resolve();
            }
          } while (again && !done);
          checking = false;
        };
        const poll = setInterval(() => void check(), 100);
        client.collection(collection).watch({ prefix: '' }, () => void check());
        client.on('rejected', () => void check());
        client.on('acked', () => void check());
      }),
  );
  for (const client of clients) client.resume();
  await Promise.all(converged);
  const { ms, bytes } = await measure.stop();
  const views = await Promise.all(
    clients.map(async (c) => JSON.stringify([(await c.collection(collection).inspect(key)).context, (await c.collection(collection).get(key))?.value])),
  );
  if (views.some((v) => v !== views[0])) throw new Error(`B3 ${strategy}: the clients differ`);
  const doc = await clients[0]!.collection(collection).get(key);
  const shown = strategy === 'lwwMap' ? JSON.stringify((doc?.value as Map<string, unknown> | undefined)?.get(FIELD)) : JSON.stringify(doc?.value);
  await Promise.all(clients.map((c) => c.close()));
  return { ms, bytes, kept: expected, refused, shown };
}

interface YDoc {
  getMap(name: string): { set(key: string, value: unknown): void; get(key: string): unknown };
  on(event: 'update', f: () => void): void;
}
interface Yjs {
  Doc: new () => YDoc;
  encodeStateVector(doc: YDoc): Uint8Array;
  decodeStateVector(vector: Uint8Array): Map<number, number>;
}
interface Provider {
  destroy(): void;
}
interface YWebsocket {
  WebsocketProvider: new (url: string, room: string, doc: YDoc, options: { WebSocketPolyfill: unknown; disableBc: boolean }) => Provider;
}

class PlainWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false });
  }
}

export async function yjsNetwork(url: string, kind: MapCase, n: number, timeoutMs = 120_000): Promise<NetworkResult> {
  const Y = await loadPeer<Yjs>('yjs');
  const { WebsocketProvider } = await loadPeer<YWebsocket>('y-websocket');
  const docs = Array.from({ length: n }, (_, i) => {
    const doc = new Y.Doc();
    doc.getMap(MAP_KEY).set(FIELD, caseValue(kind, i, n));
    return doc;
  });
  const measure = await startMeasure();
  const converged = docs.map(
    (doc) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`B3 yjs: a document did not converge within ${timeoutMs} ms`)), timeoutMs);
        doc.on('update', () => {
          if (Y.decodeStateVector(Y.encodeStateVector(doc)).size === n) {
            clearTimeout(timer);
            resolve();
          }
        });
      }),
  );
  const providers = docs.map((doc) => new WebsocketProvider(url, 'b3', doc, { WebSocketPolyfill: PlainWebSocket, disableBc: true }));
  await Promise.all(converged);
  const { ms, bytes } = await measure.stop();
  const shown = docs.map((d) => JSON.stringify(d.getMap(MAP_KEY).get(FIELD)));
  if (shown.some((v) => v !== shown[0])) throw new Error('B3 yjs: the documents differ');
  for (const p of providers) p.destroy();
  return { ms, bytes, kept: 1, refused: 0, shown: shown[0]! };
}
