import { dotKey, EMPTY_CONTEXT, type Dot } from '@converge/conflict';
import { contextDotKeys, createPrng, OracleReplica, replayCommand, seedsToRun, type Prng } from '@converge/conflict/testing';
import { describe, expect, it } from 'vitest';
import type { Client } from './client.js';
import type { Version } from './replica/read-model.js';
import { dbName, relayClientSet, type clientSet } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';
import { createMemoryLocks } from './testing/memory-locks.js';
import type { RelayFixture } from './testing/relay-fixture.js';
import { createMemoryStorage, type MemoryDatabase } from './storage/memory-storage.js';

type Payload = { readonly value: string } | { readonly deleted: true };

/**
 * Every write any client made, per key (counters are per key): its dot, the dots it had seen,
 * and what it wrote. A dot is logged by its first write: a restored copy of a database that
 * writes offline mints dots its original already used, and those writes must never reach the
 * relay under them (the client takes a new replica id first and writes them again, logged
 * anew under their new dots).
 */
class WriteLog {
  readonly writes = new Map<string, { dot: Dot; seen: Set<string>; payload: Payload }>();
  /** Each write id's latest dot and what it wrote (a write written again keeps its id). */
  readonly byWriteId = new Map<string, { key: string; dot: Dot; payload: Payload }>();
  /** Writes that minted a dot another write had already used (before their database took a new id). */
  reused = 0;

  record(writeId: string, key: string, dot: Dot, version: Version, payload: Payload): void {
    const seen = contextDotKeys(version);
    seen.delete(dotKey(dot));
    const id = `${key}/${dotKey(dot)}`;
    this.byWriteId.set(writeId, { key, dot, payload });
    if (this.writes.has(id)) {
      this.reused++;
      return;
    }
    this.writes.set(id, { dot, seen, payload });
  }

  /** Whether `dot` of `key` names the write `payload` (not another write under a reused dot). */
  holds(key: string, dot: Dot, payload: Payload): boolean {
    return JSON.stringify(this.writes.get(`${key}/${dotKey(dot)}`)?.payload) === JSON.stringify(payload);
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
  /** Without Web Locks: this tab syncs on its own, beside the other tab of its database. */
  readonly solo: boolean;
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
  const solo = dbName('solo');
  // Two tabs sharing a database through Web Locks, two sharing one without (each syncs on its own), two of their own.
  const dbs = [shared, shared, solo, solo, dbName('c1'), dbName('c2')];
  const tabs: Tab[] = [];
  /** Writes a relay acknowledged (any tab of the writer's database heard it). */
  const acked = new Set<string>();
  /** Backups taken of each database, and the replica id a restored database had when restored (until it takes a new one). */
  const backups = new Map<string, MemoryDatabase>();
  const restoredAs = new Map<string, string>();
  const restoredDbs = new Set<string>();
  const memory = (name: string) => {
    const handle = createMemoryStorage(name);
    handle.close();
    return handle.db;
  };
  /** The outbox's size kept in meta (`pending`, once kept) is the outbox's size, in every database, whatever ran on it. */
  const checkPendingCounts = async (where: string) => {
    for (const db of new Set(dbs)) {
      const storage = createMemoryStorage(memory(db));
      const [kept, counted] = await storage.read((tx) => Promise.all([tx.getMeta<number>('pending'), tx.countOutbox()]));
      storage.close();
      expect(kept ?? counted, `${where}: ${db}'s kept pending count`).toBe(counted);
    }
  };
  const open = async (index: number, paused = false): Promise<Client> => {
    const soloTab = dbs[index] === solo;
    const client = await clients.open(dbs[index]!, {
      tabs: { locks: soloTab ? null : locks },
      backoff: { baseMs: 20, maxMs: 100 },
      random: () => rng.next(),
      paused,
    });
    client.on('written', (w) => {
      if (w.collection !== 'notes') return;
      // A first write logs the payload being made; a write written again keeps its payload.
      const payload = nextPayload ?? log.byWriteId.get(w.writeId)?.payload;
      if (payload !== undefined) log.record(w.writeId, w.key, w.dot, w.version, payload);
    });
    client.on('acked', ({ writeIds }) => {
      for (const id of writeIds) acked.add(id);
    });
    return client;
  };
  // The payload of the write being made (the `written` event fires inside the put).
  let nextPayload: Payload | undefined;
  for (let i = 0; i < dbs.length; i++) tabs.push({ client: await open(i), db: dbs[i]!, index: i, solo: dbs[i] === solo, versions: [] });
  const initialIds = new Map(tabs.map((t) => [t.db, t.client.replicaId]));
  const stillRestored = (tab: Tab) => restoredAs.get(tab.db) === tab.client.replicaId;
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
    } else if (roll < 0.58) {
      if (tab.client.status.get().paused) tab.client.resume();
      else tab.client.pause();
    } else if (roll < 0.62) {
      await tab.client.close(); // a reload: the tab forgets what it read; another tab of its database may take the socket
      tab.client = await open(tab.index);
      tab.versions.length = 0;
    } else if (roll < 0.65) {
      await relay.restart();
    } else if (roll < 0.69) {
      backups.set(tab.db, memory(tab.db).snapshot()); // a backup of this database, as it is now
    } else if (roll < 0.75 && backups.has(tab.db)) {
      // The database is replaced by its older backup (browser closed, profile restored): its
      // tabs reopen offline and write (minting dots the original already used) before they
      // reconnect. First its writes reach the relay: a write the relay never got is lost with
      // the database it was in, as it would be, and the log could not tell its dot from a reuse.
      const mine = tabs.filter((t) => t.db === tab.db);
      for (const t of mine) if (t.client.status.get().paused) t.client.resume();
      await eventually(async () => expect(await tab.client.outbox()).toEqual([]), 10_000);
      for (const t of mine) await t.client.close();
      memory(tab.db).restore(backups.get(tab.db)!);
      restoredDbs.add(tab.db);
      for (const t of mine) {
        t.client = await open(t.index, true);
        t.versions.length = 0;
      }
      restoredAs.set(tab.db, mine[0]!.client.replicaId);
      for (let i = rng.int(6); i > 0; i--) {
        const writer = rng.pick(mine).client.collection<string>('notes');
        const at = rng.pick(KEYS);
        await writer.get(at);
        nextPayload = { value: `v${++n}` };
        await writer.put(at, nextPayload.value);
      }
    } else {
      await new Promise((r) => setTimeout(r, rng.int(15)));
    }
    nextPayload = undefined;
    // A restored database's tabs hold writes under reused dots until they take a new id: not comparable yet.
    for (const t of tabs) if (!stillRestored(t)) await checkAgainstOracle(t, log, seed, step);
    await checkPendingCounts(`seed ${seed}, step ${step}`);
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
  await checkAgainstOracle({ client: observer, db: 'observer', index: -1, solo: false, versions: [] }, log, seed, steps);
  // Every write the relay acknowledged is there under its own dot: received by the observer
  // (live, or superseded by writes that saw it — the oracle check above), never another write's.
  for (const writeId of acked) {
    const write = log.byWriteId.get(writeId);
    if (write === undefined) continue; // not a write to `notes`
    const inspected = await observer.collection('notes').inspect(write.key);
    const context = contextDotKeys({
      vv: new Map(Object.entries(inspected.context.v)),
      cloud: (inspected.context.d ?? []).map((d) => [d[0], d[1]] as Dot),
    });
    expect(context.has(dotKey(write.dot)), `seed ${seed}: acked write ${writeId} (${write.key} ${dotKey(write.dot)}) never reached the relay`).toBe(true);
    expect(log.holds(write.key, write.dot, write.payload), `seed ${seed}: acked write ${writeId} was absorbed under a dot of another write`).toBe(true);
  }
  // Honest histories never lose their replica id (no honest push is answered replica_reset); a restored database may take a new one.
  for (const t of tabs) {
    if (restoredDbs.has(t.db)) continue;
    expect(t.client.replicaId, `seed ${seed}: database ${t.db} took a new replica id without being restored`).toBe(initialIds.get(t.db));
  }
  expect(log.writes.size).toBeGreaterThan(0);
  const newIds = tabs.filter((t) => t.client.replicaId !== initialIds.get(t.db)).length;
  console.log(
    `seed ${seed}: ${log.writes.size} writes, ${acked.size} acked, ${restoredDbs.size} databases restored, ${log.reused} writes under reused dots, ${newIds} tabs on a new replica id`,
  );
}

describe('seeded simulation: clients (two tabs of one database among them) and the real relay vs the causal-history oracle', () => {
  const clients = relayClientSet();

  it.each(seedsToRun([9, 11, 12, Date.now() % 100_000]))(
    'seed %i: disconnects, stale reads, deletes, reloads, relay restarts and restored backups; agrees with the oracle at every step, converges, and loses no acked write',
    async (seed) => {
      console.log(`client simulation seed ${seed} (replay: ${replayCommand(seed)})`);
      await runSimulation(seed, 80, await clients.startRelay(), clients);
    },
  );
});
