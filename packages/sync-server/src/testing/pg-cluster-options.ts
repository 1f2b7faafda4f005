import type { PgSettingValue } from './pg-cluster-config.js';

/** `synchronous_standby_names`' method and count; the harness fills in the standbys' names. */
export type SynchronousMethod = `ANY ${number}` | `FIRST ${number}`;

export interface PgClusterOptions {
  /** Streaming standbys besides the primary. Default 2. */
  readonly standbys?: number;
  /**
   * The primary's `synchronous_standby_names` as `'ANY k'` or `'FIRST k'` over every other
   * node (`'ANY 1'` → `ANY 1 (s1, s2)`), or `null` for none (asynchronous standbys). Default
   * `'ANY 1'`. A promotion gives the new primary the same method over its own peers.
   */
  readonly synchronous?: SynchronousMethod | null;
  /** Where the server programs are; default `$PG_BIN`, `pg_config --bindir`, then `/usr/lib/postgresql/<newest>/bin`. */
  readonly binDir?: string;
  /** Extra postgresql.conf settings for every node (after the harness's own). */
  readonly settings?: Readonly<Record<string, PgSettingValue>>;
  /** Bound on starting the whole cluster, and on each later operation of the harness. Default 60 s. */
  readonly timeoutMs?: number;
  /**
   * Where the cluster's own directory (`converge-pg-XXXXXX`, removed by `stop()`) is made; it must
   * exist and, under root, be reachable by the `postgres` user. Default the system's temporary
   * directory. Unix sockets live there too, so keep the path short (PostgreSQL's limit is 107 bytes).
   */
  readonly parentDir?: string;
}
