import { applyCrdtOp, cart, emptyDocState, nextDot, readCrdt, vectorFrom, type CrdtState, type DocState, type OrMapOp } from '@converge/conflict';
import type { PushedChange, WireState } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { crdtDocFromWire, crdtDocToWire } from '../crdt-wire.js';
import type { ProtocolClient } from '../testing/protocol-client.js';
import { relayHarness } from './harness.js';

const harness = relayHarness();
const collections = { carts: { mode: 'multi-leader', strategy: 'cart' } } as const;
type CartDoc = DocState<CrdtState<never>>;
type CartOp = OrMapOp<{ type: 'increment'; by: number }> | { type: 'clear' };

async function shopper(replicaId: string): Promise<ProtocolClient> {
  const c = await harness.client(replicaId, { collections, subscriptions: [{ collection: 'carts', cursor: null }] });
  await c.next('changes', (f) => f.done === true);
  return c;
}

/** The cart as `c` holds it, decoded. */
function held(c: ProtocolClient): CartDoc {
  const decoded = crdtDocFromWire(cart as never, c.state('carts', 'cart'), 'cart');
  if (!decoded.ok) throw decoded.error;
  return decoded.value as CartDoc;
}

/** An honest CRDT write by `c` on the state `base`: the operation applied at a fresh dot. */
function write(c: ProtocolClient, base: CartDoc, op: CartOp, writeNumber: number): { change: PushedChange; state: CartDoc } {
  const dot = nextDot(base, c.replicaId);
  const { state, delta } = applyCrdtOp(cart as never, base as never, { dot, hlc: c.clock.tick(), op: op as never });
  return {
    change: { collection: 'carts', key: 'cart', delta: crdtDocToWire(cart as never, delta as never), writeNumber, chain: writeNumber.toString(16) },
    state: state as CartDoc,
  };
}

const add = (item: string, by: number): CartOp => ({ type: 'update', key: item, op: { type: 'increment', by } });
const cartValue = (doc: CartDoc) => Object.fromEntries(readCrdt(cart as never, doc as never).value as Map<string, number>);

describe('CRDT writes are judged by the value the relay would store', () => {
  it("refuses a collaborator's write that re-creates entries a clear removed, in another replica's name (cart forgery)", async () => {
    await harness.start({ collections });
    const b = await shopper('replicaB');
    const added = write(b, emptyDocState(), add('milk', 1), 1); // B:1
    expect((await b.push([added.change])).results[0]).toMatchObject({ status: 'accepted' });
    const cleared = write(b, added.state, { type: 'clear' }, 2); // B:2
    expect((await b.push([cleared.change])).results[0]).toMatchObject({ status: 'accepted' });

    const m = await shopper('replicaM');
    // M's own sibling, context covering every sibling, value carrying entries under B's dots.
    const context = { vv: vectorFrom({ replicaB: 2, replicaM: 1 }), cloud: [] };
    const forged: WireState = {
      context,
      siblings: [
        {
          dot: ['replicaM', 1],
          hlc: m.clock.tick(),
          value: {
            s: [
              ['caviar', [['replicaB', 2, 7]]],
              ['milk', [['replicaB', 1, 100]]],
            ],
            c: { v: { replicaB: 2, replicaM: 1 } },
          },
        },
      ],
    } as unknown as WireState;
    const ack = await m.push([{ collection: 'carts', key: 'cart', delta: forged, writeNumber: 1, chain: '1' }]);
    expect(ack.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });

    const reader = await shopper('replicaR');
    expect(cartValue(held(reader))).toEqual({});
  });

  it('accepts a stale tab carrying an entry a concurrent clear removed: the clear survives and the entry stays gone', async () => {
    await harness.start({ collections });
    const a = await shopper('replicaA');
    const base = write(a, emptyDocState(), add('milk', 1), 1); // A:1
    await a.push([base.change]);
    const b = await shopper('replicaB');
    const clear = write(b, held(b), { type: 'clear' }, 1); // B:1 has seen A:1
    expect((await b.push([clear.change])).results[0]).toMatchObject({ status: 'accepted' });
    // A's second tab never saw the clear: its write carries A:1 and adds eggs at A:2.
    const stale = write(a, base.state, add('eggs', 2), 2);
    expect((await a.push([stale.change])).results[0]).toMatchObject({ status: 'accepted' });
    const reader = await shopper('replicaR');
    expect(cartValue(held(reader))).toEqual({ eggs: 2 });
  });
});

describe('CRDT re-pushes inside a recovery window (resync)', () => {
  /** A resync change of the cart with one sibling at `dot` whose value holds `entries` (item → [replica, counter, amount][]). */
  const repush = (dot: [string, number], hlcReplica: string, entries: [string, [string, number, number][]][], vv: Record<string, number>): PushedChange => ({
    collection: 'carts',
    key: 'cart',
    delta: {
      context: { vv: vectorFrom(vv), cloud: [] },
      siblings: [{ dot, hlc: { wall: Date.now(), logical: 0, replica: hlcReplica }, value: { s: entries, c: { v: vv } } }],
    } as unknown as WireState,
    writeNumber: 1,
    chain: '1',
    resync: true,
  });

  it('refuses a re-pushed sibling at an invented unseen dot whose value re-creates an entry the relay saw removed (issue 12 §3)', async () => {
    await harness.start({ collections, openRecoveryWindow: true });
    const b = await shopper('replicaB');
    const added = write(b, emptyDocState(), add('milk', 2), 1); // B:1 adds milk +2
    expect((await b.push([added.change])).results[0]).toMatchObject({ status: 'accepted' });
    const removed = write(b, added.state, { type: 'remove', key: 'milk' }, 2); // B:2 removes milk
    expect((await b.push([removed.change])).results[0]).toMatchObject({ status: 'accepted' });
    const reader = await shopper('replicaR');
    expect(cartValue(held(reader))).toEqual({});

    const m = await shopper('replicaM');
    const attack = repush(['replicaZ', 1], 'replicaZ', [['milk', [['replicaB', 1, 2]]]], { replicaB: 2, replicaZ: 1 });
    expect((await m.push([attack])).results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    const after = await shopper('replicaR2');
    expect(cartValue(held(after))).toEqual({});
  });

  it('still accepts the repair it exists for: a lost sibling of another replica re-pushed with its own entries', async () => {
    await harness.start({ collections, openRecoveryWindow: true });
    const a = await shopper('replicaA');
    // The relay lost B's add (B:1, milk 3): A re-pushes the state it holds, B's sibling and entry with it.
    const repair = repush(['replicaB', 1], 'replicaB', [['milk', [['replicaB', 1, 3]]]], { replicaB: 1 });
    expect((await a.push([repair])).results[0]).toMatchObject({ status: 'accepted' });
    const reader = await shopper('replicaR');
    expect(cartValue(held(reader))).toEqual({ milk: 3 });
  });
});
