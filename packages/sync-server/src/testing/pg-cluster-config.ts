import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file, included last from postgresql.conf, that holds what differs between the nodes. */
export const NODE_CONF = 'converge-node.conf';

/** A setting's value as postgresql.conf writes it: numbers bare, strings single-quoted. */
export type PgSettingValue = string | number | boolean;

/**
 * Settings every node of a test cluster shares. Durability stays on (fsync, full pages): it is
 * what the cluster tests. Memory is small, WAL is kept for standbys that fall behind or restart
 * (there are no replication slots, as after a failover an HA tool may not have them either),
 * `wal_log_hints` lets `pg_rewind` turn an old primary into a standby, and a walreceiver retries
 * every 100 ms so a repointed standby follows the new primary at once.
 */
export const COMMON_SETTINGS: Readonly<Record<string, PgSettingValue>> = {
  listen_addresses: '127.0.0.1',
  fsync: true,
  full_page_writes: true,
  synchronous_commit: 'on',
  shared_buffers: '16MB',
  max_connections: 40,
  wal_level: 'replica',
  max_wal_senders: 10,
  max_replication_slots: 10,
  wal_keep_size: '256MB',
  max_wal_size: '256MB',
  min_wal_size: '32MB',
  hot_standby: true,
  wal_log_hints: true,
  wal_retrieve_retry_interval: '100ms',
  wal_receiver_status_interval: '1s',
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] %q%a ',
  log_checkpoints: false,
};

export function settingLine(name: string, value: PgSettingValue): string {
  if (typeof value === 'number') return `${name} = ${value}`;
  if (typeof value === 'boolean') return `${name} = ${value ? 'on' : 'off'}`;
  return `${name} = '${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** Makes postgresql.conf include the node file last (run once, on the data directory initdb made). */
export async function includeNodeConf(dataDir: string, common: Readonly<Record<string, PgSettingValue>>): Promise<void> {
  const lines = Object.entries(common).map(([name, value]) => settingLine(name, value));
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# converge test cluster\n${lines.join('\n')}\ninclude '${NODE_CONF}'\n`);
}

/** Writes what is this node's own: its port, socket directory, name and any node settings. */
export async function writeNodeConf(
  dataDir: string,
  node: { readonly port: number; readonly socketDir: string; readonly clusterName: string },
  settings: Readonly<Record<string, PgSettingValue>> = {},
): Promise<void> {
  const all: Record<string, PgSettingValue> = { port: node.port, unix_socket_directories: node.socketDir, cluster_name: node.clusterName, ...settings };
  const text = Object.entries(all)
    .map(([name, value]) => settingLine(name, value))
    .join('\n');
  await writeFile(join(dataDir, NODE_CONF), `${text}\n`);
}

/** Trust on 127.0.0.1 for every database and for replication: the cluster listens nowhere else. */
export const HBA_LINES = ['host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust', 'local all all trust', 'local replication all trust'];

export async function writeHba(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, 'pg_hba.conf'), `${HBA_LINES.join('\n')}\n`);
}

/** `host=… port=… user=postgres application_name=…`: how a standby reaches its primary. */
export function primaryConninfo(port: number, applicationName: string): string {
  return `host=127.0.0.1 port=${port} user=postgres application_name=${applicationName} connect_timeout=2`;
}
