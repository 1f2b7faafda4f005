import type Database from 'better-sqlite3';

/** Rows per multi-row statement: 64 docs are 256 bound values, far below SQLite's limit. */
const ROWS = 64;

/** A key's state as the running transaction last wrote it. */
export interface PendingDoc {
  readonly seq: number;
  readonly state: string;
}

/**
 * The `docs` and `chain` rows of one transaction, held until it commits and then written with
 * multi-row statements: one statement per 64 rows instead of two statements per change. A key
 * written twice keeps only its last state (it appears in the log once, at its last seq). The
 * transaction's own reads see these rows through `doc`.
 */
export class PendingWrites {
  readonly #docs = new Map<string, Map<string, PendingDoc>>();
  /** collection, seq, hash, collection, seq, hash, … */
  readonly #chain: (string | number)[] = [];
  readonly #upsertDoc;
  readonly #upsertDocs;
  readonly #insertChain;
  readonly #insertChains;

  constructor(db: Database.Database) {
    const upsert = (rows: number) =>
      db.prepare<unknown[]>(
        `INSERT INTO docs (collection, key, seq, state) VALUES ${Array(rows).fill('(?, ?, ?, ?)').join(', ')}
         ON CONFLICT (collection, key) DO UPDATE SET seq = excluded.seq, state = excluded.state`,
      );
    const chain = (rows: number) => db.prepare<unknown[]>(`INSERT INTO chain (collection, seq, hash) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`);
    this.#upsertDoc = upsert(1);
    this.#upsertDocs = upsert(ROWS);
    this.#insertChain = chain(1);
    this.#insertChains = chain(ROWS);
  }

  doc(collection: string, key: string): PendingDoc | undefined {
    return this.#docs.get(collection)?.get(key);
  }

  put(collection: string, key: string, seq: number, state: string): void {
    let docs = this.#docs.get(collection);
    if (docs === undefined) this.#docs.set(collection, (docs = new Map()));
    docs.set(key, { seq, state });
  }

  chain(collection: string, seq: number, hash: string): void {
    this.#chain.push(collection, seq, hash);
  }

  /** Writes every pending row (inside the transaction, before it commits) and forgets them. */
  flush(): void {
    const values: (string | number)[] = [];
    for (const [collection, docs] of this.#docs) {
      for (const [key, { seq, state }] of docs) {
        values.push(collection, key, seq, state);
        if (values.length === 4 * ROWS) {
          this.#upsertDocs.run(values);
          values.length = 0;
        }
      }
    }
    for (let i = 0; i < values.length; i += 4) this.#upsertDoc.run(values.slice(i, i + 4));
    const chain = this.#chain;
    let i = 0;
    for (; i + 3 * ROWS <= chain.length; i += 3 * ROWS) this.#insertChains.run(chain.slice(i, i + 3 * ROWS));
    for (; i < chain.length; i += 3) this.#insertChain.run(chain.slice(i, i + 3));
    this.clear();
  }

  clear(): void {
    this.#docs.clear();
    this.#chain.length = 0;
  }
}
