import { describe, expect, it } from 'vitest';
import { simpleState } from '@converge/conflict';
import { encodeFrame, encodeValue, type PushFrame } from '@converge/protocol';
import { authorizeByClaims, type RelayAuth } from '../auth/auth.js';
import type { ProtocolClientOptions } from '../testing/protocol-client.js';
import { relayHarness } from './harness.js';

const harness = relayHarness();
/** Every client here enforces `welcome.limits`, as a real client does: an oversized frame lands in `invalid`. */
const client = (replicaId: string, extra: Partial<ProtocolClientOptions> = {}) => harness.client(replicaId, { enforceLimits: true, ...extra });

const FRAME = 64 * 1024;
/** Values of 12 kB and 10 kB; at this frame size one key's state may hold 24,576 bytes: two 10 kB siblings, not three. */
const big = (n: number) => 'x'.repeat(12 * 1024) + String(n);
const mid = (n: number) => 'x'.repeat(10 * 1024) + String(n);

describe('reads are rate-limited and bounded like frames', () => {
  it('a read naming a key twice is refused with bad_message', async () => {
    await harness.start();
    const c = await client('reader');
    await c.next('welcome');
    c.send({ type: 'read', id: 'r1', collection: 'notes', keys: ['k', 'k'], consistency: 'leader' });
    expect(await c.next('error')).toMatchObject({ code: 'bad_message' });
    expect((await c.closed).code).toBe(1008);
  });

  it('a read of n keys costs n changes of the rate limit', async () => {
    await harness.start({ rateLimit: { changesPerSecond: 0.001, burst: 5 } });
    const c = await client('reader');
    await c.next('welcome');
    c.send({ type: 'read', id: 'r1', collection: 'notes', keys: ['a', 'b', 'c'], consistency: 'leader' });
    await c.next('read-result', (f) => f.id === 'r1');
    c.send({ type: 'read', id: 'r2', collection: 'notes', keys: ['d', 'e', 'f'], consistency: 'leader' });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited' });
    expect(c.frames.some((f) => f.type === 'read-result' && f.id === 'r2')).toBe(false);
  });

  it('a read whose answer would exceed maxFrameBytes is refused with payload_too_large; the connection stays usable', async () => {
    await harness.start({ limits: { maxFrameBytes: FRAME } });
    const c = await client('writer');
    await c.next('welcome');
    const keys = [0, 1, 2, 3, 4, 5].map((i) => `k${i}`);
    for (const key of keys) expect((await c.push([c.blind('notes', key, big(0))])).results[0]).toMatchObject({ status: 'accepted' });
    c.send({ type: 'read', id: 'all', collection: 'notes', keys, consistency: 'leader' });
    expect(await c.next('error', (f) => f.id === 'all')).toMatchObject({ code: 'payload_too_large', collection: 'notes' });
    c.send({ type: 'read', id: 'two', collection: 'notes', keys: keys.slice(0, 2), consistency: 'leader' });
    expect((await c.next('read-result', (f) => f.id === 'two')).docs.map((d) => d.key)).toEqual(['k0', 'k1']);
    expect(c.invalid).toEqual([]);
  });
});

describe('no frame the relay sends exceeds the maxFrameBytes it announces', () => {
  it("refuses a write that would make a key's state exceed maxStateBytes, with payload_too_large", async () => {
    await harness.start({ limits: { maxFrameBytes: FRAME } });
    const writers = await Promise.all(['w0', 'w1', 'w2'].map((id) => client(id)));
    const limits = (await writers[0]!.next('welcome')).limits;
    expect(limits.maxStateBytes).toBeLessThan(limits.maxFrameBytes);
    // Concurrent blind writes: each becomes a sibling of the same key.
    const results = [];
    for (const [i, w] of writers.entries()) results.push((await w.push([w.blind('notes', 'hot', mid(i))])).results[0]);
    expect(results.slice(0, 2).map((r) => r?.status)).toEqual(['accepted', 'accepted']);
    expect(results[2]).toMatchObject({ status: 'rejected', code: 'payload_too_large' });
    expect(results[2]?.status === 'rejected' && results[2].message).toMatch(/maxStateBytes/);
  });

  it('splits catch-up and live frames by bytes, so a client enforcing welcome.limits receives every key', async () => {
    await harness.start({ limits: { maxFrameBytes: FRAME } });
    const watcher = await client('watcher');
    await watcher.next('changes', (f) => f.done === true);
    const [a, b] = [await client('writerA'), await client('writerB')];
    await Promise.all([a.next('welcome'), b.next('welcome')]);
    // Two pushes of four 12 kB keys in one fan-out round: 96 kB of states for one subscriber.
    const keysA = [0, 1, 2, 3].map((i) => `a${i}`);
    const keysB = [0, 1, 2, 3].map((i) => `b${i}`);
    const acks = await Promise.all([a.push(keysA.map((k, i) => a.blind('notes', k, big(i)))), b.push(keysB.map((k, i) => b.blind('notes', k, big(i))))]);
    expect(acks.flatMap((ack) => ack.results.map((r) => r.status))).toEqual(Array(8).fill('accepted'));
    const received = () => new Set(watcher.frames.flatMap((f) => (f.type === 'changes' && f.phase === 'live' ? f.docs.map((d) => d.key) : [])));
    await watcher.next('changes', () => received().size === 8);
    expect(watcher.invalid).toEqual([]);

    const late = await client('late');
    const done = await late.next('changes', (f) => f.done === true);
    expect(done.watermark).toBe(8);
    expect(late.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : [])).sort()).toEqual([...keysA, ...keysB].sort());
    expect(late.invalid).toEqual([]);
  });

  it('splits catch-up and live frames by count, so no frame holds more docs than maxChangesPerFrame', async () => {
    await harness.start({ limits: { maxChangesPerFrame: 3 }, catchupBatchSize: 10 });
    const watcher = await client('watcher');
    await watcher.next('changes', (f) => f.done === true);
    const writers = await Promise.all([0, 1, 2].map((i) => client(`writer${i}`)));
    await Promise.all(writers.map((w) => w.next('welcome')));
    // Three pushes of three keys in one fan-out round: nine changes for one subscriber.
    const keys = writers.map((_w, i) => [0, 1, 2].map((j) => `k${i}${j}`));
    await Promise.all(writers.map((w, i) => w.push(keys[i]!.map((k) => w.blind('notes', k, k)))));
    const all = keys.flat().sort();
    const received = () => new Set(watcher.frames.flatMap((f) => (f.type === 'changes' && f.phase === 'live' ? f.docs.map((d) => d.key) : [])));
    await watcher.next('changes', () => received().size === all.length);
    expect(watcher.invalid).toEqual([]);

    const late = await client('late');
    const done = await late.next('changes', (f) => f.done === true);
    expect(done.watermark).toBe(all.length);
    expect(late.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : [])).sort()).toEqual(all);
    expect(late.invalid).toEqual([]);
  });

  // Principal u1 may write under u1/ only; half of the changes, with 1,000-character keys, are refused.
  // A refusal names the principal: a long id makes the answer to a push larger than the push.
  const prefixAuth: RelayAuth = {
    anonymous: false,
    authenticate: async () => ({ id: `u1-${'p'.repeat(120)}`, keyPrefix: 'u1/' }),
    authorize: authorizeByClaims,
  };
  const longKey = (i: number) => `${i % 2 === 0 ? 'u1/' : 'u2/'}${String(i).padStart(4, '0')}-${'k'.repeat(990)}`;
  const cases: [string, number | undefined, (limit: number) => number][] = [
    // The 980 kB push of 900 changes: before refusals stopped echoing the key, its answer was over 1 MiB.
    ['900 changes at the default limit', undefined, () => 900],
    // A push that fills a 64 KiB frame: its refusals carry messages, so its answer is larger than the push.
    ['a push that fills a 64 KiB frame', 64 * 1024, (limit) => Math.floor(limit / 1130)],
  ];
  for (const [name, maxFrameBytes, count] of cases) {
    it(`every ack fits maxFrameBytes and names the change it settles (${name}); a re-send gets the same answer`, async () => {
      await harness.start({ auth: prefixAuth, ...(maxFrameBytes === undefined ? {} : { limits: { maxFrameBytes } }) });
      const c = await client('writer', { token: 't', subscriptions: [] });
      const limit = (await c.next('welcome')).limits.maxFrameBytes;
      const changes = Array.from({ length: count(limit) }, (_, i) => c.blind('notes', longKey(i), i));
      expect(encodeFrame({ type: 'push', id: 'p1', ack: 'relay', changes }).length).toBeLessThanOrEqual(limit);
      const named = (r: { collection: string; key: string; dot: readonly [string, number] }) => `${r.collection}/${r.key}@${r.dot.join(':')}`;
      const pushed = changes.map((ch) => named({ ...ch, dot: ch.delta.siblings[0]!.dot })).sort();
      const answers: string[][] = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        const parts = await c.pushParts(changes);
        expect(parts.map((p) => p.more === true)).toEqual([...Array(parts.length - 1).fill(true), false]);
        for (const p of parts) expect(c.sizes[c.frames.indexOf(p)]).toBeLessThanOrEqual(limit);
        if (maxFrameBytes !== undefined) expect(parts.length).toBeGreaterThan(1);
        const results = parts.flatMap((p) => p.results);
        expect(results.map(named).sort()).toEqual(pushed);
        const refused = results.filter((r) => r.status === 'rejected');
        expect(refused).toHaveLength(Math.floor(changes.length / 2));
        expect(refused.every((r) => r.key.startsWith('u2/') && r.code === 'forbidden' && !r.message.includes(r.key))).toBe(true);
        answers.push(results.map((r) => `${named(r)} ${r.status === 'accepted' ? r.seq : r.code}`));
      }
      expect(answers[1]).toEqual(answers[0]);
      expect(c.invalid).toEqual([]);
      const reader = await harness.client('reader');
      expect((await reader.next('welcome')).collections.notes?.head).toBe(Math.ceil(changes.length / 2));
    });
  }

  it('a push whose answer no frame could carry (a tiny frame limit) is refused before anything is stored', async () => {
    // A push of one change that just fits the frame: its refusal would not (the result's fields take more room than the delta's).
    const wall = Date.now();
    const change = {
      collection: 'notes',
      key: 'k'.repeat(1000),
      delta: simpleState({ dot: ['writer', 1], hlc: { wall, logical: 0, replica: 'writer' }, value: encodeValue(1) }),
      writeNumber: 1,
      chain: '1',
    };
    const push: PushFrame = { type: 'push', id: 'p1', ack: 'relay', changes: [change] };
    const maxFrameBytes = encodeFrame(push).length + 4;
    await harness.start({ limits: { maxFrameBytes, maxStateBytes: 100 } });
    const c = await client('writer', { subscriptions: [] });
    await c.next('welcome');
    c.send(push);
    expect(await c.next('error')).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining(`maxFrameBytes = ${maxFrameBytes}`) });
    expect(c.frames.some((f) => f.type === 'ack')).toBe(false);
    const reader = await harness.client('reader');
    expect((await reader.next('welcome')).collections.notes?.head).toBe(0);
  });
});
