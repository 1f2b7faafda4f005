import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../testing/protocol-client.js';
import { spawnRelay, stopped, type RelayProcess } from './relay-process.js';

const dirs: string[] = [];
const children: RelayProcess[] = [];
afterEach(() => {
  for (const r of children.splice(0)) r.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('durability: a relay process killed mid-write', () => {
  it('keeps every acknowledged change, with its seq, across SIGKILL and restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'converge-durability-'));
    dirs.push(dir);
    const db = join(dir, 'relay.db');
    const first = await spawnRelay(['--db', db]);
    children.push(first);
    const writer = await ProtocolClient.connect(first.url, { replicaId: 'writer', subscriptions: [] });
    await writer.next('welcome');

    // Push in a bounded loop, several pushes in flight; kill the relay after 150 acks or 3 s.
    const acked = new Map<string, number>();
    const started = Date.now();
    let sent = 0;
    const inflight = new Set<Promise<void>>();
    while (acked.size < 150 && Date.now() - started < 3000 && sent < 2000) {
      const key = `k${sent++}`;
      const p = writer
        .push([writer.blind('notes', key, { n: sent })])
        .then((ack) => {
          const r = ack.results[0]!;
          if (r.status === 'accepted') acked.set(key, r.seq!); // an anonymous principal reads every key: the seq is given
        })
        .catch(() => undefined)
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 8) await Promise.race(inflight);
    }
    first.child.kill('SIGKILL');
    await stopped(first.child);
    await Promise.allSettled(inflight);
    expect(acked.size).toBeGreaterThan(0);

    const second = await spawnRelay(['--db', db]);
    children.push(second);
    const reader = await ProtocolClient.connect(second.url, { replicaId: 'reader', subscriptions: [{ collection: 'notes', cursor: null }] });
    await reader.next('changes', (f) => f.done === true, 20_000);
    const stored = new Map(reader.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => [d.key, d.seq] as const) : [])));
    for (const [key, seq] of acked) expect(stored.get(key), key).toBe(seq);
    reader.close();
    writer.close();
  }, 60_000);

  it('shuts down gracefully on SIGTERM: clients get 1001, the process exits 0, nothing acked is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'converge-sigterm-'));
    dirs.push(dir);
    const db = join(dir, 'relay.db');
    const relay = await spawnRelay(['--db', db]);
    children.push(relay);
    const c = await ProtocolClient.connect(relay.url, { replicaId: 'writer', subscriptions: [] });
    await c.next('welcome');
    const ack = await c.push([c.blind('notes', 'k', 1)]);
    const exit = new Promise<number | null>((resolve) => relay.child.once('exit', (code) => resolve(code)));
    relay.child.kill('SIGTERM');
    expect((await c.closed).code).toBe(1001);
    expect(await exit).toBe(0);
    const again = await spawnRelay(['--db', db]);
    children.push(again);
    const reader = await ProtocolClient.connect(again.url, { replicaId: 'reader', subscriptions: [{ collection: 'notes', cursor: null }] });
    const done = await reader.next('changes', (f) => f.done === true);
    expect(done.watermark).toBe((ack.results[0] as { seq: number }).seq);
    reader.close();
  }, 60_000);
});
