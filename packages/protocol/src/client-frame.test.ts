import { EMPTY_CONTEXT, emptyDocState, nextDot, writeDoc } from '@converge/conflict';
import { encodeClientFrame, encodeFrame } from './codec.js';
import type { ClientFrame } from './frame.js';
import { encodeValue } from './value-codec.js';
import type { WireValue } from './wire-state.js';
import { describe, expect, it } from 'vitest';

describe('encodeClientFrame writes what encodeFrame writes', () => {
  it('every client frame type, pushes with simple and general states and resync changes, is byte-identical to encodeFrame', () => {
    const hlc = { wall: 1_767_225_600_000, logical: 0, replica: 'q3JbX0f2LkH8aPzR' };
    const first = writeDoc<WireValue>(emptyDocState(), {
      dot: ['q3JbX0f2LkH8aPzR', 1],
      hlc,
      readContext: EMPTY_CONTEXT,
      value: encodeValue({ at: new Date(5) }),
    });
    const state = first.state;
    const concurrent = writeDoc<WireValue>(state, {
      dot: nextDot(state, 'zzJbX0f2LkH8aPzR'),
      hlc: { ...hlc, replica: 'zzJbX0f2LkH8aPzR' },
      readContext: EMPTY_CONTEXT,
      deleted: true,
    });
    const frames: ClientFrame[] = [
      {
        type: 'hello',
        protocol: 3,
        replicaId: 'q3JbX0f2LkH8aPzR',
        token: 't',
        subscriptions: [{ collection: 'notes', cursor: null }],
        collections: { notes: { mode: 'multi-leader', strategy: 'siblings' } },
      },
      { type: 'subscribe', subscriptions: [{ collection: 'carts', cursor: null }] },
      { type: 'read', id: 'r1', collection: 'notes', keys: ['a', 'b'], consistency: 'leader' },
      { type: 'credit', collection: 'notes', bytes: 12 },
      { type: 'ping', t: 3 },
      { type: 'pong', t: 4 },
      {
        type: 'push',
        id: 'p1',
        ack: 'quorum',
        changes: [
          { collection: 'notes', key: 'a', delta: first.delta, writeNumber: 1, chain: '1' },
          { collection: 'notes', key: 'b', delta: concurrent.state, writeNumber: 2, chain: '2', resync: true },
        ],
      },
    ];
    for (const frame of frames) expect(encodeClientFrame(frame)).toBe(encodeFrame(frame));
  });
});
