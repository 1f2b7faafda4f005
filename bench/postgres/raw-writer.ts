// Raw PostgreSQL doing the commits a relay makes for one push of one blind write, with a plain
// `postgres` client and no Converge code: the baseline of the latency table. It writes into a
// schema of the relay's own layout (created by PostgresStore's migration, so the same tables
// and indexes) the rows the relay writes for such a push, with the same state bytes:
//   BEGIN; synchronous_commit for the level; lock the collection's head row (UPDATE … RETURNING)
//   and read the key's row (pipelined, one round trip); then the key's row, the chain row, the
//   replica's write number and a pg_notify (pipelined, one round trip); COMMIT.
// `relay` commits at `synchronous_commit = local`; `quorum` at `on` (PostgreSQL's own wait for
// `ANY k`); `all` at `on`, then polls `pg_stat_replication` until every standby has flushed past
// the commit (every 2 ms, the relay's shortest poll). One writer = one connection.
import { PostgresStore } from '@converge/sync-server';
import postgres, { type Sql } from 'postgres';
import { nowMs } from '../relay/wire.js';

export type AckLevel = 'relay' | 'quorum' | 'all';

const COLLECTION = Buffer.from('bench');
/** A chain hash's size (hex SHA-256); the relay computes one per commit in JS, the baseline writes a fixed one. */
const HASH = 'f'.repeat(64);

export interface RawPostgres {
  /** One write of `state` to `key` by `replica` at `level`, timed from BEGIN to the level reached, ms. */
  write(level: AckLevel, key: string, state: Buffer, replica: string, writeNumber: number): Promise<number>;
  close(): Promise<void>;
}

/** Opens the baseline on `url` in `schema` (created with the relay's layout; dropped by `close`). */
export async function openRawPostgres(url: string, schema: string, writers: number, standbys: number): Promise<RawPostgres> {
  const layout = await PostgresStore.open(url, { schema, maxConnections: 1 });
  await layout.close();
  const sql: Sql = postgres(url, {
    max: writers,
    onnotice: () => undefined,
    connection: { search_path: schema, application_name: 'bench-raw' },
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) } },
  });
  await sql`INSERT INTO collections (name, head_seq, head_hash, keys) VALUES (${COLLECTION}, 0, ${HASH}, 0) ON CONFLICT DO NOTHING`;
  return {
    async write(level, key, state, replica, writeNumber) {
      const started = nowMs();
      const keyBytes = Buffer.from(key);
      await sql.begin(async (tx) => {
        const [, [head]] = await Promise.all([
          tx`SELECT set_config('synchronous_commit', ${level === 'relay' ? 'local' : 'on'}, true)`,
          tx<
            { head_seq: number }[]
          >`UPDATE collections SET head_seq = head_seq + 1, head_hash = ${HASH}, keys = keys + 1 WHERE name = ${COLLECTION} RETURNING head_seq`,
          tx`SELECT seq, state FROM docs WHERE collection = ${COLLECTION} AND key = ${keyBytes}`,
        ]);
        const seq = head!.head_seq;
        await Promise.all([
          tx`INSERT INTO docs (collection, key, seq, state, hash) VALUES (${COLLECTION}, ${keyBytes}, ${seq}, ${state}, ${HASH})
            ON CONFLICT (collection, key) DO UPDATE SET seq = excluded.seq, state = excluded.state, hash = excluded.hash`,
          tx`INSERT INTO chain (collection, seq, hash) VALUES (${COLLECTION}, ${seq}, ${HASH})`,
          tx`INSERT INTO write_numbers (replica, n, chain) VALUES (${replica}, ${writeNumber}, ${writeNumber.toString(16)})
            ON CONFLICT (replica) DO UPDATE SET n = excluded.n, chain = excluded.chain WHERE excluded.n > write_numbers.n`,
          tx`SELECT pg_notify(${`raw_${schema}`}, ${`bench:${seq}`})`,
        ]);
      });
      if (level === 'all') {
        const [{ lsn }] = (await sql<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`) as unknown as [{ lsn: string }];
        const deadline = Date.now() + 30_000;
        for (;;) {
          const [row] = await sql<{ flushed: number }[]>`SELECT count(*)::int AS flushed FROM pg_stat_replication WHERE flush_lsn >= ${lsn}::pg_lsn`;
          if ((row?.flushed ?? 0) >= standbys) break;
          if (Date.now() > deadline) throw new Error(`raw all: ${row?.flushed ?? 0} of ${standbys} standbys flushed past ${lsn} within 30 s`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
      return nowMs() - started;
    },
    async close() {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end({ timeout: 5 });
    },
  };
}
