import { WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import type { Sql } from 'postgres';
import { CHAIN_HASH_ZERO } from './chain-hash.js';
import { prefixUpperBound } from './key-prefix.js';
import { bytes, text } from './postgres-tx.js';
import type { Decision, LogPosition, LoggedDoc, StoreStats, StoredDoc, WriteHead } from './relay-store.js';

/**
 * `PostgresStore`'s reads outside transactions, each one statement on the pool it is given (the
 * primary's, or for catch-up and heads the standby of `replicaUrl`). What each returns is
 * `RelayStore`'s contract.
 */

export async function readDoc(sql: Sql, collection: string, key: string): Promise<StoredDoc | undefined> {
  const [row] = await sql<{ seq: number; state: Buffer }[]>`SELECT seq, state FROM docs WHERE collection = ${bytes(collection)} AND key = ${bytes(key)}`;
  return row === undefined ? undefined : { key, state: text(row.state), seq: row.seq };
}

export async function readHead(sql: Sql, collection: string): Promise<LogPosition> {
  const [row] = await sql<{ head_seq: number; head_hash: string }[]>`SELECT head_seq, head_hash FROM collections WHERE name = ${bytes(collection)}`;
  return row === undefined ? { seq: 0, hash: CHAIN_HASH_ZERO } : { seq: row.head_seq, hash: row.head_hash };
}

export async function readDecision(sql: Sql, collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
  const [row] = await sql<{ seq: number | null; content: Buffer | null }[]>`SELECT seq, content FROM decisions
    WHERE collection = ${bytes(collection)} AND key = ${bytes(key)} AND replica = ${dot[0]} AND counter = ${dot[1]}`;
  if (row === undefined) return undefined;
  const content = row.content === null ? {} : { content: text(row.content) };
  return row.seq === null ? { status: 'rejected' as const, ...content } : { status: 'accepted' as const, seq: row.seq, ...content };
}

export async function readWriteHead(sql: Sql, replicaId: ReplicaId): Promise<WriteHead> {
  const [row] = await sql<{ n: number; chain: string }[]>`SELECT n, chain FROM write_numbers WHERE replica = ${replicaId}`;
  return row === undefined ? { writeNumber: 0, chain: WRITE_CHAIN_ZERO } : { writeNumber: row.n, chain: row.chain };
}

export async function readMeta(sql: Sql, name: string): Promise<string | undefined> {
  const [row] = await sql<{ value: Buffer }[]>`SELECT value FROM meta WHERE name = ${bytes(name)}`;
  return row === undefined ? undefined : text(row.value);
}

export async function readReplicaOwner(sql: Sql, replicaId: ReplicaId): Promise<string | undefined> {
  const [row] = await sql<{ principal: Buffer }[]>`SELECT principal FROM replica_owners WHERE replica = ${replicaId}`;
  return row === undefined ? undefined : text(row.principal);
}

export async function scanLog(sql: Sql, collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]> {
  const name = bytes(collection);
  type Row = { key: Buffer; seq: number; state: Buffer; hash: string };
  let rows: Row[];
  if (prefix === undefined || prefix === '') {
    rows = await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
  } else {
    // Keys are UTF-8 bytes, whose order is code point order: the prefix is a key range.
    const upper = prefixUpperBound(prefix);
    rows =
      upper === undefined
        ? await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq}
            AND key >= ${bytes(prefix)} ORDER BY seq LIMIT ${limit}`
        : await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq}
            AND key >= ${bytes(prefix)} AND key < ${bytes(upper)} ORDER BY seq LIMIT ${limit}`;
  }
  return rows.map((row) => ({ key: text(row.key), seq: row.seq, state: text(row.state), hash: row.hash }));
}

export async function readHashAt(sql: Sql, collection: string, seq: number): Promise<string | undefined> {
  if (seq === 0) return CHAIN_HASH_ZERO;
  const [row] = await sql<{ hash: string }[]>`SELECT hash FROM chain WHERE collection = ${bytes(collection)} AND seq = ${seq}`;
  return row?.hash;
}

export async function readCollections(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: Buffer }[]>`SELECT name FROM collections WHERE head_seq > 0`;
  return rows.map((row) => text(row.name)).sort();
}

export async function readStats(sql: Sql, schema: string): Promise<StoreStats> {
  const [rows, [size]] = await Promise.all([
    sql<{ name: Buffer; keys: number; head_seq: number }[]>`SELECT name, keys, head_seq FROM collections WHERE head_seq > 0`,
    sql<{ bytes: number }[]>`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 AS bytes FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema} AND c.relkind = 'r'`,
  ]);
  const collections = rows
    .map((row) => ({ name: text(row.name), keys: row.keys, seq: row.head_seq }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { collections, bytes: size?.bytes ?? 0 };
}
