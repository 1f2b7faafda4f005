import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Subscription } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../testing/protocol-client.js';
import { spawnRelay, stopped, type RelayProcess } from './relay-process.js';

// The attack of issue 12 against the real relay in a child process, so that RSS is the relay's
// own: a client writes large values, other connections subscribe to them many times over in
// one `hello` and never read their sockets.

const MiB = 1024 * 1024;
/** The relay's defaults (relay-options.ts, relay-limits.ts), which the attacked relay runs with. */
const MAX_BUFFERED_BYTES = 8 * MiB;
const CATCHUP_WINDOW_BYTES = 4 * MiB;
const MAX_FRAME_BYTES = 1 * MiB;
const METRICS_TOKEN = 'memory-attack-metrics-token';
/**
 * What one attacking connection may cost: its queued bytes (the cap), its catch-up window, a
 * frame beyond it and one scan batch. Before the fix one such connection cost ~370 MB.
 */
const PER_CONNECTION = MAX_BUFFERED_BYTES + CATCHUP_WINDOW_BYTES + 2 * MAX_FRAME_BYTES;
/** Garbage the V8 heap may hold on to, allocator slack, a loaded machine. */
const SLACK = 64 * MiB;
/** The most an attack by `n` connections may add to the relay's RSS. */
const bound = (n: number) => n * PER_CONNECTION + SLACK;

const dirs: string[] = [];
const children: RelayProcess[] = [];
const clients: ProtocolClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const { child } of children.splice(0)) {
    child.kill('SIGKILL');
    await stopped(child);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A relay with the default limits but a short heartbeat, and its metrics behind a token. */
async function attackedRelay(): Promise<
  RelayProcess & { rss: () => number; metric: (line: RegExp) => Promise<number>; pongCuts: (n: number) => Promise<void> }
> {
  const dir = mkdtempSync(join(tmpdir(), 'converge-attack-'));
  dirs.push(dir);
  const config = join(dir, 'relay.config.json');
  writeFileSync(config, JSON.stringify({ limits: { heartbeatMs: 2000 } }));
  const relay = await spawnRelay(['--db', join(dir, 'relay.db'), '--config', config, '--metrics-token', METRICS_TOKEN]);
  children.push(relay);
  const pid = relay.child.pid!;
  // The relay logs each session it cuts for a missed pong as it cuts it.
  let cut = 0;
  const cutWaits: { n: number; resolve: () => void }[] = [];
  createInterface({ input: relay.child.stdout! }).on('line', (line) => {
    if (!line.includes('closing session: no pong')) return;
    cut++;
    for (const wait of cutWaits.filter((w) => w.n <= cut)) {
      cutWaits.splice(cutWaits.indexOf(wait), 1);
      wait.resolve();
    }
  });
  return {
    ...relay,
    rss: () => rssOf(pid),
    pongCuts: (n) => (cut >= n ? Promise.resolve() : new Promise((resolve) => cutWaits.push({ n, resolve }))),
    async metric(line) {
      const text = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      const m = line.exec(text);
      return m === null ? 0 : Number(m[1]);
    },
  };
}

async function connect(url: string, replicaId: string, subscriptions: readonly Subscription[]): Promise<ProtocolClient> {
  const c = await ProtocolClient.connect(url, { replicaId, subscriptions });
  clients.push(c);
  return c;
}

/** Median of a few RSS samples. */
async function settledRss(rss: () => number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rss());
    await sleep(100);
  }
  return xs.sort((a, b) => a - b)[2]!;
}

/**
 * Runs the attack: `n` connections send `hello` with `subscriptions` and never read; meanwhile
 * a good client pushes. Returns RSS before and at its peak, and the good pushes' latencies.
 */
async function attack(
  relay: Awaited<ReturnType<typeof attackedRelay>>,
  n: number,
  subscriptions: readonly Subscription[],
): Promise<{ before: number; peak: number; latencies: number[]; attackers: ProtocolClient[] }> {
  const good = await connect(relay.url, 'good', [{ collection: 'good', cursor: null }]);
  await good.next('changes', (f) => f.done === true);
  await good.push([good.blind('good', 'warm-up', 0)]);
  const before = await settledRss(relay.rss);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, relay.rss())), 25);
  try {
    const attackers: ProtocolClient[] = [];
    for (let i = 0; i < n; i++) {
      const c = await connect(relay.url, `attacker${i}`, subscriptions);
      c.ws.pause(); // never reads its socket
      attackers.push(c);
    }
    // The good client keeps writing while the relay serves the attack: bounded in count and time.
    // Each push must be acked within ProtocolClient's 5 s wait: a liveness check, not a timing
    // threshold (the p50/p99 are reported, not asserted).
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const ack = await good.push([good.blind('good', `k${i}`, 'x'.repeat(1000))]);
      latencies.push(performance.now() - t0);
      expect(ack.results[0]).toMatchObject({ status: 'accepted' });
      await sleep(25);
    }
    await sleep(500);
    return { before, peak, latencies, attackers };
  } finally {
    clearInterval(sampler);
  }
}

/** The 4 keys of 200 kB sharing a 900-character prefix that the attack selects. */
async function seedLargeKeys(relay: RelayProcess, collections: readonly string[], prefix: string): Promise<void> {
  const writer = await connect(relay.url, 'writer', []);
  await writer.next('welcome');
  for (const collection of collections) {
    const ack = await writer.push([0, 1, 2, 3].map((i) => writer.blind(collection, `${prefix}${i}`, 'v'.repeat(200_000))));
    expect(ack.results.every((r) => r.status === 'accepted')).toBe(true);
  }
}

/** Waits until the relay has cut every attacker for missing its pongs (the test's timeout bounds it); returns how many its metrics count. */
async function attackersCut(relay: Awaited<ReturnType<typeof attackedRelay>>, attackers: readonly ProtocolClient[]): Promise<number> {
  await relay.pongCuts(attackers.length);
  const cut = await relay.metric(/converge_rejects_total\{code="missed_pong"\} (\d+)/);
  for (const c of attackers) c.ws.resume();
  await Promise.all(attackers.map((c) => c.closed));
  return cut;
}

const report = (name: string, r: { before: number; peak: number; latencies: number[]; attackers: readonly unknown[] }) => {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  console.log(
    `${name}: relay RSS ${(r.before / MiB).toFixed(0)} MB before, ${(r.peak / MiB).toFixed(0)} MB at peak (+${((r.peak - r.before) / MiB).toFixed(0)} MB; ` +
      `bound +${(bound(r.attackers.length) / MiB).toFixed(0)} MB); good pushes p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, ` +
      `p99 ${sorted[Math.ceil(sorted.length * 0.99) - 1]!.toFixed(1)} ms`,
  );
};

describe('subscriptions cannot amplify reads into relay memory (relay in a child process)', () => {
  it('256 overlapping prefix subscriptions in one hello, never read: RSS bounded, good pushes acked, attackers cut', async () => {
    const relay = await attackedRelay();
    const prefix = 'p'.repeat(900);
    await seedLargeKeys(relay, ['notes'], prefix);
    const subscriptions = Array.from({ length: 256 }, (_, i) => ({ collection: 'notes', cursor: null, filter: { prefix: prefix.slice(0, i + 1) } }));
    // Issue 12 measured +370 MB per such connection: 1.17 GB over 3.
    const result = await attack(relay, 3, subscriptions);
    report('3 connections × 256 overlapping prefixes', result);
    expect(result.peak - result.before).toBeLessThanOrEqual(bound(3));
    expect(await attackersCut(relay, result.attackers)).toBe(3);
  }, 120_000);

  it('64 subscriptions to distinct collections of large keys, never read: RSS bounded by one window per connection, attackers cut', async () => {
    const relay = await attackedRelay();
    const prefix = 'p'.repeat(900);
    const collections = Array.from({ length: 64 }, (_, i) => `big${i}`);
    await seedLargeKeys(relay, collections, prefix);
    // With a window per subscription, each connection could hold all 51 MB.
    const result = await attack(
      relay,
      8,
      collections.map((collection) => ({ collection, cursor: null })),
    );
    report('8 connections × 64 collections', result);
    expect(result.peak - result.before).toBeLessThanOrEqual(bound(8));
    expect(await attackersCut(relay, result.attackers)).toBe(8);
  }, 120_000);
});
