import postgres, { type Sql } from 'postgres';
import type { PgNodeProcess } from './pg-cluster-node.js';

/** Runs `fn` on a fresh single-connection client to `node` and ends it. */
export async function onNode<T>(node: { readonly url: string }, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = postgres(node.url, { max: 1, connect_timeout: 5, onnotice: false });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 0 });
  }
}

/**
 * Waits until `primary` lists every one of `standbys` in `pg_stat_replication` as streaming and,
 * when the cluster is synchronous, ranked under the setting (a walsender reports `async` until
 * it has taken its place there). Throws with the standbys' log tails past `deadline`.
 */
export async function waitStreaming(primary: PgNodeProcess, standbys: readonly PgNodeProcess[], synchronous: boolean, deadline: number): Promise<void> {
  if (standbys.length === 0) return;
  const wanted = standbys.map((node) => node.name);
  await onNode(primary, async (sql) => {
    for (;;) {
      const rows = await sql<{ name: string; state: string; sync: string }[]>`
        SELECT application_name AS name, state, sync_state AS sync FROM pg_stat_replication`;
      const streaming = new Set(rows.filter((row) => row.state === 'streaming' && (!synchronous || row.sync !== 'async')).map((row) => row.name));
      if (wanted.every((name) => streaming.has(name))) return;
      if (Date.now() > deadline) {
        const logs = standbys.map((node) => `--- ${node.name}\n${node.logTail(10)}`).join('\n');
        throw new Error(`standbys not streaming from ${primary.name} in time (streaming: ${[...streaming].join(', ') || 'none'})\n${logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
}
