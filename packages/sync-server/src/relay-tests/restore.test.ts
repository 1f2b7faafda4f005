import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vectorFrom } from '@converge/conflict';
import { decodeValue, encodeValue, type ChangesFrame, type Cursor, type PushedChange } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

let relay: TestRelay | undefined;
const clients: ProtocolClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.close();
  relay = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), 'converge-restore-'));
  dirs.push(dir);
  return { db: join(dir, 'relay.db'), backup: join(dir, 'backup.db') };
}

async function connect(url: string, replicaId: string, cursor: Cursor | null) {
  const c = await ProtocolClient.connect(url, { replicaId, subscriptions: [{ collection: 'notes', cursor }] });
  clients.push(c);
  return c;
}

/** The cursor a client should keep: the one on its latest `changes` frame. */
function lastCursor(c: ProtocolClient): Cursor {
  const frames = c.frames.filter((f): f is ChangesFrame => f.type === 'changes');
  return frames[frames.length - 1]!.cursor;
}

/** What a client does on `resync`: re-push every state it holds for the collection. */
async function repushAll(c: ProtocolClient) {
  const write = c.resyncWrite();
  const changes: PushedChange[] = [...c.states].map(([id, delta]) => ({
    collection: 'notes',
    key: id.slice('notes/'.length),
    delta,
    ...write,
    resync: true,
  }));
  return c.push(changes);
}

function keysAt(c: ProtocolClient): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, state] of c.states) {
    const live = state.siblings.filter((s) => s.deleted !== true);
    out[id] = live.map((s) => (s.deleted === true ? null : (decodeValue(s.value) as { ok: true; value: unknown }).value));
  }
  return out;
}

describe('a relay restored from an older backup regains every write', () => {
  it('detects the fork by chain hash even when seqs were reused, and clients re-push what it lost', async () => {
    const { db, backup } = tempDb();
    relay = await startTestRelay({ store: new SqliteStore(db) });
    const a = await connect(relay.url, 'replicaA', null);
    const c = await connect(relay.url, 'replicaC', null);
    await a.next('changes', (f) => f.done === true);
    await c.next('changes', (f) => f.done === true);
    await a.push([a.blind('notes', 'a1', 'one')]);
    await main(['backup', backup, '--db', db]);
    await a.push([a.blind('notes', 'a2', 'two')]);
    await a.push([a.blind('notes', 'a3', 'three')]);
    await c.next('changes', (f) => f.watermark === 3);
    await a.next('changes', (f) => f.watermark === 3);
    const cursorA = lastCursor(a);
    const cursorC = lastCursor(c);
    expect(cursorC.seq).toBe(3);
    a.close();
    c.close();
    await relay.close();

    await main(['restore', backup, '--db', db]);
    relay = await startTestRelay({ store: new SqliteStore(db), recoveryWindowMs: 60_000 });
    // Another client writes first: seqs 2 and 3 are reused with other changes.
    const x = await connect(relay.url, 'replicaX', null);
    await x.next('changes', (f) => f.done === true);
    await x.push([x.blind('notes', 'x1', 'ex1'), x.blind('notes', 'x2', 'ex2')]);

    const a2 = await connect(relay.url, 'replicaA', cursorA);
    const c2 = await connect(relay.url, 'replicaC', cursorC);
    // Restore opened the window; the clients' states are restored locally from their earlier sessions.
    for (const [fresh, old] of [
      [a2, a],
      [c2, c],
    ] as const) {
      fresh.continueFrom(old);
      const first = await fresh.next('changes');
      expect(first.resync).toBe(true);
      await fresh.next('changes', (f) => f.done === true);
      const ack = await repushAll(fresh);
      expect(ack.results.every((r) => r.status === 'accepted')).toBe(true);
    }
    const reader = await connect(relay.url, 'replicaR', null);
    await reader.next('changes', (f) => f.done === true);
    expect(keysAt(reader)).toEqual({
      'notes/a1': ['one'],
      'notes/a2': ['two'],
      'notes/a3': ['three'],
      'notes/x1': ['ex1'],
      'notes/x2': ['ex2'],
    });
    const metrics = await relay.relay.metrics.registry.getSingleMetricAsString('converge_recovery_window_opens_total');
    expect(metrics).toMatch(/reason="chain_hash_mismatch"/);
  });

  it('a wiped database (new lineage) opens the window; clients catch up from 0 and re-push', async () => {
    const first = tempDb();
    relay = await startTestRelay({ store: new SqliteStore(first.db) });
    const a = await connect(relay.url, 'replicaA', null);
    const b = await connect(relay.url, 'replicaB', null);
    await b.next('changes', (f) => f.done === true);
    await a.push([a.blind('notes', 'k', 'from A')]);
    await b.next('changes', (f) => f.watermark === 1);
    const cursor = lastCursor(b);
    await relay.close();

    const wiped = tempDb();
    relay = await startTestRelay({ store: new SqliteStore(wiped.db) });
    const b2 = await connect(relay.url, 'replicaB', cursor);
    for (const [id, state] of b.states) b2.states.set(id, state);
    const welcome = await b2.next('welcome');
    expect(welcome.lineage).not.toBe(cursor.lineage);
    expect(welcome.recovery).toBe(true);
    expect((await b2.next('changes')).resync).toBe(true);
    // B holds A's write and gives it back to the wiped relay.
    const ack = await repushAll(b2);
    expect(ack.results[0]).toMatchObject({ status: 'accepted' });
  });

  it('a forged, unsigned cursor restarts catch-up but opens no window: foreign dots stay refused', async () => {
    const { db } = tempDb();
    relay = await startTestRelay({ store: new SqliteStore(db) });
    const probe = await connect(relay.url, 'probe', null);
    const lineage = (await probe.next('welcome')).lineage;
    const liar = await connect(relay.url, 'liar', { lineage, seq: 999, hash: 'AAAA', mac: 'forged' });
    expect((await liar.next('welcome')).recovery).toBeUndefined();
    expect((await liar.next('changes')).resync).toBe(true);
    // A "re-pushed" state carrying another replica's sibling is refused outside a window.
    const other = await connect(relay.url, 'victim', null);
    await other.next('welcome');
    const victimState = other.blind('notes', 'k', 'victim-write');
    const forgedRepush: PushedChange = { ...victimState, writeNumber: 1, chain: '1', resync: true };
    const ack = await liar.push([forgedRepush]);
    expect(ack.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    const opens = await relay.relay.metrics.registry.getSingleMetricAsString('converge_recovery_window_opens_total');
    expect(opens).not.toMatch(/reason=/);
  });

  it('a fresh database opens no recovery window: a forged resync claiming B:1..2000 is refused, and B:2 is stored', async () => {
    relay = await startTestRelay({ store: new SqliteStore(tempDb().db) });
    const b = await connect(relay.url, 'replicaB', null);
    expect((await b.next('welcome')).recovery).toBeUndefined();
    await b.push([b.blind('notes', 'k', 'b1')]);
    const m = await connect(relay.url, 'replicaM', null);
    await m.next('changes', (f) => f.done === true);
    const forgedSibling = {
      dot: ['replicaB', 2000] as [string, number],
      hlc: { wall: Date.now(), logical: 0, replica: 'replicaB' },
      value: encodeValue('forged'),
    };
    const attack: PushedChange = {
      collection: 'notes',
      key: 'k',
      delta: { context: { vv: vectorFrom({ replicaB: 2000 }), cloud: [] }, siblings: [forgedSibling] },
      writeNumber: 1,
      chain: '1',
      resync: true,
    };
    expect((await m.push([attack])).results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    // B's real offline write B:2 is stored, not dropped as already seen.
    await b.next('changes', (f) => f.watermark === 1);
    const second = await b.push([b.write('notes', 'k', 'b2')]);
    expect(second.results[0]).toMatchObject({ status: 'accepted', seq: 2 });
    const reader = await connect(relay.url, 'replicaR', null);
    await reader.next('changes', (f) => f.done === true);
    expect(keysAt(reader)).toEqual({ 'notes/k': ['b2'] });
  });

  it('a recovery window only ever extends: a signed cursor beyond the head does not cut a restore window short', async () => {
    const { db, backup } = tempDb();
    relay = await startTestRelay({ store: new SqliteStore(db) });
    const a = await connect(relay.url, 'replicaA', null);
    await a.next('changes', (f) => f.done === true);
    await main(['backup', backup, '--db', db]);
    await a.push([a.blind('notes', 'a1', 'one')]);
    await a.next('changes', (f) => f.watermark === 1);
    const cursor = lastCursor(a);
    await relay.close();

    await main(['restore', backup, '--db', db, '--recovery-window', '1h']);
    let clock = Date.now();
    relay = await startTestRelay({ store: new SqliteStore(db), recoveryWindowMs: 2000, now: () => clock });
    const again = await connect(relay.url, 'replicaA', cursor);
    expect((await again.next('changes')).resync).toBe(true); // the cursor lies beyond the restored head
    clock += 10 * 60 * 1000; // ten minutes later: the 2 s window would be over, the 1 h one is not
    const later = await connect(relay.url, 'replicaL', null);
    expect((await later.next('welcome')).recovery).toBe(true);
  });
});
