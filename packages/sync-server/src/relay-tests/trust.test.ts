import { contextFromDots, vectorFrom, writeDoc, type Dot } from '@converge/conflict';
import { encodeValue, type PushedChange } from '@converge/protocol';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtAuth } from '../auth/auth.js';
import type { ProtocolClientOptions } from '../testing/protocol-client.js';
import { relayHarness } from './harness.js';

const harness = relayHarness();
const client = (replicaId: string, extra: Partial<ProtocolClientOptions> = {}) => harness.client(replicaId, extra);

const SECRET = 'a-test-secret-of-sufficient-length';
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

/** Write numbers of hand-built changes: each is a write of its own. */
let forgedWrites = 1000;

/** A change whose delta is built by hand: a sibling at `dot` with `context`. */
function forged(key: string, dot: Dot, context = contextFromDots([dot]), wall = Date.now()): PushedChange {
  const written = writeDoc(
    { context: { vv: new Map(), cloud: [] }, siblings: [] },
    { dot, hlc: { wall, logical: 0, replica: dot[0] }, readContext: context, value: encodeValue('x') },
  );
  const writeNumber = ++forgedWrites;
  return { collection: 'notes', key, delta: written.delta, writeNumber, chain: writeNumber.toString(16) };
}

describe('trust checks on client pushes', () => {
  it("refuses minting another replica's dot, and changes nothing", async () => {
    await harness.start();
    const a = await client('replicaA');
    await a.next('welcome');
    const ack = await a.push([forged('k', ['replicaB', 1])]);
    expect(ack.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    const b = await client('replicaB');
    expect((await b.next('welcome')).collections['notes']?.head).toBe(0);
  });

  it("refuses a context claiming another replica's unseen writes: a forged {B: 2^50} and a forged dot in a gap", async () => {
    await harness.start();
    const b = await client('replicaB');
    await b.next('welcome');
    await b.push([b.blind('notes', 'k', 'b1')]);
    const a = await client('replicaA');
    await a.next('welcome');
    const huge = forged('k', ['replicaA', 1], { vv: vectorFrom({ replicaA: 1, replicaB: 2 ** 50 }), cloud: [] });
    expect((await a.push([huge])).results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    const gap = forged('k', ['replicaA', 1], { vv: vectorFrom({ replicaA: 1 }), cloud: [['replicaB', 3]] });
    expect((await a.push([gap])).results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    // What the relay has seen may be claimed.
    const honest = forged('k', ['replicaA', 1], { vv: vectorFrom({ replicaA: 1, replicaB: 1 }), cloud: [] });
    expect((await a.push([honest])).results[0]).toMatchObject({ status: 'accepted' });
  });

  it("two copies of one database online at once: the relay's latest write number arriving with another chain is replica_reset, and welcome names the chain", async () => {
    await harness.start();
    const original = await client('replicaA');
    await original.next('welcome');
    const first = original.blind('notes', 'k1', 'original'); // write number 1
    expect((await original.push([first])).results[0]).toMatchObject({ status: 'accepted' });
    // A copy made before that write writes something else under write number 1, on another key (a fresh dot there).
    const copy = await client('replicaA');
    expect(await copy.next('welcome')).toMatchObject({ writeNumber: 1, writeChain: first.chain });
    const other = copy.blind('notes', 'k2', 'from the copy');
    expect(other.writeNumber).toBe(1);
    expect((await copy.push([other])).results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    // The same write re-sent (a lost ack) is accepted again: the chain is the same.
    expect((await original.push([first])).results[0]).toMatchObject({ status: 'accepted' });
  });

  it('a known dot with different content is refused with replica_reset; welcome reports the highest write number', async () => {
    await harness.start();
    const a = await client('replicaA');
    await a.next('welcome');
    const original = forged('k', ['replicaA', 1]);
    expect((await a.push([{ ...original, writeNumber: 7000, chain: '1b58' }])).results[0]).toMatchObject({ status: 'accepted' });
    const reused = forged('k', ['replicaA', 1], undefined, Date.now() + 5);
    expect((await a.push([reused])).results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    const again = await client('replicaA');
    expect(await again.next('welcome')).toMatchObject({ writeNumber: 7000, writeChain: '1b58' });
  });

  it('refuses a write stamped further ahead than maxClockSkewMs with clock_skew', async () => {
    await harness.start({ limits: { maxClockSkewMs: 1000 } });
    const a = await client('replicaA');
    await a.next('welcome');
    const ahead = forged('k', ['replicaA', 1], undefined, Date.now() + 60_000);
    expect((await a.push([ahead])).results[0]).toMatchObject({ status: 'rejected', code: 'clock_skew' });
  });

  it('caps siblings per key on client pushes: refuses at maxSiblingsPerKey, counts warnings from 25', async () => {
    const relay = await harness.start({ limits: { maxSiblingsPerKey: 30 } });
    const a = await client('replicaA');
    await a.next('welcome');
    const results = [];
    for (let i = 0; i < 31; i++) results.push((await a.push([a.blind('notes', 'hot', i)])).results[0]);
    expect(results.slice(0, 30).every((r) => r?.status === 'accepted')).toBe(true);
    expect(results[30]).toMatchObject({ status: 'rejected', code: 'too_many_siblings' });
    const metrics = await relay.relay.metrics.registry.getSingleMetricAsString('converge_sibling_warnings_total');
    expect(metrics).toMatch(/converge_sibling_warnings_total 6/);
  });

  it('refuses a value above maxValueBytes with payload_too_large, and the writes behind it still land', async () => {
    await harness.start({ limits: { maxValueBytes: 100 } });
    const a = await client('replicaA');
    await a.next('welcome');
    const ack = await a.push([a.blind('notes', 'big', 'x'.repeat(200)), a.blind('notes', 'small', 'ok')]);
    expect(ack.results.map((r) => r.status)).toEqual(['rejected', 'accepted']);
    expect(ack.results[0]).toMatchObject({ code: 'payload_too_large', key: 'big' });
  });
});

describe('auth', () => {
  it('refuses a bad token with unauthorized and closes', async () => {
    await harness.start({ auth: jwtAuth({ secret: SECRET }) });
    const a = await client('replicaA', { token: 'not-a-jwt' });
    expect(await a.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await a.closed).code).toBe(1008);
  });

  it('enforces collection grants and key prefixes on subscribe, catch-up and push', async () => {
    await harness.start({ auth: jwtAuth({ secret: SECRET }) });
    const admin = await client('admin', { token: await token({ sub: 'admin' }) });
    await admin.next('welcome');
    await admin.push([admin.blind('notes', 'u1/a', 1), admin.blind('notes', 'u2/b', 2), { ...admin.blind('secrets', 's', 3) }]);

    const user = await client('user1', {
      token: await token({ sub: 'u1', collections: { notes: 'read-write' }, prefix: 'u1/' }),
      subscriptions: [
        { collection: 'notes', cursor: null },
        { collection: 'secrets', cursor: null },
      ],
    });
    expect(await user.next('error')).toMatchObject({ code: 'forbidden', collection: 'secrets' });
    await user.next('changes', (f) => f.done === true);
    expect(user.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : []))).toEqual(['u1/a']);
    const ack = await user.push([user.blind('notes', 'u1/c', 1), user.blind('notes', 'u2/c', 1), user.blind('secrets', 'u1/x', 1)]);
    expect(ack.results.map((r) => (r.status === 'rejected' ? r.code : r.status))).toEqual(['accepted', 'forbidden', 'forbidden']);
    // Live fan-out respects the prefix too.
    const from = user.frames.length;
    await admin.push([admin.blind('notes', 'u2/live', 1), admin.blind('notes', 'u1/live', 1)]);
    const live = await user.next('changes', (f) => f.phase === 'live' && f.docs.some((d) => d.key === 'u1/live'), 5000, from);
    expect(live.docs.map((d) => d.key)).toEqual(['u1/live']);
  });

  it('a write-only principal gets refusals without state, and welcome hides the heads it may not read', async () => {
    const collections = { accounts: { mode: 'leader-follower', strategy: 'siblings' } } as const;
    await harness.start({ auth: jwtAuth({ secret: SECRET }), collections });
    const admin = await client('admin', { token: await token({ sub: 'admin' }), collections });
    await admin.next('welcome');
    await admin.push([admin.blind('accounts', 'acct', { balance: 10 }), admin.blind('notes', 'secret', 'for readers only')]);

    const writer = await client('writerW', {
      token: await token({ sub: 'w', collections: { accounts: 'write', notes: 'write' } }),
      collections,
      subscriptions: [],
    });
    const welcome = await writer.next('welcome');
    expect(welcome.collections['accounts']?.head).toBe(0);
    // A blind write to a leader-follower key is stale: refused, and the stored value stays hidden.
    const stale = await writer.push([writer.blind('accounts', 'acct', { balance: 0 })]);
    expect(stale.results[0]).toMatchObject({ status: 'rejected', code: 'conflict_rejected' });
    expect(stale.results[0]).not.toHaveProperty('current');
    // A reused dot with other content is replica_reset, also without state.
    const original = forged('own', ['writerW', 1]);
    expect((await writer.push([original])).results[0]).toMatchObject({ status: 'accepted' });
    const reused = await writer.push([forged('own', ['writerW', 1], undefined, Date.now() + 5)]);
    expect(reused.results[0]).toMatchObject({ status: 'rejected', code: 'replica_reset' });
    expect(reused.results[0]).not.toHaveProperty('current');
    // A principal that may read gets the state with the refusal.
    const reader = await client('readerR', { token: await token({ sub: 'r' }), collections, subscriptions: [] });
    expect((await reader.next('welcome')).collections['accounts']?.head).toBe(2); // the refused write's no-op is seq 2
    const refused = await reader.push([reader.blind('accounts', 'acct', { balance: 1 })]);
    expect(refused.results[0]).toHaveProperty('current');
  });

  it('a write-only principal learns nothing of a stored state from refusals: messages do not depend on it, and context claims are judged without saying what the relay has seen (issue 12 §4)', async () => {
    const collections = { accounts: { mode: 'leader-follower', strategy: 'siblings' } } as const;
    await harness.start({ auth: jwtAuth({ secret: SECRET }), collections, limits: { maxStateBytes: 2048, maxValueBytes: 2048 } });
    const admin = await client('adminDev', { token: await token({ sub: 'admin' }), collections, subscriptions: [] });
    await admin.next('welcome');
    await admin.push([admin.blind('accounts', 'acct-1', { balance: 10 })]); // adminDev:1
    await admin.push([admin.blind('accounts', 'acct-2', { balance: 20 }), admin.blind('accounts', 'acct-2', { balance: 21 })]); // adminDev:1, :2
    await admin.push([admin.blind('notes', 'big-1', 'x'.repeat(1500)), admin.blind('notes', 'big-2', 'x'.repeat(1700)), admin.blind('notes', 'secret', 's')]);

    const writer = await client('writerW', {
      token: await token({ sub: 'w', collections: { accounts: 'write', notes: 'write' } }),
      collections,
      subscriptions: [],
    });
    await writer.next('welcome');
    const refusal = async (change: PushedChange) => (await writer.push([change])).results[0]!;
    // conflict_rejected does not name the holder's dot: the same message for either key.
    const stale1 = await refusal(writer.blind('accounts', 'acct-1', { balance: 0 }));
    const stale2 = await refusal(writer.blind('accounts', 'acct-2', { balance: 0 }));
    expect(stale1).toMatchObject({ status: 'rejected', code: 'conflict_rejected' });
    expect(stale1.status === 'rejected' && stale1.message).not.toMatch(/adminDev/);
    expect(stale2.status === 'rejected' && stale2.message).toBe(stale1.status === 'rejected' && stale1.message);
    // payload_too_large does not give the stored state's size: the same message for both keys.
    const big1 = await refusal(writer.blind('notes', 'big-1', 'y'.repeat(600)));
    const big2 = await refusal(writer.blind('notes', 'big-2', 'y'.repeat(600)));
    expect(big1).toMatchObject({ status: 'rejected', code: 'payload_too_large' });
    expect(big2.status === 'rejected' && big2.message).toBe(big1.status === 'rejected' && big1.message);
    // A claim of another replica's dot it cannot have read: refused alike, seen (adminDev:1) or not (adminDev:9).
    const seen = await refusal(
      forged(
        'secret',
        ['writerW', 50],
        contextFromDots([
          ['writerW', 50],
          ['adminDev', 1],
        ]),
      ),
    );
    const unseen = await refusal(
      forged(
        'secret',
        ['writerW', 51],
        contextFromDots([
          ['writerW', 51],
          ['adminDev', 9],
        ]),
      ),
    );
    expect(seen).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(unseen).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(seen.status === 'rejected' && seen.message).toBe(unseen.status === 'rejected' && unseen.message);
    // Its own writes are judged as usual; the ack gives no seq (a position of the log it may not read).
    const own = await refusal(forged('secret', ['writerW', 52]));
    expect(own).toMatchObject({ status: 'accepted' });
    expect(own).not.toHaveProperty('seq');
  });

  it('binds a replica id to the first principal that used it', async () => {
    await harness.start({ auth: jwtAuth({ secret: SECRET }) });
    const owner = await client('sharedId', { token: await token({ sub: 'alice' }) });
    await owner.next('welcome');
    owner.close();
    const squatter = await client('sharedId', { token: await token({ sub: 'mallory' }) });
    expect(await squatter.next('error')).toMatchObject({ code: 'forbidden' });
    const again = await client('sharedId', { token: await token({ sub: 'alice' }) });
    expect((await again.next('welcome')).type).toBe('welcome');
  });

  it('refuses a client whose collection declaration differs from the relay configuration', async () => {
    await harness.start({ collections: { carts: { mode: 'multi-leader', strategy: 'cart' } } });
    const a = await client('replicaA', { collections: { carts: { mode: 'multi-leader', strategy: 'lww' } } });
    const error = await a.next('error');
    expect(error.code).toBe('bad_message');
    expect(error.message).toMatch(/carts is multi-leader\/cart/);
    expect((await a.closed).code).toBe(1008);
  });
});
