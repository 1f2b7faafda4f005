import { PROTOCOL_VERSION, type WelcomeFrame } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { welcomeFrame } from '../testing/scripted-relay.js';
import { sessionHarness } from '../testing/session-harness.js';
import { Handshake } from './handshake.js';

const welcome = (overrides: Partial<WelcomeFrame> = {}) => welcomeFrame({}, overrides);

describe('Handshake', () => {
  it('hello carries the replica id, the token, a subscription per collection with its stored cursor, and only the declared collections', async () => {
    const h = await sessionHarness({ collections: { carts: { strategy: 'cart' } }, token: () => 'secret' });
    h.replica.spec('notes'); // used, not declared
    const cursor = { lineage: 'L1', seq: 7, hash: 'h7', mac: 'm7' };
    await h.replica.applyRemote('carts', [], cursor);
    const hello = await new Handshake(h.ctx).hello();
    expect(hello?.frame).toEqual({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      replicaId: h.replica.replicaId,
      token: 'secret',
      subscriptions: [
        { collection: 'carts', cursor },
        { collection: 'notes', cursor: null },
      ],
      collections: { carts: { mode: 'multi-leader', strategy: 'cart' } },
    });
    expect(hello?.sent.replicaId).toBe(h.replica.replicaId);
  });

  it("an auth function that throws ends the session as unauthorized (the app's token service, not the client, failed); no hello", async () => {
    const h = await sessionHarness({
      token: () => {
        throw new Error('token service down');
      },
    });
    expect(await new Handshake(h.ctx).hello()).toBeUndefined();
    expect(h.ends).toEqual([
      { kind: 'retry', error: expect.objectContaining({ code: 'unauthorized', message: expect.stringContaining('token service down') }) },
    ]);
  });

  it('a welcome that configures a declared collection otherwise is fatal and names it; the replica learns nothing from it', async () => {
    const h = await sessionHarness({ collections: { carts: { strategy: 'cart' } } });
    const handshake = new Handshake(h.ctx);
    await handshake.hello();
    const verdict = await handshake.welcome(welcome({ collections: { carts: { mode: 'multi-leader', strategy: 'siblings', head: 0 } }, writeNumber: 99 }));
    expect(verdict).toBe('ended');
    expect(h.ends).toEqual([{ kind: 'fatal', error: expect.objectContaining({ code: 'bad_message', path: 'collections.carts' }) }]);
    expect(h.state.identityReplaced).toBe(0); // the write number was not even compared
  });

  it("a welcome's clock stamps the next writes: the offset is measured around the exchange", async () => {
    let now = 1_000_000;
    const h = await sessionHarness({ now: () => now });
    const handshake = new Handshake(h.ctx);
    await handshake.hello();
    now += 100; // the welcome arrives 100 ms after hello left: the relay's `now` is taken half-way
    expect(await handshake.welcome(welcome({ now: 5_000_050 }))).toBe('open');
    const [written] = await h.replica.write([{ collection: 'notes', key: 'k', ack: 'local', kind: 'put', value: { json: 1 }, read: undefined }]);
    expect(written!.record.state.siblings[0]!.hlc.wall).toBe(5_000_100);
  });

  it('a relay that has seen more writes of this id than this database made: identity lost, a new id is minted', async () => {
    const h = await sessionHarness();
    const handshake = new Handshake(h.ctx);
    await handshake.hello();
    expect(await handshake.welcome(welcome({ writeNumber: 5, writeChain: 'c5' }))).toBe('ended');
    expect(h.state.identityReplaced).toBe(1);
  });

  it('another tab gave the replica a new id since hello: the session ends to say hello again at once', async () => {
    const h = await sessionHarness();
    const handshake = new Handshake(h.ctx);
    await handshake.hello();
    await h.replica.resetIdentity(h.replica.replicaId); // what the other tab did
    expect(await handshake.welcome(welcome())).toBe('ended');
    expect(h.ends).toEqual([{ kind: 'now' }]);
  });
});
