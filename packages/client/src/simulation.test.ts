import { dotKey, EMPTY_CONTEXT, type Dot } from '@converge/conflict';
import { contextDotKeys, createPrng, OracleReplica, type Prng } from '@converge/conflict/testing';
import { describe, expect, it } from 'vitest';
import type { Client } from './client.js';
import type { Version } from './replica/read-model.js';
import { dbName, relayClientSet, type clientSet } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';
import { createMemoryLocks } from './testing/memory-locks.js';
import type { RelayFixture } from './testing/relay-fixture.js';

type Payload = { readonly value: string } | { readonly deleted: true };

/** Every write any client made, per key (counters are per key): its dot, the dots it had seen, and what it wrote. */
class WriteLog {
  readonly writes = new Map<string, { dot: Dot; seen: Set<string>; payload: Payload }>();

  record(key: string, dot: Dot, version: Version, payload: Payload): void {
    const seen = contextDotKeys(version);
    seen.delete(dotKey(dot));
    this.writes.set(`${key}/${dotKey(dot)}`, { dot, seen, payload });
  }

  /**
   * What the exact causal-history oracle says a replica holds, given the writes its context
   * says it has received: live = received writes no other received write has seen.
   */
  oracle(key: string, contextDots: ReadonlySet<string>): OracleReplica<Payload> {
    const oracle = new OracleReplica<Payload>();
    for (const dot of contextDots) {
      const write = this.writes.get(`${key}/${dot}`);
      if (write !== undefined) oracle.receive(write);
    }
    return oracle;
  }
}

interface Tab {
  client: Client;
  readonly db: string;
  readonly index: number;
  /** Versions this tab read earlier: a write from one of them is a write from a stale read. */
  readonly versions: Version[];
}

const KEYS = ['k0', 'k1', 'k2'];

/**
 * Checks one tab's replica against the oracle for every key: its siblings must be exactly the
 * live writes among those its context has received, with their values, and its context exactly
 * their dots and what they had seen. A silently dropped write fails this.
 */
async function checkAgainstOracle(tab: Tab, log: WriteLog, seed: number, step: number): Promise<void> {
  for (const key of KEYS) {
    const inspected = await tab.client.collection('notes').inspect(key);
    const context = contextDotKeys({
      vv: new Map(Object.entries(inspected.context.v)),
      cloud: (inspected.context.d ?? []).map((d) => [d[0], d[1]] as Dot),
    });
    const oracle = log.oracle(key, context);
    const live = oracle
      .live()
      .map((w) => `${dotKey(w.dot)}=${'deleted' in w.payload ? '∅' : w.payload.value}`)
      .sort();
    const actual = inspected.siblings.map((s) => `${dotKey(s.dot)}=${s.deleted ? '∅' : String(s.value)}`).sort();
    const where = `seed ${seed}, step ${step}, tab ${tab.index}, key ${key}`;
    expect(actual, `${where}: siblings differ from the causal-history oracle`).toEqual(live);
    expect([...context].sort(), `${where}: context differs from the oracle`).toEqual([...oracle.context()].sort());
  }
}

async function runSimulation(seed: number, steps: number, relay: RelayFixture, clients: ReturnType<typeof clientSet>): Promise<void> {
  const rng: Prng = createPrng(seed);
  const log = new WriteLog();
  const locks = createMemoryLocks();
  const shared = dbName('shared');
  const dbs = [shared, shared, dbName('c1'), dbName('c2')];
  const tabs: Tab[] = [];
  const open = async (index: number): Promise<Client> => {
    const client = await clients.open(dbs[index]!, { tabs: { locks }, backoff: { baseMs: 20, maxMs: 100 }, random: () => rng.next() });
    client.on('written', (w) => {
      if (w.collection === 'notes') log.record(w.key, w.dot, w.version, nextPayload!);
    });
    return client;
  };
  // The payload of the write being made (the `written` event fires inside the put).
  let nextPayload: Payload | undefined;
  for (let i = 0; i < dbs.length; i++) tabs.push({ client: await open(i), db: dbs[i]!, index: i, versions: [] });
  let n = 0;
  for (let step = 0; step < steps; step++) {
    const roll = rng.next();
    const tab = rng.pick(tabs);
    const notes = tab.client.collection<string>('notes');
    const key = rng.pick(KEYS);
    if (roll < 0.25) {
      const doc = await notes.get(key); // read, then write over what was read
      if (doc !== undefined) tab.versions.push(doc.version);
      nextPayload = { value: `v${++n}` };
      await notes.put(key, nextPayload.value);
    } else if (roll < 0.4) {
      // A write from a stale read (an old version this tab saw), or a blind one.
      const version = tab.versions.length > 0 && rng.chance(0.7) ? rng.pick(tab.versions) : EMPTY_CONTEXT;
      nextPayload = { value: `v${++n}` };
      await notes.put(key, nextPayload.value, { version });
    } else if (roll < 0.5) {
      const doc = await notes.get(key);
      if (doc !== undefined) tab.versions.push(doc.version);
      nextPayload = { deleted: true };
      await notes.delete(key);
    } else if (roll < 0.6) {
      if (tab.client.status.get().paused) tab.client.resume();
      else tab.client.pause();
    } else if (roll < 0.65) {
      await tab.client.close(); // a reload: the tab forgets what it read; another tab of its database may take the socket
      tab.client = await open(tab.index);
      tab.versions.length = 0;
    } else if (roll < 0.68) {
      await relay.restart();
    } else {
      await new Promise((r) => setTimeout(r, rng.int(15)));
    }
    nextPayload = undefined;
    for (const t of tabs) await checkAgainstOracle(t, log, seed, step);
  }
  // Heal: everyone online; all converge to the same states, still agreeing with the oracle.
  for (const t of tabs) if (t.client.status.get().paused) t.client.resume();
  const observer = await clients.open(dbName('observer'), { backoff: { baseMs: 20, maxMs: 100 } });
  const snapshot = async (client: Client) =>
    Promise.all(KEYS.map(async (key) => JSON.stringify((await client.collection('notes').inspect(key)).siblings.map((s) => [s.dot, s.value, s.deleted]))));
  await eventually(async () => {
    const expected = await snapshot(observer);
    for (const t of tabs) expect(await snapshot(t.client), `seed ${seed}: tab ${t.index} did not converge`).toEqual(expected);
  }, 20_000);
  for (const t of tabs) await checkAgainstOracle(t, log, seed, steps);
  expect(log.writes.size).toBeGreaterThan(0);
}

describe('seeded simulation: clients (two tabs of one database among them) and the real relay vs the causal-history oracle', () => {
  const clients = relayClientSet();

  const seeds = process.env['CONVERGE_SIM_SEED'] !== undefined ? [Number(process.env['CONVERGE_SIM_SEED'])] : [1, 2, 3, Date.now() % 100_000];
  it.each(seeds)('seed %i: disconnects, stale reads, deletes, reloads and relay restarts; agrees with the oracle at every step and converges', async (seed) => {
    console.log(`client simulation seed ${seed} (replay: CONVERGE_SIM_SEED=${seed} npx vitest run packages/client/src/simulation.test.ts)`);
    await runSimulation(seed, 80, await clients.startRelay(), clients);
  });
});
