// PouchDB in the peer benchmark: each replica a PouchDB on the memory adapter, replicating
// over HTTP (CouchDB's replication protocol) through express-pouchdb (relay.cjs). One document
// per record, its fields the record's.
import { fileURLToPath } from 'node:url';
import type { PeerDriver, W1CatchUp, W2Outcome } from '../driver.js';
import { loadPeer } from '../load-peer.js';
import { spawnRelayScript } from '../relay-child.js';
import { startMeasure } from '../measure.js';
import { recordKey, recordValue, touch, w2Key, w2Value, type W1Workload, type W2Workload } from '../workload.js';

// The members of PouchDB the driver uses.
interface Doc {
  readonly _id: string;
  readonly _rev?: string;
  readonly _conflicts?: readonly string[];
  readonly [field: string]: unknown;
}
interface Replication extends PromiseLike<{ readonly ok: boolean; readonly docs_written: number }> {
  on(event: 'change' | 'paused' | 'error', f: (info: unknown) => void): this;
  cancel(): void;
}
interface Database {
  bulkDocs(docs: readonly Doc[]): Promise<readonly { ok?: boolean; error?: string }[]>;
  put(doc: Doc): Promise<{ readonly rev: string }>;
  allDocs(options: { include_docs: true; conflicts?: true }): Promise<{ readonly rows: readonly { readonly id: string; readonly doc?: Doc }[] }>;
  sync(remote: string, options: { live: true; retry: true }): Replication;
  replicate: { to(remote: string): Replication; from(remote: string): Replication };
  destroy(): Promise<unknown>;
}
interface PouchDBConstructor {
  new (name: string, options: { adapter: 'memory' }): Database;
  plugin(plugin: unknown): PouchDBConstructor;
}

const BATCH = 1000;

let loaded: Promise<PouchDBConstructor> | undefined;
let databases = 0;

/** Opens a new memory database (memory databases of one name share their data within a process). */
async function load(): Promise<(name: string) => Database> {
  loaded ??= (async () =>
    (await loadPeer<PouchDBConstructor>('pouchdb-core'))
      .plugin(await loadPeer('pouchdb-adapter-memory'))
      .plugin(await loadPeer('pouchdb-adapter-http'))
      .plugin(await loadPeer('pouchdb-replication')))();
  const PouchDB = await loaded;
  return (name) => new PouchDB(`${name}-${process.pid}-${++databases}`, { adapter: 'memory' });
}

async function write(url: string, { records }: W1Workload): Promise<undefined> {
  const open = await load();
  const a = open('a');
  for (let i = 1; i <= records; i += BATCH) {
    const docs: Doc[] = [];
    for (let j = i; j < Math.min(i + BATCH, records + 1); j++) docs.push({ _id: recordKey(j), ...recordValue(j) });
    const results = await a.bulkDocs(docs);
    const failed = results.find((r) => r.error !== undefined);
    if (failed !== undefined) throw new Error(`replica A: bulkDocs failed: ${JSON.stringify(failed)}`);
  }
  const pushed = await a.replicate.to(url);
  if (!pushed.ok || pushed.docs_written !== records) throw new Error(`replica A: replicated ${pushed.docs_written} of ${records} docs`);
}

async function catchUp(url: string, { records }: W1Workload): Promise<W1CatchUp> {
  const open = await load();
  const measure = await startMeasure();
  const b = open('b');
  await b.replicate.from(url);
  const { rows } = await b.allDocs({ include_docs: true });
  let readable = 0;
  let checksum = 0;
  for (const row of rows) {
    if (row.doc === undefined) continue;
    readable++;
    checksum += touch(row.doc);
  }
  const measured = await measure.stop();
  if (rows.length !== records) throw new Error(`replica B: ${rows.length} docs, expected ${records}`);
  return { ...measured, readable, checksum };
}

/** Winning revision and sorted conflicting revisions of every doc: equal on both replicas once they converged. */
async function revisions(db: Database): Promise<Map<string, string>> {
  const { rows } = await db.allDocs({ include_docs: true, conflicts: true });
  return new Map(rows.map((row) => [row.id, [row.doc?._rev, ...[...(row.doc?._conflicts ?? [])].sort()].join(' ')]));
}

async function w2(url: string, { updates, keys }: W2Workload): Promise<W2Outcome> {
  const open = await load();
  const dbs = [open('r0'), open('r1')];
  for (const [r, db] of dbs.entries()) {
    const revs = new Map<string, string>();
    for (let u = 0; u < updates; u++) {
      const key = w2Key(u % keys);
      const rev = revs.get(key);
      const put = await db.put({ _id: key, ...(rev === undefined ? {} : { _rev: rev }), ...w2Value(r, u) });
      revs.set(key, put.rev);
    }
  }
  const measure = await startMeasure();
  let syncs: Replication[] = [];
  const converged = new Promise<void>((resolve, reject) => {
    // Compare both replicas after each replication event, one comparison at a time.
    let checking = false;
    let again = false;
    const check = async (): Promise<void> => {
      if (checking) return void (again = true);
      checking = true;
      do {
        again = false;
        const [a, b] = await Promise.all(dbs.map(revisions));
        const agree = a!.size === keys && [...a!].every(([id, revs]) => b!.get(id) === revs && revs.includes(' '));
        if (agree) return resolve();
      } while (again);
      checking = false;
    };
    syncs = dbs.map((db) =>
      db
        .sync(url, { live: true, retry: true })
        .on('change', () => void check().catch(reject))
        .on('paused', () => void check().catch(reject))
        .on('error', reject),
    );
  });
  await converged;
  const { ms, bytes: wire } = await measure.stop();
  for (const sync of syncs) sync.cancel();
  // Every doc keeps both replicas' branches: the winning revision and the other as a conflict.
  const revs = await revisions(dbs[0]!);
  let kept = 0;
  for (const r of revs.values()) kept += r.split(' ').length;
  return { ms, bytes: wire, kept, keys: revs.size };
}

export const pouchdb: PeerDriver = {
  name: 'pouchdb',
  label: 'PouchDB 9 (memory adapter, express-pouchdb 4.2)',
  startRelay: () => spawnRelayScript(fileURLToPath(new URL('./relay.mjs', import.meta.url)), (port) => `http://127.0.0.1:${port}/records`),
  w1: { write, catchUp },
  w2,
};
