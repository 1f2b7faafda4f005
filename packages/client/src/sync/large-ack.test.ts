import { authorizeByClaims, type RelayAuth } from '@converge/sync-server';
import { afterEach, describe, expect, it } from 'vitest';
import { clientSet, dbName } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { startRelayFixture, type RelayFixture } from '../testing/relay-fixture.js';

/**
 * Every connection is one principal, which may read and write keys under `u1/` only. Its id is
 * long: a refusal names the principal, so the answer to a push is larger than the push.
 */
const prefixAuth: RelayAuth = {
  anonymous: false,
  authenticate: async () => ({ id: `u1-${'p'.repeat(120)}`, keyPrefix: 'u1/' }),
  authorize: authorizeByClaims,
};

/** A key of about 1,000 characters under `prefix`. */
const longKey = (prefix: string, i: number) => `${prefix}${String(i).padStart(4, '0')}-${'k'.repeat(990)}`;

describe('an answer larger than one frame (real relay, WebSocket)', () => {
  let relay: RelayFixture | undefined;
  const clients = clientSet(() => ({ transport: relay!.ws, auth: 'token' }));
  afterEach(async () => {
    await clients.closeAll();
    await relay?.close();
    relay = undefined;
  });

  /** How many frames of `type` the relay received (`in`) or sent (`out`). */
  const frames = async (direction: 'in' | 'out', type: string) => {
    const counter = direction === 'in' ? relay!.relay.metrics.framesIn : relay!.relay.metrics.framesOut;
    return (await counter.get()).values.find((v) => v.labels.type === type)?.value ?? 0;
  };

  const cases: [string, number | undefined][] = [
    // The push of the issue: 900 writes, 980 kB, in one frame of the default 1 MiB.
    ['at the default frame limit', undefined],
    // Pushes that fill 64 KiB frames: the answer to each is larger than the push, so it comes in parts.
    ['with 64 KiB frames, answers in parts', 64 * 1024],
  ];
  for (const [name, maxFrameBytes] of cases) {
    it(`900 writes with 1,000-character keys, half outside the grant (${name}): the 450 stored leave the outbox, the 450 refused land in rejected()`, async () => {
      relay = await startRelayFixture({ store: 'memory', auth: prefixAuth, ...(maxFrameBytes === undefined ? {} : { limits: { maxFrameBytes } }) });
      const client = await clients.open(dbName('u1'), { paused: true });
      await client.putMany(
        'notes',
        Array.from({ length: 900 }, (_, i) => [longKey(i % 2 === 0 ? 'u1/' : 'u2/', i), i] as const),
      );
      expect(client.status.get().pending).toBe(900);
      const errors = new Set<string>();
      client.status.subscribe((s) => s.error !== undefined && errors.add(s.error.code));
      client.resume();
      await eventually(async () => expect(await client.outbox()).toHaveLength(0), 20_000, 50);
      const rejected = await client.rejected();
      expect(rejected).toHaveLength(450);
      expect(rejected.every((r) => r.code === 'forbidden' && r.key.startsWith('u2/'))).toBe(true);
      // The relay's head, as live changes bring it: every write under u1/ stored once.
      await eventually(() => expect(client.status.get().positions.notes).toBe(450));
      expect((await client.collection('notes').get(longKey('u1/', 0)))?.confirmed).toBe(true);
      expect([...errors]).toEqual([]); // no session was closed on the way
      if (maxFrameBytes !== undefined) expect(await frames('out', 'ack')).toBeGreaterThan(await frames('in', 'push'));
    });
  }
});
