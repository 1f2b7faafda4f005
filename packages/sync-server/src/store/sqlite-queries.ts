import { WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import type Database from 'better-sqlite3';
import { CHAIN_HASH_ZERO, chainHash } from './chain-hash.js';
import { prefixUpperBound } from './key-prefix.js';
import type { Decision, LogPosition, StoreStats, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { PendingWrites } from './sqlite-pending-writes.js';
import { checkNewDecision } from './store-arguments.js';

const NO_WRITE: WriteHead = Object.freeze({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });

/**
 * Every read and write of the relay database as prepared statements, prepared once per
 * connection. Writes must run inside a transaction (the store's `transact` opens it), which
 * calls `flushWrites` before it commits and `discardWrites` when it ends.
 */
export class SqliteQueries implements StoreTx {
  readonly #db: Database.Database;
  /** Heads moved by the running transaction, written to `collections` once, before commit. */
  readonly #movedHeads = new Map<string, { seq: number; hash: string; addedKeys: number }>();
  /** The running transaction's docs and chain rows, written before commit. */
  readonly #pending: PendingWrites;
  /** Keys the running transaction prefetched: their stored doc, or null for a key not stored. */
  readonly #prefetched = new Map<string, Map<string, StoredDoc | null>>();
  readonly #selectDoc;
  readonly #selectDocs;
  readonly #selectDocExists;
  readonly #selectHead;
  readonly #upsertCollection;
  readonly #selectDecision;
  readonly #insertDecision;
  readonly #selectOwner;
  readonly #insertOwner;
  readonly #selectWriteHead;
  readonly #upsertWriteHead;
  readonly #selectMeta;
  readonly #upsertMeta;
  readonly #deleteMeta;
  readonly #scanAll;
  readonly #scanBySeqWithPrefix;
  readonly #scanBySeqFromPrefix;
  readonly #scanByKey;
  readonly #scanByKeyFrom;
  readonly #countByKey;
  readonly #countByKeyFrom;
  readonly #selectHash;
  readonly #selectCollections;
  readonly #selectCollectionNames;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#pending = new PendingWrites(db);
    this.#selectDoc = db.prepare<[string, string], { seq: number; state: string }>('SELECT seq, state FROM docs WHERE collection = ? AND key = ?');
    this.#selectDocs = db.prepare<[string, string], StoredDoc>(
      'SELECT key, seq, state FROM docs WHERE collection = ? AND key IN (SELECT value FROM json_each(?))',
    );
    this.#selectDocExists = db.prepare<[string, string], number>('SELECT 1 FROM docs WHERE collection = ? AND key = ?').pluck();
    this.#selectHead = db.prepare<[string], { seq: number; hash: string }>('SELECT head_seq AS seq, head_hash AS hash FROM collections WHERE name = ?');
    // `keys` of the inserted row is the number of keys the transaction added.
    this.#upsertCollection = db.prepare<[string, number, string, number]>(
      `INSERT INTO collections (name, head_seq, head_hash, keys) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash,
         keys = collections.keys + excluded.keys`,
    );
    this.#selectDecision = db.prepare<[string, string, string, number], { seq: number | null; content: string | null }>(
      'SELECT seq, content FROM decisions WHERE collection = ? AND key = ? AND replica = ? AND counter = ?',
    );
    this.#insertDecision = db.prepare<[string, string, string, number, number | null, string | null]>(
      'INSERT INTO decisions (collection, key, replica, counter, seq, content) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#selectOwner = db.prepare<[string], string>('SELECT principal FROM replica_owners WHERE replica = ?').pluck();
    this.#insertOwner = db.prepare<[string, string]>('INSERT INTO replica_owners (replica, principal) VALUES (?, ?)');
    this.#selectWriteHead = db.prepare<[string], WriteHead>('SELECT n AS writeNumber, chain FROM write_numbers WHERE replica = ?');
    // A higher write number replaces the head; an equal or lower one leaves it as it is.
    this.#upsertWriteHead = db.prepare<[string, number, string]>(
      `INSERT INTO write_numbers (replica, n, chain) VALUES (?, ?, ?)
       ON CONFLICT (replica) DO UPDATE SET n = excluded.n, chain = excluded.chain WHERE excluded.n > write_numbers.n`,
    );
    this.#selectMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?');
    this.#upsertMeta = db.prepare<[string, string]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.#deleteMeta = db.prepare<[string]>('DELETE FROM meta WHERE name = ?');

    // Scans. Without a prefix: walk the log (docs_by_seq). With one, two plans, chosen per
    // call (see `scan`): walk the log filtering keys (the unary `+` keeps the planner off the
    // key index), or read the prefix's key range (docs_by_key; `+seq` keeps it off the log
    // index) and sort it.
    const columns = 'SELECT key, seq, state FROM docs';
    this.#scanAll = db.prepare<[string, number, number], StoredDoc>(`${columns} WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?`);
    this.#scanBySeqWithPrefix = db.prepare<[string, number, string, string, number], StoredDoc>(
      `${columns} WHERE collection = ? AND seq > ? AND +key >= ? AND +key < ? ORDER BY seq LIMIT ?`,
    );
    this.#scanBySeqFromPrefix = db.prepare<[string, number, string, number], StoredDoc>(
      `${columns} WHERE collection = ? AND seq > ? AND +key >= ? ORDER BY seq LIMIT ?`,
    );
    this.#scanByKey = db.prepare<[string, string, string, number, number], StoredDoc>(
      `${columns} WHERE collection = ? AND key >= ? AND key < ? AND +seq > ? ORDER BY +seq LIMIT ?`,
    );
    this.#scanByKeyFrom = db.prepare<[string, string, number, number], StoredDoc>(
      `${columns} WHERE collection = ? AND key >= ? AND +seq > ? ORDER BY +seq LIMIT ?`,
    );
    this.#countByKey = db
      .prepare<[string, string, string, number], number>('SELECT count(*) FROM (SELECT 1 FROM docs WHERE collection = ? AND key >= ? AND key < ? LIMIT ?)')
      .pluck();
    this.#countByKeyFrom = db
      .prepare<[string, string, number], number>('SELECT count(*) FROM (SELECT 1 FROM docs WHERE collection = ? AND key >= ? LIMIT ?)')
      .pluck();
    this.#selectHash = db.prepare<[string, number], string>('SELECT hash FROM chain WHERE collection = ? AND seq = ?').pluck();
    this.#selectCollections = db.prepare<[], { name: string; keys: number; seq: number }>('SELECT name, keys, head_seq AS seq FROM collections');
    this.#selectCollectionNames = db.prepare<[], string>('SELECT name FROM collections').pluck();
  }

  get(collection: string, key: string): StoredDoc | undefined {
    const pending = this.#pending.doc(collection, key);
    if (pending !== undefined) return { key, state: pending.state, seq: pending.seq };
    const prefetched = this.#prefetched.get(collection)?.get(key);
    if (prefetched !== undefined) return prefetched ?? undefined;
    const row = this.#selectDoc.get(collection, key);
    this.#lastCollection = collection;
    this.#lastKey = key;
    this.#lastExisted = row !== undefined;
    return row === undefined ? undefined : { key, state: row.state, seq: row.seq };
  }

  // What the latest `get` found in the database, so a `put` right after it knows whether it adds
  // a key without asking again. Cleared when a transaction begins.
  #lastCollection: string | undefined;
  #lastKey: string | undefined;
  #lastExisted = false;

  beginTransaction(): void {
    this.#lastCollection = undefined;
    this.#lastKey = undefined;
  }

  /** Reads the keys' docs with one statement per 500 keys; `get` answers from them until the transaction ends. */
  prefetch(collection: string, keys: readonly string[]): void {
    let known = this.#prefetched.get(collection);
    if (known === undefined) this.#prefetched.set(collection, (known = new Map()));
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      for (const key of chunk) known.set(key, null);
      for (const doc of this.#selectDocs.all(collection, JSON.stringify(chunk))) known.set(doc.key, doc);
    }
  }

  head(collection: string): LogPosition {
    const moved = this.#movedHeads.get(collection);
    if (moved !== undefined) return { seq: moved.seq, hash: moved.hash };
    return this.#selectHead.get(collection) ?? { seq: 0, hash: CHAIN_HASH_ZERO };
  }

  /** Writes the transaction's docs, chain and heads (before it commits). */
  flushWrites(): void {
    this.#prefetched.clear();
    this.#pending.flush();
    for (const [collection, head] of this.#movedHeads) {
      this.#upsertCollection.run(collection, head.seq, head.hash, head.addedKeys);
    }
    this.#movedHeads.clear();
  }

  discardWrites(): void {
    this.#prefetched.clear();
    this.#pending.clear();
    this.#movedHeads.clear();
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    const row = this.#selectDecision.get(collection, key, dot[0], dot[1]);
    if (row === undefined) return undefined;
    const content = row.content === null ? {} : { content: row.content };
    return row.seq === null ? { status: 'rejected', ...content } : { status: 'accepted', seq: row.seq, ...content };
  }

  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.#selectOwner.get(replicaId);
  }

  claimReplica(replicaId: ReplicaId, principalId: string): string {
    const owner = this.replicaOwner(replicaId);
    if (owner !== undefined) return owner;
    this.#insertOwner.run(replicaId, principalId);
    return principalId;
  }

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.#selectWriteHead.get(replicaId) ?? NO_WRITE;
  }

  getMeta(name: string): string | undefined {
    return this.#selectMeta.get(name)?.value;
  }

  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    const moved = this.#movedHeads.get(collection);
    const previous = moved ?? this.head(collection);
    const seq = previous.seq + 1;
    const hash = chainHash(previous.hash, collection, key, dot);
    const added = !this.#holds(collection, key);
    this.#pending.put(collection, key, seq, state);
    this.#pending.chain(collection, seq, hash);
    if (moved === undefined) this.#movedHeads.set(collection, { seq, hash, addedKeys: added ? 1 : 0 });
    else {
      moved.seq = seq;
      moved.hash = hash;
      if (added) moved.addedKeys++;
    }
    return { seq, hash };
  }

  /** Whether the key exists, counting the running transaction's writes. */
  #holds(collection: string, key: string): boolean {
    if (this.#pending.doc(collection, key) !== undefined) return true;
    const prefetched = this.#prefetched.get(collection)?.get(key);
    if (prefetched !== undefined) return prefetched !== null;
    if (this.#lastKey === key && this.#lastCollection === collection) return this.#lastExisted;
    return this.#selectDocExists.get(collection, key) !== undefined;
  }

  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    const existing = this.decision(collection, key, dot);
    checkNewDecision(existing, decision, this.head(collection).seq);
    if (existing !== undefined) return;
    this.#insertDecision.run(collection, key, dot[0], dot[1], decision.status === 'accepted' ? decision.seq : null, decision.content ?? null);
  }

  noteWrite(replicaId: ReplicaId, head: WriteHead): void {
    this.#upsertWriteHead.run(replicaId, head.writeNumber, head.chain);
  }

  setMeta(name: string, value: string | undefined): void {
    if (value === undefined) this.#deleteMeta.run(name);
    else this.#upsertMeta.run(name, value);
  }

  /**
   * With a prefix, the cheaper of two plans: walking the log costs the changes after
   * `afterSeq` (until `limit` keys match), reading the key range costs the keys with the
   * prefix. A bounded count of the range decides: if it holds fewer than `budget` keys, read
   * it, else walk the log. Over a whole catch-up in batches both stay linear.
   */
  scan(collection: string, afterSeq: number, limit: number, prefix?: string): StoredDoc[] {
    if (prefix === undefined || prefix === '') return this.#scanAll.all(collection, afterSeq, limit);
    const upper = prefixUpperBound(prefix);
    const budget = Math.max(4 * limit, 1024);
    let readRange = false;
    if (this.head(collection).seq - afterSeq > budget) {
      const inRange = upper === undefined ? this.#countByKeyFrom.get(collection, prefix, budget) : this.#countByKey.get(collection, prefix, upper, budget);
      readRange = (inRange ?? 0) < budget;
    }
    if (readRange) {
      return upper === undefined
        ? this.#scanByKeyFrom.all(collection, prefix, afterSeq, limit)
        : this.#scanByKey.all(collection, prefix, upper, afterSeq, limit);
    }
    return upper === undefined
      ? this.#scanBySeqFromPrefix.all(collection, afterSeq, prefix, limit)
      : this.#scanBySeqWithPrefix.all(collection, afterSeq, prefix, upper, limit);
  }

  hashAt(collection: string, seq: number): string | undefined {
    return seq === 0 ? CHAIN_HASH_ZERO : this.#selectHash.get(collection, seq);
  }

  // Names are sorted here, not in SQL: SQLite orders by UTF-8 bytes, JavaScript (and the
  // memory store) by UTF-16 units.
  collections(): string[] {
    return this.#selectCollectionNames.all().sort();
  }

  stats(): StoreStats {
    const collections = this.#selectCollections.all().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    return { collections, bytes: pages * pageSize };
  }
}
