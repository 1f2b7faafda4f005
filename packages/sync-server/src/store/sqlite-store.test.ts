import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConvergeError, WRITE_CHAIN_ZERO } from '@converge/conflict';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runRelayStoreTests } from '../testing/index.js';
import { CRASH_WRITER_REPLICAS, crashWriterChanges } from '../testing/sqlite-crash-writer.js';
import { CHAIN_HASH_ZERO, chainHash } from './chain-hash.js';
import { APPLICATION_ID, openRelayDatabase, PAGE_CACHE_KIB, SCHEMA_STEPS, SCHEMA_VERSION } from './sqlite-schema.js';
import { SqliteStore } from './sqlite-store.js';

const REPLICA = 'replicaOldOwner000000';

const root = mkdtempSync(join(tmpdir(), 'converge-sqlite-'));
let files = 0;
const freshPath = (name = 'relay.db') => join(root, String(++files), name);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const openFile = (path: string) => new SqliteStore(path);
runRelayStoreTests('SqliteStore (file)', () => new SqliteStore(freshPath()), { openFile });
// The same contract without WAL (SQLite keeps ':memory:' in its own journal mode); backups and
// reopening still go through files.
runRelayStoreTests('SqliteStore (:memory:)', () => new SqliteStore(':memory:'), { openFile });

describe('SqliteStore', () => {
  const opened: SqliteStore[] = [];
  const open = (path: string) => {
    const store = new SqliteStore(path);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  it('keeps a file database in WAL mode with synchronous=FULL, creating missing directories', async () => {
    const path = join(root, 'not', 'yet', 'there', 'relay.db');
    expect(open(path).info()).toMatchObject({ path, journalMode: 'wal', synchronous: 2, schemaVersion: SCHEMA_VERSION });
  });

  it('keeps at most 2 MiB of pages in the SQLite page cache (a large catch-up streams through it; the OS caches the file)', () => {
    const { db } = openRelayDatabase(join(root, 'cache.db'), Date.now);
    try {
      expect(PAGE_CACHE_KIB).toBe(2048);
      expect(db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    } finally {
      db.close();
    }
  });

  it('backs up an in-memory database to a file that opens with its lineage and content', async () => {
    const store = open(':memory:');
    await store.transact(async (tx) => tx.put('carts', 'a', 'state', ['replicaAAAAAAAAAAAAAAA', 1]));
    const path = freshPath('backup.db');
    await store.backup(path);
    const copy = open(path);
    expect(copy.lineage).toBe(store.lineage);
    expect(await copy.get('carts', 'a')).toEqual({ key: 'a', state: 'state', seq: 1 });
  });

  it('refuses to back up onto its own file', async () => {
    const path = freshPath();
    const store = open(path);
    await expect(store.backup(join(path, '..', 'relay.db'))).rejects.toThrow(/other than the database/);
    expect((await store.head('carts')).seq).toBe(0);
  });

  it('fails a backup still running when the store closes, leaving no file behind', async () => {
    const store = open(freshPath());
    await store.transact(async (tx) => {
      for (let i = 1; i <= 3000; i++) await tx.put('carts', `k${i}`, 'x'.repeat(500), ['replicaAAAAAAAAAAAAAAA', i]);
    });
    const path = freshPath('backup.db');
    const backup = store.backup(path);
    await store.close();
    await expect(backup).rejects.toThrow(/closed during backup/);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses files that are not Converge relay databases and leaves them untouched', async () => {
    const foreign = freshPath('other-app.db');
    mkdirSync(dirname(foreign));
    const other = new Database(foreign);
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
    await other.close();
    expect(() => open(foreign)).toThrow(/not a Converge relay database/);
    const check = new Database(foreign);
    expect(check.prepare('SELECT body FROM notes').pluck().get()).toBe('keep me');
    check.close();

    const garbage = join(root, 'garbage.db');
    writeFileSync(garbage, 'this is not an SQLite database, just text that is long enough '.repeat(40));
    expect(() => open(garbage)).toThrow(ConvergeError);
  });

  it('refuses a database written by a newer schema version', async () => {
    const path = freshPath();
    open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => open(path)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`));
  });

  it('upgrades a version 1 database: decisions keep their answers, replica owners move out of meta', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec(SCHEMA_STEPS[0]!);
    db.prepare('INSERT INTO store_identity (id, lineage, created_at) VALUES (1, ?, ?)').run('oldLineage0123456789', 1);
    db.prepare("INSERT INTO decisions (collection, key, replica, counter, seq) VALUES ('acc', 'k', ?, 1, NULL)").run(REPLICA);
    db.prepare("INSERT INTO meta (name, value) VALUES (?, 'alice'), ('recovery_until', '5')").run(`replica-owner:${REPLICA}`);
    db.prepare('INSERT INTO write_numbers (replica, n) VALUES (?, 7)').run(REPLICA);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 1');
    db.close();
    const store = open(path);
    expect(store.info().schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.lineage).toBe('oldLineage0123456789');
    expect(await store.decision('acc', 'k', [REPLICA, 1])).toEqual({ status: 'rejected' });
    expect(await store.replicaOwner(REPLICA)).toBe('alice');
    expect(await store.claimReplica(REPLICA, 'mallory')).toBe('alice');
    expect(await store.getMeta(`replica-owner:${REPLICA}`)).toBeUndefined();
    expect(await store.getMeta('recovery_until')).toBe('5');
    // Version 3: a write number noted before write chains existed keeps its number, with the chain of no write.
    expect(await store.writeHead(REPLICA)).toEqual({ writeNumber: 7, chain: WRITE_CHAIN_ZERO });
  });

  it('upgrades a version 3 database: each doc gets the chain hash of its seq, and the log goes on', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    for (const step of SCHEMA_STEPS.slice(0, 3)) db.exec(step);
    db.prepare('INSERT INTO store_identity (id, lineage, created_at) VALUES (1, ?, ?)').run('oldLineage0123456789', 1);
    const h1 = chainHash(CHAIN_HASH_ZERO, 'notes', 'a', [REPLICA, 1]);
    const h2 = chainHash(h1, 'notes', 'b', [REPLICA, 2]);
    const h3 = chainHash(h2, 'notes', 'a', [REPLICA, 3]);
    db.prepare("INSERT INTO docs (collection, key, seq, state) VALUES ('notes', 'b', 2, 'b'), ('notes', 'a', 3, 'a3')").run();
    db.prepare("INSERT INTO chain (collection, seq, hash) VALUES ('notes', 1, ?), ('notes', 2, ?), ('notes', 3, ?)").run(h1, h2, h3);
    db.prepare("INSERT INTO collections (name, head_seq, head_hash, keys) VALUES ('notes', 3, ?, 2)").run(h3);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 3');
    db.close();
    const store = open(path);
    expect(await store.scan('notes', 0, 10)).toEqual([
      { key: 'b', state: 'b', seq: 2, hash: h2 },
      { key: 'a', state: 'a3', seq: 3, hash: h3 },
    ]);
    const next = await store.transact((tx) => tx.put('notes', 'c', 'c', [REPLICA, 4]));
    expect(next).toEqual({ seq: 4, hash: chainHash(h3, 'notes', 'c', [REPLICA, 4]) });
    expect((await store.scan('notes', 3, 10))[0]!.hash).toBe(next.hash);
  });

  it('keeps every commit reported by a writer killed with SIGKILL mid-loop', async () => {
    const path = freshPath();
    const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
    const script = fileURLToPath(new URL('../testing/sqlite-crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, '100000'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let lineage: string | undefined;
    const reported: { i: number; seqs: number[]; hashes: string[] }[] = [];
    try {
      let killTimer: NodeJS.Timeout | undefined;
      const startupTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      for await (const line of createInterface({ input: child.stdout })) {
        const [first, ...rest] = line.split(' ');
        if (first === 'lineage') {
          lineage = rest[0];
          clearTimeout(startupTimer);
          killTimer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          continue;
        }
        reported.push({ i: Number(first), seqs: [Number(rest[0]), Number(rest[2])], hashes: [rest[1]!, rest[3]!] });
        if (reported.length === 200) child.kill('SIGKILL');
      }
      clearTimeout(killTimer);
      clearTimeout(startupTimer);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited, stderr).toBe('SIGKILL');
    expect(reported.length, stderr).toBeGreaterThan(0);

    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = open(path);
    expect(store.lineage).toBe(lineage);
    for (const { i, seqs, hashes } of reported) {
      expect(seqs).toEqual([2 * i - 1, 2 * i]);
      expect(await store.get('log', `k${i}`)).toEqual({ key: `k${i}`, state: `state-${i}`, seq: seqs[0] });
      expect(await store.hashAt('log', seqs[0]!)).toBe(hashes[0]);
      expect(await store.hashAt('log', seqs[1]!)).toBe(hashes[1]);
    }
    // Whole transactions only, and the log is the chain of exactly the committed changes, with
    // perhaps a few commits made after the last line reached the pipe.
    const last = reported.at(-1)!.i;
    const head = await store.head('log');
    expect(head.seq % 2).toBe(0);
    expect(head.seq).toBeGreaterThanOrEqual(2 * last);
    let hash = CHAIN_HASH_ZERO;
    for (let i = 1; i <= head.seq / 2; i++) {
      for (const change of crashWriterChanges(i)) hash = chainHash(hash, 'log', change.key, change.dot);
      expect(await store.hashAt('log', 2 * i)).toBe(hash);
    }
    expect(head.hash).toBe(hash);
    expect(await store.get('log', 'latest')).toEqual({ key: 'latest', state: `latest-${head.seq / 2}`, seq: head.seq });
    expect((await store.writeHead(CRASH_WRITER_REPLICAS[0])).writeNumber).toBe(head.seq / 2);
  });
});
