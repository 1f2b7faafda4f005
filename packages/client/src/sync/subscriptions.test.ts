import { EMPTY_CONTEXT, emptyDocState, writeDoc, type Dot } from '@converge/conflict';
import type { ChangesFrame, Cursor, WireValue } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { welcomeFrame } from '../testing/scripted-relay.js';
import { sessionHarness } from '../testing/session-harness.js';
import { PushLoop } from './push-loop.js';
import { Subscriptions } from './subscriptions.js';

const cursor = (seq: number, lineage = 'L1'): Cursor => ({ lineage, seq, hash: `h${seq}`, mac: `m${seq}` });
const state = (dot: Dot, value: string) =>
  writeDoc<WireValue>(emptyDocState(), { dot, hlc: { wall: 1000 + dot[1], logical: 0, replica: dot[0] }, readContext: EMPTY_CONTEXT, value: { json: value } })
    .state;
const changes = (
  phase: 'catchup' | 'live',
  seq: number,
  docs: { key: string; dot: Dot; value: string }[],
  extra: Partial<ChangesFrame> = {},
): ChangesFrame => ({
  type: 'changes',
  collection: 'notes',
  phase,
  docs: docs.map((d) => ({ key: d.key, seq, state: state(d.dot, d.value) })),
  watermark: seq,
  cursor: cursor(seq),
  ...extra,
});
const welcome = (lineage: string, head: number) => welcomeFrame({ notes: head }, { lineage });

async function subscribed(stored: Cursor | null = null) {
  const h = await sessionHarness();
  const push = new PushLoop(h.ctx);
  const subs = new Subscriptions(h.ctx, push);
  subs.begin([{ collection: 'notes', cursor: stored }]);
  return { ...h, push, subs };
}

describe('Subscriptions', () => {
  it('a catch-up frame is applied with its cursor, its bytes granted back as credit, and the position reported', async () => {
    const h = await subscribed();
    await h.subs.changes(changes('catchup', 5, [{ key: 'k', dot: ['R', 1], value: 'one' }]), 321);
    expect((await h.replica.doc('notes', 'k'))?.seq).toBe(5);
    expect(await h.replica.cursors(['notes'])).toEqual([cursor(5)]);
    expect(h.frames('credit')).toEqual([{ type: 'credit', collection: 'notes', bytes: 321 }]);
    expect(h.reports.positions.at(-1)).toEqual(new Map([['notes', 5]]));
    expect(h.reports.committed.flat().map((c) => c.key)).toEqual(['k']);
  });

  it('a live frame during catch-up is applied but leaves the cursor (seqs before it were not received); caught up, live frames move it, never back', async () => {
    const h = await subscribed();
    await h.subs.changes(changes('catchup', 5, []), 10);
    await h.subs.changes(changes('live', 20, [{ key: 'live', dot: ['R', 1], value: 'x' }]), 10);
    expect((await h.replica.doc('notes', 'live'))?.seq).toBe(20);
    expect(await h.replica.cursors(['notes'])).toEqual([cursor(5)]);
    expect(h.subs.caughtUp).toBe(false);
    await h.subs.changes(changes('catchup', 10, [], { done: true }), 10);
    expect(h.subs.caughtUp).toBe(true);
    await h.subs.changes(changes('live', 21, []), 10);
    await h.subs.changes(changes('live', 15, []), 10);
    expect(await h.replica.cursors(['notes'])).toEqual([cursor(21)]);
    expect(h.frames('credit')).toHaveLength(2); // catch-up frames only
  });

  it('a cursor of another lineage: the relay lost data; once caught up, this replica re-pushes its states of the collection', async () => {
    const h = await subscribed(cursor(40, 'OLD'));
    await h.replica.write([{ collection: 'notes', key: 'mine', ack: 'local', kind: 'put', value: { json: 1 }, read: undefined }]);
    h.subs.afterWelcome(welcome('L2', 3));
    await h.subs.changes(changes('catchup', 3, [], { done: true }), 10);
    await h.push.next();
    const [pushed] = h.frames('push');
    expect(pushed?.changes.map((c) => [c.key, c.resync])).toEqual([['mine', true]]);
  });

  it("a state carrying this replica's own dot with other content: replica_reset, and a new replica id", async () => {
    const h = await subscribed();
    const [mine] = await h.replica.write([{ collection: 'notes', key: 'k', ack: 'local', kind: 'put', value: { json: 'mine' }, read: undefined }]);
    await h.subs.changes(changes('live', 9, [{ key: 'k', dot: mine!.dot, value: 'forged' }]), 10);
    expect(h.reports.errors.at(-1)).toMatchObject({ code: 'replica_reset' });
    expect(h.state.identityReplaced).toBe(1);
  });

  it('a subscription the relay refused counts as caught up; add() subscribes a new collection once, with its stored cursor', async () => {
    const h = await subscribed();
    expect(h.subs.refused('notes')).toBe(true);
    expect(h.subs.refused('unknown')).toBe(false);
    expect(h.subs.caughtUp).toBe(true);
    await h.replica.applyRemote('later', [], cursor(4));
    await h.subs.add('later');
    await h.subs.add('later');
    expect(h.frames('subscribe')).toEqual([{ type: 'subscribe', subscriptions: [{ collection: 'later', cursor: cursor(4) }] }]);
    expect(h.subs.caughtUp).toBe(false);
  });
});
