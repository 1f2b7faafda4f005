import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { authorizeByClaims, type RelayAuth } from '@converge/sync-server';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { Client } from '../client.js';
import { clientSet, dbName } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { startRelayFixture, type RelayFixture } from '../testing/relay-fixture.js';
import { webSocketTransport } from './websocket-transport.js';

type Json = Record<string, unknown>;
type Result = { collection: string; key: string; dot?: [string, number]; status: string };

/**
 * An adversarial relay: a WebSocket server on 127.0.0.1 (port 0) that passes every frame
 * through to a real relay and hands each `ack` the relay sends to `tamper` first.
 */
async function startTamperingRelay(target: string, tamper: (ack: Json & { results: Result[] }) => Json) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  let connections = 0;
  server.on('connection', (down) => {
    connections++;
    const up = new WebSocket(target);
    const early: string[] = [];
    up.on('open', () => {
      for (const text of early.splice(0)) up.send(text);
    });
    down.on('message', (data) => {
      const text = data.toString();
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else early.push(text);
    });
    up.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Json;
      down.send(JSON.stringify(frame.type === 'ack' ? tamper(frame as Json & { results: Result[] }) : frame));
    });
    up.on('close', () => down.close());
    down.on('close', () => up.close());
    up.on('error', () => undefined);
    down.on('error', () => undefined);
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Principal `k` may write keys under `k` only: of a push of [a, k0], the relay refuses a and stores k0. */
const prefixAuth: RelayAuth = { anonymous: false, authenticate: async () => ({ id: 'k', keyPrefix: 'k' }), authorize: authorizeByClaims };

describe('the client settles each ack result by the change it names', () => {
  let relay: RelayFixture | undefined;
  let proxy: Awaited<ReturnType<typeof startTamperingRelay>> | undefined;
  const clients = clientSet(() => ({ transport: webSocketTransport(proxy!.url, WebSocket), auth: 'token' }));
  afterEach(async () => {
    await clients.closeAll();
    await proxy?.close();
    await relay?.close();
    proxy = undefined;
    relay = undefined;
  });

  /** A client that wrote a, then k0, offline and reconnects through a relay that passes acks through `tamper`. */
  async function pushTwo(tamper: (ack: Json & { results: Result[] }) => Json): Promise<{ client: Client; a: string; k0: string; errors: string[] }> {
    relay = await startRelayFixture({ store: 'memory', auth: prefixAuth });
    proxy = await startTamperingRelay(relay.url, tamper);
    const client = await clients.open(dbName('tamper'), { paused: true });
    const a = (await client.collection('notes').put('a', 'refused')).writeId;
    const k0 = (await client.collection('notes').put('k0', 'stored')).writeId;
    const errors: string[] = [];
    client.status.subscribe((s) => void (s.error !== undefined && errors.push(s.error.code)));
    client.resume();
    return { client, a, k0, errors };
  }

  it('results listed in reverse order: the stored write is confirmed, the refused one rejected', async () => {
    const { client, a, k0 } = await pushTwo((ack) => ({ ...ack, results: [...ack.results].reverse() }));
    await eventually(async () => expect(await client.outbox()).toEqual([]));
    expect((await client.writeStatuses([a, k0])).map((s) => [s?.status, s?.code])).toEqual([
      ['rejected', 'forbidden'],
      ['relay', undefined],
    ]);
    expect((await client.rejected()).map((r) => r.key)).toEqual(['a']);
    expect(await client.collection('notes').get('k0')).toMatchObject({ value: 'stored', pending: false, confirmed: true });
    expect(await client.collection('notes').get('a')).toBeUndefined();
  });

  const mismatches: [string, (ack: Json & { results: Result[] }) => Json][] = [
    ['a result naming a key that was not pushed', (ack) => ({ ...ack, results: ack.results.map((r, i) => (i === 0 ? { ...r, key: 'zz' } : r)) })],
    [
      'a result naming another dot of the key',
      (ack) => ({ ...ack, results: ack.results.map((r, i) => (i === 0 ? { ...r, dot: [r.dot?.[0] ?? 'x', (r.dot?.[1] ?? 0) + 1] } : r)) }),
    ],
    ['the same result twice', (ack) => ({ ...ack, results: [ack.results[1], ack.results[1]] })],
    ['a result missing from the last part', (ack) => ({ ...ack, results: [ack.results[1]] })],
    ['a part that says more follow when it settles every change', (ack) => ({ ...ack, more: true })],
  ];
  for (const [name, tamper] of mismatches) {
    it(`${name} is a bad frame: bad_message, the session reconnects, both writes stay queued`, async () => {
      const { client, a, k0, errors } = await pushTwo(tamper);
      await eventually(() => expect(proxy!.connections).toBeGreaterThanOrEqual(2), 10_000);
      expect(errors).toContain('bad_message');
      expect((await client.outbox()).map((w) => w.writeId)).toEqual([a, k0]);
      expect((await client.writeStatuses([a, k0])).map((s) => s?.status)).toEqual(['local', 'local']);
      expect(await client.rejected()).toEqual([]);
      expect(await client.collection('notes').get('k0')).toMatchObject({ value: 'stored', pending: true });
      expect(await client.collection('notes').get('a')).toMatchObject({ value: 'refused', pending: true });
    });
  }
});
