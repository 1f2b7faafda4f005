import { ConvergeError, EMPTY_CONTEXT, emptyDocState, writeDoc } from '@converge/conflict';
import type { WireValue } from '@converge/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sessionHarness } from '../testing/session-harness.js';
import { RelayReads } from './relay-reads.js';
import { codeOf } from '../testing/code-of.js';

const state = writeDoc<WireValue>(emptyDocState(), {
  dot: ['R', 1],
  hlc: { wall: 1, logical: 0, replica: 'R' },
  readContext: EMPTY_CONTEXT,
  value: { json: 'leader' },
}).state;

afterEach(() => {
  vi.useRealTimers();
});

describe('RelayReads', () => {
  it("sends a read frame; the relay's answer is merged into the replica (its watchers hear of it) before the read resolves", async () => {
    const h = await sessionHarness();
    const reads = new RelayReads(h.ctx);
    const read = reads.read('notes', ['k', 'gone']);
    const [frame] = h.frames('read');
    expect(frame).toEqual({ type: 'read', id: frame!.id, collection: 'notes', keys: ['k', 'gone'], consistency: 'leader' });
    let resolved = false;
    void read.then(() => (resolved = true));
    await reads.answer({
      type: 'read-result',
      id: frame!.id,
      collection: 'notes',
      docs: [
        { key: 'k', seq: 3, state },
        { key: 'gone', seq: 0, state: null },
      ],
    });
    await read;
    expect(resolved).toBe(true);
    expect((await h.replica.doc('notes', 'k'))?.seq).toBe(3);
    expect(h.reports.committed.flat().map((c) => c.key)).toEqual(['k']);
  });

  it('without an answer within readTimeoutMs the read rejects with timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = await sessionHarness();
    const read = codeOf(new RelayReads(h.ctx).read('notes', ['k']));
    await vi.advanceTimersByTimeAsync(h.ctx.options.readTimeoutMs);
    expect(await read).toBe('timeout');
  });

  it("an error frame naming the read rejects it with the relay's code; the session's end rejects the others with offline", async () => {
    const h = await sessionHarness();
    const reads = new RelayReads(h.ctx);
    const refused = codeOf(reads.read('notes', ['a']));
    const cut = codeOf(reads.read('notes', ['b']));
    const [first] = h.frames('read');
    expect(reads.refused(first!.id, new ConvergeError('forbidden', 'no'))).toBe(true);
    expect(reads.refused('r-unknown', new ConvergeError('forbidden', 'no'))).toBe(false);
    reads.rejectAll(new ConvergeError('offline', 'closed'));
    expect([await refused, await cut]).toEqual(['forbidden', 'offline']);
  });

  it('with no open connection a read rejects with offline at once, sending nothing', async () => {
    const h = await sessionHarness();
    h.state.open = false;
    expect(await codeOf(new RelayReads(h.ctx).read('notes', ['k']))).toBe('offline');
    expect(h.sent).toEqual([]);
  });
});
