import { EMPTY_CONTEXT, emptyDocState, writeDoc } from '@converge/conflict';
import { utf8ByteLength, type Cursor, type WireValue } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, replicaOf, type Client } from '../client.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import { dbName } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { scriptedRelay } from '../testing/scripted-relay.js';

const cursor = (seq: number, lineage = 'L1'): Cursor => ({ lineage, seq, hash: `h${seq}`, mac: `m${seq}` });
const doc = (key: string, seq: number, value: string) => ({
  key,
  seq,
  state: writeDoc<WireValue>(emptyDocState(), {
    dot: ['R', seq],
    hlc: { wall: 1000 + seq, logical: 0, replica: 'R' },
    readContext: EMPTY_CONTEXT,
    value: { json: value },
  }).state,
});

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('cursors and credit (a scripted relay)', () => {
  it('the cursor covers only a gap-free prefix: a live change during catch-up is applied but does not move it; credit grants back each catch-up frame', async () => {
    const relay = scriptedRelay();
    client = await createClient({
      name: dbName('cursor'),
      storage: createMemoryStorage(),
      tabs: false,
      transport: relay.transport,
      collections: { notes: {} },
    });
    const c = client;
    const stored = async () => (await replicaOf(c).cursors(['notes']))[0];
    await eventually(() => expect(relay.sent[0]).toMatchObject({ type: 'hello', subscriptions: [{ collection: 'notes', cursor: null }] }));
    relay.welcome({ notes: 20 });
    const first = relay.deliver({ type: 'changes', collection: 'notes', phase: 'catchup', docs: [doc('k1', 3, 'one')], watermark: 5, cursor: cursor(5) });
    await eventually(async () => expect((await stored())?.seq).toBe(5));
    await eventually(() => expect(relay.sent).toContainEqual({ type: 'credit', collection: 'notes', bytes: utf8ByteLength(first) }));

    relay.deliver({ type: 'changes', collection: 'notes', phase: 'live', docs: [doc('k2', 20, 'live')], watermark: 20, cursor: cursor(20) });
    await eventually(async () => expect((await c.collection('notes').get('k2'))?.value).toBe('live'));
    expect((await stored())?.seq).toBe(5); // seqs 6..19 have not been received

    relay.deliver({ type: 'changes', collection: 'notes', phase: 'catchup', docs: [doc('k3', 8, 'three')], watermark: 10, cursor: cursor(10), done: true });
    await eventually(async () => expect((await stored())?.seq).toBe(10));
    relay.deliver({ type: 'changes', collection: 'notes', phase: 'live', docs: [doc('k4', 21, 'four')], watermark: 21, cursor: cursor(21) });
    await eventually(async () => expect((await stored())?.seq).toBe(21));
    relay.deliver({ type: 'changes', collection: 'notes', phase: 'live', docs: [], watermark: 15, cursor: cursor(15) });
    await eventually(async () => expect(c.status.get().positions['notes']).toBe(21));
    expect((await stored())?.seq).toBe(21); // never backwards within a lineage
    expect(relay.sent.filter((f) => f.type === 'credit')).toHaveLength(2);
  });
});
