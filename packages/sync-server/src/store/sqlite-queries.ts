import { WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import type Database from 'better-sqlite3';
import { CHAIN_HASH_ZERO } from './chain-hash.js';
import { prefixUpperBound } from './key-prefix.js';
import type { CommittedReads } from './overlay-tx.js';
import type { Decision, LogPosition, LoggedDoc, StoreStats, StoredDoc, WriteHead } from './relay-store.js';
import { PendingWrites } from './sqlite-pending-writes.js';
import type { TxWrites } from './tx-writes.js';

const NO_WRITE: WriteHead = Object.freeze({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });

/**
 * Every read and write of the relay database as prepared statements, prepared once per
 * connection. Reads see committed data; `write` stores a transaction's writes and must run
 * inside a SQLite transaction (the store's `transact` opens it).
 */
export class SqliteQueries implements CommittedReads {
  readonly #db: Database.Database;
  readonly #pending: PendingWrites;
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
    const columns = 'SELECT key, seq, state, hash FROM docs';
    this.#scanAll = db.prepare<[string, number, number], LoggedDoc>(`${columns} WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?`);
    this.#scanBySeqWithPrefix = db.prepare<[string, number, string, string, number], LoggedDoc>(
      `${columns} WHERE collection = ? AND seq > ? AND +key >= ? AND +key < ? ORDER BY seq LIMIT ?`,
    );
    this.#scanBySeqFromPrefix = db.prepare<[string, number, string, number], LoggedDoc>(
      `${columns} WHERE collection = ? AND seq > ? AND +key >= ? ORDER BY seq LIMIT ?`,
    );
    this.#scanByKey = db.prepare<[string, string, string, number, number], LoggedDoc>(
      `${columns} WHERE collection = ? AND key >= ? AND key < ? AND +seq > ? ORDER BY +seq LIMIT ?`,
    );
    this.#scanByKeyFrom = db.prepare<[string, string, number, number], LoggedDoc>(
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
    const row = this.#selectDoc.get(collection, key);
    return row === undefined ? undefined : { key, state: row.state, seq: row.seq };
  }

  has(collection: string, key: string): boolean {
    return this.#selectDocExists.get(collection, key) !== undefined;
  }

  /** The docs of those keys that exist, with one statement per 500 keys. */
  *getMany(collection: string, keys: readonly string[]): Iterable<StoredDoc> {
    for (let i = 0; i < keys.length; i += 500) yield* this.#selectDocs.all(collection, JSON.stringify(keys.slice(i, i + 500)));
  }

  head(collection: string): LogPosition {
    return this.#selectHead.get(collection) ?? { seq: 0, hash: CHAIN_HASH_ZERO };
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

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.#selectWriteHead.get(replicaId) ?? NO_WRITE;
  }

  getMeta(name: string): string | undefined {
    return this.#selectMeta.get(name)?.value;
  }

  /** Stores one transaction's writes; runs inside the SQLite transaction that commits them. */
  write(writes: TxWrites): void {
    this.#pending.flush(writes.docs, writes.chain);
    for (const [collection, head] of writes.heads) this.#upsertCollection.run(collection, head.seq, head.hash, head.addedKeys);
    for (const { collection, key, dot, decision } of writes.decisions.values()) {
      this.#insertDecision.run(collection, key, dot[0], dot[1], decision.status === 'accepted' ? decision.seq : null, decision.content ?? null);
    }
    for (const [replicaId, head] of writes.writeHeads) this.#upsertWriteHead.run(replicaId, head.writeNumber, head.chain);
    for (const [name, value] of writes.meta) {
      if (value === undefined) this.#deleteMeta.run(name);
      else this.#upsertMeta.run(name, value);
    }
    for (const [replicaId, principal] of writes.owners) this.#insertOwner.run(replicaId, principal);
  }

  /**
   * With a prefix, the cheaper of two plans: walking the log costs the changes after
   * `afterSeq` (until `limit` keys match), reading the key range costs the keys with the
   * prefix. A bounded count of the range decides: if it holds fewer than `budget` keys, read
   * it, else walk the log. Over a whole catch-up in batches both stay linear.
   */
  scan(collection: string, afterSeq: number, limit: number, prefix?: string): LoggedDoc[] {
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
