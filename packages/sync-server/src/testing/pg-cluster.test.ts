import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

/** Every process line `ps` shows whose command mentions the cluster's directory name (postmasters and their titled children). */
function psLines(tag: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(tag) && !line.includes('converge-pg-reaper') && !/^\s*\d+\s+Z/.test(line));
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe('startPgCluster', () => {
  let cluster: PgCluster;
  let tag: string;

  beforeAll(async () => {
    cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
    tag = cluster.root.split('/').pop()!;
    console.info(`pg-cluster: primary + 2 standbys (PostgreSQL ${cluster.major}) started in ${cluster.startMs} ms`);
  }, 90_000);

  afterAll(() => cluster?.stop());

  it('starts a primary with two standbys streaming to it as s1 and s2, quorum-synchronous, on 127.0.0.1 only', async () => {
    const sql = cluster.client(cluster.primary);
    const rows = await sql<{ application_name: string; state: string; sync_state: string }[]>`
      SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY application_name`;
    expect(rows.map((row) => [row.application_name, row.state, row.sync_state])).toEqual([
      ['s1', 'streaming', 'quorum'],
      ['s2', 'streaming', 'quorum'],
    ]);
    const [settings] = await sql<{ listen: string; fsync: string; names: string; recovery: boolean }[]>`
      SELECT current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync,
             current_setting('synchronous_standby_names') AS names, pg_is_in_recovery() AS recovery`;
    expect(settings).toEqual({ listen: '127.0.0.1', fsync: 'on', names: 'ANY 1 (s1, s2)', recovery: false });
    for (const standby of cluster.standbys) {
      const [row] = await cluster.client(standby)<{ recovery: boolean }[]>`SELECT pg_is_in_recovery() AS recovery`;
      expect(row?.recovery).toBe(true);
    }
    expect(cluster.nodes.map((node) => node.name)).toEqual(['s0', 's1', 's2']);
    expect(new Set(cluster.nodes.map((node) => node.port)).size).toBe(3);
  });

  it('runs the servers as the postgres user when the test runs as root (initdb refuses root)', () => {
    const owner = statSync(cluster.primary.dataDir).uid;
    const user = execFileSync('ps', ['-o', 'user=', '-p', String(cluster.primary.pid)], { encoding: 'utf8' }).trim();
    if (process.getuid?.() === 0) {
      expect(user).toBe('postgres');
      expect(owner).not.toBe(0);
    } else {
      expect(owner).toBe(process.getuid?.());
    }
  });

  it('a write committed on the primary reaches both standbys', async () => {
    const sql = cluster.client(cluster.primary);
    await sql`CREATE TABLE harness_probe (k int PRIMARY KEY)`;
    await sql`INSERT INTO harness_probe VALUES (1)`;
    await sql`SET synchronous_commit = remote_apply`;
    await sql`INSERT INTO harness_probe VALUES (2)`;
    for (const standby of cluster.standbys) {
      const replica = cluster.client(standby);
      const count = async () => (await replica<{ n: number }[]>`SELECT count(*)::int AS n FROM harness_probe`.catch(() => []))[0]?.n;
      expect(await eventually(async () => (await count()) === 2, 5_000)).toBe(true);
    }
  });

  it('rejoinAsStandby right after a promotion (before the new primary checkpointed on its timeline) rewinds the old primary, which then streams', async () => {
    const old = cluster.primary;
    await cluster.kill(old, 'SIGKILL');
    const promotion = await cluster.promoteMostUpToDate();
    await cluster.rejoinAsStandby(old);
    const primary = cluster.client(promotion.node);
    await primary`INSERT INTO harness_probe VALUES (3)`;
    const [{ lsn } = { lsn: '' }] = await primary<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
    const caughtUp = async () => {
      const [row] = await primary<{ state: string; behind: boolean }[]>`
        SELECT state, flush_lsn < ${lsn}::pg_lsn AS behind FROM pg_stat_replication WHERE application_name = ${old.name}`;
      return row?.state === 'streaming' && !row.behind;
    };
    expect(await eventually(caughtUp, 10_000), readFileSync(old.logFile, 'utf8').split('\n').slice(-10).join('\n')).toBe(true);
    const [row] = await cluster.client(old)<{ n: number }[]>`SELECT count(*)::int AS n FROM harness_probe`;
    expect(row?.n).toBe(3);
  }, 60_000);

  it('stop() kills every process it started, a SIGSTOPped one too, and removes its directory', async () => {
    expect(psLines(tag).length).toBeGreaterThanOrEqual(3 * 4); // each node: postmaster, checkpointer, bgwriter, startup/walwriter…
    await cluster.kill(cluster.node('s2'), 'SIGSTOP');
    await cluster.stop();
    expect(psLines(tag)).toEqual([]);
    expect(existsSync(cluster.root)).toBe(false);
    for (const node of cluster.nodes) expect(node.state).toBe('down');
  });
});

describe('startPgCluster without PostgreSQL', () => {
  it('fails naming where it looked and what is missing (never skips)', async () => {
    await expect(startPgCluster({ binDir: '/nonexistent/pg/bin' })).rejects.toThrow(
      /PostgreSQL server binaries not found.*\/nonexistent\/pg\/bin \(the binDir option\): no initdb, postgres, pg_basebackup/,
    );
  });
});

describe('a cluster that fails to start', () => {
  it('stops what it started, removes its directory, and says why', async () => {
    const error = await startPgCluster({ standbys: 1, settings: { shared_buffers: 'plenty' } }).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.message).toMatch(/did not start.*s0 \(port \d+\) exited while starting.*invalid value for parameter "shared_buffers"/s);
    const root = /test cluster in (\S+) did not start/.exec(error!.message)![1]!;
    expect(existsSync(root)).toBe(false);
    expect(psLines(root.split('/').pop()!)).toEqual([]);
  }, 60_000);
});

describe('the cluster watchdog', () => {
  it('kills the cluster and removes its directory when the test process dies without stop()', async () => {
    const harness = fileURLToPath(new URL('./pg-cluster.ts', import.meta.url));
    const script = `
      import { startPgCluster } from ${JSON.stringify(harness)};
      const cluster = await startPgCluster({ standbys: 1 });
      process.stdout.write(cluster.root + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const root = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before starting its cluster`)));
      setTimeout(() => reject(new Error('the child did not start its cluster in 60 s')), 60_000);
    });
    const tag = root.split('/').pop()!;
    expect(psLines(tag).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    expect(await eventually(() => psLines(tag).length === 0 && !existsSync(root), 15_000)).toBe(true);
  }, 90_000);
});

describe('failovers in a row', () => {
  it('an old primary with writes its standbys never got, rejoined right after a promotion, is rewound and follows the new timeline', async () => {
    const cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1', timeoutMs: 15_000 });
    try {
      for (let round = 0; round < 2; round++) {
        const old = cluster.primary;
        const primary = cluster.client(old);
        await primary`CREATE TABLE IF NOT EXISTS t (id integer)`;
        // The standbys stop receiving; the primary then commits locally what they never get.
        for (const standby of cluster.standbys.filter((node) => node.state === 'running')) {
          const sql = cluster.client(standby);
          await sql`ALTER SYSTEM SET primary_conninfo = ''`;
          await sql`SELECT pg_reload_conf()`;
          await sql.end();
        }
        await primary.begin(async (tx) => {
          await tx`SET LOCAL synchronous_commit = local`;
          await tx`INSERT INTO t SELECT generate_series(1, 1000)`;
        });
        await primary.end();
        await cluster.kill(old, 'SIGKILL');
        await cluster.promoteMostUpToDate();
        // At once, as an HA tool may.
        await cluster.rejoinAsStandby(old);
        const sql = cluster.client(old);
        const [row] = await sql<{ tli: number }[]>`SELECT received_tli AS tli FROM pg_stat_wal_receiver`;
        const [count] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM t`;
        await sql.end();
        expect(row?.tli).toBe(round + 2);
        expect(count?.n).toBe(0);
      }
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
