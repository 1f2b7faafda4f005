import type { ErrorCode } from '@converge/conflict';
import type { AckFrame, PushFrame } from '@converge/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WriteRequest } from '../replica/apply-write.js';
import { sessionHarness, type SessionHarnessOptions } from '../testing/session-harness.js';
import { encodeAppValue } from '../values.js';
import { PushLoop } from './push-loop.js';

const put = (key: string, value: unknown): WriteRequest => ({
  collection: 'notes',
  key,
  ack: 'relay',
  kind: 'put',
  value: encodeAppValue(value),
  read: undefined,
});

async function loop(options: SessionHarnessOptions = {}) {
  const h = await sessionHarness(options);
  const push = new PushLoop(h.ctx);
  const lastPush = () => h.frames('push').at(-1)!;
  /** The relay's answer to the last push: every change accepted, or refused with `code`. */
  const answer = (code?: ErrorCode, frame: PushFrame = lastPush()): AckFrame => ({
    type: 'ack',
    id: frame.id,
    level: 'relay',
    results: frame.changes.map((c, i) => {
      const name = { collection: c.collection, key: c.key, dot: c.delta.siblings.at(-1)!.dot };
      return code === undefined ? { ...name, status: 'accepted' as const, seq: i + 1 } : { ...name, status: 'rejected' as const, code, message: 'no' };
    }),
  });
  return { ...h, push, lastPush, answer };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PushLoop', () => {
  it('pushes the outbox, a key squashed into one change, one push in flight; its ack settles the writes and reports them held', async () => {
    const h = await loop();
    const written = await h.replica.write([put('a', 1), put('b', 2), put('a', 3)]);
    await h.push.next();
    await h.push.next(); // one in flight: nothing more is sent
    expect(h.frames('push')).toHaveLength(1);
    expect(h.lastPush().changes.map((c) => c.key)).toEqual(['a', 'b']);
    expect(h.reports.connection).toEqual(['syncing']);
    await h.push.ack(h.answer());
    expect(h.reports.acked).toEqual([[[written[0]!.writeId, written[2]!.writeId, written[1]!.writeId], 'relay']]); // by change: a's two, then b's
    expect(await h.replica.pendingCount()).toBe(0);
    expect(h.push.idle).toBe(true); // the ack completed the push, and the next read found the outbox empty
    expect(h.state.synced).toBe(1);
  });

  it('an ack that answers no push in flight is a bad frame: the session closes with bad_message and the writes stay queued', async () => {
    const h = await loop();
    await h.replica.write([put('a', 1)]);
    await h.push.next();
    await h.push.ack({ ...h.answer(), id: 'p99' });
    expect(h.ends).toEqual([{ kind: 'retry', error: expect.objectContaining({ code: 'bad_message' }) }]);
    expect(await h.replica.pendingCount()).toBe(1);
  });

  it('a refusal for good leaves the outbox for the rejected list and is reported; the writes behind go on', async () => {
    const h = await loop();
    await h.replica.write([put('a', 1)]);
    await h.push.next();
    await h.push.ack(h.answer('forbidden'));
    expect(h.reports.rejected.flat().map((r) => [r.key, r.code])).toEqual([['a', 'forbidden']]);
    expect((await h.replica.rejectedWrites()).map((r) => r.key)).toEqual(['a']);
    await h.replica.write([put('b', 2)]);
    await h.push.next();
    expect(h.lastPush().changes.map((c) => c.key)).toEqual(['b']);
  });

  it('a write no frame can carry is refused here with payload_too_large, before it is sent; the write behind it is pushed', async () => {
    const h = await loop({ limits: { maxFrameBytes: 600 } });
    await h.replica.write([put('big', 'x'.repeat(700)), put('small', 1)]);
    await h.push.next();
    expect(h.reports.rejected.flat().map((r) => [r.key, r.code])).toEqual([['big', 'payload_too_large']]);
    expect(h.frames('push').map((p) => p.changes.map((c) => c.key))).toEqual([['small']]);
  });

  it('a transient refusal keeps the writes queued and pushes them again after the retry pause, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = await loop();
    await h.replica.write([put('a', 1)]);
    await h.push.next();
    await h.push.ack(h.answer('internal'));
    expect(await h.replica.pendingCount()).toBe(1);
    await h.push.next(); // a kick during the pause waits for it
    expect(h.frames('push')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999); // the pause is 1 s plus jitter (none here)
    expect(h.frames('push')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await h.settled();
    expect(h.frames('push')).toHaveLength(2);
  });

  it("writes the relay refused for their clock are written again (new dots) before this session's first push, once", async () => {
    const h = await loop();
    const [old] = await h.replica.write([put('a', 1)]);
    await h.push.next();
    await h.push.ack(h.answer('clock_skew'));
    expect(h.ends).toEqual([{ kind: 'now', error: expect.objectContaining({ code: 'clock_skew' }) }]);
    h.state.closed = false; // the next session, on the same replica
    const again = new PushLoop(h.ctx);
    await again.next();
    await again.next();
    expect(h.reports.rewritten.flat().map((w) => [w.writeId, w.dot[1]])).toEqual([[old!.writeId, 2]]);
    expect(h.frames('push').map((p) => p.changes.map((c) => c.delta.siblings.at(-1)!.dot[1]))).toEqual([[1], [2]]);
  });
});
