import { EMPTY_CONTEXT, emptyDocState, writeDoc, type Dot } from '@converge/conflict';
import { encodeValue, type WireValue } from '@converge/protocol';
import { afterEach, expect, it } from 'vitest';
import { serializeState } from '../stored-state.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RelayStore } from '../store/relay-store.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** Stores `keys` in order, each written by `writer`, as a valid state. */
async function fill(store: MemoryStore, writer: string, keys: readonly string[], from = 1): Promise<void> {
  for (const [index, key] of keys.entries()) {
    const dot: Dot = [writer, from + index];
    const { state } = writeDoc(emptyDocState<WireValue>(), {
      dot,
      hlc: { wall: 1, logical: 0, replica: writer },
      readContext: EMPTY_CONTEXT,
      value: encodeValue(key),
    });
    await store.transact((tx) => tx.put('notes', key, serializeState(state), dot));
  }
}

/**
 * A store shared with other processes (it has `watchCommits`) whose log is replaced under the
 * relay once the first catch-up scan has been answered: a failover to a node that lacks commits
 * already sent, where the new primary reused their seqs.
 */
function failingOver(before: MemoryStore, after: MemoryStore): RelayStore {
  let scans = 0;
  return new Proxy(before, {
    get(_target, property) {
      if (property === 'watchCommits') return () => () => undefined;
      const current = scans > 0 ? after : before;
      const value: unknown = Reflect.get(current, property, current);
      if (property === 'scan' && typeof value === 'function') {
        return (...args: unknown[]) => (value as (...a: unknown[]) => Promise<unknown>).apply(current, args).finally(() => scans++);
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

it('a failover replaces the log between two catch-up batches: the client is sent back to judge its cursor again, never handed the new log past changes it did not get', async () => {
  const old = Array.from({ length: 12 }, (_, i) => `old${i + 1}`);
  const before = new MemoryStore();
  await fill(before, 'writerA', old);
  // The promoted node had the first 5; another relay then committed 7 changes on it (seqs 6–12).
  const after = new MemoryStore();
  await fill(after, 'writerA', old.slice(0, 5));
  await fill(after, 'writerB', ['new6', 'new7', 'new8', 'new9', 'new10', 'new11', 'new12']);
  relay = await startTestRelay({ store: failingOver(before, after) });
  const c = await ProtocolClient.connect(relay.url, { replicaId: 'reader', subscriptions: [{ collection: 'notes', cursor: null }] });
  // Either the catch-up ends (`done`) or the relay closes the connection.
  await Promise.race([c.closed, c.next('changes', (frame) => frame.done === true).catch(() => undefined)]);
  const sent = c.frames.flatMap((frame) => (frame.type === 'changes' ? frame.docs.map((doc) => doc.key) : []));
  // The first scan (8 keys) went out from the old log; the second would have continued on the
  // new one at seq 9, skipping new6–new8, and moved the client's cursor past them.
  expect(sent).toEqual(old.slice(0, 8));
  expect((await c.closed).code).toBe(1013);
});
