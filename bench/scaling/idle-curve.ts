// Relay memory per idle connection at growing connection counts: the CLI relay (fresh process
// and SQLite file per run), 20 connections opened and closed first (warm-up), RSS settled; then
// n connections, each through hello → welcome and a subscription to one collection (its empty
// catch-up's `done`), opened 50 at a time; RSS once settled, 2 s later. Open sessions checked
// with the relay's `converge_connections` metric.
import { connectAll } from '../relay/relay.bench.js';
import { METRICS_TOKEN, startRelay, tempDb, type RelayChild } from '../relay/relay-process.js';
import { median, newReplicaId, nowMs, sleep, withTimeout, type Envelope, type WireClient } from '../relay/wire.js';

export interface IdleRun {
  readonly connections: number;
  readonly round: number;
  readonly beforeKB: number;
  readonly afterKB: number;
  readonly perConnectionKB: number;
  readonly open: number;
  readonly connectMs: number;
}

async function settledRss(relay: RelayChild, samples = 5, everyMs = 100): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(relay.rssKB());
    await sleep(everyMs);
  }
  return median(xs);
}

async function openSessions(url: string): Promise<number> {
  const res = await fetch(`${url.replace('ws://', 'http://')}metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('converge_connections '));
  if (line === undefined) throw new Error('the relay reported no converge_connections metric');
  return Number(line.split(' ')[1]);
}

async function idleOnce(n: number, round: number): Promise<IdleRun> {
  const { db, cleanup } = tempDb('idle-curve');
  const relay = await startRelay({ db, kind: 'cli' });
  const hello = async (c: WireClient) => {
    const caughtUp = new Promise<void>((resolve) => {
      c.onFrame = (text) => {
        if ((JSON.parse(text) as Envelope).done === true) resolve();
      };
    });
    await c.hello(newReplicaId(), [{ collection: 'carts', cursor: null }]);
    await withTimeout(caughtUp, 10_000, 'empty catch-up');
  };
  const clients: WireClient[] = [];
  try {
    const warm = await connectAll(relay.url, 20, hello);
    for (const c of warm) c.close();
    await sleep(1000);
    const beforeKB = await settledRss(relay);
    const t0 = nowMs();
    clients.push(...(await connectAll(relay.url, n, hello)));
    const connectMs = nowMs() - t0;
    await sleep(2000);
    const afterKB = await settledRss(relay);
    return { connections: n, round, beforeKB, afterKB, perConnectionKB: (afterKB - beforeKB) / n, open: await openSessions(relay.url), connectMs };
  } finally {
    for (const c of clients) c.close();
    await relay.stop();
    cleanup();
  }
}

export async function runIdleCurve(counts: readonly number[], runs: number): Promise<IdleRun[]> {
  const out: IdleRun[] = [];
  for (let round = 0; round <= runs; round++) {
    for (const n of counts) {
      const run = await idleOnce(n, round);
      console.error(`[scaling idle] ${n} ${round === 0 ? 'warm-up' : `round ${round}`}: ${run.perConnectionKB.toFixed(1)} kB per connection, ${run.open} open`);
      out.push(run);
    }
  }
  return out;
}
