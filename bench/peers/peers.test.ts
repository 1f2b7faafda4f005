// Smoke test of the peer benchmark's harness at tiny sizes (no timing is asserted): every
// record B reads is the one A wrote, and W2 ends with both replicas equal, keeping the
// concurrent values each system is known to keep. Converge's side always runs, against
// relays in this process (the relay CLI's createRelay over SQLite, and over MemoryStore);
// the peers' side runs where `npm run bench -- peers` has installed them (Automerge-repo's
// only with PEERS_SMOKE_AUTOMERGE=1).
import { MemoryStore, SqliteStore } from '@converge/sync-server';
import { startTestRelay } from '@converge/sync-server/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convergeClientMemory, convergeClientSqlite } from '../client/peer-driver.js';
import { automergeRepo } from './automerge/driver.js';
import { convergeMemory, convergeSqlite } from './converge/driver.js';
import type { PeerDriver, RelayHandle } from './driver.js';
import { PEERS_DIR, peersInstalled } from './load-peer.js';
import { pouchdb } from './pouchdb/driver.js';
import { yjs } from './yjs/driver.js';
import { expectedChecksum, type W1Workload, type W2Workload } from './workload.js';

const W1: W1Workload = { records: 50 };
const W2: W2Workload = { updates: 20, keys: 10 };

/** A relay in this process on `store` (sync-server's test relay: port 0, silent). */
const inProcessRelay = (store: SqliteStore | MemoryStore) => startTestRelay({ store, cursorSecret: 'smoke-cursor-secret-0123456789' });

/** W1 then W2 on one system, each on a fresh relay from `relay()`. */
function smoke(driver: PeerDriver, relay: () => Promise<{ url: string; close(): Promise<void> }>, keptPerKey: number) {
  it(`${driver.name} W1: B reads every record A wrote`, async () => {
    const r = await relay();
    try {
      const found = await driver.w1.write(r.url, W1);
      const b = await driver.w1.catchUp(r.url, W1, found);
      expect(b.readable).toBe(W1.records);
      expect(b.checksum).toBe(expectedChecksum(W1.records));
      expect(b.bytes.in).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
  });

  it(`${driver.name} W2: both replicas converge, keeping ${keptPerKey} value(s) per key`, async () => {
    const r = await relay();
    try {
      const out = await driver.w2(r.url, W2);
      expect(out.keys).toBe(W2.keys);
      expect(out.kept).toBe(keptPerKey * W2.keys);
    } finally {
      await r.close();
    }
  });
}

describe('peer benchmark harness: Converge', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'converge-peers-smoke-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  smoke(convergeSqlite, () => inProcessRelay(new SqliteStore(join(dir, `relay-${++n}.db`))), 2);
  smoke(convergeMemory, () => inProcessRelay(new MemoryStore()), 2);
  smoke(convergeClientSqlite, () => inProcessRelay(new SqliteStore(join(dir, `relay-${++n}.db`))), 2);
  smoke(convergeClientMemory, () => inProcessRelay(new MemoryStore()), 2);
});

const asRelay = async (start: Promise<RelayHandle>) => {
  const handle = await start;
  return { url: handle.url, close: () => handle.stop() };
};

if (!peersInstalled()) {
  console.warn(`peer systems not installed in ${PEERS_DIR}node_modules: their smoke tests are skipped. \`npm run bench -- peers\` installs them.`);
}

// Peers never enter the main install: their smoke tests run where `npm run bench -- peers` installed them.
describe.runIf(peersInstalled())('peer benchmark harness: peers', () => {
  smoke(yjs, () => asRelay(yjs.startRelay(tmpdir())), 1);
  smoke(pouchdb, () => asRelay(pouchdb.startRelay(tmpdir())), 2);
  // Automerge-repo is optional in the bench too (`--automerge`): its smoke test alone takes seconds.
  if (process.env['PEERS_SMOKE_AUTOMERGE'] === '1') smoke(automergeRepo, () => asRelay(automergeRepo.startRelay(tmpdir())), 2);
  else console.warn('Automerge-repo smoke tests did not run (slow); PEERS_SMOKE_AUTOMERGE=1 runs them.');
});
