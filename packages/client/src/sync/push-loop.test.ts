import type { ErrorCode } from '@converge/conflict';
import type { AckFrame, AckLevel, PushFrame } from '@converge/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WriteRequest } from '../replica/apply-write.js';
import { sessionHarness, type SessionHarnessOptions } from '../testing/session-harness.js';
import { encodeAppValue } from '../values.js';
import { PushLoop } from './push-loop.js';
import { Unconfirmed } from './unconfirmed.js';

const put = (key: string, value: unknown, ack: AckLevel = 'relay', collection = 'notes'): WriteRequest => ({
  collection,
  key,
  ack,
  kind: 'put',
  value: encodeAppValue(value),
  read: undefined,
});

async function loop(options: SessionHarnessOptions = {}) {
  const h = await sessionHarness(options);
  const push = new PushLoop(h.ctx);
  const lastPush = () => h.frames('push').at(-1)!;
  /** The relay's answer to the last push: every change accepted, or refused with `code`. */
  const answer = (code?: ErrorCode, frame: PushFrame = lastPush(), level: AckFrame['level'] = 'relay'): AckFrame => ({
    type: 'ack',
    id: frame.id,
    level,
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

  describe('a confirm cut off by the end of the session', () => {
    /** A quorum write acknowledged at `relay`, then the session ends before the relay's `confirm`. */
    async function cutOff(options: SessionHarnessOptions = {}, collection = 'notes', unconfirmed = new Unconfirmed()) {
      const h = await loop(options);
      const first = new PushLoop(h.ctx, unconfirmed);
      const [written] = await h.replica.write([put('a', 1, 'quorum', collection)]);
      await first.next();
      await first.ack(h.answer());
      first.stop();
      h.state.closed = false; // the next session, on the same replica
      const next = new PushLoop(h.ctx, unconfirmed);
      const status = async () => (await h.replica.writeStatuses([written!.writeId]))[0]?.status;
      return { ...h, unconfirmed, next, written: written!, status };
    }

    it("is asked again by the next session: the same change pushed at quorum, and the relay's confirm raises the write", async () => {
      const h = await cutOff();
      expect(await h.status()).toBe('relay');
      await h.next.next();
      const [original, again] = h.frames('push');
      expect(again).toMatchObject({ ack: 'quorum', changes: original!.changes });
      expect(h.next.idle).toBe(false);
      await h.next.ack(h.answer());
      await h.next.confirm({ type: 'confirm', id: again!.id, level: 'quorum' });
      expect(await h.status()).toBe('quorum');
      expect(h.reports.acked.at(-1)).toEqual([[h.written.writeId], 'quorum']);
      expect(h.unconfirmed.size).toBe(0);
      expect(h.unconfirmed.bytes).toBe(0); // nothing kept once confirmed
      expect(h.next.idle).toBe(true);
    });

    it("the next session's own writes go first; the re-ask follows once the outbox is empty", async () => {
      const h = await cutOff();
      await h.replica.write([put('b', 2)]);
      await h.next.next();
      expect(h.lastPush()).toMatchObject({ ack: 'relay', changes: [{ key: 'b' }] });
      await h.next.ack(h.answer());
      expect(h.lastPush()).toMatchObject({ ack: 'quorum', changes: [{ key: 'a' }] });
    });

    it('waits for the catch-up (a re-push of states the relay lost is queued at its end, and goes first)', async () => {
      const h = await cutOff();
      h.state.caughtUp = false;
      await h.next.next();
      expect(h.frames('push')).toHaveLength(1);
      expect(h.next.idle).toBe(false);
      h.state.caughtUp = true;
      await h.next.next();
      expect(h.lastPush()).toMatchObject({ ack: 'quorum', changes: [{ key: 'a' }] });
    });

    it('a change over the memory bound is not kept, and not asked again', async () => {
      const h = await cutOff({}, 'notes', new Unconfirmed(10));
      expect(h.unconfirmed.size).toBe(0);
      expect(h.unconfirmed.bytes).toBe(0);
      await h.next.next();
      expect(h.frames('push')).toHaveLength(1);
    });

    it('an ack that already names the level asked for raises the write at once', async () => {
      const h = await cutOff();
      await h.next.next();
      await h.next.ack(h.answer(undefined, h.lastPush(), 'quorum'));
      expect(await h.status()).toBe('quorum');
      expect(h.reports.acked.at(-1)).toEqual([[h.written.writeId], 'quorum']);
    });

    it('a refusal of the re-ask leaves the write at the level reached, out of the outbox, and asked no more', async () => {
      const h = await cutOff();
      await h.next.next();
      await h.next.ack(h.answer('forbidden'));
      expect(await h.status()).toBe('relay');
      expect(h.reports.rejected).toEqual([]);
      expect(await h.replica.pendingCount()).toBe(0);
      h.next.stop();
      expect(h.unconfirmed.size).toBe(0);
    });

    it('is asked by at most four sessions, then left at relay', async () => {
      const h = await cutOff();
      let loop = h.next;
      for (let session = 2; session <= 4; session++) {
        await loop.next();
        await loop.ack(h.answer());
        loop.stop();
        loop = new PushLoop(h.ctx, h.unconfirmed);
      }
      expect(h.frames('push')).toHaveLength(4);
      expect(h.unconfirmed.size).toBe(0);
      await loop.next();
      expect(h.frames('push')).toHaveLength(4);
    });

    it('a re-ask cut off before its ack is asked again by the session after, and that counts as an ask', async () => {
      const h = await cutOff();
      let loop = h.next;
      for (let session = 2; session <= 4; session++) {
        await loop.next();
        expect(h.lastPush()).toMatchObject({ ack: 'quorum', changes: [{ key: 'a' }] });
        loop.stop(); // cut before the relay answered
        loop = new PushLoop(h.ctx, h.unconfirmed);
      }
      expect(h.frames('push')).toHaveLength(4);
      expect(h.unconfirmed.size).toBe(0);
      expect(h.unconfirmed.bytes).toBe(0);
      await loop.next();
      expect(h.frames('push')).toHaveLength(4);
    });

    it('a write to a leader-follower collection is not asked again (the leader decides a dot once)', async () => {
      const h = await cutOff({ collections: { stock: { mode: 'leader-follower' } } }, 'stock');
      expect(h.unconfirmed.size).toBe(0);
      await h.next.next();
      expect(h.frames('push')).toHaveLength(1);
    });

    it('a write pushed for another replica id is not asked again', async () => {
      const h = await cutOff();
      h.state.helloId = 'AAAAAAAAAAAAAAAA';
      await h.next.next();
      expect(h.frames('push')).toHaveLength(1);
    });
  });
});
