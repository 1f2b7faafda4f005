import { EMPTY_CONTEXT, emptyDocState, readCrdt, writeDoc, type DocState } from '@converge/conflict';
import {
  decodeRelayFrame,
  decodeValue,
  encodeFrame,
  encodeValue,
  encodeWireState,
  PROTOCOL_VERSION,
  type RelayFrame,
  type WireValue,
} from '@converge/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { crdtDocFromWire } from '../crdt-wire.js';
import { crdtTypeOf } from '../collections.js';
import { createRelay, type Relay } from '../relay.js';
import { MemoryStore } from '../store/memory-store.js';
import { memoryConnectionPair } from '../testing/memory-connection.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';
import { logSink, says } from './harness.js';

let relay: TestRelay | undefined;
let inProcess: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  await inProcess?.close();
  relay = undefined;
  inProcess = undefined;
});

const value = (state: DocState<WireValue>) =>
  state.siblings.map((s) => (s.deleted === true ? null : (decodeValue(s.value) as { ok: true; value: unknown }).value));

describe('relay API', () => {
  it('runs a real session over an in-memory connection (relay.accept)', async () => {
    inProcess = createRelay({ store: new MemoryStore(), logger: pino({ level: 'silent' }) });
    const { relayEnd, clientEnd } = memoryConnectionPair();
    inProcess.accept(relayEnd);
    const frames: RelayFrame[] = [];
    let changed: () => void;
    const changesOfK = new Promise<void>((resolve) => (changed = resolve));
    clientEnd.onMessage((text) => {
      const decoded = decodeRelayFrame(text);
      if (!decoded.ok) return;
      frames.push(decoded.value);
      if (decoded.value.type === 'changes' && decoded.value.docs.some((d) => d.key === 'k')) changed();
    });
    clientEnd.send(
      encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, replicaId: 'memoryClient', subscriptions: [{ collection: 'notes', cursor: null }] }),
    );
    await inProcess.write('notes', 'k', { value: { hello: 'world' } });
    await changesOfK;
    expect(frames[0]?.type).toBe('welcome');
    const docs = frames.flatMap((f) => (f.type === 'changes' ? f.docs : []));
    expect(docs.map((d) => d.key)).toEqual(['k']);
    expect(value(docs[0]!.state)).toEqual([{ hello: 'world' }]);
  });

  it('server-side writes are stored, sequenced and fanned out: values, deletes and CRDT operations', async () => {
    relay = await startTestRelay({ collections: { stock: { mode: 'multi-leader', strategy: 'counter' } } });
    const c = await ProtocolClient.connect(relay.url, {
      replicaId: 'watcher',
      subscriptions: [
        { collection: 'stock', cursor: null },
        { collection: 'notes', cursor: null },
      ],
    });
    await c.next('welcome');
    expect(await relay.relay.write('stock', 'milk', { op: { type: 'increment', by: 10 } })).toBe(1);
    expect(await relay.relay.write('stock', 'milk', { op: { type: 'increment', by: -3 } })).toBe(2);
    expect(await relay.relay.write('notes', 'n', { value: 'v1' })).toBe(1);
    await relay.relay.write('notes', 'n', { delete: true });
    await c.next('changes', (f) => f.collection === 'notes' && f.watermark === 2);
    await c.next('changes', (f) => f.collection === 'stock' && f.watermark === 2);
    const type = crdtTypeOf('counter')!;
    const stock = crdtDocFromWire(type, c.state('stock', 'milk'), 'stock');
    expect(stock.ok && readCrdt(type, stock.value).value).toBe(7);
    expect(c.state('notes', 'n').siblings.map((s) => s.deleted)).toEqual([true]);
    await expect(relay!.relay.write('stock', 'milk', { value: 1 })).rejects.toThrow(expect.objectContaining({ code: 'bad_message' }));
    await expect(relay!.relay.write('notes', '__proto__', { value: 1 })).rejects.toThrow(expect.objectContaining({ code: 'bad_message' }));
    await expect(relay!.relay.write('bad name!', 'k', { value: 1 })).rejects.toThrow(expect.objectContaining({ code: 'bad_message' }));
    c.close();
  });

  it('serves and merges states stored in protocol 1 form by an older relay', async () => {
    const store = new MemoryStore();
    const old = writeDoc(emptyDocState<WireValue>(), {
      dot: ['oldWriter', 1],
      hlc: { wall: Date.now(), logical: 0, replica: 'oldWriter' },
      readContext: EMPTY_CONTEXT,
      value: encodeValue('from v1'),
    });
    await store.transact((tx) => tx.put('notes', 'k', JSON.stringify(encodeWireState(old.state)), ['oldWriter', 1]));
    relay = await startTestRelay({ store });
    const c = await ProtocolClient.connect(relay.url, { replicaId: 'reader', subscriptions: [{ collection: 'notes', cursor: null }] });
    await c.next('changes', (f) => f.done === true);
    expect(value(c.state('notes', 'k'))).toEqual(['from v1']);
    expect((await c.push([c.write('notes', 'k', 'from v2')])).results[0]).toMatchObject({ status: 'accepted', seq: 2 });
    c.close();
  });

  it('a socket that stops answering pings is dropped', async () => {
    const log = logSink();
    relay = await startTestRelay({ limits: { heartbeatMs: 50, idleTimeoutMs: 60_000 }, logger: log.logger });
    const c = await ProtocolClient.connect(relay.url, { replicaId: 'sleepy', subscriptions: [] });
    await c.next('welcome');
    c.ws.pause(); // reads nothing: pings go unanswered
    await log.next(says('closing session: no pong'));
    expect(relay.relay.connections()).toBe(0);
    c.ws.terminate();
  });
});
