import { WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import type { TransactionSql } from 'postgres';
import { CHAIN_HASH_ZERO } from './chain-hash.js';
import { noticePayload, type CommitNotice } from './pg-commit-notices.js';
import type { Decision, LogPosition, Prefetch, StoredDoc, WriteHead } from './relay-store.js';
import { checkNewDecision } from './store-arguments.js';
import { TxWrites, decisionId, type EngineTx } from './tx-writes.js';

/** A string as the bytes PostgreSQL keeps (bytea), in hex for arrays of parameters. */
export const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
export const text = (value: Buffer): string => value.toString('utf8');

const NO_WRITE: WriteHead = Object.freeze({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });

/**
 * One PostgreSQL transaction (READ COMMITTED) of `PostgresStore`. A collection is locked —
 * its `collections` row, by an upsert that creates it when new — before anything of it is
 * read, and stays locked until commit: commits to one collection happen one at a time in
 * seq order, across every relay process, and a key's read-merge-write or a leader's
 * compare-and-set sees every earlier commit. `prefetch` locks its collections in one
 * statement, in one order (by name bytes, so two group commits never deadlock), then reads
 * everything else in one more round trip. Writes are kept in memory (`TxWrites`) and sent with the commit, together with a
 * `pg_notify` per collection, in one round trip (`flush`).
 */
export class PostgresTx implements EngineTx {
  readonly writes = new TxWrites();
  readonly #sql: TransactionSql;
  readonly #notice: CommitNotice;
  /** Locked collections: their head when locked (committed). */
  readonly #heads = new Map<string, LogPosition>();
  readonly #docs = new Map<string, Map<string, StoredDoc | null>>();
  readonly #decisions = new Map<string, Decision | null>();
  readonly #writeHeads = new Map<ReplicaId, WriteHead>();
  readonly #owners = new Map<ReplicaId, string>();

  constructor(sql: TransactionSql, notice: CommitNotice) {
    this.#sql = sql;
    this.#notice = notice;
  }

  /** Locks the collections not locked yet, in name-byte order, reading their heads. */
  async #lock(collections: Iterable<string>): Promise<void> {
    const wanted = [...new Set(collections)].filter((collection) => !this.#heads.has(collection));
    if (wanted.length === 0) return;
    // One statement: creates a new collection's row, locks every row (in name order, so two
    // transactions never wait for each other in a circle) and returns the latest committed heads.
    const rows = await this.#sql<{ name: Buffer; head_seq: number; head_hash: string }[]>`INSERT INTO collections (name, head_seq, head_hash, keys)
      SELECT decode(n, 'hex'), 0, ${CHAIN_HASH_ZERO}, 0 FROM unnest(${wanted.map(hex)}::text[]) AS t(n) ORDER BY decode(n, 'hex')
      ON CONFLICT (name) DO UPDATE SET name = excluded.name
      RETURNING name, head_seq, head_hash`;
    for (const row of rows) this.#heads.set(text(row.name), { seq: Number(row.head_seq), hash: row.head_hash });
  }

  async prefetch({ docs, decisions, writeHeads }: Prefetch): Promise<void> {
    const collections = [...(docs?.keys() ?? []), ...(decisions ?? []).map((ref) => ref.collection)];
    const wantedDocs: [string, string][] = [];
    for (const [collection, keys] of docs ?? []) {
      const known = this.#docs.get(collection);
      for (const key of new Set(keys)) if (known?.has(key) !== true && this.writes.doc(collection, key) === undefined) wantedDocs.push([collection, key]);
    }
    const wantedDecisions = (decisions ?? []).filter((ref) => !this.#decisions.has(decisionId(ref.collection, ref.key, ref.dot)));
    const wantedHeads = [...new Set(writeHeads ?? [])].filter((id) => !this.#writeHeads.has(id) && !this.writes.writeHeads.has(id));
    const sql = this.#sql;
    // The locks first, then the reads (pipelined together), which see every commit made before
    // the locks. Not pipelined with the locks: PostgreSQL may take a pipelined statement's
    // snapshot before the lock wait of the one ahead of it ends.
    await this.#lock(collections);
    await Promise.all([
      wantedDocs.length === 0
        ? undefined
        : sql<{ collection: Buffer; key: Buffer; seq: number; state: Buffer }[]>`SELECT d.collection, d.key, d.seq, d.state FROM docs d
            JOIN unnest(${wantedDocs.map(([c]) => hex(c))}::text[], ${wantedDocs.map(([, k]) => hex(k))}::text[]) AS t(c, k)
            ON d.collection = decode(t.c, 'hex') AND d.key = decode(t.k, 'hex')`.then((rows) => {
            for (const [collection, key] of wantedDocs) this.#cacheDoc(collection, key, null);
            for (const row of rows) {
              const key = text(row.key);
              this.#cacheDoc(text(row.collection), key, { key, state: text(row.state), seq: Number(row.seq) });
            }
          }),
      wantedDecisions.length === 0
        ? undefined
        : sql<{ collection: Buffer; key: Buffer; replica: string; counter: number; seq: number | null; content: Buffer | null }[]>`SELECT
            d.collection, d.key, d.replica, d.counter, d.seq, d.content FROM decisions d
            JOIN unnest(${wantedDecisions.map((r) => hex(r.collection))}::text[], ${wantedDecisions.map((r) => hex(r.key))}::text[],
              ${wantedDecisions.map((r) => r.dot[0])}::text[], ${wantedDecisions.map((r) => r.dot[1])}::int8[]) AS t(c, k, r, n)
            ON d.collection = decode(t.c, 'hex') AND d.key = decode(t.k, 'hex') AND d.replica = t.r AND d.counter = t.n`.then((rows) => {
            for (const ref of wantedDecisions) this.#decisions.set(decisionId(ref.collection, ref.key, ref.dot), null);
            for (const row of rows) this.#decisions.set(decisionId(text(row.collection), text(row.key), [row.replica, Number(row.counter)]), decisionOf(row));
          }),
      wantedHeads.length === 0
        ? undefined
        : sql<{ replica: string; n: number; chain: string }[]>`SELECT replica, n, chain FROM write_numbers WHERE replica = ANY(${wantedHeads}::text[])`.then(
            (rows) => {
              for (const id of wantedHeads) this.#writeHeads.set(id, NO_WRITE);
              for (const row of rows) this.#writeHeads.set(row.replica, { writeNumber: Number(row.n), chain: row.chain });
            },
          ),
    ]);
  }

  #cacheDoc(collection: string, key: string, doc: StoredDoc | null): void {
    let known = this.#docs.get(collection);
    if (known === undefined) this.#docs.set(collection, (known = new Map()));
    known.set(key, doc);
  }

  async #committedDoc(collection: string, key: string): Promise<StoredDoc | null> {
    const known = this.#docs.get(collection)?.get(key);
    if (known !== undefined) return known;
    await this.#lock([collection]);
    const [row] = await this.#sql<
      { seq: number; state: Buffer }[]
    >`SELECT seq, state FROM docs WHERE collection = ${bytes(collection)} AND key = ${bytes(key)}`;
    const doc = row === undefined ? null : { key, state: text(row.state), seq: Number(row.seq) };
    this.#cacheDoc(collection, key, doc);
    return doc;
  }

  async get(collection: string, key: string): Promise<StoredDoc | undefined> {
    const pending = this.writes.doc(collection, key);
    if (pending !== undefined) return { key, state: pending.state, seq: pending.seq };
    return (await this.#committedDoc(collection, key)) ?? undefined;
  }

  async head(collection: string): Promise<LogPosition> {
    const moved = this.writes.heads.get(collection);
    if (moved !== undefined) return { seq: moved.seq, hash: moved.hash };
    await this.#lock([collection]);
    return this.#heads.get(collection)!;
  }

  async put(collection: string, key: string, state: string, dot: Dot): Promise<LogPosition> {
    const previous = await this.head(collection);
    const added = this.writes.doc(collection, key) === undefined && (await this.#committedDoc(collection, key)) === null;
    return this.writes.put(collection, key, state, dot, previous, added);
  }

  async decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    const written = this.writes.decision(collection, key, dot);
    if (written !== undefined) return written;
    const id = decisionId(collection, key, dot);
    const known = this.#decisions.get(id);
    if (known !== undefined) return known ?? undefined;
    await this.#lock([collection]);
    const [row] = await this.#sql<{ seq: number | null; content: Buffer | null }[]>`SELECT seq, content FROM decisions
      WHERE collection = ${bytes(collection)} AND key = ${bytes(key)} AND replica = ${dot[0]} AND counter = ${dot[1]}`;
    const decision = row === undefined ? null : decisionOf(row);
    this.#decisions.set(id, decision);
    return decision ?? undefined;
  }

  async recordDecision(collection: string, key: string, dot: Dot, decision: Decision): Promise<void> {
    const existing = await this.decision(collection, key, dot);
    checkNewDecision(existing, decision, (await this.head(collection)).seq);
    if (existing === undefined) this.writes.recordDecision(collection, key, dot, decision);
  }

  async writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    const known = this.writes.writeHeads.get(replicaId) ?? this.#writeHeads.get(replicaId);
    if (known !== undefined) return known;
    const [row] = await this.#sql<{ n: number; chain: string }[]>`SELECT n, chain FROM write_numbers WHERE replica = ${replicaId}`;
    const head = row === undefined ? NO_WRITE : { writeNumber: Number(row.n), chain: row.chain };
    this.#writeHeads.set(replicaId, head);
    return head;
  }

  async noteWrite(replicaId: ReplicaId, head: WriteHead): Promise<void> {
    if (head.writeNumber > (await this.writeHead(replicaId)).writeNumber) {
      this.writes.writeHeads.set(replicaId, { writeNumber: head.writeNumber, chain: head.chain });
    }
  }

  async getMeta(name: string): Promise<string | undefined> {
    if (this.writes.meta.has(name)) return this.writes.meta.get(name);
    const [row] = await this.#sql<{ value: Buffer }[]>`SELECT value FROM meta WHERE name = ${bytes(name)}`;
    return row === undefined ? undefined : text(row.value);
  }

  setMeta(name: string, value: string | undefined): void {
    this.writes.meta.set(name, value);
  }

  async replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    const known = this.#owners.get(replicaId);
    if (known !== undefined) return known;
    const [row] = await this.#sql<{ principal: Buffer }[]>`SELECT principal FROM replica_owners WHERE replica = ${replicaId}`;
    return row === undefined ? undefined : text(row.principal);
  }

  /** Claims at once (not at commit): the row lock makes a claim racing in another process wait, then lose. */
  async claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    const owner = await this.replicaOwner(replicaId);
    if (owner !== undefined) return owner;
    const [row] = await this.#sql<{ principal: Buffer }[]>`INSERT INTO replica_owners (replica, principal) VALUES (${replicaId}, ${bytes(principalId)})
      ON CONFLICT (replica) DO UPDATE SET principal = replica_owners.principal RETURNING principal`;
    const claimed = text(row!.principal);
    this.#owners.set(replicaId, claimed);
    return claimed;
  }

  /** Sends every write of the transaction and the commit notices, in one round trip (before COMMIT). */
  async flush(): Promise<void> {
    const sql = this.#sql;
    const { docs, chain, heads, decisions, writeHeads, meta } = this.writes;
    const statements: Promise<unknown>[] = [];
    if (chain.length > 0) {
      const rows = [...docs.values()].flatMap((byKey) => [...byKey].map(([key, doc]) => ({ key, ...doc })));
      statements.push(
        sql`INSERT INTO docs (collection, key, seq, state, hash)
          SELECT decode(c, 'hex'), decode(k, 'hex'), s, decode(v, 'hex'), h
          FROM unnest(${rows.map((r) => hex(r.collection))}::text[], ${rows.map((r) => hex(r.key))}::text[],
            ${rows.map((r) => r.seq)}::int8[], ${rows.map((r) => hex(r.state))}::text[], ${rows.map((r) => r.hash)}::text[]) AS t(c, k, s, v, h)
          ON CONFLICT (collection, key) DO UPDATE SET seq = excluded.seq, state = excluded.state, hash = excluded.hash`,
        sql`INSERT INTO chain (collection, seq, hash)
          SELECT decode(c, 'hex'), s, h FROM unnest(${chain.map((l) => hex(l.collection))}::text[], ${chain.map((l) => l.seq)}::int8[],
            ${chain.map((l) => l.hash)}::text[]) AS t(c, s, h)`,
      );
      const moved = [...heads];
      statements.push(
        sql`UPDATE collections SET head_seq = t.s, head_hash = t.h, keys = collections.keys + t.a
          FROM unnest(${moved.map(([c]) => hex(c))}::text[], ${moved.map(([, h]) => h.seq)}::int8[],
            ${moved.map(([, h]) => h.hash)}::text[], ${moved.map(([, h]) => h.addedKeys)}::int8[]) AS t(c, s, h, a)
          WHERE collections.name = decode(t.c, 'hex')`,
        sql`SELECT pg_notify(${this.#notice.channel}, p) FROM unnest(${moved.map(([c, h]) => noticePayload(this.#notice.instance, c, h.seq))}::text[]) AS t(p)`,
      );
    }
    if (decisions.size > 0) {
      const rows = [...decisions.values()];
      statements.push(
        sql`INSERT INTO decisions (collection, key, replica, counter, seq, content)
          SELECT decode(c, 'hex'), decode(k, 'hex'), r, n, s, decode(v, 'hex')
          FROM unnest(${rows.map((r) => hex(r.collection))}::text[], ${rows.map((r) => hex(r.key))}::text[],
            ${rows.map((r) => r.dot[0])}::text[], ${rows.map((r) => r.dot[1])}::int8[],
            ${rows.map((r) => (r.decision.status === 'accepted' ? r.decision.seq : null))}::int8[],
            ${rows.map((r) => (r.decision.content === undefined ? null : hex(r.decision.content)))}::text[]) AS t(c, k, r, n, s, v)`,
      );
    }
    if (writeHeads.size > 0) {
      const rows = [...writeHeads];
      statements.push(
        sql`INSERT INTO write_numbers (replica, n, chain)
          SELECT * FROM unnest(${rows.map(([id]) => id)}::text[], ${rows.map(([, h]) => h.writeNumber)}::int8[],
            ${rows.map(([, h]) => h.chain)}::text[])
          ON CONFLICT (replica) DO UPDATE SET n = excluded.n, chain = excluded.chain WHERE excluded.n > write_numbers.n`,
      );
    }
    for (const [name, value] of meta) {
      statements.push(
        value === undefined
          ? sql`DELETE FROM meta WHERE name = ${bytes(name)}`
          : sql`INSERT INTO meta (name, value) VALUES (${bytes(name)}, ${bytes(value)}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      );
    }
    await Promise.all(statements);
  }
}

function decisionOf(row: { seq: number | null; content: Buffer | null }): Decision {
  const content = row.content === null ? {} : { content: text(row.content) };
  return row.seq === null ? { status: 'rejected', ...content } : { status: 'accepted', seq: Number(row.seq), ...content };
}
