// What a PostgreSQL node of a test cluster holds, read straight from a relay schema's `docs`.
import { parseStoredState } from '@converge/protocol';
import type { PgCluster, PgNode } from '@converge/sync-server/testing';

/** `collection/key` → the dots (`replica:counter`) of its siblings, as `node` holds them in `schema`. */
export async function siblingDots(cluster: PgCluster, node: PgNode | string, schema: string): Promise<Map<string, string[]>> {
  const sql = cluster.client(node);
  try {
    const rows = await sql<{ collection: Buffer; key: Buffer; state: Buffer }[]>`SELECT collection, key, state FROM ${sql(schema)}.docs`;
    const held = new Map<string, string[]>();
    for (const row of rows) {
      const parsed = parseStoredState(row.state.toString('utf8'));
      if (!parsed.ok) throw new Error(`unreadable state of ${row.key.toString('utf8')}`);
      held.set(
        `${row.collection.toString('utf8')}/${row.key.toString('utf8')}`,
        parsed.value.siblings.map((s) => `${s.dot[0]}:${s.dot[1]}`),
      );
    }
    return held;
  } finally {
    await sql.end();
  }
}
