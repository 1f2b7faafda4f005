import { contextHas, EMPTY_CONTEXT } from '@converge/conflict';
import { decodeValue } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

let relay: TestRelay;
const clients: ProtocolClient[] = [];
const collections = { accounts: { mode: 'leader-follower', strategy: 'siblings' } } as const;

async function client(replicaId: string) {
  const c = await ProtocolClient.connect(relay.url, { replicaId, collections, subscriptions: [{ collection: 'accounts', cursor: null }] });
  clients.push(c);
  await c.next('changes', (f) => f.done === true);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.close();
});

describe('leader-follower collections: the relay is the single leader', () => {
  it('refuses a stale write with the current state, records the dot as a no-op, and answers a re-send the same way', async () => {
    relay = await startTestRelay({ collections });
    const a = await client('replicaA');
    const b = await client('replicaB');
    expect(a.welcome!.collections['accounts']).toMatchObject({ mode: 'leader-follower', strategy: 'siblings' });

    const first = await a.push([a.blind('accounts', 'acct', { balance: 10 })]);
    expect(first.results[0]).toMatchObject({ status: 'accepted', seq: 1 });

    // B never saw A's write: a blind write is stale.
    const stale = b.blind('accounts', 'acct', { balance: 99 });
    const refused = await b.push([stale]);
    const result = refused.results[0]!;
    expect(result).toMatchObject({ status: 'rejected', code: 'conflict_rejected', collection: 'accounts', key: 'acct' });
    if (result.status !== 'rejected') throw new Error('expected a rejection');
    const current = result.current!;
    expect(current.siblings.map((s) => (s.deleted === true ? null : decodeValue(s.value)))).toEqual([{ ok: true, value: { balance: 10 } }]);
    // The refused dot is in the leader's context as a no-op: never reused, no gap.
    expect(contextHas(current.context, stale.delta.siblings[0]!.dot)).toBe(true);

    const resent = await b.push([stale]);
    expect(resent.results[0]).toMatchObject({ status: 'rejected', code: 'conflict_rejected' });

    // B rebases on the current state: accepted; never siblings.
    await b.next('changes', (f) => f.docs.some((d) => d.seq >= 2));
    const rebased = b.write('accounts', 'acct', { balance: 11 }, { readContext: b.state('accounts', 'acct').context });
    const ok = await b.push([rebased]);
    expect(ok.results[0]).toMatchObject({ status: 'accepted' });
    await a.next('changes', (f) => f.docs.some((d) => d.seq === (ok.results[0] as { seq: number }).seq));
    expect(a.state('accounts', 'acct').siblings).toHaveLength(1);
    // A re-send of the accepted write gets the recorded decision, the same seq.
    expect((await b.push([rebased])).results[0]).toEqual(ok.results[0]);
  });

  it('a reused dot with different content is replica_reset, also once superseded or refused; an identical re-send gets its decision', async () => {
    relay = await startTestRelay({ collections });
    const a = await client('replicaA');
    const first = a.write('accounts', 'acct', { balance: 10 }, { readContext: EMPTY_CONTEXT });
    expect((await a.push([first])).results[0]).toMatchObject({ status: 'accepted', seq: 1 });
    // Dot A:1 again, other content (a restored profile reusing its counter).
    const reused = {
      ...first,
      delta: {
        ...first.delta,
        siblings: [{ ...first.delta.siblings[0]!, hlc: { ...first.delta.siblings[0]!.hlc, wall: first.delta.siblings[0]!.hlc.wall + 1 } }],
      },
    };
    expect((await a.push([reused])).results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    expect((await a.push([first])).results[0]).toMatchObject({ status: 'accepted', seq: 1 });
    // After A:2 supersedes A:1, the relay no longer holds A:1's value: it still knows its content.
    const second = a.write('accounts', 'acct', { balance: 11 });
    expect((await a.push([second])).results[0]).toMatchObject({ status: 'accepted', seq: 2 });
    expect((await a.push([reused])).results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    // A refused write's dot, re-used with other content, is replica_reset too.
    const b = await client('replicaB');
    const stale = b.blind('accounts', 'acct', { balance: 0 });
    expect((await b.push([stale])).results[0]).toMatchObject({ status: 'rejected', code: 'conflict_rejected' });
    const staleAgain = b.blind('accounts', 'acct', { balance: 0 });
    expect(staleAgain.delta.siblings[0]!.dot).not.toEqual(stale.delta.siblings[0]!.dot);
    const restamped = {
      ...stale,
      delta: {
        ...stale.delta,
        siblings: [{ ...staleAgain.delta.siblings[0]!, dot: stale.delta.siblings[0]!.dot }],
      },
    };
    expect((await b.push([restamped])).results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    expect((await b.push([stale])).results[0]).toMatchObject({ status: 'rejected', code: 'conflict_rejected' });
  });

  it('answers a leader read from the relay', async () => {
    relay = await startTestRelay({ collections });
    const a = await client('replicaA');
    await a.push([a.write('accounts', 'x', 5, { readContext: EMPTY_CONTEXT })]);
    a.send({ type: 'read', id: 'r1', collection: 'accounts', keys: ['x', 'missing'], consistency: 'leader' });
    const read = await a.next('read-result', (f) => f.id === 'r1');
    expect(read.docs[0]).toMatchObject({ key: 'x', seq: 1 });
    expect(read.docs[1]).toEqual({ key: 'missing', seq: 0, state: null });
  });
});
